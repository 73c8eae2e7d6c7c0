package main

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"iter"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/everify/everify/csvio"
	"github.com/everify/everify/shard"
	"github.com/everify/everify/verify"
)

// BulkOptions are the inputs of `everify bulk`.
type BulkOptions struct {
	IO       *IOStreams
	Verify   verifyOptions
	File     string // "-" for stdin
	Format   string
	Column   string
	Output   string
	Keep     []string
	FailOn   []string
	Progress string
	CSVSafe  bool
	Verifier func() (*verify.Verifier, error)
	// --shard K/N (bulk_shard.go); the zero Shard is an unsharded run.
	ShardFlag      string
	ShardIndexFlag string
	Shard          shard.Spec
	shardSettings  map[string]string
	// Now is the clock for the summary (tests fix it).
	Now func() time.Time
}

func newBulkCmd(ios *IOStreams, runF func(context.Context, *BulkOptions) error) *cobra.Command {
	opts := &BulkOptions{IO: ios}
	cmd := &cobra.Command{
		Use:   "bulk [FILE|-]",
		Short: "Verify a CSV or one-address-per-line list, streaming, keeping every input column",
		Example: `  everify bulk list.csv > checked.csv
  everify bulk list.csv --keep deliverable,risky -o clean.csv
  everify bulk --format ndjson list.csv | jq -r 'select(.status=="undeliverable") | .email'
  everify bulk --offline --fail-on undeliverable list.csv   # CI gate`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.File = "-"
			if len(args) == 1 {
				opts.File = args[0]
			}
			if !validFormat(opts.Format) || opts.Format == formatText {
				return flagErrorf("invalid %s: want csv, ndjson or json", optRef(cmd.Flags(), "format"))
			}
			switch opts.Progress {
			case "auto", "always", "never":
			default:
				return flagErrorf("invalid %s: want auto, always or never", optRef(cmd.Flags(), "progress"))
			}
			var err error
			if opts.Keep, err = parseMatchList(optName(cmd.Flags(), "keep"), opts.Keep, false); err != nil {
				return err
			}
			if opts.FailOn, err = parseMatchList(optName(cmd.Flags(), "fail-on"), opts.FailOn, true); err != nil {
				return err
			}
			if err := opts.Verify.complete(ios, &opts.Verifier); err != nil {
				return err
			}
			if !cmd.Flags().Changed("workers") && !opts.Verify.Offline {
				// Enough addresses in flight that the scheduler's queues fill whole
				// pipelined groups; waiting requests cost a goroutine each.
				opts.Verify.Workers = bulkInFlight
			}
			if err := completeShard(cmd, opts); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runBulk(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Format, "format", formatCSV, "output `format`: csv, ndjson, json")
	f.StringVar(&opts.Column, "column", "", "address column: header `name` or 1-based index (default: detected)")
	f.StringVarP(&opts.Output, "output", "o", "", "write to `file` instead of stdout")
	f.StringSliceVar(&opts.Keep, "keep", nil, "write only rows with these `statuses` (e.g. deliverable,risky)")
	f.StringSliceVar(&opts.FailOn, "fail-on", nil, "exit 2 if any row has one of these `statuses or reasons`")
	f.StringVar(&opts.Progress, "progress", "auto", "progress bar on stderr: auto (when stderr is a terminal), always, never")
	addCSVSafeFlag(f, &opts.CSVSafe)
	addVerifyFlags(f, &opts.Verify)
	addShardFlag(cmd, opts)
	return cmd
}

// parseMatchList validates a list of statuses (and, with reasons, reasons).
func parseMatchList(flag string, vals []string, reasons bool) ([]string, error) {
	var out []string
	for _, v := range vals {
		v = strings.ToLower(strings.TrimSpace(v))
		if v == "" {
			continue
		}
		ok := slices.Contains(verify.Statuses, verify.Status(v))
		if !ok && reasons {
			ok = slices.Contains(verify.Reasons, verify.Reason(v))
		}
		if !ok {
			what := "a status (deliverable, undeliverable, risky, unknown)"
			if reasons {
				what = "a status or a reason"
			}
			return nil, flagErrorf("invalid %s value %q: want %s", flag, v, what)
		}
		out = append(out, v)
	}
	return out, nil
}

func matches(list []string, r *verify.Result) bool {
	return slices.Contains(list, string(r.Status)) || slices.Contains(list, string(r.Reason))
}

// bulkInFlight is how many addresses an online bulk run keeps in flight unless
// --workers says otherwise.
const bulkInFlight = 1000

// maxProblemLines bounds the malformed-row messages printed; the summary counts all.
const maxProblemLines = 100

func runBulk(ctx context.Context, opts *BulkOptions) (retErr error) {
	now := opts.Now
	if now == nil {
		now = testNow
	}
	start := now()
	if err := checkNotInPlace(opts); err != nil {
		return err
	}
	sh, err := newShardRun(opts)
	if err != nil {
		return err
	}
	in, total, closeIn, err := openBulkInput(ctx, opts)
	if err != nil {
		return err
	}
	defer closeIn()
	in, total = sh.input(in), sh.total(total)
	rd, err := csvio.NewReader(in, csvio.Options{Column: opts.Column})
	if err != nil {
		name := opts.File
		if name == "-" {
			name = "stdin"
		}
		return fmt.Errorf("%s: %w", name, err)
	}
	if rd.Header() != nil && total > 0 {
		total--
	}

	v, err := opts.Verifier()
	if err != nil {
		return err
	}
	defer v.Close()

	var out io.Writer = opts.IO.Out
	if opts.Output != "" && opts.Output != "-" {
		f, err := createOutput(ctx, opts.Output)
		if err != nil {
			return err
		}
		defer func() {
			// A failed final write shows only here.
			if cerr := f.Close(); cerr != nil && retErr == nil {
				retErr = cerr
			}
		}()
		out = f
	}
	sink, err := newBulkSink(out, opts.Format, rd, opts.CSVSafe, sh != nil)
	if err != nil {
		return err
	}

	bar := newProgress(opts, total)
	sum := newSummary()
	cache := newDedup(v.DNS != nil)
	problems := 0
	failed := false
	lies := newLieWarner(opts.IO.ErrOut)
	emitRow := func(rec *csvio.Record, r *verify.Result) error {
		if msg := rowProblem(rec); msg != "" {
			if problems < maxProblemLines {
				bar.clear()
				fmt.Fprintf(opts.IO.ErrOut, "everify: line %d: %s\n", rec.Line, msg)
			}
			problems++
		}
		bar.add()
		if rec.Empty { // kept in the output, but no address to count or fail on
			sum.addEmpty()
		} else {
			sum.add(r)
			lies.observe(r, bar.clear)
			failed = failed || matches(opts.FailOn, r)
		}
		if len(opts.Keep) > 0 && !matches(opts.Keep, r) {
			return nil
		}
		return sink.write(rec, r)
	}
	verifyRow := func(ctx context.Context, rec *csvio.Record) (verify.Result, error) {
		if rec.Problem != "" {
			return verify.Invalid(rec.Address, "line "+strconv.Itoa(rec.Line)+": "+rec.Problem), nil
		}
		return cache.verify(ctx, v, rec.Address)
	}
	var readErr error
	src := sh.records(rd, v)
	if v.DNS == nil {
		// Offline work is CPU-bound and cheap: rows go to the pool in chunks, one worker
		// per CPU, so channel hand-offs do not cost more than the verification.
		workers := min(opts.Verify.Workers, runtime.GOMAXPROCS(0))
		err = verify.Stream(ctx, workers, chunks(src, &readErr),
			func(ctx context.Context, c *chunk) ([]verify.Result, error) {
				rs := make([]verify.Result, len(c.recs))
				for i := range c.recs {
					var err error
					if rs[i], err = verifyRow(ctx, &c.recs[i]); err != nil {
						return nil, err
					}
				}
				return rs, nil
			},
			func(c *chunk, rs []verify.Result) error {
				for i := range c.recs {
					if err := emitRow(&c.recs[i], &rs[i]); err != nil {
						return err
					}
				}
				return nil
			})
	} else {
		err = verify.Stream(ctx, opts.Verify.Workers, records(src, &readErr), verifyRow,
			func(rec *csvio.Record, r verify.Result) error { return emitRow(rec, &r) })
	}
	if cerr := sink.close(); err == nil {
		err = cerr
	}
	bar.finish()
	if problems > maxProblemLines {
		fmt.Fprintf(opts.IO.ErrOut, "everify: … and %d more malformed rows\n", problems-maxProblemLines)
	}
	sum.duplicates = cache.hits()
	sum.malformed = problems
	elapsed := now().Sub(start)
	if err == nil && readErr == nil {
		err = sh.finish(sum, sink, elapsed)
	}
	sum.print(opts.IO.ErrOut, elapsed, v.Stats(), !opts.Verify.Offline && !opts.Verify.NoSMTP)
	reportPortBlocked(opts.IO, v, opts.Verify.Proxy)
	switch {
	case err != nil:
		return err
	case readErr != nil:
		return fmt.Errorf("reading input: %w", readErr)
	case failed:
		return &exitCodeError{exitFail}
	}
	return nil
}

// testNow is the clock of bulk summaries; tests replace it.
var testNow = time.Now

// records yields copies of rd's records; a read error other than EOF ends the sequence
// and is stored in *readErr.
func records(rd recordReader, readErr *error) iter.Seq[*csvio.Record] {
	return func(yield func(*csvio.Record) bool) {
		for {
			rec, err := rd.Read()
			if err != nil {
				if !errors.Is(err, io.EOF) {
					*readErr = err
				}
				return
			}
			if !yield(rec.Clone()) {
				return
			}
		}
	}
}

// chunk is a run of consecutive records whose bytes share one buffer.
type chunk struct {
	recs []csvio.Record
	buf  []byte
}

const chunkRows = 256

// chunks yields rd's records in chunks of up to chunkRows.
func chunks(rd recordReader, readErr *error) iter.Seq[*chunk] {
	return func(yield func(*chunk) bool) {
		c := &chunk{}
		for {
			rec, err := rd.Read()
			if err != nil {
				if !errors.Is(err, io.EOF) {
					*readErr = err
				}
				if len(c.recs) > 0 {
					yield(c)
				}
				return
			}
			if c.buf == nil {
				c.buf = make([]byte, 0, 64<<10)
				c.recs = make([]csvio.Record, 0, chunkRows)
			}
			// The slices point into whatever array c.buf has when they are taken; a
			// later growth leaves them valid in the old one.
			n := len(c.buf)
			c.buf = append(append(c.buf, rec.Raw...), rec.EOL...)
			cp := *rec
			cp.Raw = c.buf[n : n+len(rec.Raw) : n+len(rec.Raw)]
			cp.EOL = c.buf[n+len(rec.Raw) : len(c.buf) : len(c.buf)]
			c.recs = append(c.recs, cp)
			if len(c.recs) == chunkRows {
				if !yield(c) {
					return
				}
				c = &chunk{}
			}
		}
	}
}

// checkNotInPlace refuses an output that is the input file: writing it would truncate
// the rows still to be read (or, appending, read its own output forever).
func checkNotInPlace(opts *BulkOptions) error {
	var in os.FileInfo
	if opts.File != "-" {
		in, _ = os.Stat(opts.File)
	} else if f, ok := opts.IO.In.(*os.File); ok {
		in, _ = f.Stat()
	}
	if in == nil || !in.Mode().IsRegular() {
		return nil
	}
	var out os.FileInfo
	if opts.Output != "" && opts.Output != "-" {
		out, _ = os.Stat(opts.Output)
	} else if f, ok := opts.IO.Out.(*os.File); ok {
		out, _ = f.Stat()
	}
	if out != nil && os.SameFile(in, out) {
		return withHint(fmt.Errorf("the output is the input file %s", opts.File),
			"write to another file (-o clean.csv), then rename it")
	}
	return nil
}

func wantProgress(opts *BulkOptions) bool {
	return opts.Progress == "always" || (opts.Progress == "auto" && opts.IO.ErrTTY)
}

// bulkSink writes bulk results in the chosen format.
type bulkSink struct {
	csv  *csvio.Writer
	res  resultWriter
	vals []string
	row  bool // a sharded run: each row carries its input row number
}

func newBulkSink(w io.Writer, format string, rd *csvio.Reader, safe, row bool) (*bulkSink, error) {
	if format != formatCSV {
		return &bulkSink{res: newResultWriter(w, format, false), row: row}, nil
	}
	cw := csvio.NewWriter(w, rd.Delimiter(), rd.BOM())
	cw.EOL = rd.EOL() // rows the writer completes end like the input's
	cw.Safe = safe
	names := resultColumns
	if row {
		names = append(slices.Clip(names), "row")
	}
	if err := cw.WriteHeader(rd.Header(), rd.Fields(), names); err != nil {
		return nil, err
	}
	return &bulkSink{csv: cw, row: row}, nil
}

func (s *bulkSink) write(rec *csvio.Record, r *verify.Result) error {
	if s.res != nil {
		if s.row {
			return s.res.(rowWriter).WriteRow(rec.Row, r)
		}
		return s.res.Write(r)
	}
	s.vals = resultValues(s.vals[:0], r)
	if s.row {
		s.vals = append(s.vals, strconv.Itoa(rec.Row))
	}
	return s.csv.WriteRecord(rec, s.vals)
}

func (s *bulkSink) close() error {
	if s.res != nil {
		return s.res.Close()
	}
	return s.csv.Flush()
}

// dedup verifies each normalized address once and replays the result for duplicates.
// It remembers the most recent addresses only (two generations of dedupGeneration), so
// memory stays flat on inputs of any length. Offline, where verifying again costs less
// than remembering a result, it only counts duplicates, by hash.
type dedup struct {
	results   bool
	mu        sync.Mutex
	cur, prev map[string]*dedupEntry
	seenCur   map[uint64]struct{}
	seenPrev  map[uint64]struct{}
	seed      maphash.Seed
	nhits     int
}

type dedupEntry struct {
	done chan struct{}
	r    verify.Result
	err  error
}

const dedupGeneration = 20000

func newDedup(results bool) *dedup {
	return &dedup{results: results, cur: make(map[string]*dedupEntry),
		seenCur: make(map[uint64]struct{}), seed: maphash.MakeSeed()}
}

func (d *dedup) verify(ctx context.Context, v *verify.Verifier, input string) (verify.Result, error) {
	syn := v.Parse(input)
	if !syn.Valid {
		return v.VerifyParsed(ctx, input, syn)
	}
	key := syn.Email()
	if !d.results {
		d.count(maphash.String(d.seed, key))
		return v.VerifyParsed(ctx, input, syn)
	}
	d.mu.Lock()
	e := d.cur[key]
	if e == nil {
		if e = d.prev[key]; e != nil {
			d.cur[key] = e
		}
	}
	if e != nil {
		d.nhits++
		d.mu.Unlock()
		select {
		case <-e.done:
		case <-ctx.Done():
			return verify.Result{}, ctx.Err()
		}
		if e.err != nil {
			return v.VerifyParsed(ctx, input, syn)
		}
		r := e.r
		r.Input = input
		return r, nil
	}
	e = &dedupEntry{done: make(chan struct{})}
	if len(d.cur) >= dedupGeneration {
		d.prev, d.cur = d.cur, make(map[string]*dedupEntry, dedupGeneration)
	}
	d.cur[key] = e
	d.mu.Unlock()
	e.r, e.err = v.VerifyParsed(ctx, input, syn)
	close(e.done)
	return e.r, e.err
}

// count records an address hash and counts it when seen recently.
func (d *dedup) count(h uint64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	_, hit := d.seenCur[h]
	if !hit {
		_, hit = d.seenPrev[h]
	}
	if hit {
		d.nhits++
		return
	}
	if len(d.seenCur) >= 5*dedupGeneration {
		d.seenPrev, d.seenCur = d.seenCur, make(map[uint64]struct{}, 5*dedupGeneration)
	}
	d.seenCur[h] = struct{}{}
}

func (d *dedup) hits() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.nhits
}

// progress wraps the progress bar; a nil bar does nothing.
type progress struct{ bar *progressbar.ProgressBar }

func newProgress(opts *BulkOptions, total int64) *progress {
	if !wantProgress(opts) {
		return &progress{}
	}
	return &progress{bar: progressbar.NewOptions64(total,
		progressbar.OptionSetWriter(opts.IO.ErrOut),
		progressbar.OptionSetDescription("verifying"),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("addr"),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionSetWidth(30),
	)}
}

func (p *progress) add() {
	if p.bar != nil {
		p.bar.Add(1)
	}
}

func (p *progress) clear() {
	if p.bar != nil {
		p.bar.Clear()
	}
}

func (p *progress) finish() {
	if p.bar != nil {
		p.bar.Finish()
	}
}
