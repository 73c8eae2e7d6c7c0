package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"iter"
	"strings"
)

// maxCheckLine bounds a line of `check -`: a longer one is reported as invalid, with its
// line number, and skipped without being buffered.
const maxCheckLine = 1 << 20

// checkInput is one address to check: an argument or a line of stdin.
type checkInput struct {
	text    string
	problem string // set for a line that cannot be an address (too long)
	line    int    // the line of stdin it came from; 0 for an argument
}

// empty reports a blank input: its record (invalid_syntax, "empty address") keeps the
// output aligned with the input lines, but it never counts towards the exit code.
func (in checkInput) empty() bool {
	return in.problem == "" && strings.TrimSpace(strings.TrimPrefix(in.text, "\ufeff")) == ""
}

// checkInputs yields the arguments, with "-" replaced by the lines of stdin: every line,
// blank ones included, so that output line N answers input line N.
func checkInputs(opts *CheckOptions, readErr *error) iter.Seq[checkInput] {
	return func(yield func(checkInput) bool) {
		for _, a := range opts.Addresses {
			if a != "-" {
				if !yield(checkInput{text: a}) {
					return
				}
				continue
			}
			// Read by Stream's producer: Ctrl-C does not wait for it.
			if err := scanCheckLines(opts.IO.In, maxCheckLine, yield); err != nil {
				*readErr = err
				return
			}
		}
	}
}

// scanCheckLines yields each line of r without its terminator (LF or CRLF). A line longer
// than limit yields an input with a problem naming the line, then reading goes on at
// the next line; memory stays within limit. It returns r's error, nil at EOF or when
// yield stops.
func scanCheckLines(r io.Reader, limit int, yield func(checkInput) bool) error {
	br := bufio.NewReaderSize(r, 64<<10)
	var line []byte
	for n := 1; ; n++ {
		line = line[:0]
		long := false
		var err error
		for {
			var chunk []byte
			chunk, err = br.ReadSlice('\n')
			if !long {
				if len(line)+len(chunk) > limit+2 { // room for CRLF
					long = true
					line = append(line[:0], chunk[:min(len(chunk), 256)]...)
				} else {
					line = append(line, chunk...)
				}
			}
			if !errors.Is(err, bufio.ErrBufferFull) {
				break
			}
		}
		if err != nil && err != io.EOF {
			return err
		}
		if err == io.EOF && len(line) == 0 {
			return nil
		}
		in := checkInput{line: n}
		if long {
			in.text = strings.ToValidUTF8(string(line), "") + "…"
			in.problem = fmt.Sprintf("line exceeds %d octets", limit)
		} else {
			line = bytes.TrimSuffix(line, []byte("\n"))
			in.text = string(bytes.TrimSuffix(line, []byte("\r")))
		}
		if !yield(in) || err == io.EOF {
			return nil
		}
	}
}
