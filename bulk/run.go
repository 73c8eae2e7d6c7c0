package bulk

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"runtime"
	"strconv"
	"time"

	"github.com/everify/everify/csvio"
	"github.com/everify/everify/internal/stream"
	"github.com/everify/everify/store"
	"github.com/everify/everify/verify"
)

// A RecordReader yields input records; *csvio.Reader is one. Read returns io.EOF at the
// end.
type RecordReader interface {
	Read() (*csvio.Record, error)
}

// Job describes one bulk run. Input, Verifier and Emit are required.
type Job struct {
	// Input yields the data records (a header already consumed).
	Input RecordReader
	// Offset is the input byte offset of the first data record (byte order mark and
	// header), the base of [Progress.Offset].
	Offset int64
	// Verifier verifies addresses; Run does not close it.
	Verifier *verify.Verifier
	// Workers bounds the addresses verified at once; 0 means 64. Offline (no DNS),
	// where the work is CPU-bound, it is capped at GOMAXPROCS.
	Workers int
	// Interactive says records arrive as someone types or pipes them: each is answered
	// as soon as it is done, never held back to fill a batch (offline runs otherwise
	// verify records in batches of 256).
	Interactive bool

	// Store, when non-nil and the run probes SMTP, answers addresses whose verdict is
	// fresh by Policy without any DNS or SMTP traffic, and keeps every new verdict.
	// Settings keys the verdicts (see [store.SettingsHash]); Refresh skips the reuse but
	// still writes.
	Store    *store.Store
	Settings string
	Policy   store.Policy
	Refresh  bool
	// Now is the clock of store ages; nil means time.Now.
	Now func() time.Time

	// Pass, when non-nil, picks records that are emitted as they are, with a nil
	// Result, instead of being verified (recheck copies rows it does not redo).
	// (A shard selection, rows whose domain hashes to another shard, belongs beside
	// it: such rows are done for [Progress] and resume, but never reach Emit; Row.N
	// keeps the input row number.)
	Pass func(*csvio.Record) bool
	// Wait, when non-nil, is called by a worker before verifying a record, and may
	// block (recheck waits there until a greylisted row's retry is due). It returns an
	// error only when ctx ends.
	Wait func(ctx context.Context, rec *csvio.Record) error

	// Skip is the number of leading data records an earlier run finished: they are read
	// and neither verified nor emitted. SkipOffset, when positive, is the input offset
	// the earlier run reported after them; another value means the input changed, and
	// Run fails with [ErrInputChanged] before emitting anything.
	Skip       int
	SkipOffset int64

	// Emit receives each row in input order, from one goroutine. An error stops the
	// run and is returned.
	Emit func(Row) error
	// Checkpoint, when non-nil, is called after Emit at most every CheckpointEvery
	// (0 means 200ms) and once more when the run stops, with the progress so far, so the
	// caller can save what a resumed run skips. Not called after Emit or Checkpoint
	// failed. An error stops the run.
	Checkpoint      func(Progress) error
	CheckpointEvery time.Duration
}

// Row is one result of a run.
type Row struct {
	N      int // 1-based data row number
	Record *csvio.Record
	Result *verify.Result // nil for a record Job.Pass picked
}

// Progress is how far a run got: Rows data records (skipped ones included) are done,
// and the next one starts at input byte Offset.
type Progress struct {
	Rows   int
	Offset int64
}

// ErrInputChanged means a resumed run's input does not start with what the earlier run
// read.
var ErrInputChanged = errors.New("the input changed since the interrupted run")

// outcome is a verification's result and whether it goes to the store.
type outcome struct {
	r     verify.Result
	store bool
}

