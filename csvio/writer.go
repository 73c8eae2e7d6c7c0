package csvio

import (
	"bufio"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DefaultFlushEvery is how long NewWriter lets written rows wait in its buffer.
const DefaultFlushEvery = time.Second

// Writer writes CSV output: each input record byte-for-byte followed by result columns.
// It buffers, but no row waits in the buffer longer than FlushEvery, so a pipeline sees
// rows early and a crash loses at most the last second; call [Writer.Flush] at the end.
// Errors are sticky: after a failed write every later call returns the same error.
//
// The output is always RFC 4180 with the Writer's delimiter: a record that is not
// (a bare quote in an unquoted field, text after a closing quote, an unterminated
// quoted field, a line cut at MaxRecord) is re-encoded from its field values, quoted
// and with quotes doubled, so that a CSV reader reads back the values [Reader] saw.
// Well-formed records keep their bytes.
type Writer struct {
	// EOL terminates the synthesized header and records read without a terminator (the
	// last line of a file lacking a final newline), so the output always ends with a
	// line terminator. NewWriter sets "\n"; set it to [Reader.EOL] for CRLF inputs.
	EOL string
	// FlushEvery bounds how long written output may wait in the buffer before it is
	// flushed by a timer; 0 leaves it until the buffer fills or Flush. NewWriter sets
	// DefaultFlushEvery. Set it before the first write.
	FlushEvery time.Duration
	// Safe neutralises spreadsheet formulas (CSV injection): every cell written, input
	// cells included, whose value starts with '=', '+', '-', '@', tab or CR is
	// prefixed with a single quote, which spreadsheets show as text; a record holding
	// such a cell is re-encoded. Off by default: input records keep their bytes.
	Safe bool

	mu    sync.Mutex // held by writes and by the timed flush
	timer *time.Timer

	bw      *bufio.Writer
	delim   byte
	bom     bool
	started bool
	names   []string
	fields  int // input fields per row, from WriteHeader: short rows are padded to it
	line    []byte
	special [256]bool // bytes that force quoting: the delimiter, '"', CR, LF
	wDelim  uint64    // delim broadcast
	last    []lastValue

	sc        scanner // splits records to re-encode
	val, safe []byte  // scratch for re-encoded values
}

// lastValue caches the quoting decision for a result column's last value.
type lastValue struct {
	v     string
	quote bool
}

// NewWriter returns a Writer using delim (',' when 0) that starts its output with a
// UTF-8 byte order mark when bom is true.
func NewWriter(w io.Writer, delim byte, bom bool) *Writer {
	if delim == 0 {
		delim = ','
	}
	wr := &Writer{EOL: "\n", FlushEvery: DefaultFlushEvery, bw: bufio.NewWriterSize(w, 64<<10), delim: delim, bom: bom, wDelim: broadcast(delim)}
	for _, c := range []byte{delim, '"', '\r', '\n'} {
		wr.special[c] = true
	}
	return wr
}

// arm schedules a flush of what was just written, unless one is pending.
func (w *Writer) arm() {
	if w.FlushEvery > 0 && w.timer == nil && w.bw.Buffered() > 0 {
		w.timer = time.AfterFunc(w.FlushEvery, w.timedFlush)
	}
}

func (w *Writer) timedFlush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.timer = nil
	w.bw.Flush() // an error sticks in bw: the next write or Flush returns it
}

func (w *Writer) start() {
	if !w.started {
		w.started = true
		if w.bom {
			w.bw.Write(bomUTF8)
		}
	}
}

