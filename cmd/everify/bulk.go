package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/everify/everify/bulk"
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
	Store    storeOptions
	Resume   bool
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
			tuneGC(ios, &opts.Verify)
			if err := completeShard(cmd, opts); err != nil {
				return err
			}
			if err := opts.Store.complete(cmd.Flags()); err != nil {
				return err
			}
			if opts.Resume && (opts.Output == "" || opts.Output == "-") {
				return flagErrorf("--resume needs the output file of the interrupted run (-o FILE)")
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
	f.BoolVar(&opts.Resume, "resume", false, "continue an interrupted run writing to -o FILE where it stopped")
	addCSVSafeFlag(f, &opts.CSVSafe)
	addStoreFlags(f, &opts.Store)
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

// bulkGCPercent is the Go collector's target for an online bulk run unless GOGC is
// set: most of the heap is per-address garbage, and the run waits on the network, not
// the CPU, so collecting twice as often keeps a million-row run under 100 MB.
const bulkGCPercent = 50

// tuneGC sets bulkGCPercent for a run that goes online (bulk, recheck).
func tuneGC(ios *IOStreams, o *verifyOptions) {
	if !o.Offline && ios.getenv("GOGC") == "" {
		debug.SetGCPercent(bulkGCPercent)
	}
}

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
	toFile := opts.Output != "" && opts.Output != "-"
	var cp *bulk.Checkpoint
	cpPath := ""
	if opts.Resume && !outputFile(opts.Output) {
		return flagErrorf("--resume needs a regular output file, not %s", opts.Output)
	}
	if toFile && outputFile(opts.Output) {
		cpPath = bulk.CheckpointPath(opts.Output)
		var err error
		if cp, err = findCheckpoint(opts, cpPath); err != nil {
			return err
		}
	}
	sh, err := newShardRun(opts)
	if err != nil {
		return err
	}
	v, st, done, err := openVerifier(opts.IO, &opts.Verify, &opts.Store, opts.Verifier)
	if err != nil {
		return err
	}
	defer done(&retErr)
	settings := outputSettings(opts, v)
	fresh := false // a new checkpoint: the output is created anew
	if toFile && cp == nil && regularFile(opts.File) && outputFile(opts.Output) {
		// The checkpoint comes first, so that a run stopped at any point (even before
		// its input opened) can resume.
		if cp, err = bulk.NewCheckpoint(opts.File, settings); err == nil {
			err = cp.Save(cpPath)
		}
		if err != nil {
			return err
		}
		fresh = true
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

	// The output: a file that a checkpoint describes while the run goes (resumable when
	// the input is a file too), or stdout.
	var out io.Writer = opts.IO.Out
	var f *os.File
	cw := &countWriter{}
	if toFile {
		switch {
		case fresh:
			f, err = os.Create(opts.Output)
		case cp != nil:
			if err := cp.Check(opts.File, settings); err != nil {
				return withHint(fmt.Errorf("cannot resume %s: %w", opts.Output, err),
					"run without --resume after deleting "+cpPath+" to start over")
			}
			// The output may be missing: the run stopped before creating it.
			if f, err = os.OpenFile(opts.Output, os.O_RDWR|os.O_CREATE, 0o644); err == nil {
				err = cp.TruncateOutput(f)
			}
		default:
			f, err = createOutput(ctx, opts.Output)
		}
		if err != nil {
			if f != nil {
				f.Close()
			}
			return err
		}
		defer func() {
			// A failed final write shows only here.
			if cerr := f.Close(); cerr != nil && retErr == nil {
				retErr = cerr
			}
		}()
		cw.w, out = f, cw
		if cp != nil {
			cw.n = cp.OutputSize
		}
	}
	resumed := cp != nil && cp.Rows > 0
	cw.discard = cp != nil && cp.OutputSize > 0 // the header is in the file already
	sink, err := newBulkSink(out, opts.Format, rd, opts.CSVSafe, sh != nil)
	if err == nil {
		err = sink.resume(cp)
	}
	if err != nil {
		return err
	}
	cw.discard = false

	bar := newProgress(opts, total)
	if resumed {
		bar.skip(cp.Rows)
	}
	problems := 0
	failed := cp != nil && cp.Failed
	written := 0
	if cp != nil {
		written = cp.OutputRows
	}
	sum := newSummary()
	lies := newLieWarner(opts.IO.ErrOut)
	emitRow := func(row bulk.Row) error {
		rec, r := row.Record, row.Result
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
		written++
		return sink.write(rec, r)
	}
	job := bulk.Job{Input: sh.records(rd, v), Offset: inputOffset(rd), Verifier: v, Workers: opts.Verify.Workers,
		Store: st, Settings: storeSettings(&opts.Verify, v), Policy: opts.Store.policy(), Refresh: opts.Store.Refresh,
		Emit: emitRow}
	if cp != nil {
		job.Skip, job.SkipOffset = cp.Rows, cp.Offset
		// Save what is on disk: the output synced first, then the checkpoint naming it.
		job.Checkpoint = func(p bulk.Progress) error {
			if err := sink.flush(); err != nil {
				return err
			}
			if err := f.Sync(); err != nil {
				return err
			}
			cp.Rows, cp.Offset, cp.OutputRows, cp.OutputSize, cp.Failed = p.Rows, p.Offset, written, cw.n, failed
			return cp.Save(cpPath)
		}
	}
	bsum, err := bulk.Run(ctx, job)
	if cerr := sink.close(); err == nil {
		err = cerr
	}
	bar.finish()
	if err != nil && f != nil && !errors.Is(err, context.Canceled) {
		// A failed write (a full disk) may have left a torn row: cut it off.
		var from int64
		if cp != nil {
			from = cp.OutputSize
		}
		cutTorn(f, from, opts.Format == formatCSV)
	}
	if problems > maxProblemLines {
		fmt.Fprintf(opts.IO.ErrOut, "everify: … and %d more malformed rows\n", problems-maxProblemLines)
	}
	sum.counts(&bsum)
	sum.malformed = problems
	elapsed := now().Sub(start)
	if err == nil {
		err = sh.finish(sum, sink, elapsed)
	}
	sum.print(opts.IO.ErrOut, elapsed, v.Stats(), !opts.Verify.Offline && !opts.Verify.NoSMTP)
	reportPortBlocked(opts.IO, v, opts.Verify.Proxy)
	if cp != nil {
		if err == nil {
			os.Remove(cpPath) // finished: nothing to resume
		} else if cp.Rows > 0 && !errors.Is(err, bulk.ErrInputChanged) {
			fmt.Fprintf(opts.IO.ErrOut, "everify: %d rows done; to continue, run the same command with --resume\n", cp.Rows)
		}
	}
	switch {
	case errors.Is(err, bulk.ErrInputChanged):
		return withHint(fmt.Errorf("cannot resume %s: %w", opts.Output, err),
			"run without --resume after deleting "+cpPath+" to start over")
	case err != nil:
		return storeError(err)
	case failed:
		return &exitCodeError{exitFail}
	}
	return nil
}

// testNow is the clock of bulk summaries; tests replace it.
var testNow = time.Now

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
