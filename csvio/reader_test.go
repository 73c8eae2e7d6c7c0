package csvio

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// readAll reads every record of input, cloned.
func readAll(t *testing.T, rd io.Reader, opts Options) (*Reader, []*Record) {
	t.Helper()
	r, err := NewReader(rd, opts)
	if err != nil {
		t.Fatalf("NewReader: %v", err)
	}
	var recs []*Record
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return r, recs
		}
		if err != nil {
			t.Fatalf("Read: %v", err)
		}
		recs = append(recs, rec.Clone())
	}
}

func addresses(recs []*Record) []string {
	var out []string
	for _, r := range recs {
		out = append(out, r.Address)
	}
	return out
}

func TestDetectDelimiter(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		delim  byte
		plain  bool
		fields int
		addrs  []string
	}{
		{"comma", "name,email\nJane,jane@example.org\nJoe,joe@example.org\n", ',', false, 2, []string{"jane@example.org", "joe@example.org"}},
		{"semicolon", "Name;E-Mail;Ort\nMüller, Hans;hans@example.de;Köln\nSchmidt;s@example.de;Bonn, Rhein\n", ';', false, 3, []string{"hans@example.de", "s@example.de"}},
		{"tab, one line", "Jane\ta@example.org\tA, B\n", '\t', false, 3, []string{"a@example.org"}},
		{"tab rows", "email\tname\na@example.org\tA, B\nb@example.org\tC\n", '\t', false, 2, []string{"a@example.org", "b@example.org"}},
		{"pipe", "id|email\n1|a@example.org\n2|b@example.org\n", '|', false, 2, []string{"a@example.org", "b@example.org"}},
		{"quoted commas inside semicolons", "\"a,b\";x@example.org\n\"c,d\";y@example.org\n", ';', false, 2, []string{"x@example.org", "y@example.org"}},
		{"decimal commas in semicolon CSV", "email;amount\na@example.org;3,5\nb@example.org;4,25\n", ';', false, 2, []string{"a@example.org", "b@example.org"}},
		{"plain list", "a@example.org\nb@example.org\nc@example.org\n", ',', true, 1, []string{"a@example.org", "b@example.org", "c@example.org"}},
		{"plain list with display names", "Jane Doe <jane@example.org>\njoe@example.org\n\"Quoted\" <q@example.org>\nDoe, John <john@example.org>\n", ',', true, 1,
			[]string{"Jane Doe <jane@example.org>", "joe@example.org", "\"Quoted\" <q@example.org>", "Doe, John <john@example.org>"}},
		{"plain list fully quoted lines", "\"a@example.org\"\n\"b\"\"c\"@example.org\n", ',', true, 1, []string{"a@example.org", "\"b\"\"c\"@example.org"}},
		{"single address no newline", "a@example.org", ',', true, 1, []string{"a@example.org"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, recs := readAll(t, strings.NewReader(tt.in), Options{})
			if r.Delimiter() != tt.delim || r.Plain() != tt.plain || r.Fields() != tt.fields {
				t.Errorf("Delimiter, Plain, Fields = %q, %v, %d; want %q, %v, %d", r.Delimiter(), r.Plain(), r.Fields(), tt.delim, tt.plain, tt.fields)
			}
			if tt.addrs != nil {
				if got := addresses(recs); fmt.Sprint(got) != fmt.Sprint(tt.addrs) {
					t.Errorf("addresses = %q, want %q", got, tt.addrs)
				}
			}
			for _, rec := range recs {
				if rec.Problem != "" {
					t.Errorf("line %d: unexpected problem %q", rec.Line, rec.Problem)
				}
			}
		})
	}
}

