package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/everify/everify/internal/fakes"
)

var stopSignals = []struct {
	sig  syscall.Signal
	code int
	verb string
}{{syscall.SIGINT, exitInterrupted, "interrupted"}, {syscall.SIGTERM, exitTerminated, "terminated"}}

// syncBuffer is a bytes.Buffer safe to read while a process writes to it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// signalAndWait sends sig to cmd and requires it to exit within 2 s with code.
func signalAndWait(t *testing.T, cmd *exec.Cmd, sig syscall.Signal, code int, errOut *syncBuffer) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	if err := cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != code {
			t.Fatalf("exit %v after %v, want code %d; stderr:\n%s", err, sig, code, errOut)
		}
	case <-time.After(2 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatalf("still running 2 s after %v; stderr:\n%s", sig, errOut)
	}
}

// TestBinarySignalBlockedOpen: a signal ends a run blocked before the pipeline — opening
// an input FIFO that has no writer, opening an output FIFO that has no reader, reading
// a stdin that never sends — within 2 s, with 130 or 143, one line on stderr and no
// partial output.
func TestBinarySignalBlockedOpen(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	list := filepath.Join(dir, "list.csv")
	os.WriteFile(list, []byte("email\na@gmail.com\n"), 0o644)
	cases := []struct {
		name string
		args []string
	}{
		{"bulk input fifo", []string{"bulk", "--offline", fifo}},
		{"bulk output fifo", []string{"bulk", "--offline", "-o", fifo, list}},
		{"bulk silent stdin", []string{"bulk", "--offline", "-"}},
		{"check silent stdin", []string{"check", "--offline", "-"}},
	}
	for _, c := range cases {
		for _, s := range stopSignals {
			t.Run(c.name+"/"+s.sig.String(), func(t *testing.T) {
				cmd := exec.Command(binPath(t), c.args...)
				stdin, err := cmd.StdinPipe() // stays open, never written
				if err != nil {
					t.Fatal(err)
				}
				defer stdin.Close()
				var out, errOut syncBuffer
				cmd.Stdout, cmd.Stderr = &out, &errOut
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				time.Sleep(300 * time.Millisecond) // let it block
				signalAndWait(t, cmd, s.sig, s.code, &errOut)
				if out.String() != "" {
					t.Errorf("output %q, want none", out.String())
				}
				if got := errOut.String(); got != "everify: "+s.verb+"\n" {
					t.Errorf("stderr %q, want one line %q", got, "everify: "+s.verb)
				}
			})
		}
	}
}

// TestBinarySignalMidBulk: SIGINT and SIGTERM in the middle of an online bulk job both
// flush every completed row (well-formed CSV, input order), print the summary, and exit
// 130 or 143 within 2 s.
func TestBinarySignalMidBulk(t *testing.T) {
	spec := fakes.BulkSpec{Rows: 2000, Domains: 20, MXHosts: 20, Latency: 20 * time.Millisecond, Seed: 3}
	w := fakes.NewBulkWorld(t, spec)
	in := filepath.Join(t.TempDir(), "list.csv")
	os.WriteFile(in, w.CSV, 0o644)
	for _, s := range stopSignals {
		t.Run(s.sig.String(), func(t *testing.T) {
			outPath := filepath.Join(t.TempDir(), "out.csv")
			cmd := exec.Command(binPath(t), append([]string{"bulk", "--workers", "4", "-o", outPath, in}, bulkWorldArgs(w)...)...)
			var errOut syncBuffer
			cmd.Stderr = &errOut
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			// Wait for some rows to reach the file (the timed flush sends them).
			deadline := time.Now().Add(10 * time.Second)
			for {
				b, _ := os.ReadFile(outPath)
				if bytes.Count(b, []byte("\n")) > 10 {
					break
				}
				if time.Now().After(deadline) {
					cmd.Process.Kill()
					t.Fatalf("no rows after 10 s; stderr:\n%s", errOut.String())
				}
				time.Sleep(50 * time.Millisecond)
			}
			signalAndWait(t, cmd, s.sig, s.code, &errOut)
			b, _ := os.ReadFile(outPath)
			_, rows := readCSV(t, string(b))
			if len(rows) < 10 || len(rows) >= spec.Rows {
				t.Errorf("%d rows written, want a partial run", len(rows))
			}
			for i, r := range rows {
				if r["email"] != w.Want[i].Addr || r["reason"] != w.Want[i].Reason {
					t.Fatalf("row %d: %s %s, want %s %s", i, r["email"], r["reason"], w.Want[i].Addr, w.Want[i].Reason)
				}
			}
			if !strings.HasSuffix(string(b), "\n") {
				t.Error("output ends in a half-written row")
			}
			if e := errOut.String(); !strings.Contains(e, "rows in") || !strings.HasSuffix(e, "everify: "+s.verb+"\n") {
				t.Errorf("stderr lacks the summary or the notice %q:\n%s", s.verb, e)
			}
		})
	}
}

// TestBinarySecondSignal: when the first signal cannot end the run (its output pipe is
// full and nobody reads it), a second one ends the process at once.
func TestBinarySecondSignal(t *testing.T) {
	var list strings.Builder
	list.WriteString("email\n")
	for range 100000 {
		list.WriteString("someone.with.a.long.name@example-domain.org\n")
	}
	in := filepath.Join(t.TempDir(), "list.csv")
	os.WriteFile(in, []byte(list.String()), 0o644)
	cmd := exec.Command(binPath(t), "bulk", "--offline", in)
	stdout, err := cmd.StdoutPipe() // never read past the first line
	if err != nil {
		t.Fatal(err)
	}
	var errOut syncBuffer
	cmd.Stderr = &errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if _, err := bufio.NewReader(stdout).ReadString('\n'); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // the pipe fills
	cmd.Process.Signal(syscall.SIGTERM)
	time.Sleep(200 * time.Millisecond)
	signalAndWait(t, cmd, syscall.SIGINT, exitInterrupted, &errOut)
	if !strings.Contains(errOut.String(), "interrupted again: exiting at once") {
		t.Errorf("stderr %q", errOut.String())
	}
	io.Copy(io.Discard, stdout)
}

// TestNotifySignalsGrace: a run still going stopGrace after the signal is ended with
// the signal's code.
func TestNotifySignalsGrace(t *testing.T) {
	prev := stopGrace
	stopGrace = 50 * time.Millisecond
	defer func() { stopGrace = prev }()
	var errOut syncBuffer
	exited := make(chan int, 1)
	ctx, stop := notifySignals(context.Background(), &errOut, func(code int) { exited <- code })
	defer stop()
	syscall.Kill(os.Getpid(), syscall.SIGTERM)
	select {
	case <-ctx.Done():
	case <-time.After(2 * time.Second):
		t.Fatal("SIGTERM did not cancel the context")
	}
	var buf bytes.Buffer
	if code := interruptCode(ctx, &buf); code != exitTerminated || buf.String() != "everify: terminated\n" {
		t.Errorf("interruptCode = %d, %q", code, buf.String())
	}
	select {
	case code := <-exited:
		if code != exitTerminated || !strings.Contains(errOut.String(), "still stopping") {
			t.Errorf("exit(%d), stderr %q", code, errOut.String())
		}
	case <-time.After(2 * time.Second):
		t.Fatal("no exit after the grace period")
	}
}
