package csvio

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// Defaults of [Options].
const (
	DefaultMaxCell    = 16 << 10
	DefaultMaxRecord  = 1 << 20
	DefaultSniffLines = 100
	sniffBytes        = 256 << 10 // look-ahead bound for detection
	minBuffer         = 64 << 10
)

// Errors returned by [NewReader]. They are wrapped with details; test with [errors.Is].
var (
	// ErrNoAddressColumn means no column could be told to hold the e-mail addresses: no
	// header names one and no sniffed value holds an '@'. The message lists the columns
	// seen; the caller should suggest choosing one explicitly ([Options.Column]).
	ErrNoAddressColumn = errors.New("no column holds e-mail addresses")
	// ErrUnknownColumn means [Options.Column] names no header cell, or its index is out
	// of range.
	ErrUnknownColumn = errors.New("no such column")
	// ErrNotText means the input is binary (a NUL byte, many control bytes) or UTF-16,
	// not a CSV file or a text list. The message names the line.
	ErrNotText = errors.New("not a CSV or text list")
)

// Options configure a [Reader]. The zero value auto-detects everything.
type Options struct {
	// Column selects the address column: a header name (matched case-insensitively,
	// trimmed; naming a cell of the first row makes that row the header) or a 1-based
	// index such as "3". Empty: auto-detect (see the package documentation).
	Column string
	// Delimiter is the field separator. 0: auto-detect among ',' ';' '\t' '|', or a plain
	// one-address-per-line list when none fits.
	Delimiter byte
	// MaxCell caps the address cell, in octets; a longer one is reported as a Problem
	// and its value dropped. 0 means DefaultMaxCell (16 KiB).
	MaxCell int
	// MaxRecord caps a record, in octets. Past it a record is cut at its first line
	// terminator or, on one physical line, truncated (see [Record.Truncated]).
	// 0 means DefaultMaxRecord (1 MiB).
	MaxRecord int
	// SniffLines is the number of records read ahead for detection (also bounded to
	// 256 KiB). 0 means DefaultSniffLines (100).
	SniffLines int
	// Newline fixes the line terminator: '\n' (LF or CRLF) or '\r' (bare CR). 0 means
	// detect it (bare CR only when the look-ahead holds no LF).
	Newline byte
	// AllowBinary skips the look-ahead's binary-data check (NUL and control bytes), for
	// re-reading everify's own output, whose rows were checked when read as input.
	AllowBinary bool
}

// Record is one input record (a CSV row or a line of a plain list).
//
// Raw and EOL alias the Reader's buffer: they are valid until the next call to
// [Reader.Read]; use [Record.Clone] to keep them. Address is an independent string.
type Record struct {
	// Line is the 1-based physical line where the record starts; newlines inside
	// quoted fields count, a byte order mark does not.
	Line int
	// Row is the 1-based number of the data record: the header is not counted.
	Row int
	// Raw is the record exactly as in the input, without its terminator or the byte
	// order mark (truncated to MaxRecord octets when Truncated).
	Raw []byte
	// EOL is the record's terminator: "\r\n", "\n", "\r" (for a file using bare CR),
	// or empty for a last line without one.
	EOL []byte
	// Address is the unquoted value of the address column; empty when the record has
	// no such field or the cell exceeds MaxCell.
	Address string
	// Fields is the number of fields (1 for a plain list and for an empty line).
	Fields int
	// Problem is non-empty when the record is malformed, e.g. "bare quote in unquoted
	// field", "text after closing quote", "unterminated quoted field", "row has 3
	// fields, header has 5", "invalid UTF-8", "cell is 40960 octets, limit 16384",
	// "empty row", "binary data (NUL byte)", "record exceeds 1048576 octets".
	// The record is still returned; callers report "line N: Problem" and emit a row.
	Problem string
	// Truncated says Raw holds only the first MaxRecord octets of an over-long line;
	// the rest of the line was skipped, never buffered.
	Truncated bool
	// Warning is non-empty for a defect that leaves the address cell whole, so that
	// Address is verified as usual: a line over MaxRecord octets whose address cell lies
	// within its first MaxRecord octets ("record exceeds 1048576 octets; written cut").
	// Callers report "line N: Warning".
	Warning string
	// Empty says every cell of the record is empty or white space (a blank line, a
	// spreadsheet's ",,,"): a row that holds no data, which callers count apart.
	Empty bool

	malformed bool // not RFC 4180 (bare quote, text after a closing quote, unterminated, cut): the Writer re-encodes it
	plain     bool // a line of a plain list: the Writer quotes it when needed
}

