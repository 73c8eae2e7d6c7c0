package dsn

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "update golden files in testdata/")

// golden compares got with the file at path, rewriting it under -update.
func golden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./dsn -update)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (go test ./dsn -update rewrites it)\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}

// scanAll scans paths and renders every event, problem and the counts, one per line.
func scanAll(t *testing.T, paths ...string) string {
	t.Helper()
	var b strings.Builder
	sc := &Scanner{
		Event: func(ev Event) error {
			date := ""
			if !ev.Date.IsZero() {
				date = ev.Date.UTC().Format(time.RFC3339)
			}
			fmt.Fprintf(&b, "%s %s %s status=%q code=%d date=%s source=%s id=%q\n  diag=%q\n",
				ev.Email, ev.Kind, ev.Reason, ev.Status, ev.Code, date, ev.Source, ev.ID, ev.Diagnostic)
			return nil
		},
		Problem: func(p Problem) {
			fmt.Fprintf(&b, "problem: %s\n", strings.ReplaceAll(p.String(), filepath.ToSlash(t.TempDir()), "TMP"))
		},
	}
	if err := sc.Scan(context.Background(), paths...); err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(&b, "stats: %+v\n", sc.Stats)
	return b.String()
}

// TestCorpus parses each bounce of testdata/bounces (Postfix, Sendmail, Exim, qmail,
// Exchange and Microsoft 365, Gmail, Yahoo, ARF, SES, SendGrid, Mailgun, Postmark,
// CSV, an mbox, a Maildir, garbage) and compares what it yields with its golden file.
func TestCorpus(t *testing.T) {
	entries, err := os.ReadDir("testdata/bounces")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".golden") {
			continue
		}
		t.Run(e.Name(), func(t *testing.T) {
			p := filepath.Join("testdata/bounces", e.Name())
			golden(t, filepath.Join("testdata/golden", e.Name()+".golden"), scanAll(t, p))
		})
	}
}
