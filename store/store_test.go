package store

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/everify/everify/verify"
)

var t0 = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

func open(t *testing.T) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "sub", FileName))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func result(email string, reason verify.Reason, at time.Time) *verify.Result {
	local, domain, _ := strings.Cut(email, "@")
	r := &verify.Result{Input: email, Email: email, Status: reason.Status(), Reason: reason,
		Syntax:    verify.Syntax{Valid: true, Local: local, Domain: domain, ASCIIDomain: domain},
		Domain:    verify.DomainInfo{MX: []verify.MXHost{{Host: "mx." + domain, Pref: 10}}},
		SMTP:      verify.SMTPInfo{Checked: true, Code: 250, CatchAll: reason == verify.ReasonCatchAll},
		CheckedAt: at}
	return r
}

func TestPutLookupTTL(t *testing.T) {
	s := open(t)
	for _, tt := range []struct {
		reason verify.Reason
		age    time.Duration
		p      Policy
		fresh  bool
	}{
		{verify.ReasonAccepted, 29 * 24 * time.Hour, Policy{}, true},
		{verify.ReasonAccepted, 31 * 24 * time.Hour, Policy{}, false},
		{verify.ReasonMailboxNotFound, 29 * 24 * time.Hour, Policy{}, true},
		{verify.ReasonMailboxNotFound, 30*24*time.Hour + time.Second, Policy{}, false},
		{verify.ReasonCatchAll, 6 * 24 * time.Hour, Policy{}, true},
		{verify.ReasonCatchAll, 8 * 24 * time.Hour, Policy{}, false},
		{verify.ReasonSMTPTempFailure, time.Minute, Policy{}, false}, // unknown: never
		{verify.ReasonSMTPTempFailure, time.Minute, Policy{MaxAge: time.Hour, Override: true}, true},
		{verify.ReasonAccepted, 2 * time.Hour, Policy{MaxAge: time.Hour, Override: true}, false},
		{verify.ReasonAccepted, time.Second, Policy{MaxAge: 0, Override: true}, false},
	} {
		email := "u@" + string(tt.reason) + ".zz"
		if err := s.Put(result(email, tt.reason, t0), "S"); err != nil {
			t.Fatal(err)
		}
		if err := s.Flush(); err != nil {
			t.Fatal(err)
		}
		r, ok, err := s.Lookup(context.Background(), email, "S", tt.p, t0.Add(tt.age))
		if err != nil {
			t.Fatal(err)
		}
		if ok != tt.fresh {
			t.Errorf("%s aged %v under %+v: fresh = %v, want %v", tt.reason, tt.age, tt.p, ok, tt.fresh)
		}
		if ok && (!r.Cached || !r.CheckedAt.Equal(t0) || r.Reason != tt.reason || r.Domain.MX[0].Host != "mx."+string(tt.reason)+".zz") {
			t.Errorf("%s: stored record came back as %+v", tt.reason, r)
		}
		// Other settings never see it.
		if _, ok, _ := s.Lookup(context.Background(), email, "other", Policy{}, t0); ok {
			t.Errorf("%s: found under other settings", tt.reason)
		}
	}
}

func TestDomainsTable(t *testing.T) {
	s := open(t)
	s.Put(result("a@ca.zz", verify.ReasonCatchAll, t0), "S")
	s.Put(result("b@ca.zz", verify.ReasonAccepted, t0), "S") // says nothing of catch-all
	s.Put(result("c@no.zz", verify.ReasonMailboxNotFound, t0), "S")
	s.Put(result("d@open.zz", verify.ReasonSMTPTimeout, t0), "S")
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	want := map[string]sql.NullInt64{"ca.zz": {Int64: 1, Valid: true}, "no.zz": {Int64: 0, Valid: true}, "open.zz": {}}
	rows, err := s.db.Query(`SELECT domain, mx, catch_all FROM domains`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var d, mx string
		var ca sql.NullInt64
		rows.Scan(&d, &mx, &ca)
		n++
		if ca != want[d] || !strings.Contains(mx, `"host":"mx.`+d+`"`) {
			t.Errorf("domain %s: mx %s catch_all %+v, want %+v", d, mx, ca, want[d])
		}
	}
	if n != 3 {
		t.Errorf("%d domains, want 3", n)
	}
}