func TestBOMAndLineEndings(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		bom   bool
		eol   string
		lines []int
	}{
		{"BOM CRLF", "\ufeffEmail,Name\r\na@example.org,A\r\nb@example.org,B\r\n", true, "\r\n", []int{2, 3}},
		{"LF no final newline", "Email,Name\na@example.org,A\nb@example.org,B", false, "\n", []int{2, 3}},
		{"bare CR (classic Mac)", "Email,Name\ra@example.org,A\rb@example.org,B\r", false, "\r", []int{2, 3}},
		{"BOM plain list", "\ufeffa@example.org\nb@example.org\n", true, "\n", []int{1, 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, recs := readAll(t, strings.NewReader(tt.in), Options{})
			if r.BOM() != tt.bom || r.EOL() != tt.eol {
				t.Errorf("BOM, EOL = %v, %q; want %v, %q", r.BOM(), r.EOL(), tt.bom, tt.eol)
			}
			if got := addresses(recs); fmt.Sprint(got) != "[a@example.org b@example.org]" {
				t.Errorf("addresses = %q", got)
			}
			for i, rec := range recs {
				if rec.Line != tt.lines[i] || rec.Problem != "" || bytes.HasPrefix(rec.Raw, bomUTF8) || bytes.ContainsAny(rec.Raw, "\r\n") {
					t.Errorf("record %d: Line %d Problem %q Raw %q", i, rec.Line, rec.Problem, rec.Raw)
				}
			}
			if h := r.Header(); h != nil && (bytes.HasPrefix(h.Raw, bomUTF8) || string(h.EOL) != tt.eol) {
				t.Errorf("header Raw %q EOL %q", h.Raw, h.EOL)
			}
		})
	}
}

func TestQuotedFields(t *testing.T) {
	in := "id,email,note\r\n" +
		"1,\"a@example.org\",\"line one\nline two\"\r\n" +
		"2,\"b\"\"q\"\"@example.org\",\"crlf\r\ninside, with delimiter\"\r\n" +
		"3,c@example.org,\"\"\r\n" +
		"4,\"d@example.org\",plain\r\n"
	_, recs := readAll(t, strings.NewReader(in), Options{})
	want := []struct {
		line   int
		raw    string
		addr   string
		fields int
	}{
		{2, "1,\"a@example.org\",\"line one\nline two\"", "a@example.org", 3},
		{4, "2,\"b\"\"q\"\"@example.org\",\"crlf\r\ninside, with delimiter\"", "b\"q\"@example.org", 3},
		{6, "3,c@example.org,\"\"", "c@example.org", 3},
		{7, "4,\"d@example.org\",plain", "d@example.org", 3},
	}
	if len(recs) != len(want) {
		t.Fatalf("got %d records, want %d", len(recs), len(want))
	}
	for i, w := range want {
		rec := recs[i]
		if rec.Line != w.line || string(rec.Raw) != w.raw || rec.Address != w.addr || rec.Fields != w.fields || rec.Problem != "" || string(rec.EOL) != "\r\n" {
			t.Errorf("record %d = {Line %d Raw %q Address %q Fields %d Problem %q EOL %q}, want {%d %q %q %d}",
				i, rec.Line, rec.Raw, rec.Address, rec.Fields, rec.Problem, rec.EOL, w.line, w.raw, w.addr, w.fields)
		}
	}
}

