package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/everify/everify/lists"
)

// setBuild sets the ldflags variables for one test, as a release build does.
func setBuild(t *testing.T, ver, rev, when string) {
	t.Helper()
	oldV, oldC, oldD := version, commit, date
	version, commit, date = ver, rev, when
	t.Cleanup(func() { version, commit, date = oldV, oldC, oldD })
}

func TestVersionReleaseBuild(t *testing.T) {
	isolateCache(t)
	setBuild(t, "1.4.2", "0123456789abcdef0123456789abcdef01234567", "2026-11-30T12:00:00Z")
	wantLines := []string{
		"everify 1.4.2",
		"commit: 0123456789abcdef0123456789abcdef01234567",
		"built:  2026-11-30T12:00:00Z",
		"go:     " + runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH,
		"lists:",
	}
	listLine := regexp.MustCompile(`^  disposable_domains\s+8,335  2026-08-21  embedded disposable-email-domains/disposable-email-domains@a6458931$`)
	for _, args := range [][]string{{"version"}, {"--version"}} {
		code, out, stderr := relRun(t, nil, args...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, stderr)
		}
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		if len(lines) != len(wantLines)+7 {
			t.Fatalf("%v: %d lines, want %d (build + 7 lists):\n%s", args, len(lines), len(wantLines)+7, out)
		}
		for i, w := range wantLines {
			if lines[i] != w {
				t.Errorf("%v: line %d = %q, want %q", args, i, lines[i], w)
			}
		}
		if !listLine.MatchString(lines[len(wantLines)]) {
			t.Errorf("%v: list line %q", args, lines[len(wantLines)])
		}
		for _, name := range []string{"disposable_allowlist", "free_domains", "role_localparts", "popular_domains", "popular_slds", "popular_tlds"} {
			if !strings.Contains(out, "  "+name+" ") {
				t.Errorf("%v: %s missing", args, name)
			}
		}
	}
}

func TestVersionDevBuild(t *testing.T) {
	setBuild(t, "dev", "", "")
	b := buildInfo()
	// A test binary has no module version or VCS stamp: the fallbacks show.
	if b.Version != "dev" || b.Commit == "" || b.Date == "" {
		t.Errorf("dev build: %+v", b)
	}
	setBuild(t, "v2.0.0", "abc", "")
	if b := buildInfo(); b.Version != "2.0.0" || b.Commit != "abc" || b.Date != "unknown" {
		t.Errorf("v prefix or missing date: %+v", b)
	}
}

func TestVersionJSON(t *testing.T) {
	isolateCache(t)
	setBuild(t, "1.4.2", "abc", "2026-11-30T12:00:00Z")
	code, out, _ := relRun(t, nil, "version", "--json")
	var v struct {
		Version, Commit, Date, Go, Platform string
		Lists                               []lists.Report
	}
	if err := json.Unmarshal([]byte(out), &v); code != 0 || err != nil {
		t.Fatalf("exit %d, %v: %s", code, err, out)
	}
	if v.Version != "1.4.2" || v.Commit != "abc" || v.Go != runtime.Version() || len(v.Lists) != 7 ||
		v.Lists[0].Name != "disposable_domains" || !v.Lists[0].Embedded || v.Lists[0].Entries != 8335 ||
		v.Lists[0].Source != "disposable-email-domains/disposable-email-domains@a6458931" {
		t.Errorf("version --json: %+v", v)
	}
}

// TestVersionBadLists checks a broken downloaded list still lets version print the build.
func TestVersionBadLists(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "role_localparts.txt"), []byte("not a list\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	setBuild(t, "1.4.2", "abc", "2026-11-30T12:00:00Z")
	code, out, stderr := relRun(t, nil, "version", "--lists-dir", dir)
	if code != exitError || !strings.HasPrefix(out, "everify 1.4.2\ncommit: abc\n") || strings.Contains(out, "lists:") ||
		!strings.Contains(stderr, "role_localparts.txt") {
		t.Errorf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, stderr)
	}
}