func TestOpenBadFiles(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.db")
	os.WriteFile(garbage, bytes.Repeat([]byte("not a database "), 400), 0o644)

	foreign := filepath.Join(dir, "foreign.db")
	db, err := sql.Open("sqlite", foreign)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`CREATE TABLE invoices (id INTEGER)`); err != nil {
		t.Fatal(err)
	}
	db.Close()

	newer := filepath.Join(dir, "newer.db")
	s, err := Open(newer)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	db, _ = sql.Open("sqlite", newer)
	db.Exec(`PRAGMA user_version = 99`)
	db.Close()

	// A store whose first page is intact but whose tables are overwritten.
	damaged := filepath.Join(dir, "damaged.db")
	s, _ = Open(damaged)
	for i := range 2000 {
		s.Put(result("u"+strings.Repeat("x", i%50)+"@d.zz", verify.ReasonAccepted, t0), string(rune('a'+i%20)))
	}
	s.Close()
	b, _ := os.ReadFile(damaged)
	for i := 4096 * 2; i < len(b); i++ {
		b[i] = 0xA5
	}
	os.WriteFile(damaged, b, 0o644)

	for _, tt := range []struct {
		path string
		want error
	}{{garbage, ErrCorrupt}, {foreign, ErrForeign}, {newer, ErrTooNew}} {
		s, err := Open(tt.path)
		if !errors.Is(err, tt.want) {
			t.Errorf("Open(%s) = %v, want %v", filepath.Base(tt.path), err, tt.want)
		}
		if s != nil {
			s.Close()
		}
	}
	// The damage shows when the pages are read: an error, never a panic.
	s, err = Open(damaged)
	if err == nil {
		_, _, err = s.Get(context.Background(), "u@d.zz", "a")
		if err == nil {
			_, err = s.Stats(context.Background(), t0)
		}
		s.Close()
	}
	if !errors.Is(err, ErrCorrupt) {
		t.Errorf("damaged store: %v, want %v", err, ErrCorrupt)
	}
}

func TestMigrateConcurrentOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			s, err := Open(path)
			if err == nil {
				err = s.Put(result("a@b.zz", verify.ReasonAccepted, t0), "S")
				if cerr := s.Close(); err == nil {
					err = cerr
				}
			}
			errs <- err
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var v, app int
	s.db.QueryRow(`PRAGMA user_version`).Scan(&v)
	s.db.QueryRow(`PRAGMA application_id`).Scan(&app)
	if v != SchemaVersion || app != applicationID {
		t.Errorf("user_version %d application_id %x", v, app)
	}
}

func TestReadOnlyStoreFailsWrites(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root writes read-only files")
	}
	path := filepath.Join(t.TempDir(), FileName)
	s, _ := Open(path)
	s.Close()
	os.Chmod(path, 0o444)
	s, err := Open(path)
	if err != nil {
		return // refusing at open is fine too
	}
	s.Put(result("a@b.zz", verify.ReasonAccepted, t0), "S")
	if err := s.Flush(); err == nil {
		t.Error("write to a read-only store succeeded")
	}
	if err := s.Put(result("b@b.zz", verify.ReasonAccepted, t0), "S"); err == nil {
		t.Error("Put after a failed write succeeded")
	}
	s.Close()
}

func TestStatsPruneExport(t *testing.T) {
	s := open(t)
	now := t0.Add(40 * 24 * time.Hour)
	s.Put(result("old@a.zz", verify.ReasonAccepted, t0), "S")                      // 40 d: expired
	s.Put(result("new@a.zz", verify.ReasonAccepted, now.Add(-time.Hour)), "S")     // fresh
	s.Put(result("ca@b.zz", verify.ReasonCatchAll, now.Add(-8*24*time.Hour)), "S") // expired
	s.Put(result("u@c.zz", verify.ReasonSMTPTempFailure, now.Add(-time.Hour)), "S")
	s.Put(result("u2@c.zz", verify.ReasonSMTPTempFailure, now.Add(-48*time.Hour)), "S")
	st, err := s.Stats(context.Background(), now)
	if err != nil {
		t.Fatal(err)
	}
	if d := st.ByStatus[verify.StatusDeliverable]; d.Total != 2 || d.Day != 1 || d.Expired != 1 {
		t.Errorf("deliverable stats %+v", d)
	}
	if u := st.ByStatus[verify.StatusUnknown]; u.Total != 2 || u.Expired != 1 || u.Week != 2 {
		t.Errorf("unknown stats %+v", u)
	}
	var buf bytes.Buffer
	if err := s.Export(context.Background(), &buf); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 5 {
		t.Fatalf("export: %d lines", len(lines))
	}
	var e struct {
		Email  string
		Record verify.Result
	}
	if err := json.Unmarshal([]byte(lines[0]), &e); err != nil || e.Email != "ca@b.zz" || e.Record.Reason != verify.ReasonCatchAll {
		t.Errorf("export line %s: %v", lines[0], err)
	}
	n, err := s.Prune(context.Background(), Policy{}, now)
	if err != nil || n != 3 {
		t.Errorf("Prune = %d, %v; want 3", n, err)
	}
	if _, ok, _ := s.Get(context.Background(), "new@a.zz", "S"); !ok {
		t.Error("prune dropped a fresh verdict")
	}
	if _, ok, _ := s.Get(context.Background(), "u@c.zz", "S"); !ok {
		t.Error("prune dropped an unknown verdict younger than a day")
	}
}

// TestWriteFailureSticky: a failed commit (here: the database closed under the store;
// in life a full disk or a read-only file) is returned by Flush and by every later Put.
func TestWriteFailureSticky(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), FileName))
	if err != nil {
		t.Fatal(err)
	}
	s.db.Close()
	s.Put(result("a@b.zz", verify.ReasonAccepted, t0), "S")
	if err := s.Flush(); err == nil {
		t.Fatal("Flush after a failed commit: nil error")
	}
	if err := s.Put(result("b@b.zz", verify.ReasonAccepted, t0), "S"); err == nil {
		t.Error("Put after a failed commit: nil error")
	}
	if err := s.Close(); err == nil {
		t.Error("Close after a failed commit: nil error")
	}
}
