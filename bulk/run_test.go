package bulk

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/everify/everify/csvio"
	"github.com/everify/everify/dnscheck"
	"github.com/everify/everify/internal/fakes"
	"github.com/everify/everify/smtpprobe"
	"github.com/everify/everify/store"
	"github.com/everify/everify/verify"
)

func reader(t testing.TB, s string) *csvio.Reader {
	t.Helper()
	rd, err := csvio.NewReader(strings.NewReader(s), csvio.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return rd
}

func headerLen(rd *csvio.Reader) int64 {
	h := rd.Header()
	return int64(len(h.Raw) + len(h.EOL))
}

// collect runs job and returns the emitted rows as "N:address:reason".
func collect(t *testing.T, job Job) ([]string, Summary, error) {
	t.Helper()
	var got []string
	job.Emit = func(row Row) error {
		reason := "pass"
		if row.Result != nil {
			reason = string(row.Result.Reason)
		}
		got = append(got, fmt.Sprintf("%d:%s:%s", row.N, row.Record.Address, reason))
		return nil
	}
	sum, err := Run(context.Background(), job)
	return got, sum, err
}

const list = "id,email\n1,a@mailinator.com\n2,bad@\n3,b@example.com\n4,a@mailinator.com\n5,\"unterminated\n"

func TestRunOfflineSkipPass(t *testing.T) {
	rd := reader(t, list)
	got, sum, err := collect(t, Job{Input: rd, Offset: headerLen(rd), Verifier: &verify.Verifier{}})
	if err != nil {
		t.Fatal(err)
	}
	want := "1:a@mailinator.com:disposable 2:bad@:invalid_syntax 3:b@example.com:reserved_domain 4:a@mailinator.com:disposable 5:unterminated:invalid_syntax"
	if strings.Join(got, " ") != want {
		t.Errorf("rows\n%s\nwant\n%s", strings.Join(got, " "), want)
	}
	if sum.Rows != 5 || sum.Duplicates != 1 || sum.Malformed != 1 || sum.Progress.Rows != 5 || sum.Progress.Offset != int64(len(list)) {
		t.Errorf("summary %+v", sum)
	}

	// Resuming after row 2 at its offset emits rows 3.. numbered as in the full run.
	rd = reader(t, list)
	off := headerLen(rd) + int64(len("1,a@mailinator.com\n2,bad@\n"))
	got, sum, err = collect(t, Job{Input: rd, Offset: headerLen(rd), Verifier: &verify.Verifier{}, Skip: 2, SkipOffset: off})
	if err != nil || strings.Join(got, " ") != strings.Join(strings.Fields(want)[2:], " ") || sum.Skipped != 2 {
		t.Errorf("resumed: %v %v %+v", got, err, sum)
	}
	for _, job := range []Job{{Skip: 2, SkipOffset: off + 1}, {Skip: 9}} {
		rd = reader(t, list)
		job.Input, job.Offset, job.Verifier = rd, headerLen(rd), &verify.Verifier{}
		if got, _, err := collect(t, job); !errors.Is(err, ErrInputChanged) || len(got) > 0 {
			t.Errorf("Skip %d at %d: %v, %d rows; want ErrInputChanged", job.Skip, job.SkipOffset, err, len(got))
		}
	}

	// Pass copies rows without verifying them.
	rd = reader(t, list)
	got, sum, _ = collect(t, Job{Input: rd, Verifier: &verify.Verifier{},
		Pass: func(rec *csvio.Record) bool { return rec.Address != "bad@" }})
	if len(got) != 5 || got[1] != "2:bad@:invalid_syntax" || got[0] != "1:a@mailinator.com:pass" || sum.Passed != 4 {
		t.Errorf("pass: %v %+v", got, sum)
	}
}

func TestRunCheckpoints(t *testing.T) {
	var b strings.Builder
	b.WriteString("email\n")
	for i := range 3000 {
		fmt.Fprintf(&b, "u%d@example.org\n", i)
	}
	rd := reader(t, b.String())
	var seen []Progress
	_, _, err := collect(t, Job{Input: rd, Offset: headerLen(rd), Verifier: &verify.Verifier{},
		CheckpointEvery: time.Nanosecond, Checkpoint: func(p Progress) error {
			seen = append(seen, p)
			return nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) < 2 || seen[len(seen)-1] != (Progress{3000, int64(b.Len())}) {
		t.Fatalf("%d checkpoints, last %+v", len(seen), seen[len(seen)-1])
	}
	for i := 1; i < len(seen); i++ {
		if seen[i].Rows < seen[i-1].Rows {
			t.Fatalf("checkpoints went back: %+v then %+v", seen[i-1], seen[i])
		}
	}
	// A failing checkpoint stops the run.
	rd = reader(t, b.String())
	boom := errors.New("disk full")
	_, _, err = collect(t, Job{Input: rd, Verifier: &verify.Verifier{}, CheckpointEvery: time.Nanosecond,
		Checkpoint: func(Progress) error { return boom }})
	if !errors.Is(err, boom) {
		t.Errorf("err = %v, want %v", err, boom)
	}
}

func worldVerifier(t testing.TB, w *fakes.BulkWorld, smtp bool) *verify.Verifier {
	v := &verify.Verifier{DNS: &dnscheck.Resolver{Servers: []string{w.DNS.Addr()}, Timeout: 2 * time.Second, Attempts: 1}}
	if smtp {
		v.SMTP = &smtpprobe.Prober{Port: w.Farm.Port, HELO: "prober.everify.zz", From: "verify@prober.everify.zz", Timeout: 5 * time.Second}
	}
	t.Cleanup(func() { v.Close() })
	return v
}

// TestRunStoreReuse: a second run over stored verdicts asks no server anything and
// says the verdicts are cached; --refresh asks again; a run without SMTP neither reads
// nor writes the store.
func TestRunStoreReuse(t *testing.T) {
	w := fakes.NewBulkWorld(t, fakes.BulkSpec{Rows: 400, Domains: 8, MXHosts: 4, CatchAllEvery: 4,
		UnknownPercent: 20, DuplicatePercent: 5, Seed: 5})
	st, err := store.Open(filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	clock := time.Now()
	run := func(v *verify.Verifier, refresh bool) ([]verify.Result, Summary) {
		t.Helper()
		var rs []verify.Result
		sum, err := Run(context.Background(), Job{Input: reader(t, string(w.CSV)), Verifier: v, Store: st,
			Settings: "S", Refresh: refresh, Now: func() time.Time { return clock },
			Emit: func(row Row) error { rs = append(rs, *row.Result); return nil }})
		if err != nil {
			t.Fatal(err)
		}
		return rs, sum
	}
	first, sum := run(worldVerifier(t, w, true), false)
	if sum.Cached != 0 {
		t.Fatalf("first run: %d cached", sum.Cached)
	}
	sessions, _, _, _ := w.Totals()
	queries := w.DNS.Queries()

	second, sum := run(worldVerifier(t, w, true), false)
	s2, _, _, _ := w.Totals()
	if s2 != sessions || w.DNS.Queries() != queries {
		t.Errorf("second run: %d SMTP sessions, %d DNS queries; want none", s2-sessions, w.DNS.Queries()-queries)
	}
	unknown := 0
	for i := range first {
		a, b := first[i], second[i]
		if a.Status == verify.StatusUnknown {
			unknown++
			continue
		}
		if !b.Cached || a.Cached || b.Reason != a.Reason || b.Input != a.Input || !b.CheckedAt.Equal(a.CheckedAt) {
			t.Fatalf("row %d: first %s cached=%v, second %s cached=%v", i, a.Reason, a.Cached, b.Reason, b.Cached)
		}
	}
	if sum.Cached == 0 || unknown != 0 {
		t.Errorf("cached %d, unknown %d", sum.Cached, unknown)
	}

	// Stale by the clock: asked again.
	clock = clock.Add(31 * 24 * time.Hour)
	if _, sum = run(worldVerifier(t, w, true), false); sum.Cached != 0 {
		t.Errorf("%d verdicts reused after 31 days", sum.Cached)
	}
	clock = time.Now()
	third, sum := run(worldVerifier(t, w, true), true)
	if s3, _, _, _ := w.Totals(); s3 == s2 || sum.Cached != 0 || third[0].Cached {
		t.Errorf("--refresh: %d new sessions, %d cached", s3-s2, sum.Cached)
	}

	// Without SMTP the store is not consulted.
	q := w.DNS.Queries()
	rs, sum := run(worldVerifier(t, w, false), false)
	if sum.Cached != 0 || w.DNS.Queries() == q || rs[0].Reason != verify.ReasonSMTPSkipped {
		t.Errorf("--no-smtp: %d cached, first %s", sum.Cached, rs[0].Reason)
	}
}

// TestRunLocalBeatsStore: an address the run denies is denied, whatever the store says.
func TestRunLocalBeatsStore(t *testing.T) {
	w := fakes.NewBulkWorld(t, fakes.BulkSpec{Rows: 1, Domains: 1, MXHosts: 1, Seed: 1})
	st, _ := store.Open(filepath.Join(t.TempDir(), "s.db"))
	defer st.Close()
	addr := w.Want[0].Addr
	r := verify.Result{Email: addr, Status: verify.StatusDeliverable, Reason: verify.ReasonAccepted, CheckedAt: time.Now()}
	st.Put(&r, "S")
	deny, _ := verify.LoadMatcher(strings.NewReader(addr + "\n"))
	v := worldVerifier(t, w, true)
	v.Deny = deny
	got, _, err := collect(t, Job{Input: reader(t, "email\n"+addr+"\n"), Verifier: v, Store: st, Settings: "S"})
	if err != nil || len(got) != 1 || !strings.HasSuffix(got[0], ":denied") {
		t.Errorf("got %v, %v", got, err)
	}
}

// BenchmarkRunStored: 100,000 addresses all in the store: no DNS query, no SMTP
// session.
//
//	go test ./bulk -run '^$' -bench RunStored -benchtime 3x
func BenchmarkRunStored(b *testing.B) {
	const rows = 100_000
	w := fakes.NewBulkWorld(b, fakes.BulkSpec{Rows: 10, Domains: 1, MXHosts: 1, Seed: 1})
	st, err := store.Open(filepath.Join(b.TempDir(), "s.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	var csv bytes.Buffer
	csv.WriteString("email\n")
	now := time.Now()
	for i := range rows {
		addr := fmt.Sprintf("user%d@d%d.zz", i, i%500)
		fmt.Fprintln(&csv, addr)
		local, domain, _ := strings.Cut(addr, "@")
		st.Put(&verify.Result{Input: addr, Email: addr, Status: verify.StatusDeliverable, Reason: verify.ReasonAccepted,
			Syntax:    verify.Syntax{Valid: true, Local: local, Domain: domain, ASCIIDomain: domain},
			Domain:    verify.DomainInfo{MX: []verify.MXHost{{Host: "mx0.hosting.zz", Pref: 10}}},
			SMTP:      verify.SMTPInfo{Checked: true, MX: "mx0.hosting.zz", Code: 250, EnhancedCode: "2.1.5", Message: "2.1.5 Ok"},
			CheckedAt: now}, "S")
	}
	if err := st.Flush(); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		v := worldVerifier(b, w, true)
		sum, err := Run(context.Background(), Job{Input: reader(b, csv.String()), Verifier: v, Store: st, Settings: "S",
			Emit: func(Row) error { return nil }})
		if err != nil {
			b.Fatal(err)
		}
		if sum.Cached != rows {
			b.Fatalf("%d cached of %d", sum.Cached, rows)
		}
		if s := v.Stats(); s.DNSQueries != 0 || s.Sessions != 0 || s.ConnectAttempts != 0 {
			b.Fatalf("stats %+v: want no network", s)
		}
	}
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/run")
}

// TestRunCancelledAtTheEnd: Ctrl-C as the last row is emitted still ends the run with
// ctx's error, so the command exits 130 rather than with the verdicts' code.
func TestRunCancelledAtTheEnd(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rows := 0
	_, err := Run(ctx, Job{Input: reader(t, "email\na@mailinator.com\n"), Verifier: &verify.Verifier{}, Interactive: true,
		Emit: func(Row) error { rows++; cancel(); return nil }})
	if rows != 1 || !errors.Is(err, context.Canceled) {
		t.Errorf("%d rows, err %v; want 1 row and context.Canceled", rows, err)
	}
}
