package main

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/everify/everify/internal/fakes"
)

// runBinaryEnv is runBinary with extra environment variables.
func runBinaryEnv(t *testing.T, env []string, stdin string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(binPath, args...)
	cmd.Stdin = strings.NewReader(stdin)
	cmd.Env = append(append(os.Environ(), "NO_COLOR=1"), env...)
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errOut.String(), code
}

// TestBinaryUsageErrors: absurd or malformed settings are usage errors (exit 1) that
// name where the value came from, before any work; a generous --workers is fine and
// costs nothing on a short input.
func TestBinaryUsageErrors(t *testing.T) {
	for _, tt := range []struct {
		name string
		env  []string
		args []string
		want string
	}{
		{"workers too many", nil, []string{"check", "--offline", "--workers", "1000000", "a@b.com"}, "invalid --workers 1000000: at most 100000"},
		{"workers billion", nil, []string{"check", "--offline", "--workers", "1000000000", "a@b.com"}, "invalid --workers 1000000000"},
		{"workers env", []string{"EVERIFY_WORKERS=10000000"}, []string{"bulk", "--offline", "-"}, `invalid EVERIFY_WORKERS="10000000"`},
		{"per-mx env", []string{"EVERIFY_PER_MX=0"}, []string{"check", "--offline", "a@b.com"}, `invalid EVERIFY_PER_MX="0": must be at least 1`},
		{"format env", []string{"EVERIFY_FORMAT=xml"}, []string{"check", "--offline", "a@b.com"}, `invalid EVERIFY_FORMAT="xml"`},
		{"bulk format env", []string{"EVERIFY_FORMAT=text"}, []string{"bulk", "--offline", "-"}, `invalid EVERIFY_FORMAT="text"`},
		{"keep env", []string{"EVERIFY_KEEP=good"}, []string{"bulk", "--offline", "-"}, `invalid EVERIFY_KEEP value "good"`},
		{"format flag", nil, []string{"check", "--offline", "--format", "xml", "a@b.com"}, `invalid --format "xml"`},
		{"helo with space", nil, []string{"check", "--no-smtp", "--helo", "bad name", "a@b.com"}, `invalid --helo "bad name"`},
		{"helo env", []string{"EVERIFY_HELO=bad_name.example"}, []string{"check", "a@b.com"}, `invalid EVERIFY_HELO="bad_name.example"`},
		{"helo literal", nil, []string{"check", "--helo", "[300.1.1.1]", "a@b.com"}, "not an address literal"},
		{"from malformed", nil, []string{"check", "--from", "verify@", "a@b.com"}, `invalid --from "verify@"`},
		{"from display name", nil, []string{"check", "--from", "Verify <v@example.org>", "a@b.com"}, "want a bare address"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, errOut, code := runBinaryEnv(t, tt.env, "", tt.args...)
			if code != exitError || !strings.Contains(errOut, tt.want) {
				t.Errorf("exit %d, stderr %q; want exit 1 and %q", code, errOut, tt.want)
			}
		})
	}
	for _, args := range [][]string{
		{"check", "--offline", "--workers", "100000", "a@gmail.com"},
		{"check", "--no-smtp", "--offline", "--helo", "[IPv6:2001:db8::1]", "--from", "<>", "a@gmail.com"},
		{"check", "--offline", "--helo", "Mail-1.Example.org.", "--from", "probe+x@example.org", "a@gmail.com"},
	} {
		if _, errOut, code := runBinary(t, "", args...); code != exitRisky {
			t.Errorf("%v: exit %d, want %d; stderr %q", args, code, exitRisky, errOut)
		}
	}
}

// TestHELOWarning: a name that is not fully qualified draws one warning with a hint;
// a fully-qualified one or an address literal draws none.
func TestHELOWarning(t *testing.T) {
	for _, tt := range []struct {
		helo, from string
		warn       bool
	}{{"vm", "", true}, {"vm", "<>", true}, {"mail.example.org", "", false}, {"[192.0.2.1]", "", false}} {
		var errOut strings.Builder
		o := &verifyOptions{HELO: tt.helo, From: tt.from, errOut: &errOut}
		o.warnHELO(tt.helo)
		got := errOut.String()
		if tt.warn != (strings.Count(got, "not fully qualified") == 1) || tt.warn != strings.Contains(got, "--helo") {
			t.Errorf("helo %q: warning %q", tt.helo, got)
		}
		if tt.warn && !strings.Contains(got, `"EHLO vm"`) {
			t.Errorf("warning does not show what is sent: %q", got)
		}
	}
	// Through the binary, once per run however many addresses.
	z := fakes.NewZoo(t)
	args := append(append([]string{"check"}, zooArgs(t, z)...), "--helo", "vm", "jane@corp.zz", "x@catchall.zz")
	_, errOut, _ := runBinary(t, "", args...)
	if strings.Count(errOut, "not fully qualified") != 1 || !strings.Contains(errOut, "MAIL FROM:<verify@vm>") {
		t.Errorf("stderr %q: want one warning", errOut)
	}
}