func TestColumnDetection(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		header  bool
		col     int
		colName string
	}{
		{"google contacts", "Name,Given Name,Family Name,E-mail 1 - Type,E-mail 1 - Value,E-mail 2 - Type,E-mail 2 - Value,Phone 1 - Value\n" +
			"Jane Doe,Jane,Doe,* Home,jane@example.org,Work,jd@work.example,+1 555\n" +
			"Joe Roe,Joe,Roe,* Home,joe@example.org,,,\n", true, 4, "E-mail 1 - Value"},
		{"outlook", "\"First Name\",\"Last Name\",\"Business Street\",\"E-mail Address\",\"E-mail Type\",\"E-mail Display Name\"\n" +
			"\"Jane\",\"Doe\",\"1 Main St\",\"jane@example.org\",\"SMTP\",\"Jane Doe (jane@example.org)\"\n" +
			"\"Joe\",\"Roe\",\"\",\"joe@example.org\",\"SMTP\",\"Joe Roe (joe@example.org)\"\n", true, 3, "E-mail Address"},
		{"mailchimp", "Email Address,First Name,Last Name,Address,Phone Number,MEMBER_RATING\n" +
			"jane@example.org,Jane,Doe,\"1 Main St, Springfield\",555,2\n", true, 0, "Email Address"},
		{"postal Address before Email", "Name,Address,Email\nJane,1 Main St,jane@example.org\nJoe,2 Side St,joe@example.org\n", true, 2, "Email"},
		{"Address column holding addresses, no e-mail header", "Name,Address\nJane,jane@example.org\nJoe,joe@example.org\n", true, 1, "Address"},
		{"french", "Nom;Adresse;Courriel\nDupont;1 rue X;d@example.fr\n", true, 2, "Courriel"},
		{"french électronique", "Nom,Adresse électronique\nDupont,d@example.fr\n", true, 1, "Adresse électronique"},
		{"german", "Name;E-Mail-Adresse;Straße\nMüller;m@example.de;Hauptstr. 1\n", true, 1, "E-Mail-Adresse"},
		{"spanish", "Nombre,Correo electrónico\nAna,ana@example.es\n", true, 1, "Correo electrónico"},
		{"italian", "Nome,Indirizzo email\nLuca,l@example.it\n", true, 1, "Indirizzo email"},
		{"portuguese", "Nome,Endereço de e-mail\nJoão,j@example.pt\n", true, 1, "Endereço de e-mail"},
		{"turkish", "Ad,E-posta\nAyşe,a@example.tr\n", true, 1, "E-posta"},
		{"russian", "Имя,Электронная почта\nИван,ivan@example.ru\n", true, 1, "Электронная почта"},
		{"chinese", "姓名,邮箱\n张三,z@example.cn\n", true, 1, "邮箱"},
		{"japanese", "名前,メールアドレス\n田中,t@example.jp\n", true, 1, "メールアドレス"},
		{"korean", "이름,이메일\n김,k@example.kr\n", true, 1, "이메일"},
		{"work email with parenthesis", "Name,Email (Work),Email (Home)\nJane,,jane@home.example\nJoe,joe@work.example,joe@home.example\n", true, 2, "Email (Home)"},
		{"thunderbird", "First Name,Last Name,Display Name,Nickname,Primary Email,Secondary Email\nJane,Doe,Jane Doe,,jane@example.org,\n", true, 4, "Primary Email"},
		{"recognized name without @ values is not preferred", "Email Opt In,Contact\nyes,jane@example.org\nno,joe@example.org\n", true, 1, "Contact"},
		{"header by shape", "Name,Contact\nJane,jane@example.org\nJoe,joe@example.org\n", true, 1, "Contact"},
		{"no header", "Jane,jane@example.org,1\nJoe,joe@example.org,2\n", false, 1, ""},
		{"no header, first row lacks an address", "Jane,,1\nJoe,joe@example.org,2\nAnn,ann@example.org,3\n", false, 1, ""},
		{"most @ wins", "a,b\nx@y.example,p@q.example\nx,p2@q.example\n", true, 1, "b"},
		{"header only", "Name,Email\n", true, 1, "Email"},
		{"plain list with header", "E-mail\na@example.org\nb@example.org\n", true, 0, "E-mail"},
		{"plain list, unrecognized first line is data", "Subscribers\na@example.org\nb@example.org\n", false, 0, ""},
		{"recognized header, no @ anywhere", "Name,E-mail\nJane,\nJoe,\n", true, 1, "E-mail"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := NewReader(strings.NewReader(tt.in), Options{})
			if err != nil {
				t.Fatal(err)
			}
			if (r.Header() != nil) != tt.header || r.Column() != tt.col || r.ColumnName() != tt.colName {
				t.Errorf("header %v, Column %d %q; want %v, %d %q", r.Header() != nil, r.Column(), r.ColumnName(), tt.header, tt.col, tt.colName)
			}
		})
	}
}

