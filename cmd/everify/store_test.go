package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/everify/everify/internal/fakes"
	"github.com/everify/everify/verify"
)

// TestBinaryBulkStore: a second run answers from the store (cached, with the first
// run's checked_at) without a DNS query or an SMTP session; --refresh and --max-age ask
// again; --no-store neither reads nor writes.
func TestBinaryBulkStore(t *testing.T) {
	w := fakes.NewBulkWorld(t, fakes.BulkSpec{Rows: 300, Domains: 10, MXHosts: 5, CatchAllEvery: 5,
		UnknownPercent: 20, DuplicatePercent: 5, Seed: 4})
	dir := t.TempDir()
	in := filepath.Join(dir, "list.csv")
	os.WriteFile(in, w.CSV, 0o644)
	db := filepath.Join(dir, "s.db")
	bulkRun := func(extra ...string) []verify.Result {
		t.Helper()
		out, errOut, code := runBinary(t, "", append(append([]string{"bulk", "--format", "ndjson", in}, bulkWorldArgs(w)...), extra...)...)
		if code != 0 {
			t.Fatalf("bulk %v: exit %d\n%s", extra, code, errOut)
		}
		return decodeNDJSON(t, out)
	}
	traffic := func() (int, int) { s, _, _, _ := w.Totals(); return s, w.DNS.Queries() }

	first := bulkRun("--store", db)
	s1, q1 := traffic()
	second := bulkRun("--store", db)
	if s2, q2 := traffic(); s2 != s1 || q2 != q1 {
		t.Errorf("second run: %d SMTP sessions, %d DNS queries; want none", s2-s1, q2-q1)
	}
	for i := range first {
		a, b := first[i], second[i]
		if a.Cached || b.Cached != (a.Status != verify.StatusUnknown) || b.Reason != a.Reason {
			t.Fatalf("row %d %s: first %s cached=%v, second %s cached=%v", i, a.Input, a.Reason, a.Cached, b.Reason, b.Cached)
		}
		if b.Cached && !b.CheckedAt.Equal(a.CheckedAt) {
			t.Errorf("row %d: cached checked_at %v, first asked at %v", i, b.CheckedAt, a.CheckedAt)
		}
	}
	// check reads the same store.
	out, _, _ := runBinary(t, "", append(append([]string{"check", "--format", "ndjson", "--store", db}, bulkWorldArgs(w)...), w.Want[0].Addr)...)
	if rs := decodeNDJSON(t, out); len(rs) != 1 || !rs[0].Cached || string(rs[0].Reason) != w.Want[0].Reason {
		t.Errorf("check after bulk: %s", out)
	}
	for _, flags := range [][]string{{"--refresh"}, {"--max-age", "1ns"}} {
		s, _ := traffic()
		rs := bulkRun(append([]string{"--store", db}, flags...)...)
		if s2, _ := traffic(); s2 == s || rs[0].Cached {
			t.Errorf("%v: %d new sessions, first cached=%v", flags, s2-s, rs[0].Cached)
		}
	}
	other := filepath.Join(dir, "other.db")
	bulkRun("--no-store")
	bulkRun("--store", other, "--no-smtp")
	if _, err := os.Stat(other); err == nil {
		t.Error("a --no-smtp run created the store")
	}

	// everify store on what the runs kept.
	ios, stats, errOut := testStreams("")
	if code := run(t.Context(), []string{"store", "stats", "--store", db}, ios); code != 0 {
		t.Fatalf("store stats: exit %d %s", code, errOut)
	}
	for _, want := range []string{"deliverable", "undeliverable", "risky", "unknown", "10 domains"} {
		if !strings.Contains(stats.String(), want) {
			t.Errorf("store stats lacks %q:\n%s", want, stats)
		}
	}
	ios, exp, _ := testStreams("")
	if code := run(t.Context(), []string{"store", "export", "--store", db}, ios); code != 0 {
		t.Fatalf("store export: exit %d", code)
	}
	if n := strings.Count(exp.String(), "\n"); n < 250 || !strings.Contains(exp.String(), `"record":{"input":`) {
		t.Errorf("store export: %d lines:\n%.300s", n, exp)
	}
	ios, pruned, _ := testStreams("")
	if code := run(t.Context(), []string{"store", "prune", "--store", db, "--max-age", "1ns"}, ios); code != 0 || !strings.Contains(pruned.String(), "pruned") {
		t.Errorf("store prune: exit %d %s", code, pruned)
	}
}

