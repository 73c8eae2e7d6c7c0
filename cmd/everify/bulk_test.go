package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/everify/everify/internal/fakes"
)

// bulkWorldArgs are the flags pointing everify at a bulk world.
func bulkWorldArgs(w *fakes.BulkWorld) []string {
	return []string{"--resolver", w.DNS.Addr(), "--smtp-port", strconv.Itoa(w.Farm.Port),
		"--helo", "prober.everify.zz", "--smtp-timeout", "5s"}
}

// readCSV parses everify's CSV output; it fails the test on malformed output.
func readCSV(t *testing.T, s string) (header []string, rows []map[string]string) {
	t.Helper()
	r := csv.NewReader(strings.NewReader(s))
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatalf("output is not well-formed CSV: %v", err)
	}
	if len(recs) == 0 {
		t.Fatal("no header in output")
	}
	header = recs[0]
	for _, rec := range recs[1:] {
		m := map[string]string{}
		for i, h := range header {
			m[h] = rec[i]
		}
		rows = append(rows, m)
	}
	return header, rows
}

// TestBinaryBulk5000: 5,000 rows over 50 domains against servers with Postfix's error
// limits: every row right, few sessions, never more than --per-mx at once, one DNS
// query per domain and per MX host.
func TestBinaryBulk5000(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	spec := fakes.BulkSpec{Rows: 5000, Domains: 50, MXHosts: 25, CatchAllEvery: 10,
		UnknownPercent: 30, DuplicatePercent: 5,
		SoftErrorLimit: 10, HardErrorLimit: 20, MaxSessions: 2, Seed: 1}
	w := fakes.NewBulkWorld(t, spec)
	in := filepath.Join(t.TempDir(), "list.csv")
	os.WriteFile(in, w.CSV, 0o644)
	out, errOut, code := runBinary(t, "", append([]string{"bulk", in}, bulkWorldArgs(w)...)...)
	if code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", code, errOut)
	}
	_, rows := readCSV(t, out)
	if len(rows) != spec.Rows {
		t.Fatalf("%d output rows for %d input rows", len(rows), spec.Rows)
	}
	bad := 0
	for i, want := range w.Want {
		r := rows[i]
		if r["email"] != want.Addr || r["status"] != want.Status || r["reason"] != want.Reason ||
			r["catch_all"] != strconv.FormatBool(want.CatchAll) {
			if bad++; bad <= 10 {
				t.Errorf("row %d %s: got %s/%s catch_all=%s, want %s/%s", i, r["email"], r["status"], r["reason"], r["catch_all"], want.Status, want.Reason)
			}
		}
	}
	sessions, rcpts, rtts, tooMany := w.Totals()
	// Each session carries up to 50 recipients and is recycled after 10 rejections.
	bound := spec.Rows/50 + spec.Domains + w.Unknown/10
	t.Logf("%d rows, %d unknown: %d sessions (bound %d), %d RCPTs, %d round trips, %d DNS queries, max open %d",
		spec.Rows, w.Unknown, sessions, bound, rcpts, rtts, w.DNS.Queries(), w.MaxOpen())
	if sessions > bound {
		t.Errorf("%d SMTP sessions, want ≤ %d", sessions, bound)
	}
	if tooMany != 0 {
		t.Errorf("servers sent %d '421 too many errors'", tooMany)
	}
	if q := w.DNS.Queries(); q > spec.Domains+spec.MXHosts {
		t.Errorf("%d DNS queries, want ≤ %d domains + %d MX hosts", q, spec.Domains, spec.MXHosts)
	}
	if w.MaxOpen() > 2 {
		t.Errorf("a server saw %d sessions at once, want ≤ --per-mx 2", w.MaxOpen())
	}
	if rcpts > spec.Rows-spec.Rows*spec.DuplicatePercent/200+spec.Domains {
		t.Errorf("%d RCPTs: duplicates were probed again", rcpts)
	}
	if !strings.Contains(errOut, "smtp sessions") {
		t.Errorf("summary lacks SMTP figures:\n%s", errOut)
	}
	// The summary reports the peak of sessions at once to one server (the scheduler's
	// count, which the servers' own count bounds).
	if want := fmt.Sprintf("(at most %d at once to one server)", w.MaxOpen()); !strings.Contains(errOut, want) {
		t.Errorf("summary lacks %q:\n%s", want, errOut)
	}
}