func TestColumnOption(t *testing.T) {
	in := "Name,Work,Home\nJane,jane@work.example,jane@home.example\n"
	tests := []struct {
		column string
		col    int
		header bool
		addr   string
		err    error
	}{
		{"home", 2, true, "jane@home.example", nil},
		{" WORK ", 1, true, "jane@work.example", nil},
		{"3", 2, true, "jane@home.example", nil},
		{"1", 0, true, "Jane", nil},
		{"4", 0, false, "", ErrUnknownColumn},
		{"0", 0, false, "", ErrUnknownColumn},
		{"Mobile", 0, false, "", ErrUnknownColumn},
	}
	for _, tt := range tests {
		t.Run(tt.column, func(t *testing.T) {
			r, err := NewReader(strings.NewReader(in), Options{Column: tt.column})
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("err = %v, want %v", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			rec, err := r.Read()
			if err != nil {
				t.Fatal(err)
			}
			if r.Column() != tt.col || (r.Header() != nil) != tt.header || rec.Address != tt.addr {
				t.Errorf("Column %d header %v Address %q; want %d %v %q", r.Column(), r.Header() != nil, rec.Address, tt.col, tt.header, tt.addr)
			}
		})
	}
	// A named column makes the first row the header even when nothing else would.
	r, err := NewReader(strings.NewReader("a,b\nx,y\n"), Options{Column: "B"})
	if err != nil || r.Header() == nil || r.Column() != 1 {
		t.Errorf("Column B: err %v header %v col %d", err, r.Header(), r.Column())
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		opts Options
		err  error
		msg  string
	}{
		{"no address column", "Name,Street\nJane,1 Main St\n", Options{}, ErrNoAddressColumn,
			`csvio: no column holds e-mail addresses (first row: 1 "Name", 2 "Street"); choose one with --column NAME or --column N`},
		{"no address in a plain list", "foo\nbar\n", Options{}, ErrNoAddressColumn,
			`csvio: no column holds e-mail addresses (first row: 1 "foo"); choose one with --column NAME or --column N`},
		{"NUL byte", "email\na@example.org\nb\x00c@example.org\n", Options{}, ErrNotText,
			"csvio: line 3: binary data (NUL byte); not a CSV or text list"},
		{"control bytes", "a@example.org\n\x01\x02\x03\x04\x05\x06\x07\x08\n", Options{}, ErrNotText,
			"csvio: line 2: binary data (control byte 0x01); not a CSV or text list"},
		{"UTF-16", "\xff\xfee\x00m\x00", Options{}, ErrNotText,
			"csvio: line 1: UTF-16 text; not a CSV or text list (convert it to UTF-8)"},
		{"gzip", "\x1f\x8b\x08\x00\x00\x00\x00\x00", Options{}, ErrNotText,
			"csvio: gzip-compressed data; not a CSV or text list: decompress it first: gunzip -c FILE | everify bulk -"},
		{"xlsx", "PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00[Content_Types].xml\x00\x00xl/workbook.xml", Options{}, ErrNotText,
			"csvio: an Excel workbook (.xlsx); not a CSV or text list: export the sheet as CSV (File > Save As > CSV UTF-8) and verify that file"},
		{"zip", "PK\x03\x04\x14\x00\x00\x00\x08\x00list.csv\x00\x00", Options{}, ErrNotText,
			"csvio: a zip archive; not a CSV or text list: extract the CSV file from it first: unzip -p FILE | everify bulk -"},
		{"xls", "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\x00\x00", Options{}, ErrNotText,
			"csvio: an Excel 97-2003 workbook (.xls); not a CSV or text list: export the sheet as CSV and verify that file"},
		{"unknown name", "Name,Email\nJane,j@example.org\n", Options{Column: "Mail"}, ErrUnknownColumn,
			`csvio: column "Mail": no such column (columns: 1 "Name", 2 "Email")`},
		{"index out of range", "Name,Email\nJane,j@example.org\n", Options{Column: "3"}, ErrUnknownColumn,
			"csvio: column 3: no such column: the input has 2 columns"},
		{"bad delimiter", "a\n", Options{Delimiter: '"'}, nil, `csvio: invalid delimiter '"'`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewReader(strings.NewReader(tt.in), tt.opts)
			if err == nil || (tt.err != nil && !errors.Is(err, tt.err)) || err.Error() != tt.msg {
				t.Errorf("err = %v\nwant  %s", err, tt.msg)
			}
		})
	}
	// A failing reader is reported, during sniffing and later.
	boom := errors.New("boom")
	if _, err := NewReader(iotest.ErrReader(boom), Options{}); !errors.Is(err, boom) {
		t.Errorf("NewReader(failing) = %v", err)
	}
	big := strings.Repeat("a@example.org\n", 30000) // more than the look-ahead
	r, err := NewReader(io.MultiReader(strings.NewReader(big), iotest.ErrReader(boom)), Options{})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for {
		_, err = r.Read()
		if err != nil {
			break
		}
		n++
	}
	if !errors.Is(err, boom) || n != 30000 {
		t.Errorf("after %d records: %v; want 30000 records then boom", n, err)
	}
}

