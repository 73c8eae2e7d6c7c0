package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/everify/everify/verify"
)

// timeFormat is checked_at's format: RFC 3339 in UTC to the second, which sorts as text.
const timeFormat = "2006-01-02T15:04:05Z"

// Default maximum ages of [Policy].
const (
	DefaultMaxAge      = 30 * 24 * time.Hour // deliverable, undeliverable
	DefaultMaxAgeRisky = 7 * 24 * time.Hour
	// unknownKeep is how long prune keeps unknown verdicts, which are never reused but
	// date a row's first try for recheck --after.
	unknownKeep = 24 * time.Hour
)

// Policy says how old a stored verdict may be to be reused. The zero value is the
// default: 30 days for deliverable and undeliverable, 7 days for risky, never for
// unknown.
type Policy struct {
	// MaxAge, when Override is set, replaces every default (unknown included); 0 then
	// reuses nothing.
	MaxAge   time.Duration
	Override bool
}

// Limit returns the maximum age of a verdict of status; 0 means never reused.
func (p Policy) Limit(status verify.Status) time.Duration {
	if p.Override {
		return p.MaxAge
	}
	switch status {
	case verify.StatusDeliverable, verify.StatusUndeliverable:
		return DefaultMaxAge
	case verify.StatusRisky:
		return DefaultMaxAgeRisky
	}
	return 0
}

// Fresh reports whether a verdict of status checked at checked may be reused at now.
func (p Policy) Fresh(status verify.Status, checked, now time.Time) bool {
	return now.Sub(checked) < p.Limit(status)
}

// Lookup returns the stored verdict on the normalized address email under settings
// when one is fresh by p at now, with Cached set and CheckedAt the time it was reached.
// A missing or stale verdict is (Result{}, false, nil).
func (s *Store) Lookup(ctx context.Context, email, settings string, p Policy, now time.Time) (verify.Result, bool, error) {
	r, ok, err := s.Get(ctx, email, settings)
	if err != nil || !ok || !p.Fresh(r.Status, r.CheckedAt, now) {
		return verify.Result{}, false, err
	}
	return r, true, nil
}

// Get returns the stored verdict on email under settings, whatever its age, with
// Cached set.
func (s *Store) Get(ctx context.Context, email, settings string) (verify.Result, bool, error) {
	var rec []byte
	var checked string
	err := s.get.QueryRowContext(ctx, email, settings).Scan(&rec, &checked)
	if errors.Is(err, sql.ErrNoRows) {
		return verify.Result{}, false, nil
	}
	if err != nil {
		return verify.Result{}, false, fmt.Errorf("store: %s: %w", s.path, classify(err))
	}
	var r verify.Result
	if err := json.Unmarshal(rec, &r); err != nil {
		return verify.Result{}, false, fmt.Errorf("store: %s: record of %s: %w", s.path, email, err)
	}
	r.Cached = true
	if t, err := time.Parse(timeFormat, checked); err == nil {
		r.CheckedAt = t
	}
	return r, true, nil
}

type writeReq struct {
	r        verify.Result
	settings string
	flush    chan struct{} // non-nil: a Flush waiting for the writes before it
}

// Put stores r (whose Email must be set) under settings, replacing an older verdict.
// Writes are batched in transactions by a goroutine of the store; Put returns the first
// write that failed (a full disk, a read-only file), after which nothing more is written.
func (s *Store) Put(r *verify.Result, settings string) error {
	if err := s.Err(); err != nil {
		return err
	}
	s.w <- writeReq{r: *r, settings: settings}
	return nil
}

// Flush waits until every earlier Put is committed and returns [Store.Err].
func (s *Store) Flush() error {
	done := make(chan struct{})
	s.w <- writeReq{flush: done}
	<-done
	return s.Err()
}

// maxBatch bounds the verdicts committed in one transaction.
const maxBatch = 512

// writer commits queued Puts, as many as are waiting (up to maxBatch) per transaction.
func (s *Store) writer() {
	defer close(s.wdone)
	batch := make([]writeReq, 0, maxBatch)
	for req := range s.w {
		batch = append(batch[:0], req)
	more:
		for len(batch) < maxBatch {
			select {
			case req, ok := <-s.w:
				if !ok {
					break more
				}
				batch = append(batch, req)
			default:
				break more
			}
		}
		if s.Err() == nil {
			if err := s.commit(batch); err != nil {
				s.setErr(err)
			}
		}
		for _, req := range batch {
			if req.flush != nil {
				close(req.flush)
			}
		}
	}
}

func (s *Store) commit(batch []writeReq) error {
	ctx := context.Background()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	res, err := tx.PrepareContext(ctx, `INSERT OR REPLACE INTO results
		(email, settings, status, reason, checked_at, record) VALUES (?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	dom, err := tx.PrepareContext(ctx, `INSERT INTO domains (domain, mx, catch_all, checked_at)
		VALUES (?1, ?2, ?3, ?4)
		ON CONFLICT (domain) DO UPDATE SET mx = ?2, catch_all = coalesce(?3, catch_all), checked_at = ?4`)
	if err != nil {
		return err
	}
	for i := range batch {
		req := &batch[i]
		if req.flush != nil {
			continue
		}
		r := &req.r
		r.Cached = false
		rec, err := json.Marshal(r)
		if err != nil {
			return err
		}
		checked := r.CheckedAt.UTC().Format(timeFormat)
		if _, err := res.ExecContext(ctx, r.Email, req.settings, string(r.Status), string(r.Reason), checked, rec); err != nil {
			return err
		}
		if r.Syntax.ASCIIDomain == "" || r.Domain.Error != "" && r.Reason == verify.ReasonDNSError {
			continue
		}
		mx, err := json.Marshal(r.Domain)
		if err != nil {
			return err
		}
		if _, err := dom.ExecContext(ctx, r.Syntax.ASCIIDomain, mx, catchAll(r), checked); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// catchAll is what r says of its domain's catch-all status: yes when the catch-all probe
// was accepted, no when a recipient was refused as unknown, else nothing (NULL).
func catchAll(r *verify.Result) any {
	switch {
	case r.SMTP.CatchAll:
		return 1
	case r.Reason == verify.ReasonMailboxNotFound:
		return 0
	}
	return nil
}
