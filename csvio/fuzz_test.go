package csvio

import (
	"bytes"
	"encoding/csv"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzRoundTrip checks, for any input, that NewReader either fails or yields records
// whose BOM + Raw + EOL concatenation is the input exactly, with Line numbers matching
// the physical lines before each record, and that writing them does not panic.
func FuzzRoundTrip(f *testing.F) {
	for _, s := range []string{
		"email\na@example.org\n",
		"\ufeffName;E-Mail\r\nJane;\"j@example.org\"\r\n",
		"a,\"b\nc\",d@example.org\r\n",
		"a,\"b\"\"c\",d@x\n",
		"x,\"unterminated@x\n",
		"\"stray,a@x\nb,c@x\n",
		"ab\"c,d@x\n\"e\"f,g@x",
		"a@x\r\n\r\n\n",
		"a@x\rb@x\r",
		"one\ttwo\tthree@x\n",
		"a|b|c@x\n|||\n",
		"j\xff@x\n",
		"a@x\n\x00",
		"\xff\xfe",
		"",
		"\"",
		"\"\"\"",
		",\r",
		"\r\n\"\r\n",
	} {
		f.Add([]byte(s))
	}
	if files, _ := filepath.Glob("testdata/*.*"); len(files) > 0 {
		for _, name := range files {
			if data, err := os.ReadFile(name); err == nil && !strings.HasSuffix(name, ".golden") {
				f.Add(data)
			}
		}
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		r, err := NewReader(bytes.NewReader(in), Options{MaxCell: 64})
		if err != nil {
			return
		}
		nl := []byte{'\n'}
		if bytes.IndexByte(in, '\n') < 0 && bytes.IndexByte(in, '\r') >= 0 {
			nl[0] = '\r'
		}
		var got bytes.Buffer
		if r.BOM() {
			got.Write(bomUTF8)
		}
		w := NewWriter(io.Discard, r.Delimiter(), r.BOM())
		check := func(rec *Record) {
			if want := 1 + bytes.Count(got.Bytes(), nl); rec.Line != want {
				t.Fatalf("record at offset %d: Line %d, want %d", got.Len(), rec.Line, want)
			}
			if rec.Truncated {
				t.Fatalf("truncated record in a small input")
			}
			got.Write(rec.Raw)
			got.Write(rec.EOL)
		}
		if h := r.Header(); h != nil {
			check(h)
		}
		if err := w.WriteHeader(r.Header(), r.Fields(), resultNames); err != nil {
			t.Fatal(err)
		}
		for {
			rec, err := r.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			check(rec)
			if err := w.WriteRecord(rec, []string{"a", "b,c"}); err != nil {
				t.Fatal(err)
			}
		}
		if !bytes.Equal(got.Bytes(), in) {
			t.Fatalf("round trip =\n%q\nwant\n%q", got.Bytes(), in)
		}
	})
}

// FuzzScan checks the vectorized paths against a naive split: for a line without
// quotes, scan and scanSimple both give exactly the fields of bytes.Split.
func FuzzScan(f *testing.F) {
	for _, s := range []string{"a,b,c", "jane.doe12345@example.com,Acme,Springfield", ",,", "", "x;y\tz|w", "0123456789abcdef,0123456789abcdef\r"} {
		f.Add([]byte(s), byte(','))
	}
	f.Fuzz(func(t *testing.T, line []byte, delim byte) {
		if delim == '"' || delim == '\n' || delim == '\r' || bytes.ContainsAny(line, "\"\n") {
			return
		}
		want := bytes.Split(line, []byte{delim})
		sc := newScanner(delim, '\n')
		check := func(name string, b []byte, res scanResult) {
			if res.more || res.prob != probNone || len(sc.spans) != len(want) {
				t.Fatalf("%s(%q): %+v, %d fields, want %d", name, b, res, len(sc.spans), len(want))
			}
			for i, sp := range sc.spans {
				if got := b[sp.start:sp.end]; !bytes.Equal(got, want[i]) && !(i == len(want)-1 && bytes.Equal(append(got, '\r'), want[i])) {
					t.Fatalf("%s(%q) field %d = %q, want %q", name, b, i, got, want[i])
				}
			}
		}
		check("scan", line, sc.scan(line, true))
		withNL := append(append([]byte{}, line...), '\n')
		check("scan", withNL, sc.scan(withNL, false))
		res, ok := sc.scanSimple(withNL)
		if !ok {
			t.Fatalf("scanSimple(%q) refused", withNL)
		}
		check("scanSimple", withNL, res)
	})
}

// FuzzValidOutput checks that, whatever the input, the Writer's output is RFC 4180 with
// the detected delimiter (encoding/csv reads it without LazyQuotes), one output record
// per input record and the header, with and without Safe.
func FuzzValidOutput(f *testing.F) {
	for _, s := range []string{
		"id,name,email\n7,Jane \"JJ\" Jones,jj@x.net\n8,Bob,bob@x.net\n",
		"email;n\n\"a@x\"b;1\n\"open@x;2\nc@x;3\r",
		"a@x\n\"q\" <b@x>\nDoe, Jane <c@x>\n",
		"x,email\n=1+2,a@x\n\"-3\",@b\n",
		"a,\"b\nc\",d@example.org\r\n",
		"e\n\r",
	} {
		f.Add([]byte(s), false)
	}
	f.Fuzz(func(t *testing.T, in []byte, safe bool) {
		r, err := NewReader(bytes.NewReader(in), Options{MaxCell: 64, MaxRecord: 256})
		if err != nil || r.EOL() == "\r" {
			return // encoding/csv does not read old Mac (bare CR) line breaks
		}
		var out bytes.Buffer
		w := NewWriter(&out, r.Delimiter(), false)
		w.FlushEvery, w.Safe = 0, safe
		if err := w.WriteHeader(r.Header(), r.Fields(), resultNames); err != nil {
			t.Fatal(err)
		}
		n := 1
		for {
			rec, err := r.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			if err := w.WriteRecord(rec, []string{"a", "-b,c"}); err != nil {
				t.Fatal(err)
			}
			n++
		}
		w.Flush()
		cr := csv.NewReader(bytes.NewReader(out.Bytes()))
		cr.Comma = rune(r.Delimiter())
		cr.FieldsPerRecord = -1
		recs, err := cr.ReadAll()
		if err != nil {
			t.Fatalf("output is not RFC 4180: %v\ninput  %q\noutput %q", err, in, out.Bytes())
		}
		if len(recs) != n {
			t.Fatalf("%d output records for %d written\ninput  %q\noutput %q", len(recs), n, in, out.Bytes())
		}
		if safe {
			for _, rec := range recs {
				for _, v := range rec {
					if isFormula(v) {
						t.Fatalf("cell %q starts like a formula with Safe\noutput %q", v, out.Bytes())
					}
				}
			}
		}
	})
}