func TestEmptyInput(t *testing.T) {
	for _, in := range []string{"", "\ufeff"} {
		r, recs := readAll(t, strings.NewReader(in), Options{})
		if len(recs) != 0 || r.Header() != nil {
			t.Errorf("%q: %d records, header %v", in, len(recs), r.Header())
		}
	}
}

type wantRec struct {
	line    int
	addr    string
	problem string
}

func TestMalformed(t *testing.T) {
	long := strings.Repeat("x", 40960)
	tests := []struct {
		name string
		in   string
		opts Options
		want []wantRec
	}{
		{"bare quote", "name,email\nab\"c,a@example.org\nok,b@example.org\n", Options{},
			[]wantRec{{2, "a@example.org", "bare quote in unquoted field"}, {3, "b@example.org", ""}}},
		{"text after closing quote", "name,email\n\"ab\"c,a@example.org\nok,b@example.org\n", Options{},
			[]wantRec{{2, "a@example.org", "text after closing quote"}, {3, "b@example.org", ""}}},
		{"unterminated at EOF", "name,email\nok,b@example.org\nx,\"a@example.org", Options{},
			[]wantRec{{2, "b@example.org", ""}, {3, "a@example.org", "unterminated quoted field"}}},
		{"stray quote does not swallow rows", "name,email\n\"Jane,j@example.org\nJoe,joe@example.org\nAnn,ann@example.org\n", Options{},
			[]wantRec{{2, "", "unterminated quoted field"}, {3, "joe@example.org", ""}, {4, "ann@example.org", ""}}},
		{"stray quote closed by another", "name,email\nJa\"ne,j@example.org\n\"Joe,joe@example.org\nAnn\",ann@example.org\nBo,bo@example.org\n", Options{},
			// A known limit: a second stray quote closes the first, and the
			// well-formed result is one RFC 4180 record spanning lines 3-4.
			[]wantRec{{2, "j@example.org", "bare quote in unquoted field"}, {3, "ann@example.org", ""}, {5, "bo@example.org", ""}}},
		{"legit multi-line field kept", "name,email\n\"Jane\nDoe\",j@example.org\nJoe,joe@example.org\n", Options{},
			[]wantRec{{2, "j@example.org", ""}, {4, "joe@example.org", ""}}},
		{"ragged", "name,email,city\nJane,j@example.org\nJoe,joe@example.org,X,Y\nAnn,ann@example.org,Z\n", Options{},
			[]wantRec{{2, "j@example.org", "row has 2 fields, header has 3"}, {3, "joe@example.org", "row has 4 fields, header has 3"}, {4, "ann@example.org", ""}}},
		{"ragged without header", "Jane,j@example.org,1\nJoe,joe@example.org\nAnn,ann@example.org,3\n", Options{},
			[]wantRec{{1, "j@example.org", ""}, {2, "joe@example.org", "row has 2 fields, expected 3"}, {3, "ann@example.org", ""}}},
		{"missing address cell", "name,city,email\nJane,X\n", Options{},
			[]wantRec{{2, "", "row has 2 fields, header has 3"}}},
		{"invalid UTF-8 in address", "name,email\nJane,j\xff@example.org\n", Options{},
			[]wantRec{{2, "j\xff@example.org", "invalid UTF-8"}}},
		{"invalid UTF-8 elsewhere is fine", "name,email\nJ\xe9r\xf4me,j@example.org\n", Options{},
			[]wantRec{{2, "j@example.org", ""}}},
		{"40 KB address cell", "name,email\nJane," + long + "@example.org\nJoe,joe@example.org\n", Options{},
			[]wantRec{{2, "", "cell is 40972 octets, limit 16384"}, {3, "joe@example.org", ""}}},
		{"40 KB cell in another column is kept", "name,email\n" + long + ",j@example.org\n", Options{},
			[]wantRec{{2, "j@example.org", ""}}},
		{"40 KB line in a plain list", "a@example.org\n" + long + "\nb@example.org\n", Options{},
			[]wantRec{{1, "a@example.org", ""}, {2, "", "cell is 40960 octets, limit 16384"}, {3, "b@example.org", ""}}},
		{"empty rows", "email,name\n\na@example.org,A\n\n\nb@example.org,B\n\n", Options{},
			[]wantRec{{2, "", "empty row"}, {3, "a@example.org", ""}, {4, "", "empty row"}, {5, "", "empty row"}, {6, "b@example.org", ""}, {7, "", "empty row"}}},
		{"empty lines in a plain list", "a@example.org\n\r\nb@example.org\n", Options{},
			[]wantRec{{1, "a@example.org", ""}, {2, "", "empty row"}, {3, "b@example.org", ""}}},
		{"small MaxCell", "a@example.org\nabcdefghijkl@example.org\n", Options{MaxCell: 16},
			[]wantRec{{1, "a@example.org", ""}, {2, "", "cell is 24 octets, limit 16"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, recs := readAll(t, strings.NewReader(tt.in), tt.opts)
			var got []wantRec
			for _, r := range recs {
				got = append(got, wantRec{r.Line, r.Address, r.Problem})
				if r.Truncated && r.Problem == "" && r.Warning != "record exceeds 100 octets; written cut to its first 100" {
					t.Errorf("line %d: Warning %q", r.Line, r.Warning)
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("records =\n%+v\nwant\n%+v", got, tt.want)
			}
			checkRoundTrip(t, tt.in, tt.opts)
		})
	}
}

// TestNULAfterLookAhead: binary data past the look-ahead marks the row, not the file.
func TestNULAfterLookAhead(t *testing.T) {
	var b strings.Builder
	b.WriteString("email\n")
	n := 0
	for b.Len() < sniffBytes+1000 {
		fmt.Fprintf(&b, "user%d@example.org\n", n)
		n++
	}
	b.WriteString("bad\x00@example.org\nlast@example.org\n")
	_, recs := readAll(t, strings.NewReader(b.String()), Options{})
	if len(recs) != n+2 {
		t.Fatalf("got %d records, want %d", len(recs), n+2)
	}
	bad, last := recs[n], recs[n+1]
	if bad.Problem != "binary data (NUL byte)" || bad.Line != n+2 || last.Problem != "" || last.Line != n+3 {
		t.Errorf("bad = line %d %q, last = line %d %q", bad.Line, bad.Problem, last.Line, last.Problem)
	}
}

func TestMaxRecord(t *testing.T) {
	line := strings.Repeat("y", 300)
	tests := []struct {
		name string
		in   string
		want []wantRec
		raw  []string
	}{
		{"long line truncated and skipped", "email,x\na@example.org,1\nb@example.org," + line + "\r\nc@example.org,3\n",
			[]wantRec{{2, "a@example.org", ""}, {3, "b@example.org", ""}, {4, "c@example.org", ""}},
			[]string{"a@example.org,1", "b@example.org," + line[:86], "c@example.org,3"}},
		{"long line at EOF", "email,x\na@example.org,1\nb@example.org," + line,
			[]wantRec{{2, "a@example.org", ""}, {3, "b@example.org", ""}},
			[]string{"a@example.org,1", "b@example.org," + line[:86]}},
		{"long line cut in the address cell", "x,email\n1,a@example.org\n2," + line + "@example.org\n3,c@example.org\n",
			[]wantRec{{2, "a@example.org", ""}, {3, "", "record exceeds 100 octets"}, {4, "c@example.org", ""}},
			[]string{"1,a@example.org", "2," + line[:98], "3,c@example.org"}},
		{"open quote past the cap is cut at its line", "email,x\na@example.org,\"1\n" + strings.Repeat("z@example.org,2\n", 10),
			append([]wantRec{{2, "a@example.org", "unterminated quoted field"}}, func() (w []wantRec) {
				for i := range 10 {
					w = append(w, wantRec{3 + i, "z@example.org", ""})
				}
				return w
			}()...), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// A one-byte reader makes every record straddle buffer refills.
			_, recs := readAll(t, iotest.OneByteReader(strings.NewReader(tt.in)), Options{MaxRecord: 100})
			var got []wantRec
			for _, r := range recs {
				got = append(got, wantRec{r.Line, r.Address, r.Problem})
				if r.Truncated && r.Problem == "" && r.Warning != "record exceeds 100 octets; written cut to its first 100" {
					t.Errorf("line %d: Warning %q", r.Line, r.Warning)
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("records =\n%+v\nwant\n%+v", got, tt.want)
			}
			for i, raw := range tt.raw {
				if string(recs[i].Raw) != raw || recs[i].Truncated != (len(raw) == 100) {
					t.Errorf("record %d: Raw %q Truncated %v, want %q", i, recs[i].Raw, recs[i].Truncated, raw)
				}
			}
		})
	}
}

// TestOneByteReader: the records do not depend on how the input is chunked.
func TestOneByteReader(t *testing.T) {
	in := "\ufeffid;\"e-mail\";note\r\n1;\"a@example.org\";\"x\r\ny\"\r\n2;b@example.org;\"\"\"q\"\"\"\r\n3;\"c\"\"@example.org\";z"
	_, whole := readAll(t, strings.NewReader(in), Options{})
	_, bytewise := readAll(t, iotest.OneByteReader(strings.NewReader(in)), Options{})
	_, halting := readAll(t, iotest.HalfReader(iotest.DataErrReader(strings.NewReader(in))), Options{})
	for _, recs := range [][]*Record{bytewise, halting} {
		if fmt.Sprint(dump(recs)) != fmt.Sprint(dump(whole)) {
			t.Errorf("chunked read =\n%v\nwant\n%v", dump(recs), dump(whole))
		}
	}
	if len(whole) != 3 || whole[2].Address != "c\"@example.org" {
		t.Errorf("records = %v", dump(whole))
	}
}

func dump(recs []*Record) []string {
	var out []string
	for _, r := range recs {
		out = append(out, fmt.Sprintf("%d %q %q %q %d %q", r.Line, r.Raw, r.EOL, r.Address, r.Fields, r.Problem))
	}
	return out
}

// checkRoundTrip asserts that BOM + Raw + EOL of every record, header included,
// reproduces the input exactly.
func checkRoundTrip(t *testing.T, in string, opts Options) {
	t.Helper()
	r, err := NewReader(strings.NewReader(in), opts)
	if err != nil {
		return
	}
	var b bytes.Buffer
	if r.BOM() {
		b.Write(bomUTF8)
	}
	if h := r.Header(); h != nil {
		b.Write(h.Raw)
		b.Write(h.EOL)
	}
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("Read: %v", err)
		}
		if rec.Truncated {
			return
		}
		b.Write(rec.Raw)
		b.Write(rec.EOL)
	}
	if b.String() != in {
		t.Errorf("round trip = %q\nwant %q", b.String(), in)
	}
}