// Clone returns a deep copy of rec that stays valid after the next Read.
func (rec *Record) Clone() *Record {
	c := *rec
	buf := make([]byte, len(rec.Raw)+len(rec.EOL))
	copy(buf, rec.Raw)
	copy(buf[len(rec.Raw):], rec.EOL)
	c.Raw = buf[:len(rec.Raw):len(rec.Raw)]
	c.EOL = buf[len(rec.Raw):]
	return &c
}

// Reader reads records from a CSV file or a plain list, streaming, with memory bounded
// by the look-ahead and MaxRecord. It never panics on bad input and never drops a
// record: malformed ones come back with [Record.Problem] set.
type Reader struct {
	rd       io.Reader
	buf      []byte
	pos, end int
	eof      bool
	err      error

	sc        scanner
	plain     bool
	bom       bool
	eol       string
	col       int
	colName   string
	fields    int // expected fields per record; 0 while reading the header
	hasHeader bool
	header    *Record
	line      int
	row       int // data records returned
	maxCell   int
	maxRecord int

	simple  bool // try scanSimple first: the last row held no quote
	rec     Record
	scratch []byte
	trunc   []byte
}

// NewReader sniffs the input from a bounded look-ahead — byte order mark, line
// terminator, delimiter, plain list or CSV, header row, address column — and returns a
// Reader positioned at the first data record (after the header, if any).
//
// Errors: a read error; [ErrNotText] for binary or UTF-16 input, naming the line
// ("line 3: binary data (NUL byte)"); [ErrUnknownColumn] for an Options.Column that
// names no column; [ErrNoAddressColumn] when no column can be detected. An empty input
// is not an error: Read returns io.EOF at once.
func NewReader(rd io.Reader, opts Options) (*Reader, error) {
	r := &Reader{
		rd:        rd,
		line:      1,
		eol:       "\n",
		maxCell:   opts.MaxCell,
		maxRecord: opts.MaxRecord,
		fields:    1,
		simple:    true,
	}
	if r.maxCell <= 0 {
		r.maxCell = DefaultMaxCell
	}
	if r.maxRecord <= 0 {
		r.maxRecord = DefaultMaxRecord
	}
	sniffLines := opts.SniffLines
	if sniffLines <= 0 {
		sniffLines = DefaultSniffLines
	}
	r.buf = make([]byte, max(sniffBytes, minBuffer))
	for !r.eof && r.err == nil && r.end < sniffBytes {
		r.fill()
	}
	if r.err != nil {
		return nil, fmt.Errorf("csvio: reading input: %w", r.err)
	}
	if err := r.sniff(opts, sniffLines); err != nil {
		return nil, err
	}
	if r.hasHeader {
		r.fields = 0 // the header defines the shape; it is not checked against itself
		h, err := r.Read()
		if err != nil {
			return nil, fmt.Errorf("csvio: reading header: %w", err)
		}
		r.header = h.Clone()
		r.header.Row = 0
		r.row = 0
		r.fields = max(h.Fields, 1)
	}
	return r, nil
}

// Header returns the header record, or nil when the input has none.
func (r *Reader) Header() *Record { return r.header }

// Column returns the 0-based index of the address column.
func (r *Reader) Column() int { return r.col }

// ColumnName returns the header cell of the address column ("" without a header).
func (r *Reader) ColumnName() string { return r.colName }

// Delimiter returns the field delimiter; ',' for a plain list, the natural delimiter
// for its CSV output.
func (r *Reader) Delimiter() byte { return r.sc.delim }

// Plain reports whether the input is a plain one-address-per-line list.
func (r *Reader) Plain() bool { return r.plain }

// Fields returns the expected number of fields per record: the header's, else the
// most common count in the look-ahead (1 for a plain list).
func (r *Reader) Fields() int { return r.fields }

// BOM reports whether the input starts with a UTF-8 byte order mark.
func (r *Reader) BOM() bool { return r.bom }

// EOL returns the input's line terminator as seen on its first line ("\n" if none).
func (r *Reader) EOL() string { return r.eol }

