package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"modernc.org/sqlite"
)

// FileName is the store's file name in the user cache directory.
const FileName = "everify.db"

// applicationID marks an everify store (PRAGMA application_id): "evfy".
const applicationID = 0x65766679

// Errors returned by [Open]; test with [errors.Is].
var (
	// ErrCorrupt means the file is not a readable SQLite database (damaged, truncated,
	// or not a database at all).
	ErrCorrupt = errors.New("not a readable SQLite database")
	// ErrForeign means the file is a SQLite database of another program.
	ErrForeign = errors.New("a database of another program, not an everify store")
	// ErrTooNew means the file was written by a newer everify whose schema this one
	// does not know.
	ErrTooNew = errors.New("written by a newer everify")
)

// migrations[i] brings the schema from version i to i+1. Never edit a released entry:
// append one.
var migrations = []string{
	`CREATE TABLE results (
		email      TEXT NOT NULL,
		settings   TEXT NOT NULL,
		status     TEXT NOT NULL,
		reason     TEXT NOT NULL,
		checked_at TEXT NOT NULL,
		record     TEXT NOT NULL,
		PRIMARY KEY (email, settings)
	) WITHOUT ROWID;
	CREATE INDEX results_age ON results (status, checked_at);
	CREATE TABLE domains (
		domain     TEXT PRIMARY KEY,
		mx         TEXT NOT NULL,
		catch_all  INTEGER,
		checked_at TEXT NOT NULL
	) WITHOUT ROWID;`,
}

// SchemaVersion is the schema version this package writes.
var SchemaVersion = len(migrations)

// A Store is an open result store. It is safe for concurrent use.
type Store struct {
	db   *sql.DB
	path string
	get  *sql.Stmt

	w       chan writeReq
	wdone   chan struct{}
	mu      sync.Mutex // guards err
	err     error      // the first failed write: every later Put returns it
	closing sync.Once
}

// DefaultPath returns everify.db in the user cache directory (os.UserCacheDir()/everify).
func DefaultPath() (string, error) {
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("store: %w", err)
	}
	return filepath.Join(dir, "everify", FileName), nil
}

// Open opens the store at path, creating the file and its directory when missing, and
// migrates its schema to [SchemaVersion]. A file that is not an everify store fails with
// [ErrCorrupt], [ErrForeign] or [ErrTooNew], wrapped with the path.
func Open(path string) (*Store, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	if strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("store: %s: a store path may not contain '?' or '#'", path)
	}
	// Busy timeout first: writers wait for each other up to 10 s instead of failing.
	// Transactions start IMMEDIATE, so two writers never deadlock upgrading a read lock.
	// WAL mode is set once below, not on every connection: the switch can fail with
	// SQLITE_BUSY without waiting when another process opens the file at the same time.
	// A 2 MiB page cache per connection and no mmap: a million-verdict store must not
	// grow the process (mapped pages count in its RSS); the OS caches the file anyway.
	dsn := "file:" + path + "?_busy_timeout=10000&_synchronous=NORMAL&_txlock=immediate" +
		"&_pragma=cache_size(-2048)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("store: %s: %w", path, err)
	}
	// A few connections serve every worker: readers share them (WAL lets them run
	// beside the writer), and none is closed and reopened between lookups.
	conns := max(4, runtime.GOMAXPROCS(0))
	db.SetMaxOpenConns(conns)
	db.SetMaxIdleConns(conns)
	db.SetConnMaxIdleTime(0)
	s := &Store{db: db, path: path}
	if err := retryBusy(s.wal); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: %s: %w", path, classify(err))
	}
	if err := retryBusy(s.migrate); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: %s: %w", path, classify(err))
	}
	if s.get, err = db.Prepare(`SELECT record, checked_at FROM results WHERE email = ? AND settings = ?`); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: %s: %w", path, classify(err))
	}
	s.w = make(chan writeReq, 1024)
	s.wdone = make(chan struct{})
	go s.writer()
	return s, nil
}

// Path returns the file the store was opened from.
func (s *Store) Path() string { return s.path }

