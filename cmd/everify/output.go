package main

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/everify/everify/csvio"
	"github.com/everify/everify/verify"
)

// Output formats.
const (
	formatText   = "text"
	formatJSON   = "json"
	formatNDJSON = "ndjson"
	formatCSV    = "csv"
)

func validFormat(f string) bool {
	switch f {
	case formatText, formatJSON, formatNDJSON, formatCSV:
		return true
	}
	return false
}

// resultColumns are the columns CSV output appends (docs/record.md).
var resultColumns = []string{"status", "reason", "email_normalized", "disposable", "role",
	"free", "catch_all", "suggestion", "mx", "smtp_code", "provider"}

// resultValues returns r's values for resultColumns, appending to dst.
func resultValues(dst []string, r *verify.Result) []string {
	code := ""
	if r.SMTP.Code != 0 {
		code = strconv.Itoa(r.SMTP.Code)
	}
	return append(dst, string(r.Status), string(r.Reason), r.Email,
		strconv.FormatBool(r.Disposable), strconv.FormatBool(r.Role), strconv.FormatBool(r.Free),
		strconv.FormatBool(r.SMTP.CatchAll), r.Suggestion, r.SMTP.MX, code, r.Domain.Provider)
}

// resultWriter writes results one by one in a format; Close finishes the document.
type resultWriter interface {
	Write(r *verify.Result) error
	Close() error
}

func newResultWriter(w io.Writer, format string, color bool) resultWriter {
	bw := bufio.NewWriterSize(w, 64<<10)
	switch format {
	case formatJSON:
		return &jsonWriter{w: bw}
	case formatNDJSON:
		enc := json.NewEncoder(bw)
		enc.SetEscapeHTML(false) // "<" stays "<": addresses often come as "Name <addr>"
		return &ndjsonWriter{w: bw, enc: enc}
	case formatCSV:
		return &csvWriter{w: bw, cw: csv.NewWriter(bw)}
	default:
		return &textWriter{w: bw, color: color}
	}
}

type ndjsonWriter struct {
	w   *bufio.Writer
	enc *json.Encoder
	buf bytes.Buffer
}

func (n *ndjsonWriter) Write(r *verify.Result) error {
	if err := n.enc.Encode(r); err != nil {
		return err
	}
	return n.w.Flush() // a pipeline sees each record as soon as it is done
}

func (n *ndjsonWriter) Close() error { return n.w.Flush() }

// rowWriter writes a record with its input row number first, {"row":N,…}, as a
// sharded bulk run does (everify merge relies on that place).
type rowWriter interface {
	WriteRow(row int, r *verify.Result) error
}

func (n *ndjsonWriter) WriteRow(row int, r *verify.Result) error {
	if err := encodeRecord(&n.buf, row, r); err != nil {
		return err
	}
	n.w.Write(n.buf.Bytes())
	return n.w.Flush()
}

// encodeRecord sets buf to r's JSON line, with "row":row as its first field when
// row > 0.
func encodeRecord(buf *bytes.Buffer, row int, r *verify.Result) error {
	buf.Reset()
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(r); err != nil {
		return err
	}
	if row > 0 {
		rest := slices.Clone(buf.Bytes()[1:]) // after the "{"
		buf.Reset()
		buf.WriteString(`{"row":` + strconv.Itoa(row) + ",")
		buf.Write(rest)
	}
	return nil
}

// jsonWriter streams a JSON array, one record per line.
type jsonWriter struct {
	w   *bufio.Writer
	n   int
	buf bytes.Buffer
}

func (j *jsonWriter) Write(r *verify.Result) error { return j.WriteRow(0, r) }

func (j *jsonWriter) WriteRow(row int, r *verify.Result) error {
	if err := encodeRecord(&j.buf, row, r); err != nil {
		return err
	}
	sep := ",\n"
	if j.n == 0 {
		sep = "[\n"
	}
	j.n++
	j.w.WriteString(sep)
	j.w.Write(bytes.TrimSuffix(j.buf.Bytes(), []byte("\n")))
	return j.w.Flush()
}

func (j *jsonWriter) Close() error {
	if j.n == 0 {
		j.w.WriteString("[")
	}
	j.w.WriteString("\n]\n")
	return j.w.Flush()
}

type csvWriter struct {
	w    *bufio.Writer
	cw   *csv.Writer
	n    int
	buf  []string
	safe bool // --csv-safe: neutralise formulas in every cell
}

func (c *csvWriter) Write(r *verify.Result) error {
	if c.n == 0 {
		c.cw.Write(append([]string{"input"}, resultColumns...))
	}
	c.n++
	c.buf = resultValues(append(c.buf[:0], r.Input), r)
	if c.safe {
		for i, v := range c.buf {
			c.buf[i] = csvio.Neutral(v)
		}
	}
	c.cw.Write(c.buf)
	c.cw.Flush()
	if err := c.cw.Error(); err != nil {
		return err
	}
	return c.w.Flush()
}