// TestBinaryBulkStoreConcurrent: two runs at once on one store both finish, and the
// store holds the verdicts of both.
func TestBinaryBulkStoreConcurrent(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "s.db")
	var cmds []*exec.Cmd
	var errs []*bytes.Buffer
	for i := range 2 {
		w := fakes.NewBulkWorld(t, fakes.BulkSpec{Rows: 1500, Domains: 20, MXHosts: 10, UnknownPercent: 20, Seed: uint64(20 + i)})
		in := filepath.Join(dir, "list"+string(rune('a'+i))+".csv")
		os.WriteFile(in, w.CSV, 0o644)
		cmd := exec.Command(binPath(t), append([]string{"bulk", in, "-o", os.DevNull, "--store", db}, bulkWorldArgs(w)...)...)
		var e bytes.Buffer
		cmd.Stderr = &e
		cmds, errs = append(cmds, cmd), append(errs, &e)
	}
	for _, c := range cmds {
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
	}
	for i, c := range cmds {
		if err := c.Wait(); err != nil {
			t.Errorf("run %d: %v\n%s", i, err, errs[i])
		}
	}
	ios, out, _ := testStreams("")
	run(t.Context(), []string{"store", "export", "--store", db}, ios)
	// Both worlds use ports of their own: their verdicts are kept apart.
	if n := strings.Count(out.String(), "\n"); n < 2*1400 {
		t.Errorf("store holds %d verdicts after two runs of 1,500 rows", n)
	}
}

// TestBinaryBulkBadStore: a corrupt or foreign store file is a clear error with a hint,
// never a panic; a default store that cannot be created is a warning.
func TestBinaryBulkBadStore(t *testing.T) {
	w := fakes.NewBulkWorld(t, fakes.BulkSpec{Rows: 20, Domains: 2, MXHosts: 2, Seed: 3})
	dir := t.TempDir()
	in := filepath.Join(dir, "list.csv")
	os.WriteFile(in, w.CSV, 0o644)
	garbage := filepath.Join(dir, "garbage.db")
	os.WriteFile(garbage, bytes.Repeat([]byte("garbage!"), 1000), 0o644)
	args := append([]string{"bulk", in, "-o", filepath.Join(dir, "out.csv")}, bulkWorldArgs(w)...)

	_, errOut, code := runBinary(t, "", append(args, "--store", garbage)...)
	if code != exitError || !strings.Contains(errOut, "not a readable SQLite database") ||
		!strings.Contains(errOut, "hint: run with --no-store, or move the file away") || strings.Contains(errOut, "panic") {
		t.Errorf("corrupt store: exit %d\n%s", code, errOut)
	}
	_, errOut, code = runBinary(t, "", append(args, "--store", filepath.Join(in, "s.db"))...)
	if code != exitError || !strings.Contains(errOut, "hint:") {
		t.Errorf("explicit store under a file: exit %d\n%s", code, errOut)
	}

	// The default store under a cache dir that cannot exist: warn, verify anyway.
	cmd := exec.Command(binPath(t), args...)
	cmd.Env = append(os.Environ(), "XDG_CACHE_HOME="+filepath.Join(in, "cache"))
	var e bytes.Buffer
	cmd.Stderr = &e
	if err := cmd.Run(); err != nil || !strings.Contains(e.String(), "warning: no result store") {
		t.Errorf("unwritable cache dir: %v\n%s", err, e.String())
	}
	// EVERIFY_STORE names the store like --store does.
	cmd = exec.Command(binPath(t), args...)
	cmd.Env = append(os.Environ(), "EVERIFY_STORE="+garbage)
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "not a readable SQLite database") {
		t.Errorf("EVERIFY_STORE: %v\n%s", err, out)
	}
}