// openWait bounds how long Open retries while other processes hold the file's locks.
const openWait = 10 * time.Second

// retryBusy runs f until it returns something other than SQLITE_BUSY, retrying for
// openWait (a try may itself wait out the busy timeout, so Open waits 20 s at most).
// SQLite reports some lock conflicts at once, without its busy handler: a journal-mode
// switch, or a schema read while another process creates the file.
func retryBusy(f func() error) error {
	deadline := time.Now().Add(openWait)
	for pause := 5 * time.Millisecond; ; pause = min(2*pause, 200*time.Millisecond) {
		err := f()
		var se *sqlite.Error
		if err == nil || !errors.As(err, &se) || se.Code()&0xff != 5 || time.Now().After(deadline) {
			return err
		}
		time.Sleep(pause)
	}
}

// wal puts the file in WAL mode, which lets readers run beside a writer. The mode is
// kept in the file: once set, this is a no-op. Where WAL cannot be used (a read-only
// file, some network file systems) the file keeps its rollback journal: writers then
// wait for readers, which the busy timeout covers.
func (s *Store) wal() error {
	var mode string
	return s.db.QueryRow(`PRAGMA journal_mode = WAL`).Scan(&mode)
}

// migrate checks the file is an everify store (or empty) and applies missing migrations
// in one transaction.
func (s *Store) migrate() error {
	ctx := context.Background()
	var appID, version int
	if err := s.db.QueryRowContext(ctx, `PRAGMA application_id`).Scan(&appID); err != nil {
		return err
	}
	if err := s.db.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&version); err != nil {
		return err
	}
	if appID != 0 && appID != applicationID {
		return ErrForeign
	}
	if version == SchemaVersion {
		return nil
	}
	tx, err := s.db.BeginTx(ctx, nil) // IMMEDIATE: one process migrates, the others wait
	if err != nil {
		return err
	}
	defer tx.Rollback()
	// Read again under the write lock: another process may have migrated meanwhile.
	if err := tx.QueryRowContext(ctx, `PRAGMA application_id`).Scan(&appID); err != nil {
		return err
	}
	if err := tx.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&version); err != nil {
		return err
	}
	if appID == 0 {
		var tables int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema`).Scan(&tables); err != nil {
			return err
		}
		if tables > 0 {
			return ErrForeign
		}
	} else if appID != applicationID {
		return ErrForeign
	}
	if version > SchemaVersion {
		return fmt.Errorf("%w (schema version %d; this everify knows %d)", ErrTooNew, version, SchemaVersion)
	}
	for v := version; v < SchemaVersion; v++ {
		if _, err := tx.ExecContext(ctx, migrations[v]); err != nil {
			return fmt.Errorf("migrating to schema version %d: %w", v+1, err)
		}
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf(`PRAGMA application_id = %d; PRAGMA user_version = %d`, applicationID, SchemaVersion)); err != nil {
		return err
	}
	return tx.Commit()
}

// classify maps SQLite's "not a database" and "corrupt" codes to [ErrCorrupt].
func classify(err error) error {
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case 11, 26: // SQLITE_CORRUPT, SQLITE_NOTADB
			return fmt.Errorf("%w: %v", ErrCorrupt, err)
		}
	}
	return err
}

// Close writes what is pending and closes the file. It returns the first failed write,
// if any.
func (s *Store) Close() error {
	s.closing.Do(func() {
		close(s.w)
		<-s.wdone
		s.get.Close()
		if err := s.db.Close(); err != nil {
			s.setErr(err)
		}
	})
	return s.Err()
}

// Err returns the first failed write, or nil.
func (s *Store) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

func (s *Store) setErr(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err == nil {
		s.err = fmt.Errorf("store: %s: %w", s.path, classify(err))
	}
}

// SettingsHash returns a short hash of the settings that can change a verdict (EHLO
// name, sender, port, proxy, ...), the key that keeps verdicts of different settings
// apart.
func SettingsHash(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%d:%s;", len(p), p)
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}
