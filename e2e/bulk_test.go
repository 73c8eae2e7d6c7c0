//go:build e2e

package e2e

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The bulk run: ~300 rows, 230 of them at bulk.zz (the only domain on listener
// 127.0.0.8, so Postfix's log counts its sessions exactly), of which 70 are unknown
// users, 35 of those in one unbroken run: an engine that keeps a session going through
// them meets Postfix's error limits (1 s per reply after 10 errors, 421 after 20).

const (
	bulkReaders = 160
	bulkGhosts  = 70
	ghostRun    = 35 // consecutive unknown users in section B
	rcptPerConn = 50 // CLI default --rcpt-per-conn
	perMX       = 2  // SPEC default --per-mx
	maxRejects  = 10 // CLI default --max-rejects: rejected RCPTs per session before a fresh one
	softLimit   = 10 // Postfix's smtpd_soft_error_limit: every reply slowed by 1 s once a session made this many errors
)

// bulkMembers are the real bulk.zz mailboxes (written to Postfix's vmailbox_bulk).
func bulkMembers() []string {
	m := make([]string, bulkReaders)
	for i := range m {
		m[i] = fmt.Sprintf("reader%03d", i+1)
	}
	return m
}

type bulkRow struct {
	cell   string // the email column, as written
	email  string // normalized
	status string
	reason string
	bulk   bool // a bulk.zz address
}

// bulkRows builds the list deterministically.
func bulkRows() []bulkRow {
	var rows []bulkRow
	reader := func(i int) bulkRow {
		e := fmt.Sprintf("reader%03d@bulk.zz", i)
		return bulkRow{cell: e, email: e, status: deliverable, reason: "accepted", bulk: true}
	}
	ghost := func(i int) bulkRow {
		e := fmt.Sprintf("ghost%03d@bulk.zz", i)
		return bulkRow{cell: e, email: e, status: undeliverable, reason: "mailbox_not_found", bulk: true}
	}
	n := 0
	other := func() bulkRow {
		n++
		k := n
		mk := func(e, st, re string) bulkRow { return bulkRow{cell: e, email: e, status: st, reason: re} }
		switch k % 11 {
		case 0:
			return mk(fmt.Sprintf("fan%02d@catchall.zz", k), risky, "catch_all")
		case 1:
			return mk(fmt.Sprintf("visitor%02d@alpha.zz", k), undeliverable, "mailbox_not_found")
		case 2:
			return mk("alice@alpha.zz", deliverable, "accepted") // duplicates: verified once
		case 3:
			return mk(fmt.Sprintf("x%02d@nosuch.zz", k), undeliverable, "no_such_domain")
		case 4:
			return mk(fmt.Sprintf("x%02d@nullmx.zz", k), undeliverable, "null_mx")
		case 5:
			return mk(fmt.Sprintf("x%02d@noaddr.zz", k), undeliverable, "no_mail_server")
		case 6:
			return mk(fmt.Sprintf("x%02d@refused.zz", k), unknown, "smtp_unreachable")
		case 7:
			return mk(fmt.Sprintf("temp%02d@mailinator.com", k), risky, "disposable")
		case 8:
			return bulkRow{cell: fmt.Sprintf("not an address %02d", k), status: undeliverable, reason: "invalid_syntax"}
		case 9:
			return mk("grey@alpha.zz", unknown, "smtp_temp_failure")
		default:
			return mk("full@alpha.zz", risky, "mailbox_full")
		}
	}
	// A: readers, an other every 4th.
	for i := 1; i <= 40; i++ {
		rows = append(rows, reader(i))
		if i%4 == 0 {
			rows = append(rows, other())
		}
	}
	// B: a run of unknown users.
	for g := 1; g <= ghostRun; g++ {
		rows = append(rows, ghost(g))
	}
	// C: readers with a ghost after every 4th and an other after every 3rd.
	g := ghostRun
	for i := 41; i <= bulkReaders; i++ {
		rows = append(rows, reader(i))
		if i%4 == 0 && g < bulkGhosts-5 {
			g++
			rows = append(rows, ghost(g))
		}
		if i%3 == 0 {
			rows = append(rows, other())
		}
	}
	// D: the last ghosts, duplicates, odd cells.
	for g < bulkGhosts {
		g++
		rows = append(rows, ghost(g))
	}
	rows = append(rows,
		reader(1), ghost(1),
		bulkRow{cell: " Reader Two <reader002@BULK.zz> ", email: "reader002@bulk.zz", status: deliverable, reason: "accepted", bulk: true},
		bulkRow{cell: "", status: undeliverable, reason: "invalid_syntax"},
	)
	for len(rows) < 300 {
		rows = append(rows, other())
	}
	return rows
}

// writeBulkCSV writes rows as a CSV export with an email column among others.
func writeBulkCSV(path string, rows []bulkRow) error {
	var b bytes.Buffer
	cw := csv.NewWriter(&b)
	_ = cw.Write([]string{"id", "name", "Email Address", "plan"})
	for i, r := range rows {
		_ = cw.Write([]string{strconv.Itoa(i + 1), fmt.Sprintf("Person %d", i+1), r.cell, []string{"free", "pro"}[i%2]})
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return err
	}
	return os.WriteFile(path, b.Bytes(), 0o644)
}

// sessionStats is what Postfix logged for one listener (syslog_name postfix/NAME).
type sessionStats struct {
	connects, disconnects int
	tooManyErrors         int // "too many errors after ..." (421 sent)
	rcptOK, rcptAll       int // summed from "disconnect from ... rcpt=OK/ALL"
	maxRejected           int // most rejected RCPTs in one session
	lostConnection        int
	data                  int // sessions that used DATA or BDAT (must be none)
}

var (
	reDisconnect = regexp.MustCompile(`: disconnect from .* rcpt=(\d+)(?:/(\d+))?`)
)

// postfixSessions parses the Postfix log from byte offset off for one listener.
func (w *world) postfixSessions(off int64, listener string) (sessionStats, error) {
	b, err := os.ReadFile(filepath.Join(w.dir, "postfix.log"))
	if err != nil {
		return sessionStats{}, err
	}
	if off > int64(len(b)) {
		off = int64(len(b))
	}
	var s sessionStats
	tag := " postfix/" + listener + "/smtpd["
	for _, line := range strings.Split(string(b[off:]), "\n") {
		if !strings.Contains(line, tag) {
			continue
		}
		switch {
		case strings.Contains(line, "]: connect from "):
			s.connects++
		case strings.Contains(line, "]: disconnect from "):
			s.disconnects++
			if strings.Contains(line, " data=") || strings.Contains(line, " bdat=") {
				s.data++
			}
			if m := reDisconnect.FindStringSubmatch(line); m != nil {
				ok, _ := strconv.Atoi(m[1])
				all := ok
				if m[2] != "" {
					all, _ = strconv.Atoi(m[2])
				}
				s.rcptOK += ok
				s.rcptAll += all
				s.maxRejected = max(s.maxRejected, all-ok)
			}
		case strings.Contains(line, "]: too many errors after "):
			s.tooManyErrors++
		case strings.Contains(line, "]: lost connection after "):
			s.lostConnection++
		}
	}
	return s, nil
}

// logListenerStats logs, and checks, what Postfix saw of a run on every listener.
func (w *world) logListenerStats(t *testing.T, off int64) {
	t.Helper()
	for _, ln := range []string{"main", "v6", "catchall", "blocked", "policy", "noutf8", "bulk"} {
		st, err := w.postfixSessions(off, ln)
		if err != nil {
			t.Fatal(err)
		}
		if st.connects == 0 {
			continue
		}
		t.Logf("Postfix, listener %s: %d sessions, %d RCPTs (%d accepted), at most %d rejected in one session, %d \"too many errors\"",
			ln, st.connects, st.rcptAll, st.rcptOK, st.maxRejected, st.tooManyErrors)
		if st.data > 0 {
			t.Errorf("listener %s: %d sessions sent DATA or BDAT: a probe must never send a message", ln, st.data)
		}
	}
}

func logSize(path string) int64 {
	st, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return st.Size()
}

func TestBulk(t *testing.T) {
	w := requireBinary(t)
	t.Parallel()
	rows := bulkRows()
	in := filepath.Join(w.dir, "bulk.csv")
	if err := writeBulkCSV(in, rows); err != nil {
		t.Fatal(err)
	}
	var n, u int
	seen := map[string]bool{}
	for _, r := range rows {
		if r.bulk && !seen[r.email] {
			seen[r.email] = true
			n++
			if r.reason == "mailbox_not_found" {
				u++
			}
		}
	}
	t.Logf("bulk list: %d rows, %d distinct bulk.zz addresses, %d of them unknown users", len(rows), n, u)

	logPath := filepath.Join(w.dir, "postfix.log")
	off := logSize(logPath)
	start := time.Now()
	out, stderr, code := w.everify(t, 150*time.Second, "bulk", "--format", "ndjson", in)
	elapsed := time.Since(start)
	if code != 0 {
		t.Errorf("exit code %d, want 0\nstderr:\n%s", code, stderr)
	}
	t.Logf("bulk took %v; stderr (summary):\n%s", elapsed.Round(time.Millisecond), stderr)

	_ = os.WriteFile(filepath.Join(w.dir, "bulk.ndjson"), []byte(out), 0o644)
	recs := parseNDJSON(t, out)
	if len(recs) != len(rows) {
		t.Errorf("%d records for %d rows", len(recs), len(rows))
	}
	bad := 0
	for i := 0; i < min(len(recs), len(rows)); i++ {
		r, want := recs[i], rows[i]
		var diffs []string
		if r.Input != want.cell {
			diffs = append(diffs, fmt.Sprintf("input = %q (rows must stay in input order)", r.Input))
		}
		if r.Status != want.status || r.Reason != want.reason {
			diffs = append(diffs, fmt.Sprintf("status/reason = %s/%s, want %s/%s", r.Status, r.Reason, want.status, want.reason))
		}
		if want.email != "" && r.Email != want.email {
			diffs = append(diffs, fmt.Sprintf("email = %q, want %q", r.Email, want.email))
		}
		if want.bulk && r.SMTP.MX != "mx.bulk.zz" {
			diffs = append(diffs, fmt.Sprintf("smtp.mx = %q, want mx.bulk.zz", r.SMTP.MX))
		}
		if len(diffs) > 0 {
			bad++
			if bad <= 40 {
				t.Errorf("row %d %q: %s (smtp: %d %s %q)", i+2, want.cell, strings.Join(diffs, "; "),
					r.SMTP.Code, r.SMTP.EnhancedCode, r.SMTP.Message)
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d rows wrong", bad, len(rows))
	}

	// Postfix logs through postlogd, asynchronously: wait until every session that
	// was opened has been logged as closed.
	var st sessionStats
	deadline := time.Now().Add(10 * time.Second)
	for {
		var err error
		if st, err = w.postfixSessions(off, "bulk"); err != nil {
			t.Fatal(err)
		}
		if st.connects == st.disconnects || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	// The bound the politeness settings promise. A session ends because it probed
	// rcpt-per-conn recipients (at most ceil((n+1)/50) such sessions: n addresses plus
	// the one catch-all probe), or because it collected maxRejects rejections (at most
	// ceil((u+1)/maxRejects): u unknown users plus the refused catch-all probe), or because the
	// work ran out (at most one per connection slot, per-mx).
	bound := ceilDiv(n+1, rcptPerConn) + ceilDiv(u+1, maxRejects) + perMX
	t.Logf("Postfix, listener bulk: %d sessions (bound %d), %d RCPTs of which %d accepted, "+
		"at most %d rejected in one session, %d \"too many errors\" (421) disconnects, %d lost connections",
		st.connects, bound, st.rcptAll, st.rcptOK, st.maxRejected, st.tooManyErrors, st.lostConnection)
	if st.connects == 0 {
		t.Errorf("Postfix logged no session on the bulk listener")
	}
	if st.data > 0 {
		t.Errorf("%d sessions sent DATA or BDAT: a probe must never send a message", st.data)
	}
	if st.connects > bound {
		t.Errorf("%d SMTP sessions to mx.bulk.zz, want at most %d = ceil((%d+1)/%d) + ceil((%d+1)/%d) + %d",
			st.connects, bound, n, rcptPerConn, u, maxRejects, perMX)
	}
	if st.rcptAll > 0 && st.rcptAll < n {
		t.Errorf("Postfix saw %d RCPTs for %d distinct bulk.zz addresses", st.rcptAll, n)
	}
	// The CLI promises to stay within servers' error limits (--max-rejects, default 10:
	// Postfix slows the replies that follow a session's 10th error, and everify waits
	// for none after it), so it never meets the 421 of the hard limit.
	if st.tooManyErrors > 0 {
		t.Errorf("Postfix said \"too many errors\" (421) %d times: the engine ran into the hard error limit", st.tooManyErrors)
	}
	if st.maxRejected > softLimit {
		t.Errorf("a session collected %d rejected RCPTs; Postfix slows every reply once a session made %d errors", st.maxRejected, softLimit)
	}
}

// TestBulkCSV: the default CSV output keeps the input columns and appends docs/record.md's
// result columns; --fail-on turns a match into exit code 2.
func TestBulkCSV(t *testing.T) {
	w := requireBinary(t)
	t.Parallel()
	in := filepath.Join(w.dir, "small.csv")
	const input = "id,Email Address,plan\n" +
		"1,alice@alpha.zz,pro\n" +
		"2,stranger@alpha.zz,free\n" +
		"3,whoever@catchall.zz,\"a, b\"\n" +
		"4,someone@nosuch.zz,free\n"
	if err := os.WriteFile(in, []byte(input), 0o644); err != nil {
		t.Fatal(err)
	}
	out, stderr, code := w.everify(t, 60*time.Second, "bulk", in)
	if code != 0 {
		t.Errorf("exit code %d, want 0\nstderr:\n%s", code, stderr)
	}
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatalf("output is not CSV: %v\n%s", err, out)
	}
	wantHeader := []string{"id", "Email Address", "plan", "status", "reason", "email_normalized",
		"disposable", "role", "free", "catch_all", "suggestion", "mx", "smtp_code", "provider"}
	wantRows := [][]string{
		{"1", "alice@alpha.zz", "pro", deliverable, "accepted"},
		{"2", "stranger@alpha.zz", "free", undeliverable, "mailbox_not_found"},
		{"3", "whoever@catchall.zz", "a, b", risky, "catch_all"},
		{"4", "someone@nosuch.zz", "free", undeliverable, "no_such_domain"},
	}
	if len(recs) != len(wantRows)+1 {
		t.Fatalf("%d CSV records, want %d:\n%s", len(recs), len(wantRows)+1, out)
	}
	if !slices.Equal(recs[0], wantHeader) {
		t.Errorf("header %q, want %q", recs[0], wantHeader)
	}
	for i, want := range wantRows {
		if got := recs[i+1]; len(got) < len(want) || !slices.Equal(got[:len(want)], want) {
			t.Errorf("row %d = %q, want it to start with %q", i+1, got, want)
		}
	}
	// Input columns byte for byte: the output's first lines start with the input's.
	for i, line := range strings.Split(strings.TrimSuffix(input, "\n"), "\n") {
		if outLines := strings.Split(out, "\n"); i >= len(outLines) || !strings.HasPrefix(outLines[i], line+",") {
			t.Errorf("output line %d does not keep input line %q", i+1, line)
		}
	}

	_, stderr, code = w.everify(t, 60*time.Second, "bulk", "--fail-on", "mailbox_not_found", in)
	if code != 2 {
		t.Errorf("--fail-on mailbox_not_found: exit code %d, want 2\nstderr:\n%s", code, stderr)
	}
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }
