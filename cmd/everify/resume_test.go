package main

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/everify/everify/bulk"
	"github.com/everify/everify/internal/fakes"
)

// TestBinaryBulkKillResume: a 5,000-row online run killed with SIGKILL at random points,
// each time continued with --resume, ends with the very bytes of an uninterrupted run.
func TestBinaryBulkKillResume(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	// Few servers and a 40 ms round trip: an uninterrupted run takes seconds, so that
	// the kills land in the middle of it.
	spec := fakes.BulkSpec{Rows: 5000, Domains: 50, MXHosts: 8, CatchAllEvery: 10,
		UnknownPercent: 30, DuplicatePercent: 5, Latency: 30 * time.Millisecond, Seed: 11}
	w := fakes.NewBulkWorld(t, spec)
	dir := t.TempDir()
	in := filepath.Join(dir, "list.csv")
	os.WriteFile(in, w.CSV, 0o644)
	args := append([]string{"bulk", in, "--progress", "never", "--keep", "deliverable,risky,unknown"}, bulkWorldArgs(w)...)

	ref := filepath.Join(dir, "ref.csv")
	if _, errOut, code := runBinary(t, "", append(args[:len(args):len(args)], "-o", ref, "--no-store")...); code != 0 {
		t.Fatalf("reference run: exit %d\n%s", code, errOut)
	}
	want, _ := os.ReadFile(ref)

	args = append(args, "--store", filepath.Join(dir, "s.db"))
	out := filepath.Join(dir, "out.csv")
	rng := rand.New(rand.NewPCG(7, 7))
	kills, resumes, beyond := 0, 0, 0
	var progress []int // rows done at each kill
	resume := false
	for round := 0; ; round++ {
		if round == 60 {
			t.Fatalf("not finished after %d rounds (%d kills)", round, kills)
		}
		a := append(args[:len(args):len(args)], "-o", out)
		if resume {
			a = append(a, "--resume")
			resumes++
		}
		cmd := exec.Command(binPath(t), a...)
		var errOut bytes.Buffer
		cmd.Stderr = &errOut
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		var err error
		if kills < 12 {
			select {
			case err = <-done:
			case <-time.After(time.Duration(250+rng.IntN(450)) * time.Millisecond):
				cmd.Process.Kill()
				<-done
				kills++
				cp, cpErr := bulk.LoadCheckpoint(bulk.CheckpointPath(out))
				resume = cpErr == nil // killed before the checkpoint existed: start over
				if resume {
					progress = append(progress, cp.Rows)
					if st, err := os.Stat(out); err == nil && st.Size() > cp.OutputSize {
						beyond++ // rows (or a torn one) past the checkpoint: cut on resume
					}
				}
				continue
			}
		} else {
			err = <-done
		}
		if err != nil {
			t.Fatalf("round %d (resume=%v): %v\n%s", round, resume, err, errOut.String())
		}
		break
	}
	if kills < 10 {
		t.Errorf("only %d kills: the run finished too soon", kills)
	}
	got, _ := os.ReadFile(out)
	if !bytes.Equal(got, want) {
		t.Errorf("resumed output (%d bytes) differs from an uninterrupted run's (%d bytes) after %d kills, %d resumes",
			len(got), len(want), kills, resumes)
		gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
		for i := range min(len(gl), len(wl)) {
			if gl[i] != wl[i] {
				t.Fatalf("first difference at line %d:\n got %q\nwant %q", i+1, gl[i], wl[i])
			}
		}
	}
	if _, err := os.Stat(bulk.CheckpointPath(out)); err == nil {
		t.Error("checkpoint left after a finished run")
	}
	t.Logf("%d kills, %d resumes, rows done at each kill %v, %d with output past the checkpoint", kills, resumes, progress, beyond)
	if n := len(progress); n < 3 || progress[n-1] == 0 || progress[n-1] >= spec.Rows {
		t.Errorf("kills did not land mid-run: rows done %v", progress)
	}
}

