package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/everify/everify/bulk"
	"github.com/everify/everify/csvio"
	"github.com/everify/everify/verify"
)

// RecheckOptions are the inputs of `everify recheck`.
type RecheckOptions struct {
	IO       *IOStreams
	Verify   verifyOptions
	Store    storeOptions
	File     string
	Output   string
	Only     []string
	After    time.Duration
	Verifier func() (*verify.Verifier, error)
	Now      func() time.Time
}

func newRecheckCmd(ios *IOStreams) *cobra.Command {
	opts := &RecheckOptions{IO: ios}
	cmd := &cobra.Command{
		Use:   "recheck FILE",
		Short: "Re-verify the unknown rows of a previous bulk output (CSV or NDJSON), copying the others unchanged",
		Example: `  everify bulk list.csv -o checked.csv
  everify recheck --after 15m checked.csv -o rechecked.csv   # greylisted rows, once the servers allow a retry
  everify recheck --only smtp_timeout,risky checked.ndjson > again.ndjson`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.File = args[0]
			var err error
			if opts.Only, err = parseMatchList("--only", opts.Only, true); err != nil {
				return err
			}
			if len(opts.Only) == 0 {
				opts.Only = []string{string(verify.StatusUnknown)}
			}
			if opts.After < 0 {
				return flagErrorf("invalid --after %v: must not be negative", opts.After)
			}
			if err := opts.Verify.complete(ios, &opts.Verifier); err != nil {
				return err
			}
			tuneGC(ios, &opts.Verify)
			if err := opts.Store.complete(cmd.Flags()); err != nil {
				return err
			}
			return runRecheck(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&opts.Output, "output", "o", "", "write to `file` instead of stdout")
	f.StringSliceVar(&opts.Only, "only", nil, "re-verify the rows with these `statuses or reasons` (default: unknown)")
	f.DurationVar(&opts.After, "after", 0, "wait until each row's first try is at least this `duration` old (greylisting: servers commonly want 5-30 minutes)")
	addVerifyFlags(f, &opts.Verify)
	addStoreFlags(f, &opts.Store)
	return cmd
}

// recheckInput is a previous bulk output, read as records for bulk.Run.
type recheckInput interface {
	bulk.RecordReader
	// pick reports whether a record is re-verified, and when it was first tried
	// (zero: unknown).
	pick(rec *csvio.Record, only []string) (bool, time.Time)
	// writeHeader starts the output; write writes a row, r nil for a copied one.
	writeHeader(w io.Writer) error
	write(rec *csvio.Record, r *verify.Result) error
	flush() error
}

func runRecheck(ctx context.Context, opts *RecheckOptions) (retErr error) {
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	start := now()
	in, err := os.Open(opts.File)
	if err != nil {
		return err
	}
	defer in.Close()
	st, err := in.Stat()
	if err != nil {
		return err
	}
	var out io.Writer = opts.IO.Out
	if opts.Output != "" && opts.Output != "-" {
		if ost, err := os.Stat(opts.Output); err == nil && os.SameFile(st, ost) {
			return withHint(fmt.Errorf("the output is the input file %s", opts.File),
				"write to another file (-o rechecked.csv), then rename it")
		}
		f, err := os.Create(opts.Output)
		if err != nil {
			return err
		}
		defer func() {
			if cerr := f.Close(); cerr != nil && retErr == nil {
				retErr = cerr
			}
		}()
		out = f
	}
	src, err := openRecheckInput(in, opts.File)
	if err != nil {
		return err
	}
	v, sto, done, err := openVerifier(opts.IO, &opts.Verify, &opts.Store, opts.Verifier)
	if err != nil {
		return err
	}
	defer done(&retErr)
	settings := storeSettings(&opts.Verify, v)
	if err := src.writeHeader(out); err != nil {
		return err
	}
	job := bulk.Job{Input: src, Verifier: v, Workers: opts.Verify.Workers,
		// The rows are rechecked because their verdict is in doubt: never reuse one.
		Store: sto, Settings: settings, Policy: opts.Store.policy(), Refresh: true,
		Pass: func(rec *csvio.Record) bool { pick, _ := src.pick(rec, opts.Only); return !pick },
		Emit: func(row bulk.Row) error { return src.write(row.Record, row.Result) },
	}
	if opts.After > 0 {
		job.Wait = func(ctx context.Context, rec *csvio.Record) error {
			// Every row was tried before the file was last written; a record's or the
			// store's checked_at may say when more closely. Both are coarse (seconds;
			// file times lag the clock by a tick): round up by a second.
			first := st.ModTime()
			_, t := src.pick(rec, opts.Only)
			if t.IsZero() && sto != nil {
				if r, ok, _ := sto.Get(ctx, rec.Address, settings); ok {
					t = r.CheckedAt
				}
			}
			if !t.IsZero() && t.Before(first) {
				first = t
			}
			return sleepUntil(ctx, first.Add(time.Second+opts.After))
		}
	}
	sum, err := bulk.Run(ctx, job)
	if ferr := src.flush(); err == nil {
		err = ferr
	}
	printSummary(opts.IO.ErrOut, &sum, now().Sub(start), v.Stats(), !opts.Verify.Offline && !opts.Verify.NoSMTP)
	reportPortBlocked(opts.IO, v, opts.Verify.Proxy)
	return storeError(err)
}

// sleepUntil waits until t or ctx's end.
func sleepUntil(ctx context.Context, t time.Time) error {
	d := time.Until(t)
	if d <= 0 {
		return nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// openRecheckInput tells an NDJSON output (a '{' first) from a CSV one.
func openRecheckInput(f *os.File, name string) (recheckInput, error) {
	br := bufio.NewReaderSize(f, 64<<10)
	head, _ := br.Peek(512)
	switch t := bytes.TrimLeft(bytes.TrimPrefix(head, []byte("\xef\xbb\xbf")), " \t\r\n"); {
	case len(t) > 0 && t[0] == '{':
		return &ndjsonRecheck{name: name, br: br}, nil
	case len(t) > 0 && t[0] == '[':
		return nil, withHint(fmt.Errorf("%s: a JSON array: recheck reads CSV or NDJSON", name),
			"run bulk with --format ndjson or csv")
	}
	return newCSVRecheck(br, name)
}

// ndjsonRecheck reads an NDJSON bulk output: one record per line.
type ndjsonRecheck struct {
	name string
	br   *bufio.Reader
	line int
	w    *bufio.Writer
	res  resultWriter
}

func (n *ndjsonRecheck) Read() (*csvio.Record, error) {
	for {
		b, err := n.br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			return nil, fmt.Errorf("%s: line %d: longer than 64 KiB: not an everify record", n.name, n.line+1)
		}
		if len(b) == 0 && err != nil {
			return nil, err
		}
		n.line++
		raw := bytes.TrimRight(b, "\r\n")
		var r struct {
			Input *string `json:"input"`
		}
		if len(bytes.TrimSpace(raw)) == 0 {
			continue
		}
		if json.Unmarshal(raw, &r) != nil || r.Input == nil {
			return nil, fmt.Errorf("%s: line %d: not an everify JSON record", n.name, n.line)
		}
		return &csvio.Record{Line: n.line, Raw: raw, EOL: []byte("\n"), Address: *r.Input, Fields: 1}, nil
	}
}

func (n *ndjsonRecheck) pick(rec *csvio.Record, only []string) (bool, time.Time) {
	var r verify.Result
	json.Unmarshal(rec.Raw, &r)
	return matches(only, &r), r.CheckedAt
}

func (n *ndjsonRecheck) writeHeader(w io.Writer) error {
	n.w = bufio.NewWriterSize(w, 64<<10)
	n.res = newResultWriter(n.w, formatNDJSON, false)
	return nil
}

func (n *ndjsonRecheck) write(rec *csvio.Record, r *verify.Result) error {
	if r != nil {
		return n.res.Write(r)
	}
	n.w.Write(rec.Raw)
	n.w.WriteString("\n")
	return n.w.Flush()
}

func (n *ndjsonRecheck) flush() error { return n.w.Flush() }

// csvRecheck reads a CSV bulk output: the input's columns, then everify's result
// columns (resultColumns, perhaps renamed everify_…).
type csvRecheck struct {
	rd     *csvio.Reader
	fields int // header fields; the result columns are the last len(resultColumns)
	status int // index of the status column
	cw     *csvio.Writer
	vals   []string
}

func newCSVRecheck(br *bufio.Reader, name string) (*csvRecheck, error) {
	// The header names the normalized address column: read the records by it.
	first, err := br.Peek(br.Size())
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return nil, err
	}
	line, _, _ := bytes.Cut(bytes.TrimPrefix(first, []byte("\xef\xbb\xbf")), []byte("\n"))
	names, delim := headerCells(bytes.TrimSuffix(line, []byte("\r")))
	k := len(resultColumns)
	if len(names) <= k {
		return nil, notBulkOutput(name)
	}
	tail := names[len(names)-k:]
	for i, col := range resultColumns {
		n := tail[i]
		for strings.HasPrefix(n, "everify_") { // renamed beside an input column of that name
			n = n[len("everify_"):]
		}
		if n != col {
			return nil, notBulkOutput(name)
		}
	}
	emailCol := len(names) - k + 2 // email_normalized
	rd, err := csvio.NewReader(br, csvio.Options{Column: names[emailCol], Delimiter: delim})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if rd.Header() == nil || rd.Column() != emailCol {
		return nil, notBulkOutput(name)
	}
	return &csvRecheck{rd: rd, fields: len(names), status: len(names) - k}, nil
}

func notBulkOutput(name string) error {
	return withHint(fmt.Errorf("%s: not an everify bulk output: its last columns are not %s", name, strings.Join(resultColumns, ",")),
		"recheck reads what 'everify bulk' wrote (CSV or --format ndjson)")
}

// headerCells splits a header line, trying the delimiters bulk keeps.
func headerCells(line []byte) ([]string, byte) {
	best, delim := []string(nil), byte(',')
	for _, d := range []byte{',', ';', '\t', '|'} {
		r := csv.NewReader(bytes.NewReader(line))
		r.Comma, r.LazyQuotes, r.FieldsPerRecord = rune(d), true, -1
		if cells, err := r.Read(); err == nil && len(cells) > len(best) {
			best, delim = cells, d
		}
	}
	return best, delim
}

func (c *csvRecheck) Read() (*csvio.Record, error) { return c.rd.Read() }

// cells returns a record's fields, unquoted.
func (c *csvRecheck) cells(rec *csvio.Record) []string {
	r := csv.NewReader(bytes.NewReader(rec.Raw))
	r.Comma, r.LazyQuotes, r.FieldsPerRecord = rune(c.rd.Delimiter()), true, -1
	cells, _ := r.Read()
	return cells
}

func (c *csvRecheck) pick(rec *csvio.Record, only []string) (bool, time.Time) {
	cells := c.cells(rec)
	if rec.Problem != "" || len(cells) < c.fields {
		return false, time.Time{} // not a row bulk wrote whole: copied as it is
	}
	off := len(cells) - len(resultColumns)
	r := verify.Result{Status: verify.Status(cells[off]), Reason: verify.Reason(cells[off+1])}
	return matches(only, &r), time.Time{}
}

func (c *csvRecheck) writeHeader(w io.Writer) error {
	c.cw = csvio.NewWriter(w, c.rd.Delimiter(), c.rd.BOM())
	c.cw.EOL = c.rd.EOL()
	return c.cw.WriteRecord(c.rd.Header(), nil)
}

func (c *csvRecheck) write(rec *csvio.Record, r *verify.Result) error {
	if r == nil {
		return c.cw.WriteRecord(rec, nil)
	}
	// The row's input part: its bytes up to the delimiter before the status column.
	head := fieldsPrefix(rec.Raw, c.rd.Delimiter(), len(c.cells(rec))-len(resultColumns))
	c.vals = resultValues(c.vals[:0], r)
	return c.cw.WriteRecord(&csvio.Record{Raw: head, EOL: rec.EOL, Fields: c.fields - len(resultColumns)}, c.vals)
}

func (c *csvRecheck) flush() error { return c.cw.Flush() }

// fieldsPrefix returns the bytes of raw's first n fields, without the delimiter after
// them; quoted delimiters do not count.
func fieldsPrefix(raw []byte, delim byte, n int) []byte {
	quoted := false
	for i, b := range raw {
		switch {
		case b == '"':
			quoted = !quoted
		case b == delim && !quoted:
			if n--; n == 0 {
				return raw[:i]
			}
		}
	}
	return raw
}
