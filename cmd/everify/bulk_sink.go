package main

import (
	"io"
	"slices"
	"strconv"
	"time"

	"github.com/everify/everify/bulk"
	"github.com/everify/everify/csvio"
	"github.com/everify/everify/verify"
	"github.com/schollz/progressbar/v3"
)

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

// flush writes what the sink buffers.
func (s *bulkSink) flush() error {
	if s.res != nil {
		return nil // the result writers flush every record
	}
	return s.csv.Flush()
}

// resume sets up a sink appending to the output of an interrupted run.
func (s *bulkSink) resume(cp *bulk.Checkpoint) error {
	if cp == nil || cp.OutputSize == 0 {
		return nil
	}
	if j, ok := s.res.(*jsonWriter); ok {
		j.n = cp.OutputRows
	}
	return s.flush() // the header, into the discarding writer
}

func (s *bulkSink) close() error {
	if s.res != nil {
		return s.res.Close()
	}
	return s.csv.Flush()
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

// skip counts n rows an interrupted run had done.
func (p *progress) skip(n int) {
	if p.bar != nil {
		p.bar.Add(n)
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