func TestCountLines(t *testing.T) {
	tests := []struct {
		in   string
		want int
	}{
		{"", 0},
		{"a", 1},
		{"a\n", 1},
		{"a\nb", 2},
		{"a\r\nb\r\n", 2},
		{"a\rb\rc", 3},
		{"a\n\n\n", 3},
		{"h\n\"x\ny\"\n", 3}, // over-counts a quoted newline, as documented
		{strings.Repeat("row\n", 100000), 100000},
	}
	for _, tt := range tests {
		got, err := CountLines(strings.NewReader(tt.in))
		if err != nil || got != tt.want {
			t.Errorf("CountLines(%.20q) = %d, %v; want %d", tt.in, got, err, tt.want)
		}
	}
	if _, err := CountLines(iotest.ErrReader(io.ErrUnexpectedEOF)); err != io.ErrUnexpectedEOF {
		t.Errorf("CountLines(failing) err = %v", err)
	}
}

func TestOptions(t *testing.T) {
	// An explicit delimiter overrides detection.
	_, recs := readAll(t, strings.NewReader("e-mail;n\na@example.org,b;1\n"), Options{Delimiter: ';'})
	if len(recs) != 1 || recs[0].Address != "a@example.org,b" || recs[0].Fields != 2 {
		t.Errorf("Delimiter ';': %v", dump(recs))
	}
	// SniffLines bounds the look-ahead: here the only '@' lies past it.
	in := "a,b\nx,\ny,\nz,q@example.org\n"
	if _, err := NewReader(strings.NewReader(in), Options{SniffLines: 3}); !errors.Is(err, ErrNoAddressColumn) {
		t.Errorf("SniffLines 3: err = %v, want ErrNoAddressColumn", err)
	}
	if r, err := NewReader(strings.NewReader(in), Options{}); err != nil || r.Column() != 1 {
		t.Errorf("default SniffLines: err %v", err)
	}
}

