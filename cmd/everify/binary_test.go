package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/everify/everify/internal/fakes"
	"github.com/everify/everify/verify"
)

// testDir holds the test binary and a cache directory of its own.
var testDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "everify-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	testDir = dir
	// Lists a developer downloaded with `everify lists update` must not change results.
	os.Setenv("XDG_CACHE_HOME", filepath.Join(dir, "cache"))
	os.Setenv("LocalAppData", filepath.Join(dir, "cache"))
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// buildBinary builds everify once, on the first call, so that tests that never run the
// binary do not pay for the build.
var buildBinary = sync.OnceValues(func() (string, error) {
	path := filepath.Join(testDir, "everify")
	if out, err := exec.Command("go", "build", "-o", path, ".").CombinedOutput(); err != nil {
		return "", fmt.Errorf("building everify: %v\n%s", err, out)
	}
	return path, nil
})

// binPath returns the everify binary built for the tests that run it as a user would.
func binPath(t testing.TB) string {
	t.Helper()
	path, err := buildBinary()
	if err != nil {
		t.Fatal(err)
	}
	return path
}

// runBinary runs the built everify with args and stdin, returning stdout, stderr and the
// exit code.
func runBinary(t *testing.T, stdin string, args ...string) (string, string, int) {
	t.Helper()
	return runBinaryEnv(t, nil, stdin, args...)
}

// zooArgs are the flags pointing everify at a zoo.
func zooArgs(t *testing.T, z *fakes.Zoo) []string {
	dir := t.TempDir()
	allow, deny := filepath.Join(dir, "allow.txt"), filepath.Join(dir, "deny.txt")
	suppress := filepath.Join(dir, "suppress.csv")
	os.WriteFile(allow, []byte(z.AllowList), 0o644)
	os.WriteFile(deny, []byte(z.DenyList), 0o644)
	os.WriteFile(suppress, []byte(z.SuppressList), 0o644)
	return []string{"--resolver", z.DNS.Addr(), "--smtp-port", strconv.Itoa(z.Farm.Port),
		"--helo", "prober.everify.zz", "--smtp-timeout", "500ms", "--dns-timeout", "1s",
		"--allow", allow, "--deny", deny, "--suppress", suppress}
}

func decodeNDJSON(t *testing.T, s string) []verify.Result {
	t.Helper()
	var rs []verify.Result
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		var r verify.Result
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("bad NDJSON line %q: %v", sc.Text(), err)
		}
		rs = append(rs, r)
	}
	return rs
}

// TestBinaryEveryReason: every reason of docs/reasons.md, produced by the built binary against
// in-process fake DNS and SMTP servers.
func TestBinaryEveryReason(t *testing.T) {
	z := fakes.NewZoo(t)
	args := append([]string{"check", "--format", "ndjson"}, zooArgs(t, z)...)
	for _, c := range z.Cases {
		args = append(args, c.Addr)
	}
	out, errOut, code := runBinary(t, "", args...)
	if code != exitFail {
		t.Errorf("exit code %d, want %d (some undeliverable); stderr:\n%s", code, exitFail, errOut)
	}
	rs := decodeNDJSON(t, out)
	if len(rs) != len(z.Cases) {
		t.Fatalf("%d results for %d addresses:\n%s", len(rs), len(z.Cases), out)
	}
	seen := map[verify.Reason]bool{verify.ReasonSMTPSkipped: true} // TestBinaryOffline
	for i, c := range z.Cases {
		r := rs[i]
		seen[r.Reason] = true
		if r.Input != c.Addr || string(r.Status) != c.Status || string(r.Reason) != c.Reason || r.SMTP.CatchAll != c.CatchAll {
			t.Errorf("%s: got %s/%s catch_all=%v, want %s/%s catch_all=%v (smtp %d %s %q)", c.Addr,
				r.Status, r.Reason, r.SMTP.CatchAll, c.Status, c.Reason, c.CatchAll, r.SMTP.Code, r.SMTP.EnhancedCode, r.SMTP.Message)
		}
	}
	for _, reason := range verify.Reasons {
		if !seen[reason] {
			t.Errorf("reason %s not produced", reason)
		}
	}
	if z.Corp.Seen("vip@corp.zz") != 0 {
		t.Error("an --allow address was probed")
	}
}

func TestBinaryOffline(t *testing.T) {
	out, _, code := runBinary(t, "", "check", "--offline", "--format", "csv", "jane@gmail.com")
	if code != exitRisky || !strings.Contains(out, ",unknown,smtp_skipped,") {
		t.Errorf("exit %d, output %q", code, out)
	}
}

// TestBinaryPortBlockedHint: a run where no exchanger answers prints the hint once.
func TestBinaryTimeoutHint(t *testing.T) {
	z := fakes.NewZoo(t)
	out, errOut, _ := runBinary(t, "", append(append([]string{"check"}, zooArgs(t, z)...), "x@silent.zz", "y@silent.zz")...)
	if !strings.Contains(out, "smtp_timeout") {
		t.Errorf("output %q lacks smtp_timeout", out)
	}
	// The silent server accepts connections: that is not a blocked port.
	if strings.Contains(errOut, "port 25 looks blocked") {
		t.Errorf("port-blocked hint for a server that accepted the connection:\n%s", errOut)
	}

	// Through a SOCKS5 proxy that never answers, every connection times out: the hint
	// is printed, once, and points at the proxy, not at port 25 and --proxy.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { c.Close() })
		}
	}()
	args := append(append([]string{"check", "--proxy", "socks5://" + ln.Addr().String()}, zooArgs(t, z)...), "jane@corp.zz", "x@catchall.zz")
	out, errOut, _ = runBinary(t, "", args...)
	if !strings.Contains(out, "smtp_timeout") {
		t.Errorf("output %q lacks smtp_timeout", out)
	}
	if n := strings.Count(errOut, "through the proxy timed out"); n != 1 || strings.Contains(errOut, "port 25 looks blocked") {
		t.Errorf("proxy hint printed %d times, want once and no port-25 hint:\n%s", n, errOut)
	}
}

func TestBinaryVersion(t *testing.T) {
	out, _, code := runBinary(t, "", "--version")
	if code != 0 || !strings.HasPrefix(out, "everify ") {
		t.Errorf("--version: exit %d, %q", code, out)
	}
}

// TestBinaryNoSTARTTLS: STARTTLS is used when offered, and --no-starttls turns it off.
func TestBinaryNoSTARTTLS(t *testing.T) {
	z := fakes.NewZoo(t)
	z.MX("tls.zz", fakes.Config{Mailboxes: []string{"jane@tls.zz"}, TLS: fakes.TLSConfig(t, "mx.tls.zz")})
	for _, tt := range []struct {
		flags []string
		tls   bool
	}{{nil, true}, {[]string{"--no-starttls"}, false}} {
		args := append(append(append([]string{"check", "--format", "ndjson", "--no-catch-all"}, zooArgs(t, z)...), tt.flags...), "jane@tls.zz")
		out, errOut, code := runBinary(t, "", args...)
		rs := decodeNDJSON(t, out)
		if code != exitOK || len(rs) != 1 || rs[0].Reason != verify.ReasonAccepted || rs[0].SMTP.TLS != tt.tls {
			t.Errorf("%v: exit %d, %s\n%s", tt.flags, code, out, errOut)
		}
	}
}
