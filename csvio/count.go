package csvio

import (
	"bytes"
	"io"
)

// CountLines counts the lines of r cheaply, for a progress total: the number of line
// terminators ('\n', or '\r' in a file that has no '\n'), plus one for a last line
// without a terminator. It counts physical lines, so the header line and blank lines
// are included, and a quoted field holding newlines makes it over-count: treat the
// result as an estimate of the records to come. Memory use is one 64 KiB buffer.
func CountLines(r io.Reader) (int, error) {
	buf := make([]byte, 64<<10)
	var lf, cr int
	var last byte
	seen := false
	for {
		n, err := r.Read(buf)
		if n > 0 {
			lf += bytes.Count(buf[:n], []byte{'\n'})
			cr += bytes.Count(buf[:n], []byte{'\r'})
			last, seen = buf[n-1], true
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, err
		}
	}
	lines, term := lf, byte('\n')
	if lf == 0 && cr > 0 {
		lines, term = cr, '\r'
	}
	if seen && last != term {
		lines++
	}
	return lines, nil
}