func TestClone(t *testing.T) {
	r, err := NewReader(iotest.OneByteReader(strings.NewReader("email\na@example.org\r\nb@example.org\n")), Options{})
	if err != nil {
		t.Fatal(err)
	}
	first, _ := r.Read()
	c := first.Clone()
	if _, err := r.Read(); err != nil {
		t.Fatal(err)
	}
	if string(c.Raw) != "a@example.org" || string(c.EOL) != "\r\n" || c.Line != 2 || c.Address != "a@example.org" {
		t.Errorf("clone = %q %q %d %q", c.Raw, c.EOL, c.Line, c.Address)
	}
}

// TestRow: Row numbers the data records from 1, the header not counted, malformed and
// over-long records included.
func TestRow(t *testing.T) {
	long := "x" + strings.Repeat("y", 200) + "@example.org"
	for _, tt := range []struct {
		name, in string
		opts     Options
	}{
		{"header", "email,n\na@x.zz,1\n\"bad,2\nc@x.zz,3\n", Options{}},
		{"no header", "a@x.zz\nbad\nc@x.zz\n", Options{}},
		{"truncated", "email\na@x.zz\n" + long + "\nc@x.zz\n", Options{MaxRecord: 100}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r, recs := readAll(t, strings.NewReader(tt.in), tt.opts)
			if len(recs) != 3 {
				t.Fatalf("%d records", len(recs))
			}
			for i, rec := range recs {
				if rec.Row != i+1 {
					t.Errorf("record %d (%q): Row = %d", i, rec.Raw, rec.Row)
				}
			}
			if h := r.Header(); h != nil && h.Row != 0 {
				t.Errorf("header Row = %d, want 0", h.Row)
			}
		})
	}
}

