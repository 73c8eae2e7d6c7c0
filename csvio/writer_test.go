package csvio

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"
)

// rewrite reads in and writes every record back with values(rec) appended.
func rewrite(t *testing.T, in string, resultNames []string, values func(*Record) []string, header bool) string {
	t.Helper()
	r, err := NewReader(strings.NewReader(in), Options{})
	if err != nil {
		t.Fatalf("NewReader: %v", err)
	}
	var out bytes.Buffer
	w := NewWriter(&out, r.Delimiter(), r.BOM())
	w.EOL = r.EOL()
	if header {
		if err := w.WriteHeader(r.Header(), r.Fields(), resultNames); err != nil {
			t.Fatal(err)
		}
	}
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := w.WriteRecord(rec, values(rec)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

func none(*Record) []string { return nil }

// TestWriterRoundTrip: with no result columns the output is the input, byte for byte,
// except that a missing final line terminator is added.
func TestWriterRoundTrip(t *testing.T) {
	for _, in := range []string{
		"email,name\na@example.org,A\n",
		"\ufeffE-mail;Name;Note\r\n\"a@example.org\";\"Doe; Jane\";\"multi\r\nline \"\"quoted\"\"\"\r\nb@example.org;B;\r\n",
		"Email\tName\na@example.org\t\"x\ty\"\nb@example.org\tB",
		"email|n\n a@example.org |  spaced  \n\"b@example.org\"|\"\"\n",
		"Email\ra@example.org\rb@example.org\r",
	} {
		want := in
		if !strings.HasSuffix(in, "\n") && !strings.HasSuffix(in, "\r") {
			want += "\n"
		}
		if got := rewrite(t, in, nil, none, true); got != want {
			t.Errorf("round trip of %q = %q", in, got)
		}
	}
}

func TestWriter(t *testing.T) {
	names := []string{"status", "reason"}
	tests := []struct {
		name   string
		in     string
		values func(*Record) []string
		want   string
	}{
		{"appends columns, CRLF and BOM kept", "\ufeffName,Email\r\nJane,jane@example.org\r\nJoe,joe@example.org",
			func(*Record) []string { return []string{"deliverable", "accepted"} },
			"\ufeffName,Email,status,reason\r\nJane,jane@example.org,deliverable,accepted\r\nJoe,joe@example.org,deliverable,accepted\r\n"},
		{"quotes values only when needed", "email;x\na@example.org;1\n",
			func(*Record) []string { return []string{"a;b", "say \"hi\"\nbye"} },
			"email;x;status;reason\na@example.org;1;\"a;b\";\"say \"\"hi\"\"\nbye\"\n"},
		{"never overwrites an input column", "Email,Status,everify_status,REASON \nj@example.org,active,x,y\n",
			func(*Record) []string { return []string{"risky", "catch_all"} },
			"Email,Status,everify_status,REASON ,everify_everify_status,everify_reason\nj@example.org,active,x,y,risky,catch_all\n"},
		{"plain list gets a header and quoting", "a@example.org\nDoe, Jane <jane@example.org>\n\"Joe\" <joe@example.org>\n\"b@example.org\"\n",
			func(*Record) []string { return []string{"s", "r"} },
			"email,status,reason\na@example.org,s,r\n\"Doe, Jane <jane@example.org>\",s,r\n\"\"\"Joe\"\" <joe@example.org>\",s,r\n\"b@example.org\",s,r\n"},
		{"plain list with its own header", "E-Mail\na@example.org\n",
			func(*Record) []string { return []string{"s", "r"} },
			"E-Mail,status,reason\na@example.org,s,r\n"},
		{"headerless CSV", "Jane\tjane@example.org\nJoe\tjoe@example.org\n",
			func(*Record) []string { return []string{"s", "r"} },
			"column1\tcolumn2\tstatus\treason\nJane\tjane@example.org\ts\tr\nJoe\tjoe@example.org\ts\tr\n"},
		{"unterminated quote is re-encoded", "name,email\nJane,\"jane@example.org",
			func(*Record) []string { return []string{"undeliverable", "invalid_syntax"} },
			"name,email,status,reason\nJane,jane@example.org,undeliverable,invalid_syntax\n"},
		{"cut stray quote is closed", "name,email\n\"Jane,j@example.org\nJoe,joe@example.org\n",
			func(*Record) []string { return []string{"s", "r"} },
			"name,email,status,reason\n\"Jane,j@example.org\",,s,r\nJoe,joe@example.org,s,r\n"},
		{"empty rows are kept", "email,n\n\na@example.org,1\n",
			func(*Record) []string { return []string{"s", "r"} },
			"email,n,status,reason\n,,s,r\na@example.org,1,s,r\n"},
		{"short rows are padded, long ones kept", "a,email,c\nx,y@example.org,z\nx,y@example.org\nx,y@example.org,z,extra\n",
			func(*Record) []string { return []string{"s", "r"} },
			"a,email,c,status,reason\nx,y@example.org,z,s,r\nx,y@example.org,,s,r\nx,y@example.org,z,extra,s,r\n"},
		{"headerless short row padded", "1,a@example.org,x\n2,b@example.org\n3,c@example.org,z\n",
			func(*Record) []string { return []string{"s", "r"} },
			"column1,column2,column3,status,reason\n1,a@example.org,x,s,r\n2,b@example.org,,s,r\n3,c@example.org,z,s,r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := rewrite(t, tt.in, names, tt.values, true); got != tt.want {
				t.Errorf("output =\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}

func TestWriteHeaderNames(t *testing.T) {
	var out bytes.Buffer
	w := NewWriter(&out, 0, false)
	if err := w.WriteHeader(nil, 1, []string{"status", "email", "Email", "everify_email"}); err != nil {
		t.Fatal(err)
	}
	w.Flush()
	want := "email,status,everify_email,everify_everify_Email,everify_everify_everify_email\n"
	if out.String() != want {
		t.Errorf("header = %q, want %q", out.String(), want)
	}
	if got := strings.Join(w.ResultNames(), ","); got != "status,everify_email,everify_everify_Email,everify_everify_everify_email" {
		t.Errorf("ResultNames = %q", got)
	}
}

type failWriter struct{ err error }

func (f failWriter) Write([]byte) (int, error) { return 0, f.err }

func TestWriterError(t *testing.T) {
	boom := errors.New("boom")
	w := NewWriter(failWriter{boom}, ',', false)
	rec := &Record{Raw: bytes.Repeat([]byte("x"), 100<<10), EOL: []byte("\n")}
	if err := w.WriteRecord(rec, nil); !errors.Is(err, boom) {
		t.Errorf("WriteRecord = %v, want boom", err)
	}
	if err := w.Flush(); !errors.Is(err, boom) {
		t.Errorf("Flush = %v, want boom", err)
	}
}

// TestWriterMalformedValues: a malformed row is re-encoded so that encoding/csv reads
// back the values the Reader saw; well-formed rows keep their bytes.
func TestWriterMalformedValues(t *testing.T) {
	in := "id,name,email\n7,Jane \"JJ\" Jones,jj@x.net\n8,\"Bob \"\"B\"\"\",bob@x.net\n9,\"Al\"x,al@x.net\n"
	got := rewrite(t, in, []string{"status"}, func(*Record) []string { return []string{"s"} }, true)
	want := "id,name,email,status\n7,\"Jane \"\"JJ\"\" Jones\",jj@x.net,s\n8,\"Bob \"\"B\"\"\",bob@x.net,s\n9,\"\"\"Al\"\"x\",al@x.net,s\n"
	if got != want {
		t.Fatalf("output\n%q\nwant\n%q", got, want)
	}
	recs, err := csv.NewReader(strings.NewReader(got)).ReadAll()
	if err != nil || recs[1][1] != `Jane "JJ" Jones` || recs[3][1] != `"Al"x` {
		t.Errorf("read back %q, %v", recs, err)
	}
}

// TestWriterBareCRAtEOF: a bare CR ending a LF file is the last record's terminator:
// not inside its last field, and written as the file's line break.
func TestWriterBareCRAtEOF(t *testing.T) {
	for in, want := range map[string]string{
		"email\na@x.org\r":           "email,status\na@x.org,s\n",
		"email,n\r\na@x.org,\"1\"\r": "email,n,status\r\na@x.org,\"1\",s\r\n",
		"a@x.org\nb@x.org\r":         "email,status\na@x.org,s\nb@x.org,s\n",
	} {
		got := rewrite(t, in, []string{"status"}, func(r *Record) []string {
			if strings.Contains(r.Address, "\r") {
				t.Errorf("address %q holds the CR", r.Address)
			}
			return []string{"s"}
		}, true)
		if got != want {
			t.Errorf("%q: output %q, want %q", in, got, want)
		}
	}
}

// TestWriterSafe: with Safe, cells starting with = + - @ tab or CR, in input columns,
// the header and result values, get a leading single quote; others keep their bytes.
func TestWriterSafe(t *testing.T) {
	in := "note,email\n=HYPERLINK(\"x\"),a@x.org\n\"+1\",-b@x.org\nplain,\"c@x.org\"\n@SUM(1),\td@x.org\n"
	r, _ := NewReader(strings.NewReader(in), Options{})
	var out bytes.Buffer
	w := NewWriter(&out, r.Delimiter(), false)
	w.Safe = true
	w.WriteHeader(r.Header(), r.Fields(), []string{"status", "email_normalized"})
	for {
		rec, err := r.Read()
		if err != nil {
			break
		}
		w.WriteRecord(rec, []string{"ok", strings.TrimSpace(rec.Address)})
	}
	w.Flush()
	want := "note,email,status,email_normalized\n" +
		"\"'=HYPERLINK(\"\"x\"\")\",a@x.org,ok,a@x.org\n" +
		"'+1,'-b@x.org,ok,'-b@x.org\n" +
		"plain,\"c@x.org\",ok,c@x.org\n" +
		"'@SUM(1),'\td@x.org,ok,d@x.org\n"
	if out.String() != want {
		t.Errorf("output\n%q\nwant\n%q", out.String(), want)
	}
}

// TestWriterTimedFlush: rows reach the underlying writer within FlushEvery, without a
// Flush call and without more rows coming.
func TestWriterTimedFlush(t *testing.T) {
	r, _ := NewReader(strings.NewReader("email\na@x.org\n"), Options{})
	pw := &lockedBuffer{}
	w := NewWriter(pw, ',', false)
	w.FlushEvery = 20 * time.Millisecond
	w.WriteHeader(r.Header(), r.Fields(), []string{"status"})
	rec, _ := r.Read()
	w.WriteRecord(rec, []string{"s"})
	deadline := time.Now().Add(5 * time.Second)
	for pw.String() != "email,status\na@x.org,s\n" {
		if time.Now().After(deadline) {
			t.Fatalf("after 5 s the writer got %q", pw.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