func (c *csvWriter) Close() error {
	if c.n == 0 {
		c.cw.Write(append([]string{"input"}, resultColumns...))
		c.cw.Flush()
	}
	return c.w.Flush()
}

// textWriter is for people: one line per address, a second with the details.
type textWriter struct {
	w     *bufio.Writer
	color bool
}

const (
	ansiReset  = "\x1b[0m"
	ansiGreen  = "\x1b[32m"
	ansiRed    = "\x1b[31m"
	ansiYellow = "\x1b[33m"
	ansiGrey   = "\x1b[90m"
)

func (t *textWriter) Write(r *verify.Result) error {
	mark, col := "?", ansiGrey
	switch r.Status {
	case verify.StatusDeliverable:
		mark, col = "✓", ansiGreen
	case verify.StatusUndeliverable:
		mark, col = "✗", ansiRed
	case verify.StatusRisky:
		mark, col = "!", ansiYellow
	}
	status := fmt.Sprintf("%s %-13s", mark, r.Status)
	if t.color {
		status = col + status + ansiReset
	}
	addr := r.Email
	if addr == "" {
		addr = displayInput(r.Input)
	}
	fmt.Fprintf(t.w, "%s %s  %s\n", status, addr, r.Reason)
	var details []string
	switch {
	case r.Syntax.Error != "":
		details = append(details, r.Syntax.Error)
	case r.Domain.Error != "":
		details = append(details, r.Domain.Error)
	}
	if r.SMTP.Checked || r.SMTP.Message != "" {
		var b strings.Builder
		if r.SMTP.Code != 0 {
			fmt.Fprintf(&b, "%d ", r.SMTP.Code)
		}
		b.WriteString(r.SMTP.Message)
		if r.SMTP.MX != "" {
			b.WriteString(" (" + r.SMTP.MX)
			if r.SMTP.TLS {
				b.WriteString(", TLS")
			}
			b.WriteString(")")
		}
		details = append(details, strings.TrimSpace(b.String()))
	}
	if len(details) == 0 && reasonNotes[r.Reason] != "" {
		details = append(details, reasonNotes[r.Reason])
	}
	if r.Domain.Provider != "" {
		details = append(details, "provider: "+r.Domain.Provider)
	}
	var flags []string
	for _, f := range []struct {
		on   bool
		name string
	}{{r.Disposable, "disposable"}, {r.Role, "role"}, {r.Free, "free"},
		{r.SMTP.CatchAll, "catch-all"}, {r.Syntax.SMTPUTF8, "smtputf8"}} {
		if f.on {
			flags = append(flags, f.name)
		}
	}
	if len(flags) > 0 {
		details = append(details, "flags: "+strings.Join(flags, ", "))
	}
	if r.Suggestion != "" {
		details = append(details, "did you mean "+r.Suggestion+"?")
	}
	if r.SoftBounces > 0 {
		details = append(details, fmt.Sprintf("%d soft %s (--suppress)", r.SoftBounces, plural(r.SoftBounces, "bounce", "bounces")))
	}
	if len(details) > 0 {
		fmt.Fprintf(t.w, "  %s\n", strings.Join(details, " · "))
	}
	return t.w.Flush()
}

func (t *textWriter) Close() error { return t.w.Flush() }

// reasonNotes explain, in text output, reasons that come with no server or DNS message.
var reasonNotes = map[verify.Reason]string{
	verify.ReasonNullMX:         "the domain publishes a null MX (RFC 7505): it accepts no mail",
	verify.ReasonReservedDomain: "special-use domain (RFC 2606/6761): it never receives mail",
	verify.ReasonDisposable:     "disposable (throwaway) address domain: not probed",
	verify.ReasonSMTPSkipped:    "SMTP stage not run (--offline or --no-smtp)",
	verify.ReasonDenied:         "matched --deny",
	verify.ReasonAllowed:        "matched --allow: not probed",
	verify.ReasonSuppressed:     "on a --suppress list (hard bounce, complaint or too many soft bounces): not probed",
}

// displayInput shows an input that did not parse: quoted when it is empty or holds
// control characters (never raw escape sequences on a terminal), and cut to 80 runes.
func displayInput(in string) string {
	in = strings.TrimSpace(in)
	if r := []rune(in); len(r) > 80 {
		in = string(r[:80]) + "…"
	}
	if in == "" || strings.ContainsFunc(in, func(c rune) bool { return !unicode.IsPrint(c) && c != ' ' }) {
		return strconv.Quote(in)
	}
	return in
}
