package csvio

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "update golden files in testdata/")

// resultNames are the result columns of docs/record.md.
var resultNames = []string{"status", "reason", "email_normalized", "disposable", "role", "free", "catch_all", "suggestion", "mx", "smtp_code"}

// fakeResult stands in for the verifier: malformed rows are invalid_syntax.
func fakeResult(rec *Record) []string {
	if rec.Problem != "" {
		return []string{"undeliverable", "invalid_syntax", "", "false", "false", "false", "false", "", "", ""}
	}
	return []string{"unknown", "smtp_skipped", strings.TrimSpace(rec.Address), "false", "false", "false", "false", "", "", ""}
}

// TestGolden runs each testdata input through Reader and Writer as `everify bulk` does
// and compares detection, problem reports and output with testdata/NAME.golden.
func TestGolden(t *testing.T) {
	inputs, err := filepath.Glob("testdata/*.*")
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range inputs {
		if strings.HasSuffix(in, ".golden") {
			continue
		}
		t.Run(filepath.Base(in), func(t *testing.T) {
			data, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			got := runGolden(t, data)
			golden := in + ".golden"
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("output differs from %s (go test -update rewrites it):\n%s", golden, got)
			}
		})
	}
}

func runGolden(t *testing.T, data []byte) []byte {
	r, err := NewReader(bytes.NewReader(data), Options{})
	if err != nil {
		t.Fatal(err)
	}
	var log, out bytes.Buffer
	fmt.Fprintf(&log, "== detection\ndelimiter %q plain %v bom %v eol %q header %v column %d %q fields %d\n== problems\n",
		r.Delimiter(), r.Plain(), r.BOM(), r.EOL(), r.Header() != nil, r.Column(), r.ColumnName(), r.Fields())
	w := NewWriter(&out, r.Delimiter(), r.BOM())
	w.EOL = r.EOL()
	if err := w.WriteHeader(r.Header(), r.Fields(), resultNames); err != nil {
		t.Fatal(err)
	}
	rows := 0
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		rows++
		if rec.Problem != "" {
			fmt.Fprintf(&log, "line %d: %s\n", rec.Line, rec.Problem)
		}
		if err := w.WriteRecord(rec, fakeResult(rec)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(&log, "== output (%d rows)\n", rows)
	log.Write(out.Bytes())
	return log.Bytes()
}
