package main

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "update golden files in testdata/")

// testStreams returns IOStreams over buffers, with stdin in.
func testStreams(in string) (*IOStreams, *bytes.Buffer, *bytes.Buffer) {
	out, errOut := &bytes.Buffer{}, &bytes.Buffer{}
	return &IOStreams{In: strings.NewReader(in), Out: out, ErrOut: errOut,
		Getenv: func(string) string { return "" }}, out, errOut
}

var (
	durationRE  = regexp.MustCompile(`"duration_ms":\d+`)
	checkedAtRE = regexp.MustCompile(`"checked_at":"[^"]*"`)
)

// stable zeroes what changes from run to run (durations, times).
func stable(s string) string {
	s = durationRE.ReplaceAllString(s, `"duration_ms":0`)
	return checkedAtRE.ReplaceAllString(s, `"checked_at":"2026-01-01T00:00:00Z"`)
}

// golden compares got with testdata/name, rewriting it under -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./cmd/everify -update)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file (go test ./cmd/everify -update rewrites it)\ngot:\n%s\nwant:\n%s", name, got, want)
	}
}

var offlineInputs = []string{
	"Jane Doe <jane.doe@gmail.com>",
	"bob@gmail.con",
	"info@mailinator.com",
	"dora@example.com",
	"carl@@gmail.com",
	"émile@bücher.de",
	"postmaster@proton.me",
}

func TestCheckOfflineFormats(t *testing.T) {
	for _, tt := range []struct {
		format string
		tty    bool
		color  bool
	}{
		{"text", true, false},
		{"text", true, true},
		{"json", false, false},
		{"ndjson", false, false},
		{"csv", false, false},
		{"", false, false}, // default off a terminal: ndjson
	} {
		name := tt.format
		if tt.color {
			name += "-color"
		}
		if name == "" {
			name = "default"
		}
		t.Run(name, func(t *testing.T) {
			ios, out, errOut := testStreams("")
			ios.OutTTY = tt.tty
			if !tt.color {
				ios.Getenv = func(k string) string {
					if k == "NO_COLOR" {
						return "1"
					}
					return ""
				}
			}
			args := []string{"check", "--offline"}
			if tt.format != "" {
				args = append(args, "--format", tt.format)
			}
			code := run(context.Background(), append(args, offlineInputs...), ios)
			if code != exitFail {
				t.Errorf("exit code = %d, want %d (some undeliverable); stderr: %s", code, exitFail, errOut)
			}
			golden(t, "check-offline."+name, stable(out.String()))
		})
	}
}

func TestCheckExitCodes(t *testing.T) {
	for _, tt := range []struct {
		name string
		args []string
		in   string
		want int
	}{
		{"risky only", []string{"check", "--offline", "x@mailinator.com"}, "", exitRisky},
		{"unknown only", []string{"check", "--offline", "x@gmail.com"}, "", exitRisky},
		{"undeliverable wins", []string{"check", "--offline", "x@gmail.com", "bad@"}, "", exitFail},
		{"allowed is deliverable", []string{"check", "--offline", "--allow", "testdata/allow.txt", "jane@corp.zz"}, "", exitOK},
		{"denied", []string{"check", "--offline", "--deny", "testdata/allow.txt", "jane@corp.zz"}, "", exitFail},
		{"stdin", []string{"check", "--offline", "-"}, "a@mailinator.com\n\n  \nb@mailinator.com\r\n", exitRisky},
		{"no args", []string{"check"}, "", exitError},
		{"bad format", []string{"check", "--format", "xml", "a@b.zz"}, "", exitError},
		{"bad flag", []string{"check", "--nope", "a@b.zz"}, "", exitError},
		{"bad workers", []string{"check", "--workers", "0", "a@b.zz"}, "", exitError},
		{"missing allow file", []string{"check", "--offline", "--allow", "testdata/nope.txt", "a@b.zz"}, "", exitError},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ios, _, errOut := testStreams(tt.in)
			if got := run(context.Background(), tt.args, ios); got != tt.want {
				t.Errorf("run(%q) = %d, want %d; stderr: %s", tt.args, got, tt.want, errOut)
			}
			if tt.want == exitError && !strings.Contains(errOut.String(), "everify: error: ") {
				t.Errorf("stderr %q lacks 'everify: error: '", errOut)
			}
		})
	}
}

func TestCheckStdinOrder(t *testing.T) {
	ios, out, _ := testStreams("a@mailinator.com\nbad@\nc@gmail.com\n")
	run(context.Background(), []string{"check", "--offline", "--format", "csv", "-"}, ios)
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[1], "a@") || !strings.HasPrefix(lines[2], "bad@") || !strings.HasPrefix(lines[3], "c@") {
		t.Fatalf("output = %q", out)
	}
}

func TestFlagErrorHint(t *testing.T) {
	ios, _, errOut := testStreams("")
	run(context.Background(), []string{"bulk", "--progress", "sometimes", "x.csv"}, ios)
	if !strings.Contains(errOut.String(), "everify: hint: see 'everify bulk --help'") {
		t.Errorf("stderr = %q, want a --help hint", errOut)
	}
}

func TestInterruptedExitCode(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	ios, _, errOut := testStreams("")
	if got := run(ctx, []string{"check", "--offline", "a@gmail.com"}, ios); got != exitInterrupted {
		t.Errorf("exit = %d, want %d; stderr %s", got, exitInterrupted, errOut)
	}
}

func TestBulkOfflineSample(t *testing.T) {
	ios, out, errOut := testStreams("")
	bulkClock(t)
	code := run(context.Background(), []string{"bulk", "--offline", "../../testdata/sample.csv"}, ios)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	golden(t, "bulk-sample.csv", out.String())
	golden(t, "bulk-sample.summary", errOut.String())
}

// bulkClock makes bulk summaries deterministic: every run takes exactly 2 s.
func bulkClock(t *testing.T) {
	t.Helper()
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	calls := 0
	prev := testNow
	testNow = func() time.Time {
		calls++
		if calls%2 == 1 {
			return start
		}
		return start.Add(2 * time.Second)
	}
	t.Cleanup(func() { testNow = prev })
}

func TestTextOutputSanitizesInput(t *testing.T) {
	ios, out, _ := testStreams("")
	run(context.Background(), []string{"check", "--offline", "--format", "text", "\x1b[2Jevil@", strings.Repeat("x", 500)}, ios)
	if strings.Contains(out.String(), "\x1b") {
		t.Errorf("raw escape sequence in text output: %q", out)
	}
	if !strings.Contains(out.String(), `"\x1b[2Jevil@"`) || !strings.Contains(out.String(), strings.Repeat("x", 80)+"…") {
		t.Errorf("output %q: want the input quoted and long inputs cut", out)
	}
}