// TestBulkRoundTrip: input columns come out byte for byte (BOM, ';', CRLF, quoted
// fields with embedded CRLF, LF and quotes, invalid UTF-8 bytes, a last row without a
// newline), with the result columns appended.
func TestBulkRoundTrip(t *testing.T) {
	for _, name := range []string{"roundtrip.csv", "malformed.csv", "plain.txt", "bigcell.csv"} {
		t.Run(name, func(t *testing.T) {
			ios, out, errOut := testStreams("")
			bulkClock(t)
			code := run(context.Background(), []string{"bulk", "--offline", filepath.Join("testdata", "bulk", name)}, ios)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			golden(t, filepath.Join("bulk", name+".out"), out.String())
			golden(t, filepath.Join("bulk", name+".err"), errOut.String())
		})
	}
	// Every input record is a prefix of its output record.
	in, _ := os.ReadFile("testdata/bulk/roundtrip.csv")
	got, _ := os.ReadFile("testdata/bulk/roundtrip.csv.out")
	for _, rec := range []string{"\xef\xbb\xbfname;email;comment", "\"Doe; Jane\";jane@gmail.com;\"multi\r\nline \"\"quoted\"\" note\";",
		"Bob;bob@gmial.com;\"lf\nonly\";", "Caf\xe9 Latin-1;cafe@mailinator.com;bytes \xff\xfe kept;", "\r\n;;;"} {
		if !bytes.Contains(in, []byte(strings.TrimSuffix(rec, ";"))) || !bytes.Contains(got, []byte(rec)) {
			t.Errorf("record %q not kept byte for byte", rec)
		}
	}
}

func TestBulkErrors(t *testing.T) {
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"binary", []string{"bulk", "--offline", "testdata/bulk/binary.bin"}, "line 3: binary data"},
		{"missing file", []string{"bulk", "--offline", "testdata/bulk/nope.csv"}, "no such file"},
		{"bad column", []string{"bulk", "--offline", "--column", "mail", "testdata/bulk/malformed.csv"}, `column "mail"`},
		{"bad keep", []string{"bulk", "--offline", "--keep", "good", "testdata/bulk/malformed.csv"}, `invalid --keep value "good"`},
		{"bad fail-on", []string{"bulk", "--offline", "--fail-on", "nope", "testdata/bulk/malformed.csv"}, `invalid --fail-on value "nope"`},
		{"text format", []string{"bulk", "--offline", "--format", "text", "testdata/bulk/malformed.csv"}, "invalid --format"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ios, _, errOut := testStreams("")
			if code := run(context.Background(), tt.args, ios); code != exitError {
				t.Errorf("exit %d, want %d", code, exitError)
			}
			if !strings.Contains(errOut.String(), tt.want) {
				t.Errorf("stderr %q lacks %q", errOut, tt.want)
			}
		})
	}
}