// Read returns the next record, or io.EOF after the last one. A record is returned
// even when malformed (see [Record.Problem]); only a failing underlying reader yields
// another error. The record and its slices are valid until the next Read.
func (r *Reader) Read() (*Record, error) {
	for {
		b := r.buf[r.pos:r.end]
		if len(b) == 0 {
			if r.eof {
				return nil, io.EOF
			}
			if r.err != nil {
				return nil, r.err
			}
			r.fill()
			continue
		}
		var res scanResult
		if r.plain {
			res = r.sc.scanLine(b, r.eof)
		} else {
			ok := false
			if r.simple {
				res, ok = r.sc.scanSimple(b)
			}
			if !ok {
				res = r.sc.scan(b, r.eof)
				// Rows tend to look alike: skip the quote-free fast path after a row
				// with quotes, until a row without them.
				r.simple = !res.quoted
			}
		}
		if !res.more {
			if res.multi && (res.prob != probNone || (r.fields > 1 && len(r.sc.spans) != r.fields) || res.rawEnd > r.maxRecord) {
				res = cut(&r.sc, b)
			}
			if res.rawEnd > r.maxRecord {
				return r.truncated(b[:res.rawEnd], b[res.rawEnd:res.n:res.n], res.n), nil
			}
			return r.finish(b, res), nil
		}
		if len(b) >= r.maxRecord {
			if bytes.IndexByte(b, r.sc.nl) >= 0 { // inside a quoted field spanning lines
				res = cut(&r.sc, b)
				if res.rawEnd > r.maxRecord {
					return r.truncated(b[:res.rawEnd], b[res.rawEnd:res.n:res.n], res.n), nil
				}
				return r.finish(b, res), nil
			}
			return r.skipLine(b)
		}
		if r.err != nil {
			return nil, r.err
		}
		r.fill()
	}
}

// cut ends the record at the start of b at its first line terminator, which lies
// inside a quoted field, and marks it unterminated. A quoted field that spans lines and
// leaves the record malformed (or over MaxRecord) is most likely a stray quote: cutting
// keeps it from swallowing the lines that follow.
func cut(sc *scanner, b []byte) scanResult {
	k := bytes.IndexByte(b, sc.nl)
	end := k
	if sc.nl == '\n' && k > 0 && b[k-1] == '\r' {
		end--
	}
	res := sc.scan(b[:end], true)
	res.rawEnd, res.n = end, k+1
	res.prob, res.open, res.multi = probUnterminated, true, false
	return res
}

// skipLine handles a physical line longer than MaxRecord that does not end within the
// buffer: it keeps the first MaxRecord octets and discards input up to the next line
// terminator, so memory stays bounded.
func (r *Reader) skipLine(b []byte) (*Record, error) {
	if r.trunc == nil {
		r.trunc = make([]byte, r.maxRecord)
	}
	copy(r.trunc, b[:r.maxRecord])
	last := b[len(b)-1]
	r.pos = r.end
	eol := []byte{}
	for {
		if r.pos == r.end {
			if r.eof {
				break
			}
			if r.err != nil {
				return nil, r.err
			}
			r.fill()
			continue
		}
		chunk := r.buf[r.pos:r.end]
		k := bytes.IndexByte(chunk, r.sc.nl)
		if k < 0 {
			last = chunk[len(chunk)-1]
			r.pos = r.end
			continue
		}
		switch {
		case r.sc.nl == '\r':
			eol = eolCR
		case (k > 0 && chunk[k-1] == '\r') || (k == 0 && last == '\r'):
			eol = eolCRLF
		default:
			eol = eolLF
		}
		r.pos += k + 1
		break
	}
	return r.truncated(r.trunc, eol, 0), nil
}

