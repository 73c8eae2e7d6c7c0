package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"

	"github.com/everify/everify/bulk"
	"github.com/everify/everify/csvio"
	"github.com/everify/everify/store"
	"github.com/everify/everify/verify"
)

// What `bulk --resume` needs: where the input's data starts, which paths a checkpoint
// can describe, cutting a torn last row, and the settings a resumed run must share.

// inputOffset is the input byte where rd's first data record starts.
func inputOffset(rd *csvio.Reader) int64 {
	var n int64
	if rd.BOM() {
		n = 3
	}
	if h := rd.Header(); h != nil {
		n += int64(len(h.Raw) + len(h.EOL))
	}
	return n
}

// regularFile reports whether path names a regular file (which a checkpoint can hash
// and a resumed run read again), not stdin, a pipe or a device.
func regularFile(path string) bool {
	if path == "-" {
		return false
	}
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular()
}

// outputFile reports whether the output path is a regular file or none yet: a
// checkpoint can describe it (not /dev/null, not a pipe).
func outputFile(path string) bool {
	st, err := os.Stat(path)
	return errors.Is(err, fs.ErrNotExist) || err == nil && st.Mode().IsRegular()
}

// cutTorn truncates f after its last whole record, scanning from from, a record
// boundary: a line break outside double quotes ends a CSV row; any line break ends a
// JSON record (JSON escapes those inside strings).
func cutTorn(f *os.File, from int64, csv bool) error {
	if _, err := f.Seek(from, io.SeekStart); err != nil {
		return err
	}
	br := bufio.NewReaderSize(f, 64<<10)
	end, pos, quoted := from, from, false
	for {
		c, err := br.ReadByte()
		if err != nil {
			break
		}
		pos++
		switch {
		case c == '"' && csv:
			quoted = !quoted
		case c == '\n' && !quoted:
			end = pos
		}
	}
	return f.Truncate(end)
}

// countWriter counts the bytes written to w; while discard is set it drops them.
type countWriter struct {
	w       io.Writer
	n       int64
	discard bool
}

func (c *countWriter) Write(p []byte) (int, error) {
	if c.discard {
		return len(p), nil
	}
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// findCheckpoint returns the checkpoint to resume from (nil when not resuming), and
// refuses to overwrite an interrupted run's output without --resume.
func findCheckpoint(opts *BulkOptions, cpPath string) (*bulk.Checkpoint, error) {
	cp, err := bulk.LoadCheckpoint(cpPath)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if opts.Resume {
			return nil, withHint(fmt.Errorf("nothing to resume: no checkpoint %s", cpPath),
				"run without --resume")
		}
		return nil, nil
	case err != nil:
		return nil, err
	case !opts.Resume && cp.Rows == 0:
		return nil, nil // nothing done: nothing to lose by starting over
	case !opts.Resume:
		return nil, withHint(fmt.Errorf("%s holds an interrupted run (%d rows done)", opts.Output, cp.Rows),
			"add --resume to continue it, or delete "+cpPath+" to start over")
	case opts.File == "-":
		return nil, flagErrorf("--resume needs the input as a file, not stdin")
	}
	return cp, nil
}

// outputSettings hashes the flags that shape a bulk output: a resumed run must use the
// same.
func outputSettings(opts *BulkOptions, v *verify.Verifier) string {
	o := &opts.Verify
	return store.SettingsHash(storeSettings(o, v), opts.Format, opts.Column, strings.Join(opts.Keep, ","),
		strings.Join(opts.FailOn, ","), strconv.FormatBool(o.Offline), strconv.FormatBool(o.NoSMTP),
		strconv.FormatBool(o.AllowIPLiteral), o.AllowFile, o.DenyFile, o.ListsDir, strconv.FormatBool(o.NoListUpdates))
}
