package store

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/everify/everify/verify"
)

// Stats describes a store's contents.
type Stats struct {
	Path     string
	Version  int
	Size     int64 // bytes of the main file
	Domains  int
	ByStatus map[verify.Status]StatusStats
}

// StatusStats counts the stored verdicts of one status by age.
type StatusStats struct {
	Total   int
	Day     int // checked within the last 24 hours
	Week    int // within 7 days
	Month   int // within 30 days
	Expired int // older than the default maximum age: pruned by [Store.Prune]
	Oldest  time.Time
}

// Stats counts the stored verdicts by status and age at now.
func (s *Store) Stats(ctx context.Context, now time.Time) (Stats, error) {
	if err := s.Flush(); err != nil {
		return Stats{}, err
	}
	st := Stats{Path: s.path, Version: SchemaVersion, ByStatus: map[verify.Status]StatusStats{}}
	ago := func(d time.Duration) string { return now.Add(-d).UTC().Format(timeFormat) }
	var p Policy
	rows, err := s.db.QueryContext(ctx, `SELECT status, count(*),
		count(*) FILTER (WHERE checked_at >= ?1),
		count(*) FILTER (WHERE checked_at >= ?2),
		count(*) FILTER (WHERE checked_at >= ?3),
		min(checked_at)
		FROM results GROUP BY status`, ago(24*time.Hour), ago(7*24*time.Hour), ago(30*24*time.Hour))
	if err != nil {
		return st, s.wrap(err)
	}
	defer rows.Close()
	for rows.Next() {
		var status, oldest string
		var ss StatusStats
		if err := rows.Scan(&status, &ss.Total, &ss.Day, &ss.Week, &ss.Month, &oldest); err != nil {
			return st, s.wrap(err)
		}
		ss.Oldest, _ = time.Parse(timeFormat, oldest)
		st.ByStatus[verify.Status(status)] = ss
	}
	if err := rows.Err(); err != nil {
		return st, s.wrap(err)
	}
	for status, ss := range st.ByStatus {
		if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM results WHERE status = ? AND checked_at < ?`,
			string(status), ago(pruneAge(p, status))).Scan(&ss.Expired); err != nil {
			return st, s.wrap(err)
		}
		st.ByStatus[status] = ss
	}
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM domains`).Scan(&st.Domains); err != nil {
		return st, s.wrap(err)
	}
	if err := s.db.QueryRowContext(ctx, `SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()`).Scan(&st.Size); err != nil {
		return st, s.wrap(err)
	}
	return st, nil
}

// pruneAge is the age past which prune drops a verdict of status.
func pruneAge(p Policy, status verify.Status) time.Duration {
	if d := p.Limit(status); d > 0 || p.Override {
		return d
	}
	return unknownKeep
}

// Prune deletes the verdicts older than p allows (unknown ones after a day, unless p
// overrides), and domain answers older than the longest of them, then compacts the file
// (VACUUM). It returns the number of verdicts deleted.
func (s *Store) Prune(ctx context.Context, p Policy, now time.Time) (int64, error) {
	if err := s.Flush(); err != nil {
		return 0, err
	}
	ago := func(d time.Duration) string { return now.Add(-d).UTC().Format(timeFormat) }
	var n int64
	for _, status := range []verify.Status{verify.StatusDeliverable, verify.StatusUndeliverable,
		verify.StatusRisky, verify.StatusUnknown} {
		res, err := s.db.ExecContext(ctx, `DELETE FROM results WHERE status = ? AND checked_at < ?`,
			string(status), ago(pruneAge(p, status)))
		if err != nil {
			return n, s.wrap(err)
		}
		k, _ := res.RowsAffected()
		n += k
	}
	// Verdicts of statuses this everify does not know are left alone.
	domainAge := DefaultMaxAge
	if p.Override {
		domainAge = p.MaxAge
	}
	if _, err := s.db.ExecContext(ctx, `DELETE FROM domains WHERE checked_at < ?`, ago(domainAge)); err != nil {
		return n, s.wrap(err)
	}
	if _, err := s.db.ExecContext(ctx, `VACUUM`); err != nil {
		return n, s.wrap(err)
	}
	return n, nil
}

// ExportRecord is one line of [Store.Export].
type ExportRecord struct {
	Email     string          `json:"email"`
	Settings  string          `json:"settings"`
	Status    string          `json:"status"`
	Reason    string          `json:"reason"`
	CheckedAt string          `json:"checked_at"`
	Record    json.RawMessage `json:"record"`
}

// Export writes every stored verdict to w as NDJSON ([ExportRecord]), ordered by address.
func (s *Store) Export(ctx context.Context, w io.Writer) error {
	if err := s.Flush(); err != nil {
		return err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT email, settings, status, reason, checked_at, record
		FROM results ORDER BY email, settings`)
	if err != nil {
		return s.wrap(err)
	}
	defer rows.Close()
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	for rows.Next() {
		var e ExportRecord
		var rec []byte
		if err := rows.Scan(&e.Email, &e.Settings, &e.Status, &e.Reason, &e.CheckedAt, &rec); err != nil {
			return s.wrap(err)
		}
		if json.Valid(rec) {
			e.Record = rec
		} else {
			e.Record = json.RawMessage("null")
		}
		if err := enc.Encode(&e); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return s.wrap(err)
	}
	return bw.Flush()
}

func (s *Store) wrap(err error) error {
	return fmt.Errorf("store: %s: %w", s.path, classify(err))
}