// truncated returns a record of one over-long line: Raw is its first MaxRecord octets,
// n the bytes to consume from the buffer.
func (r *Reader) truncated(raw, eol []byte, n int) *Record {
	raw = raw[:min(len(raw), r.maxRecord):min(len(raw), r.maxRecord)]
	r.pos += n
	rec := &r.rec
	r.row++
	*rec = Record{Line: r.line, Row: r.row, Raw: raw, EOL: eol, Truncated: true, malformed: !r.plain, plain: r.plain}
	r.line++
	r.scanAll(raw)
	rec.Fields = len(r.sc.spans)
	if r.plain || r.col >= len(r.sc.spans)-1 {
		// The address cell is the one cut short, or lies in the part skipped: a fragment
		// must not be verified, Address stays empty.
		rec.Problem = fmt.Sprintf("record exceeds %d octets", r.maxRecord)
		return rec
	}
	// The address cell ends before the cut: judge it, report the cut.
	r.setAddress(rec, raw)
	rec.Warning = fmt.Sprintf("record exceeds %d octets; written cut to its first %d", r.maxRecord, r.maxRecord)
	return rec
}

var (
	eolLF   = []byte("\n")
	eolCRLF = []byte("\r\n")
	eolCR   = []byte("\r")
)

// scanAll scans b as a whole record, for its spans.
func (r *Reader) scanAll(b []byte) {
	if r.plain {
		r.sc.scanLine(b, true)
	} else {
		r.sc.scan(b, true)
	}
}

// finish fills r.rec from the scanned record at the start of b and consumes it.
func (r *Reader) finish(b []byte, res scanResult) *Record {
	rec := &r.rec
	raw := b[:res.rawEnd:res.rawEnd]
	r.row++
	*rec = Record{
		Line:      r.line,
		Row:       r.row,
		Raw:       raw,
		EOL:       b[res.rawEnd:res.n:res.n],
		Fields:    len(r.sc.spans),
		malformed: res.prob != probNone,
		plain:     r.plain,
	}
	r.pos += res.n
	r.line++
	if res.multi {
		r.line += bytes.Count(raw, []byte{r.sc.nl})
	}
	switch {
	case bytes.IndexByte(raw, 0) >= 0:
		rec.Problem = "binary data (NUL byte)"
	case res.prob != probNone:
		rec.Problem = res.prob.String()
	case len(raw) == 0:
		rec.Problem = "empty row"
	case r.fields > 1 && rec.Fields != r.fields:
		if r.header != nil {
			rec.Problem = fmt.Sprintf("row has %d fields, header has %d", rec.Fields, r.fields)
		} else {
			rec.Problem = fmt.Sprintf("row has %d fields, expected %d", rec.Fields, r.fields)
		}
	}
	r.setAddress(rec, raw)
	if strings.TrimSpace(rec.Address) == "" {
		rec.Empty = r.blank(raw)
	}
	return rec
}

// blank reports whether every field of the last scan, of record raw, is white space.
func (r *Reader) blank(raw []byte) bool {
	for _, sp := range r.sc.spans {
		if len(bytes.TrimSpace(raw[sp.start:sp.end])) > 0 {
			return false
		}
	}
	return true
}

// setAddress extracts the address cell from the spans of the last scan.
func (r *Reader) setAddress(rec *Record, raw []byte) {
	if r.col >= len(r.sc.spans) {
		return
	}
	sp := r.sc.spans[r.col]
	if size := sp.end - sp.start; size > r.maxCell {
		if rec.Problem == "" {
			rec.Problem = fmt.Sprintf("cell is %d octets, limit %d", size, r.maxCell)
		}
		return
	}
	v := raw[sp.start:sp.end]
	if sp.quoted && bytes.IndexByte(v, '"') >= 0 {
		r.scratch = appendValue(r.scratch[:0], raw, sp)
		v = r.scratch
	}
	if !utf8.Valid(v) && rec.Problem == "" {
		rec.Problem = "invalid UTF-8"
	}
	rec.Address = string(v)
}

// fill compacts the buffer and reads more input, growing the buffer when a record
// fills it (up to about 2×MaxRecord).
func (r *Reader) fill() {
	if r.pos > 0 {
		copy(r.buf, r.buf[r.pos:r.end])
		r.end -= r.pos
		r.pos = 0
	}
	if r.end == len(r.buf) {
		nb := make([]byte, 2*len(r.buf))
		copy(nb, r.buf[:r.end])
		r.buf = nb
	}
	for range 100 {
		n, err := r.rd.Read(r.buf[r.end:])
		r.end += n
		if err == io.EOF {
			r.eof = true
			return
		}
		if err != nil {
			r.err = err
			return
		}
		if n > 0 {
			return
		}
	}
	r.err = io.ErrNoProgress
}
