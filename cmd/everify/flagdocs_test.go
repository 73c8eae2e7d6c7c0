package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/everify/everify/verify"
)

// TestFlagDocs: docs/flags.md is what the command tree says; -update rewrites it.
func TestFlagDocs(t *testing.T) {
	ios, _, _ := testStreams("")
	got := flagDocs(newRootCmd(ios))
	path := filepath.Join("..", "..", "docs", "flags.md")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(want) != got {
		t.Errorf("docs/flags.md is out of date: run go test ./cmd/everify -run TestFlagDocs -update")
	}
	for _, s := range []string{"`--max-rejects int` | `10`", "`EVERIFY_PER_MX`", "## everify bulk", "## everify lists update"} {
		if !strings.Contains(got, s) {
			t.Errorf("flag docs lack %q", s)
		}
	}
}

// TestContractDocs: docs/reasons.md gives every reason with its status, and
// docs/record.md every CSV result column, in order.
func TestContractDocs(t *testing.T) {
	reasons, err := os.ReadFile(filepath.Join("..", "..", "docs", "reasons.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range verify.Reasons {
		if row := "| `" + string(r) + "` | " + string(r.Status()) + " |"; !strings.Contains(string(reasons), row) {
			t.Errorf("docs/reasons.md lacks the row %q", row)
		}
	}
	record, err := os.ReadFile(filepath.Join("..", "..", "docs", "record.md"))
	if err != nil {
		t.Fatal(err)
	}
	last := strings.Index(string(record), "## CSV columns")
	if last < 0 {
		t.Fatal("docs/record.md has no CSV columns section")
	}
	for _, c := range resultColumns {
		i := strings.Index(string(record[last:]), "| `"+c+"` |")
		if i < 0 {
			t.Errorf("docs/record.md lacks column %s (or has it out of order)", c)
			continue
		}
		last += i
	}
}