// WriteHeader writes the header line: the input header's bytes as read, or for an input
// without a header a synthesized one — "email" for a plain list (fields ≤ 1),
// "column1".."columnN" for a headerless CSV of N fields — followed by the result
// column names. A result name equal to an input column name or an earlier result name
// (case-insensitively, trimmed) is prefixed "everify_" until unique, so no input column
// is ever shadowed; [Writer.ResultNames] returns the names written.
func (w *Writer) WriteHeader(header *Record, fields int, resultNames []string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	defer w.arm()
	w.start()
	var input []string
	if header != nil {
		input = headerNames(header, w.delim)
		w.fields = len(input)
	} else {
		w.fields = max(fields, 1)
		if fields <= 1 {
			input = []string{"email"}
		} else {
			for i := range fields {
				input = append(input, "column"+strconv.Itoa(i+1))
			}
		}
	}
	taken := make(map[string]bool, len(input)+len(resultNames))
	for _, n := range input {
		taken[strings.ToLower(strings.TrimSpace(n))] = true
	}
	w.names = w.names[:0]
	for _, n := range resultNames {
		for taken[strings.ToLower(strings.TrimSpace(n))] {
			n = "everify_" + n
		}
		taken[strings.ToLower(strings.TrimSpace(n))] = true
		w.names = append(w.names, n)
	}

	line := w.line[:0]
	if header != nil {
		line = w.appendRaw(line, header)
	} else {
		for i, n := range input {
			if i > 0 {
				line = append(line, w.delim)
			}
			line = w.appendField(line, w.neutral(n))
		}
	}
	for _, n := range w.names {
		line = append(line, w.delim)
		line = w.appendField(line, w.neutral(n))
	}
	if header != nil && len(header.EOL) > 0 {
		line = append(line, header.EOL...)
	} else {
		line = append(line, w.EOL...)
	}
	_, err := w.bw.Write(line)
	return err
}

// ResultNames returns the result column names written by the last WriteHeader, after
// renaming to avoid collisions.
func (w *Writer) ResultNames() []string { return w.names }

// headerNames returns the unquoted cells of a header record.
func headerNames(h *Record, delim byte) []string {
	sc := newScanner(delim, '\n')
	if h.plain {
		sc.scanLine(h.Raw, true)
	} else {
		sc.scan(h.Raw, true)
	}
	names := make([]string, len(sc.spans))
	for i, sp := range sc.spans {
		names[i] = value(h.Raw, sp)
	}
	return names
}

// WriteRecord writes rec.Raw byte-for-byte, then each value as one more field (quoted
// per RFC 4180 only when it holds the delimiter, a quote, CR or LF), then rec.EOL, or
// w.EOL when the record had none.
//
// A few additions keep the output parseable and its result columns aligned, never
// removing an input byte: a line of a plain list that is not a valid CSV field (say
// `Doe, Jane <jane@example.org>`) is written quoted; a record ending inside an
// unterminated quoted field gets the closing quote it lacked, so it cannot swallow the
// rows that follow; and when values are given, a row with fewer fields than the header
// (an empty line, a ragged row) is padded with empty fields so the values land under
// their names. A row with more fields than the header is written as is.
func (w *Writer) WriteRecord(rec *Record, values []string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	defer w.arm()
	w.start()
	// Build the line in bufio's free space (the AvailableBuffer idiom: no extra copy),
	// flushing first when it may not fit; a line longer than the buffer goes through
	// w.line instead.
	need := 2*len(rec.Raw) + 3*rec.Fields + 2 + len(rec.EOL) + len(w.EOL) + max(w.fields-rec.Fields, 0)
	for _, v := range values {
		need += 2*len(v) + 4
	}
	var line []byte
	switch {
	case need <= w.bw.Available():
		line = w.bw.AvailableBuffer()
	case need <= w.bw.Size():
		if err := w.bw.Flush(); err != nil {
			return err
		}
		line = w.bw.AvailableBuffer()
	default:
		line = w.line[:0]
	}
	line = w.appendRaw(line, rec)
	if len(values) > 0 && !rec.plain {
		for range w.fields - rec.Fields {
			line = append(line, w.delim)
		}
	}
	if len(w.last) < len(values) {
		w.last = make([]lastValue, len(values))
	}
	for i, v := range values {
		line = append(line, w.delim)
		// Result values repeat ("false", "deliverable"): remember the quoting decision
		// of each column's last value; comparing equal strings is cheaper than scanning.
		v = w.neutral(v)
		if l := &w.last[i]; v != l.v {
			l.v, l.quote = v, w.mustQuote(v)
		}
		if w.last[i].quote {
			line = appendQuoted(line, v)
		} else {
			line = append(line, v...)
		}
	}
	if len(rec.EOL) > 0 && !(len(rec.EOL) == 1 && rec.EOL[0] == '\r' && w.EOL != "\r") {
		line = append(line, rec.EOL...)
	} else {
		// No terminator, or a bare CR ending a file of LF or CRLF lines: the writer's.
		line = append(line, w.EOL...)
	}
	if need > w.bw.Size() && cap(line) <= 4<<20 {
		w.line = line[:0] // reuse for the next huge line
	}
	_, err := w.bw.Write(line)
	return err
}