// TestBulkResumeRefuses: --resume checks the input and the settings; without --resume an
// interrupted run is noticed.
func TestBulkResumeRefuses(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "list.csv")
	out := filepath.Join(dir, "out.csv")
	os.WriteFile(in, []byte("email\na@mailinator.com\nb@gmail.com\n"), 0o644)
	run1 := func(args ...string) (int, string) {
		ios, _, errOut := testStreams("")
		code := run(t.Context(), append([]string{"bulk", "--offline", in, "-o", out}, args...), ios)
		return code, errOut.String()
	}
	if code, errOut := run1("--resume"); code != exitError || !strings.Contains(errOut, "nothing to resume") {
		t.Errorf("resume without checkpoint: exit %d %q", code, errOut)
	}
	// A finished run leaves no checkpoint.
	if code, errOut := run1(); code != 0 {
		t.Fatalf("exit %d %s", code, errOut)
	}
	if _, err := os.Stat(bulk.CheckpointPath(out)); err == nil {
		t.Fatal("checkpoint left after a finished run")
	}
	full, _ := os.ReadFile(out)

	// An interrupted one: Ctrl-C before the first row.
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	ios, _, _ := testStreams("")
	if code := run(ctx, []string{"bulk", "--offline", in, "-o", out}, ios); code != exitInterrupted {
		t.Fatalf("exit %d, want %d", code, exitInterrupted)
	}
	cp, err := bulk.LoadCheckpoint(bulk.CheckpointPath(out))
	if err != nil {
		t.Fatalf("interrupted run left no checkpoint: %v", err)
	}
	if code, errOut := run1(); code != 0 {
		t.Errorf("checkpoint of no row done: a new run should start over; exit %d %q", code, errOut)
	}
	// Say the first row was done: the output holds it and a torn second one.
	header, rest, _ := strings.Cut(string(full), "\n")
	row1, _, _ := strings.Cut(rest, "\n")
	cp.Rows, cp.Offset, cp.OutputRows = 1, int64(len("email\na@mailinator.com\n")), 1
	cp.OutputSize = int64(len(header + "\n" + row1 + "\n"))
	if err := cp.Save(bulk.CheckpointPath(out)); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(out, full[:cp.OutputSize+5], 0o644)
	if code, errOut := run1(); code != exitError || !strings.Contains(errOut, "add --resume") {
		t.Errorf("existing checkpoint without --resume: exit %d %q", code, errOut)
	}
	if code, errOut := run1("--resume", "--keep", "risky"); code != exitError || !strings.Contains(errOut, "settings changed") {
		t.Errorf("resume with other flags: exit %d %q", code, errOut)
	}
	os.WriteFile(in, []byte("email\nz@mailinator.com\nb@gmail.com\n"), 0o644)
	if code, errOut := run1("--resume"); code != exitError || !strings.Contains(errOut, "input changed") {
		t.Errorf("resume with another input: exit %d %q", code, errOut)
	}
	os.WriteFile(in, []byte("email\na@mailinator.com\nb@gmail.com\n"), 0o644)
	if code, errOut := run1("--resume"); code != 0 {
		t.Fatalf("resume: exit %d %q", code, errOut)
	}
	if got, _ := os.ReadFile(out); !bytes.Equal(got, full) {
		t.Errorf("resumed output\n%q\nwant\n%q", got, full)
	}
	if _, err := os.Stat(bulk.CheckpointPath(out)); err == nil {
		t.Error("checkpoint left after the resumed run finished")
	}
	ios, _, errOut := testStreams("")
	if code := run(t.Context(), []string{"bulk", "--offline", in, "--resume"}, ios); code != exitError || !strings.Contains(errOut.String(), "-o FILE") {
		t.Errorf("--resume to stdout: exit %d %q", code, errOut)
	}
}

// TestBinaryBulkFileTooLarge: when the output cannot grow (a full disk; here the file
// size limit), the run fails and the rows written so far are whole and parseable.
func TestBinaryBulkFileTooLarge(t *testing.T) {
	dir := t.TempDir()
	in, out := filepath.Join(dir, "list.csv"), filepath.Join(dir, "out.csv")
	var b strings.Builder
	b.WriteString("id,email,note\n")
	for i := range 5000 {
		fmt.Fprintf(&b, "%d,user%d@gmail.com,\"two\nlines\"\n", i, i)
	}
	os.WriteFile(in, []byte(b.String()), 0o644)
	cmd := exec.Command("sh", "-c", `ulimit -f 200 && exec "$0" "$@"`, binPath(t), "bulk", "--offline", in, "-o", out)
	errOut, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != exitError || !strings.Contains(string(errOut), "file too large") {
		t.Fatalf("exit %v, want %d and the write error:\n%s", err, exitError, errOut)
	}
	got, _ := os.ReadFile(out)
	_, rows := readCSV(t, string(got))
	if len(rows) == 0 || len(rows) >= 5000 || !strings.HasSuffix(string(got), "\n") {
		t.Fatalf("%d rows kept (%d bytes)", len(rows), len(got))
	}
	for i, r := range rows {
		if r["email"] != fmt.Sprintf("user%d@gmail.com", i) || r["note"] != "two\nlines" || r["status"] != "unknown" {
			t.Fatalf("row %d: %v", i, r)
		}
	}
}

func TestCutTorn(t *testing.T) {
	for _, tt := range []struct {
		name, in, want string
		csv            bool
	}{
		{"csv torn", "a,b\n1,\"two\nlines\"\n2,\"tw", "a,b\n1,\"two\nlines\"\n", true},
		{"csv whole", "a,b\n1,2\n", "a,b\n1,2\n", true},
		{"ndjson escaped quote", "{\"input\":\"\\\"Jane\"}\n{\"input\":\"x\"}\n{\"inp", "{\"input\":\"\\\"Jane\"}\n{\"input\":\"x\"}\n", false},
	} {
		path := filepath.Join(t.TempDir(), "out")
		os.WriteFile(path, []byte(tt.in), 0o644)
		f, err := os.OpenFile(path, os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		if err := cutTorn(f, 0, tt.csv); err != nil {
			t.Fatal(err)
		}
		f.Close()
		if got, _ := os.ReadFile(path); string(got) != tt.want {
			t.Errorf("%s: cut to %q, want %q", tt.name, got, tt.want)
		}
	}
}