func TestBulkKeepFailOnColumn(t *testing.T) {
	sample := "../../testdata/sample.csv"
	for _, tt := range []struct {
		name     string
		args     []string
		code     int
		statuses []string // of the rows written
	}{
		{"fail-on status", []string{"--fail-on", "undeliverable"}, exitFail, nil},
		{"fail-on reason", []string{"--fail-on", "reserved_domain"}, exitFail, nil},
		{"fail-on no match", []string{"--fail-on", "mailbox_full,catch_all"}, exitOK, nil},
		{"keep", []string{"--keep", "risky"}, exitOK, []string{"risky", "risky", "risky"}},
		{"keep two", []string{"--keep", "risky,undeliverable", "--fail-on", "disposable"}, exitFail,
			[]string{"risky", "risky", "risky", "undeliverable", "undeliverable", "undeliverable", "undeliverable"}},
		{"column by index", []string{"--column", "3", "--keep", "risky"}, exitOK, []string{"risky", "risky", "risky"}},
		{"column by name", []string{"--column", "EMAIL", "--keep", "risky"}, exitOK, []string{"risky", "risky", "risky"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ios, out, errOut := testStreams("")
			code := run(context.Background(), append(append([]string{"bulk", "--offline"}, tt.args...), sample), ios)
			if code != tt.code {
				t.Errorf("exit %d, want %d; %s", code, tt.code, errOut)
			}
			if tt.statuses == nil {
				return
			}
			_, rows := readCSV(t, out.String())
			var got []string
			for _, r := range rows {
				got = append(got, r["status"])
			}
			if strings.Join(got, ",") != strings.Join(sortedStatuses(tt.statuses, got), ",") || len(got) != len(tt.statuses) {
				t.Errorf("kept statuses %v, want %v", got, tt.statuses)
			}
		})
	}
}

// sortedStatuses returns want if got holds the same multiset, for order-insensitive
// comparison that still reports the real order.
func sortedStatuses(want, got []string) []string {
	count := map[string]int{}
	for _, s := range want {
		count[s]++
	}
	for _, s := range got {
		count[s]--
	}
	for _, n := range count {
		if n != 0 {
			return want
		}
	}
	return got
}

func TestBulkStdinNDJSON(t *testing.T) {
	ios, out, _ := testStreams("email\nb@mailinator.com\nbad@\n")
	if code := run(context.Background(), []string{"bulk", "--offline", "--format", "ndjson", "-"}, ios); code != 0 {
		t.Fatalf("exit %d", code)
	}
	rs := decodeNDJSON(t, out.String())
	if len(rs) != 2 || rs[0].Reason != "disposable" || rs[1].Reason != "invalid_syntax" {
		t.Errorf("results %+v", rs)
	}
}

// TestBulkOrderSlowHead: the first row's server is slow; rows still leave in order.
func TestBulkOrderSlowHead(t *testing.T) {
	spec := fakes.BulkSpec{Rows: 300, Domains: 10, MXHosts: 10, Seed: 2}
	w := fakes.NewBulkWorld(t, spec)
	// Put a slow domain's row at the head of the list.
	z := w.DNS
	z.MX("slow.zz", 10, "mx.slow.zz")
	z.A("mx.slow.zz", "127.0.2.1")
	w.Farm.Host("127.0.2.1", fakes.Config{Mailboxes: []string{"head@slow.zz"}, Latency: 300 * time.Millisecond})
	csvIn := strings.Replace(string(w.CSV), "id,name,email,note\n", "id,name,email,note\nhead,Head,head@slow.zz,first\n", 1)
	ios, out, errOut := testStreams(csvIn)
	code := run(context.Background(), append([]string{"bulk", "--format", "ndjson", "-"}, bulkWorldArgs(w)...), ios)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	rs := decodeNDJSON(t, out.String())
	if len(rs) != spec.Rows+1 || rs[0].Email != "head@slow.zz" || rs[0].Reason != "accepted" {
		t.Fatalf("%d results, first %+v", len(rs), rs[0])
	}
	for i, want := range w.Want {
		if rs[i+1].Input != want.Addr || string(rs[i+1].Reason) != want.Reason {
			t.Fatalf("row %d: %s %s, want %s %s", i+1, rs[i+1].Input, rs[i+1].Reason, want.Addr, want.Reason)
		}
	}
}

