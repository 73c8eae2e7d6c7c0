package main

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// annotate runs the GitHub Action's annotation script on csv, after `everify bulk
// --offline --format ndjson` has produced its results, and returns the annotations.
func annotate(t *testing.T, csv, failOn, max string) (records []map[string]any, out []string) {
	t.Helper()
	for _, tool := range []string{"bash", "jq", "awk"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed: %v", tool, err)
		}
	}
	results := filepath.Join(t.TempDir(), "results.ndjson")
	code, stdout, stderr := relRun(t, nil, "bulk", "--offline", "--no-list-updates", "--format", "ndjson",
		"--progress", "never", "--fail-on", failOn, csv)
	if code != exitOK && code != exitFail {
		t.Fatalf("bulk: exit %d: %s", code, stderr)
	}
	if err := os.WriteFile(results, []byte(stdout), 0o644); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(strings.NewReader(stdout))
	for sc.Scan() {
		var r map[string]any
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		records = append(records, r)
	}
	cmd := exec.Command("bash", filepath.Join("..", "..", ".github", "action", "annotate.sh"), csv, results, failOn, max)
	b, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("annotate.sh: %v\n%s", err, b)
	}
	return records, strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}

var annotationLine = regexp.MustCompile(`^::error file=([^,]+),line=(\d+),title=everify%3A ([a-z_]+)::(.*)$`)

// TestActionAnnotations checks the Action annotates exactly the rows matching
// --fail-on, at their lines, for the repository's sample list (one row per line).
func TestActionAnnotations(t *testing.T) {
	csv := filepath.Join("..", "..", "testdata", "sample.csv")
	records, out := annotate(t, csv, "undeliverable,disposable", "100")
	var want, got []int
	for i, r := range records {
		if r["status"] == "undeliverable" || r["reason"] == "disposable" {
			want = append(want, i+2) // header on line 1
		}
	}
	for _, l := range out {
		m := annotationLine.FindStringSubmatch(l)
		if m == nil || m[1] != csv {
			t.Fatalf("not an annotation of %s: %q", csv, l)
		}
		n, _ := strconv.Atoi(m[2])
		got = append(got, n)
	}
	if len(want) == 0 || !slices.Equal(got, want) {
		t.Errorf("annotated lines %v, want %v\n%s", got, want, strings.Join(out, "\n"))
	}
}

// TestActionAnnotationsMultiline checks quoted cells spanning lines do not shift the
// line numbers, that messages are escaped, and that annotations are capped.
func TestActionAnnotationsMultiline(t *testing.T) {
	csv := filepath.Join(t.TempDir(), "list.csv")
	content := "name,email,notes\n" +
		"A,a@gmail.com,\"two\nlines\"\n" +
		"B,100%@@bad.example.org,\n" + // line 4
		"C,c@gmail.com,\n" +
		"D,,empty cell\n" + // line 6
		"E,e@@bad.example.org,\n" // line 7
	if err := os.WriteFile(csv, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	_, out := annotate(t, csv, "invalid_syntax", "2")
	if len(out) != 3 {
		t.Fatalf("want 2 annotations and a notice, got:\n%s", strings.Join(out, "\n"))
	}
	m := annotationLine.FindStringSubmatch(out[0])
	if m == nil || m[2] != "4" || !strings.HasPrefix(m[4], "100%25@@bad.example.org: undeliverable (invalid_syntax)") {
		t.Errorf("first annotation %q, want line 4 with %% escaped", out[0])
	}
	if m := annotationLine.FindStringSubmatch(out[1]); m == nil || m[2] != "6" {
		t.Errorf("second annotation %q, want the empty cell on line 6", out[1])
	}
	if !strings.HasPrefix(out[2], "::notice file=") || !strings.Contains(out[2], "1 more rows") {
		t.Errorf("notice %q", out[2])
	}
}