// TestNewlineOption: a fixed newline overrides detection, which takes a look-ahead
// without LF for bare CR.
func TestNewlineOption(t *testing.T) {
	in := "email\ra@x.zz\rb@x.zz\n"
	if _, recs := readAll(t, strings.NewReader(in), Options{}); len(recs) != 1 {
		t.Errorf("detected: %d records, want 1 (LF seen: CR is not a terminator)", len(recs))
	}
	if _, recs := readAll(t, strings.NewReader(in), Options{Newline: '\r'}); len(recs) != 2 || recs[1].Address != "b@x.zz\n" {
		t.Errorf("Newline CR: %d records %q", len(recs), addresses(recs))
	}
	if _, err := NewReader(strings.NewReader(in), Options{Newline: 'x'}); err == nil {
		t.Error("Newline 'x' accepted")
	}
}

// TestAllowBinary: the look-ahead's binary check can be skipped; the NUL byte is still
// a row problem.
func TestAllowBinary(t *testing.T) {
	in := "email,note\na@x.zz,\x00\x01\n"
	if _, err := NewReader(strings.NewReader(in), Options{}); !errors.Is(err, ErrNotText) {
		t.Fatalf("err = %v, want ErrNotText", err)
	}
	_, recs := readAll(t, strings.NewReader(in), Options{AllowBinary: true})
	if len(recs) != 1 || recs[0].Address != "a@x.zz" || recs[0].Problem != "binary data (NUL byte)" {
		t.Errorf("records %+v", recs)
	}
}