// Run verifies every record of job.Input and emits the results in input order. It
// returns what the run did and the first error: ctx's (context.Canceled after Ctrl-C,
// with every finished row emitted), an input read error, an Emit, Checkpoint or store
// failure.
func Run(ctx context.Context, job Job) (Summary, error) {
	sum := newSummary()
	v := job.Verifier
	online := v.DNS != nil
	c := &checker{v: v, dedup: newDedup(online), settings: job.Settings, policy: job.Policy,
		refresh: job.Refresh, now: job.Now}
	if job.Store != nil && v.SMTP != nil && online {
		c.store = job.Store
	}
	if c.now == nil {
		c.now = time.Now
	}
	workers := job.Workers
	if workers <= 0 {
		workers = 64
	}
	prog := Progress{Offset: job.Offset}
	if err := skip(ctx, &job, &prog); err != nil {
		return *sum, err
	}
	sum.Skipped = prog.Rows

	every := job.CheckpointEvery
	if every <= 0 {
		every = 200 * time.Millisecond
	}
	last := time.Now()
	failed := false // Emit or Checkpoint failed: no final checkpoint
	emit := func(rec *csvio.Record, o *outcome, pass bool) error {
		row := Row{N: prog.Rows + 1, Record: rec}
		if !pass {
			row.Result = &o.r
			sum.add(&o.r, rec)
			if o.store && c.store != nil {
				if err := c.store.Put(&o.r, c.settings); err != nil {
					failed = true
					return err
				}
			}
		} else {
			sum.Passed++
		}
		if err := job.Emit(row); err != nil {
			failed = true
			return err
		}
		prog.Rows++
		prog.Offset += int64(len(rec.Raw) + len(rec.EOL))
		if job.Checkpoint != nil && time.Since(last) >= every {
			last = time.Now()
			if err := job.Checkpoint(prog); err != nil {
				failed = true
				return err
			}
		}
		return nil
	}
	var readErr error
	var err error
	if !online && !job.Interactive && job.Pass == nil && job.Wait == nil {
		// Offline work is CPU-bound and cheap: rows go to the pool in chunks, one worker
		// per CPU, so channel hand-offs do not cost more than the verification.
		err = stream.Ordered(ctx, min(workers, runtime.GOMAXPROCS(0)), chunks(job.Input, &readErr),
			func(ctx context.Context, ch *chunk) ([]outcome, error) {
				os := make([]outcome, len(ch.recs))
				for i := range ch.recs {
					var err error
					if os[i], err = c.check(ctx, &ch.recs[i]); err != nil {
						return nil, err
					}
				}
				return os, nil
			},
			func(ch *chunk, os []outcome) error {
				for i := range ch.recs {
					if err := emit(&ch.recs[i], &os[i], false); err != nil {
						return err
					}
				}
				return nil
			})
	} else {
		type item struct {
			rec  *csvio.Record
			pass bool
		}
		items := func(yield func(item) bool) {
			for rec := range records(job.Input, &readErr) {
				if !yield(item{rec, job.Pass != nil && job.Pass(rec)}) {
					return
				}
			}
		}
		err = stream.Ordered(ctx, workers, items,
			func(ctx context.Context, it item) (outcome, error) {
				if it.pass {
					return outcome{}, nil
				}
				if job.Wait != nil {
					if err := job.Wait(ctx, it.rec); err != nil {
						return outcome{}, err
					}
				}
				return c.check(ctx, it.rec)
			},
			func(it item, o outcome) error { return emit(it.rec, &o, it.pass) })
	}
	if c.store != nil && !failed {
		if ferr := c.store.Flush(); err == nil {
			err = ferr
		}
	}
	if job.Checkpoint != nil && !failed {
		if cerr := job.Checkpoint(prog); err == nil {
			err = cerr
		}
	}
	sum.Duplicates = c.dedup.hits()
	sum.Cached = int(c.cached.Load())
	sum.Progress = prog
	if err == nil && readErr != nil {
		err = fmt.Errorf("reading input: %w", readErr)
	}
	if err == nil && ctx.Err() != nil {
		// Cancelled as the last rows finished: still a run stopped by Ctrl-C, so the
		// caller exits 130 whatever it managed to finish.
		err = ctx.Err()
	}
	return *sum, err
}

// skip reads the job's Skip leading records, advancing prog, and checks the offset.
func skip(ctx context.Context, job *Job, prog *Progress) error {
	for prog.Rows < job.Skip {
		if prog.Rows%4096 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		rec, err := job.Input.Read()
		if errors.Is(err, io.EOF) {
			return fmt.Errorf("%w: it has %d rows, the earlier run had done %d", ErrInputChanged, prog.Rows, job.Skip)
		}
		if err != nil {
			return fmt.Errorf("reading input: %w", err)
		}
		prog.Rows++
		prog.Offset += int64(len(rec.Raw) + len(rec.EOL))
	}
	if job.SkipOffset > 0 && prog.Offset != job.SkipOffset {
		return fmt.Errorf("%w: its first %d rows end at byte %d, not %d", ErrInputChanged, prog.Rows, prog.Offset, job.SkipOffset)
	}
	return nil
}

// records yields copies of rd's records; a read error other than EOF ends the sequence
// and is stored in *readErr.
func records(rd RecordReader, readErr *error) iter.Seq[*csvio.Record] {
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
func chunks(rd RecordReader, readErr *error) iter.Seq[*chunk] {
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

// lineProblem is the syntax error of a malformed record's row.
func lineProblem(rec *csvio.Record) string {
	return "line " + strconv.Itoa(rec.Line) + ": " + rec.Problem
}
