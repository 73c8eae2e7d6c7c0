package csvio

import (
	"bytes"
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