// TestBinaryBulkInterrupt: SIGINT mid-run flushes every completed row, prints the
// summary, leaves well-formed output and exits 130.
func TestBinaryBulkInterrupt(t *testing.T) {
	spec := fakes.BulkSpec{Rows: 2000, Domains: 20, MXHosts: 20, Latency: 20 * time.Millisecond, Seed: 3}
	w := fakes.NewBulkWorld(t, spec)
	in := filepath.Join(t.TempDir(), "list.csv")
	os.WriteFile(in, w.CSV, 0o644)
	cmd := exec.Command(binPath(t), append([]string{"bulk", "--workers", "4", in}, bulkWorldArgs(w)...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var errOut bytes.Buffer
	cmd.Stderr = &errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	br := bufio.NewReader(io.TeeReader(stdout, &got))
	for range 20 { // header and some rows, then Ctrl-C
		if _, err := br.ReadString('\n'); err != nil {
			t.Fatalf("reading output: %v", err)
		}
	}
	cmd.Process.Signal(syscall.SIGINT)
	io.Copy(io.Discard, br)
	err = cmd.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != exitInterrupted {
		t.Fatalf("exit %v, want %d; stderr:\n%s", err, exitInterrupted, errOut.String())
	}
	_, rows := readCSV(t, got.String())
	if len(rows) < 19 || len(rows) >= spec.Rows {
		t.Errorf("%d rows written, want a partial run", len(rows))
	}
	for i, r := range rows {
		if r["email"] != w.Want[i].Addr || r["reason"] != w.Want[i].Reason {
			t.Fatalf("row %d: %s %s, want %s %s", i, r["email"], r["reason"], w.Want[i].Addr, w.Want[i].Reason)
		}
	}
	if !strings.HasSuffix(got.String(), "\n") {
		t.Error("output ends in a half-written row")
	}
	if !strings.Contains(errOut.String(), "rows in") || !strings.Contains(errOut.String(), "interrupted") {
		t.Errorf("stderr lacks the summary or the interruption:\n%s", errOut.String())
	}
}

// TestBulkProgress: --progress always draws the bar on stderr (with a total from the
// file's line count); never and auto off a terminal draw nothing.
func TestBulkProgress(t *testing.T) {
	for _, tt := range []struct {
		mode   string
		errTTY bool
		bar    bool
	}{{"always", false, true}, {"never", true, false}, {"auto", false, false}, {"auto", true, true}} {
		t.Run(tt.mode+"-tty="+strconv.FormatBool(tt.errTTY), func(t *testing.T) {
			ios, out, errOut := testStreams("")
			ios.ErrTTY = tt.errTTY
			code := run(context.Background(), []string{"bulk", "--offline", "--progress", tt.mode, "../../testdata/sample.csv"}, ios)
			if code != 0 {
				t.Fatalf("exit %d", code)
			}
			if got := strings.Contains(errOut.String(), "verifying"); got != tt.bar {
				t.Errorf("progress bar drawn = %v, want %v; stderr:\n%q", got, tt.bar, errOut)
			}
			if tt.bar && !strings.Contains(errOut.String(), "/13") {
				t.Errorf("progress bar lacks the total of 13 rows: %q", errOut)
			}
			if strings.Contains(out.String(), "verifying") {
				t.Error("progress bar on stdout")
			}
		})
	}
}

// TestBinaryInterruptOpenStdin: Ctrl-C while everify waits for more input on a stdin
// that stays open (a terminal) ends the run at once with 130 and the rows so far.
func TestBinaryInterruptOpenStdin(t *testing.T) {
	for _, args := range [][]string{{"check", "--offline", "-"}, {"bulk", "--offline", "-"}} {
		t.Run(args[0], func(t *testing.T) {
			cmd := exec.Command(binPath(t), args...)
			stdin, _ := cmd.StdinPipe()
			defer stdin.Close()
			stdout, _ := cmd.StdoutPipe()
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			io.WriteString(stdin, "email\na@mailinator.com\n")
			br := bufio.NewReader(stdout)
			if args[0] == "check" {
				// check answers each line as it comes.
				if _, err := br.ReadString('\n'); err != nil {
					t.Fatal(err)
				}
			} else {
				// bulk reads ahead to detect the format: interrupt that wait.
				time.Sleep(200 * time.Millisecond)
			}
			cmd.Process.Signal(syscall.SIGINT)
			done := make(chan error, 1)
			go func() { io.Copy(io.Discard, br); done <- cmd.Wait() }()
			select {
			case err := <-done:
				if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != exitInterrupted {
					t.Errorf("exit %v, want %d", err, exitInterrupted)
				}
			case <-time.After(10 * time.Second): // failsafe: it waits for stdin to close
				cmd.Process.Kill()
				t.Fatal("still running 10 s after SIGINT with stdin open")
			}
		})
	}
}

// TestBulkRefusesInPlace: -o naming the input file (or stdout redirected onto it) is
// refused before anything is written.
func TestBulkRefusesInPlace(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "list.csv")
	os.WriteFile(in, []byte("email\na@gmail.com\n"), 0o644)
	ios, _, errOut := testStreams("")
	if code := run(context.Background(), []string{"bulk", "--offline", in, "-o", in}, ios); code != exitError {
		t.Errorf("exit %d, want %d", code, exitError)
	}
	if !strings.Contains(errOut.String(), "the output is the input file") {
		t.Errorf("stderr %q", errOut)
	}
	f, _ := os.OpenFile(in, os.O_WRONLY|os.O_APPEND, 0)
	defer f.Close()
	ios, _, _ = testStreams("")
	ios.Out = f
	if code := run(context.Background(), []string{"bulk", "--offline", in}, ios); code != exitError {
		t.Errorf("stdout onto the input: exit %d, want %d", code, exitError)
	}
	if b, _ := os.ReadFile(in); string(b) != "email\na@gmail.com\n" {
		t.Errorf("input changed: %q", b)
	}
}

// TestBulkCRLFConsistent: rows the writer completes (the header of a headerless list, a
// last row without a line break) end in the input's CRLF.
func TestBulkCRLFConsistent(t *testing.T) {
	ios, out, _ := testStreams("a@gmail.com\r\nb@gmail.com\r\nc@gmail.com")
	run(context.Background(), []string{"bulk", "--offline", "-"}, ios)
	if n, crlf := strings.Count(out.String(), "\n"), strings.Count(out.String(), "\r\n"); n != 4 || crlf != 4 {
		t.Errorf("%d line breaks, %d CRLF in %q; want 4 CRLF", n, crlf, out)
	}
}

// TestBulkGCPercent: an online bulk or recheck run collects garbage twice as often
// (its memory stays flat and low on long lists) unless the user set GOGC; offline runs
// keep Go's default.
func TestBulkGCPercent(t *testing.T) {
	z := fakes.NewZoo(t)
	dir := t.TempDir()
	in, done := filepath.Join(dir, "list.csv"), filepath.Join(dir, "done.csv")
	os.WriteFile(in, []byte("email\njane@corp.zz\n"), 0o644)
	os.WriteFile(done, []byte("email,status,reason,email_normalized,disposable,role,free,catch_all,suggestion,mx,smtp_code,provider\n"+
		"jane@corp.zz,unknown,smtp_timeout,jane@corp.zz,false,false,false,false,,,,\n"), 0o644)
	online := []string{"--no-store", "--no-smtp", "--resolver", z.DNS.Addr(), "-o", os.DevNull}
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	for _, tt := range []struct {
		gogc string
		args []string
		want int
	}{
		{"", append(append([]string{"bulk"}, online...), in), bulkGCPercent},
		{"", append(append([]string{"recheck"}, online...), done), bulkGCPercent},
		{"200", append(append([]string{"bulk"}, online...), in), 100},
		{"", []string{"bulk", "--offline", "-o", os.DevNull, in}, 100},
	} {
		debug.SetGCPercent(100)
		ios, _, errOut := testStreams("")
		ios.Getenv = func(k string) string {
			if k == "GOGC" {
				return tt.gogc
			}
			return ""
		}
		if code := run(t.Context(), tt.args, ios); code != 0 {
			t.Fatalf("%v: exit %d: %s", tt.args, code, errOut)
		}
		if got := debug.SetGCPercent(100); got != tt.want {
			t.Errorf("GOGC=%q %v: GC percent %d, want %d", tt.gogc, tt.args, got, tt.want)
		}
	}
}