// appendRaw appends the record's bytes, quoted or re-encoded as WriteRecord describes.
func (w *Writer) appendRaw(dst []byte, rec *Record) []byte {
	raw := rec.Raw
	if rec.plain {
		if w.Safe {
			v := raw
			if isQuotedField(raw) {
				w.val = appendValue(w.val[:0], raw, span{1, len(raw) - 1, true})
				v = w.val
			}
			if isFormula(v) {
				return w.appendCell(dst, v)
			}
		}
		if needsQuote(raw, w.delim) && !isQuotedField(raw) {
			return appendQuoted(dst, raw)
		}
		return append(dst, raw...)
	}
	if rec.malformed || (w.Safe && w.hasFormula(raw)) {
		return w.appendFields(dst, raw)
	}
	return append(dst, raw...)
}

// appendFields appends the fields of the record raw, re-encoded from their values.
func (w *Writer) appendFields(dst, raw []byte) []byte {
	w.scan(raw)
	for i, sp := range w.sc.spans {
		if i > 0 {
			dst = append(dst, w.delim)
		}
		w.val = appendValue(w.val[:0], raw, sp)
		dst = w.appendCell(dst, w.val)
	}
	return dst
}

// appendCell appends the value v as one field: quoted when it must be, and, when Safe
// and v starts like a formula, prefixed with a single quote.
func (w *Writer) appendCell(dst, v []byte) []byte {
	if w.Safe && isFormula(v) {
		w.safe = append(append(w.safe[:0], '\''), v...)
		v = w.safe
	}
	if needsQuote(v, w.delim) {
		return appendQuoted(dst, v)
	}
	return append(dst, v...)
}

// scan splits the record raw into w.sc.spans.
func (w *Writer) scan(raw []byte) {
	if w.sc.delim == 0 {
		w.sc = newScanner(w.delim, '\n')
	}
	w.sc.scan(raw, true)
}

// hasFormula reports whether a field of the record raw starts like a formula.
func (w *Writer) hasFormula(raw []byte) bool {
	w.scan(raw)
	for _, sp := range w.sc.spans {
		if isFormula(raw[sp.start:sp.end]) {
			return true
		}
	}
	return false
}

// isFormula reports whether a cell value would be taken for a formula by a spreadsheet
// (OWASP, CSV injection): it starts with '=', '+', '-', '@', tab or CR.
func isFormula[T string | []byte](v T) bool {
	if len(v) == 0 {
		return false
	}
	switch v[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return true
	}
	return false
}

// neutral returns v, prefixed with a single quote when Safe and v starts like a formula.
func (w *Writer) neutral(v string) string {
	if w.Safe {
		return Neutral(v)
	}
	return v
}

// Neutral returns v prefixed with a single quote when it starts like a spreadsheet
// formula ('=', '+', '-', '@', tab or CR), else v: what [Writer.Safe] does to each cell.
func Neutral(v string) string {
	if isFormula(v) {
		return "'" + v
	}
	return v
}

// needsQuote reports whether s must be quoted as a CSV field.
func needsQuote[T string | []byte](s T, delim byte) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == delim || c == '"' || c == '\n' || c == '\r' {
			return true
		}
	}
	return false
}

func (w *Writer) appendField(dst []byte, v string) []byte {
	if w.mustQuote(v) {
		return appendQuoted(dst, v)
	}
	return append(dst, v...)
}

// mustQuote reports whether v holds the delimiter, a quote, CR or LF.
func (w *Writer) mustQuote(v string) bool {
	i := 0
	for ; i+8 <= len(v); i += 8 {
		x := load64(v, i)
		if zeroBytes(x^w.wDelim)|zeroBytes(x^wQuote)|zeroBytes(x^wCR)|zeroBytes(x^wLF) != 0 {
			return true
		}
	}
	for ; i < len(v); i++ {
		if w.special[v[i]] {
			return true
		}
	}
	return false
}

var wCR, wLF = broadcast('\r'), broadcast('\n')

// appendQuoted appends v as a quoted field, doubling its quotes.
func appendQuoted[T string | []byte](dst []byte, v T) []byte {
	dst = append(dst, '"')
	for i := 0; i < len(v); i++ {
		if v[i] == '"' {
			dst = append(dst, '"')
		}
		dst = append(dst, v[i])
	}
	return append(dst, '"')
}

// Flush writes buffered output to the underlying writer.
func (w *Writer) Flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.timer != nil {
		w.timer.Stop()
		w.timer = nil
	}
	return w.bw.Flush()
}
