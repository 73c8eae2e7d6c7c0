package main

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func genMan(t *testing.T, env map[string]string, args ...string) (man, comp string) {
	t.Helper()
	base := t.TempDir()
	man, comp = filepath.Join(base, "man"), filepath.Join(base, "completions")
	code, _, stderr := relRun(t, env, append([]string{"gen-man", "--dir", man, "--completions", comp}, args...)...)
	if code != 0 {
		t.Fatalf("gen-man: exit %d: %s", code, stderr)
	}
	return man, comp
}

func TestGenMan(t *testing.T) {
	man, comp := genMan(t, nil, "--gzip", "--release", "v1.4.2", "--date", "2026-11-30T12:00:00Z")
	entries, err := os.ReadDir(man)
	if err != nil {
		t.Fatal(err)
	}
	var pages []string
	for _, e := range entries {
		pages = append(pages, e.Name())
	}
	for _, want := range []string{"everify.1", "everify-check.1", "everify-bulk.1", "everify-version.1",
		"everify-lists.1", "everify-lists-update.1", "everify-lists-show.1", "everify-completion.1",
		"everify-completion-bash.1", "everify-check.1.gz"} {
		if !slices.Contains(pages, want) {
			t.Errorf("no %s in %v", want, pages)
		}
	}
	if slices.ContainsFunc(pages, func(p string) bool { return strings.Contains(p, "gen-man") }) {
		t.Errorf("the hidden gen-man command got a page: %v", pages)
	}
	check, _ := os.ReadFile(filepath.Join(man, "everify-check.1"))
	for _, want := range []string{`.TH "EVERIFY" "1" "Nov 2026" "everify 1.4.2" "everify manual"`,
		"everify-check - Verify email addresses", "helo", `[$EVERIFY_HELO]`, "EVERIFY_DNS_TIMEOUT"} {
		if !bytes.Contains(check, []byte(want)) {
			t.Errorf("everify-check.1 lacks %q", want)
		}
	}
	update, _ := os.ReadFile(filepath.Join(man, "everify-lists-update.1"))
	if bytes.Contains(update, []byte("url-base")) {
		t.Errorf("the hidden --url-base flag is documented")
	}
	zf, _ := os.Open(filepath.Join(man, "everify-check.1.gz"))
	defer zf.Close()
	zr, err := gzip.NewReader(zf)
	if err != nil {
		t.Fatal(err)
	}
	if unz, _ := io.ReadAll(zr); !bytes.Equal(unz, check) {
		t.Errorf("everify-check.1.gz does not hold everify-check.1")
	}

	for file, want := range map[string]string{
		"everify.bash": "__start_everify", "_everify": "#compdef everify", "everify.fish": "complete -c everify",
		"everify.ps1": "Register-ArgumentCompleter",
	} {
		b, err := os.ReadFile(filepath.Join(comp, file))
		if err != nil || !bytes.Contains(b, []byte(want)) {
			t.Errorf("completion %s: %v, lacks %q", file, err, want)
		}
	}

	// Reproducible: the same inputs give the same bytes, SOURCE_DATE_EPOCH as --date.
	man2, _ := genMan(t, map[string]string{"SOURCE_DATE_EPOCH": "1796040000"}, "--gzip", "--release", "1.4.2")
	for _, p := range pages {
		a, _ := os.ReadFile(filepath.Join(man, p))
		b, _ := os.ReadFile(filepath.Join(man2, p))
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs between two runs", p)
		}
	}
}

func TestGenManBadDate(t *testing.T) {
	code, _, stderr := relRun(t, nil, "gen-man", "--dir", t.TempDir(), "--date", "last tuesday")
	if code != exitError || !strings.Contains(stderr, "invalid date") {
		t.Errorf("exit %d: %s", code, stderr)
	}
}

// TestCompletionCommand checks `everify completion SHELL` prints each script.
func TestCompletionCommand(t *testing.T) {
	for shell, want := range map[string]string{
		"bash": "__start_everify", "zsh": "#compdef everify", "fish": "complete -c everify", "powershell": "Register-ArgumentCompleter",
	} {
		code, out, stderr := relRun(t, nil, "completion", shell)
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("completion %s: exit %d, %d bytes, stderr %q", shell, code, len(out), stderr)
		}
	}
	// Completing `lists update` offers the list names.
	code, out, _ := relRun(t, nil, "__complete", "lists", "update", "")
	if code != 0 || !strings.Contains(out, "disposable") || !strings.Contains(out, "role") {
		t.Errorf("__complete lists update: exit %d: %q", code, out)
	}
}
