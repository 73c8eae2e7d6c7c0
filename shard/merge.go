package shard

import (
	"bufio"
	"bytes"
	"container/heap"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/everify/everify/csvio"
	"github.com/everify/everify/internal/atomicfile"
)

// MergeOptions tune [Merge].
type MergeOptions struct {
	// KeepRow keeps the row column (CSV) or field (NDJSON, JSON) in the output.
	KeepRow bool
}

// Merge reads the shard outputs named by paths (each with its manifest next to it),
// checks that they are the N shards of one run — same input, same settings, same
// header, each shard once — and writes to w what that run would have written unsharded:
// the rows in input order, each row 1..R exactly once (unless --keep dropped some), the
// header once, without the row column unless opts.KeepRow. It returns the sum of the
// shards' summaries. A manifest path (FILE.shard.json) stands for its output FILE.
//
// Most problems are found before a byte is written; a row missing or duplicated inside
// the files is found on the way, and then w holds a partial output (MergeFile writes
// to a temporary file and renames it only on success).
func Merge(ctx context.Context, w io.Writer, paths []string, opts MergeOptions) (Summary, error) {
	shards, err := openShards(paths)
	if err != nil {
		return Summary{}, err
	}
	defer func() {
		for _, s := range shards {
			s.f.Close()
		}
	}()
	ref := shards[0].m
	sum := Summary{Statuses: map[string]int{}, Reasons: map[string]int{}}
	for _, s := range shards {
		sum.add(s.m.Summary)
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	fw := newFramer(bw, ref.Format)
	if ref.Format == "csv" {
		if err := writeCSVHeader(bw, shards, opts.KeepRow); err != nil {
			return Summary{}, err
		}
	}
	if err := interleave(ctx, shards, fw, opts.KeepRow); err != nil {
		return Summary{}, err
	}
	fw.close()
	return sum, bw.Flush()
}

// MergeFile is [Merge] into the file out, written to a temporary file in the same
// directory and renamed over out only when the merge succeeded.
func MergeFile(ctx context.Context, out string, paths []string, opts MergeOptions) (Summary, error) {
	if st, err := os.Stat(out); err == nil {
		for _, p := range paths {
			if pst, err := os.Stat(strings.TrimSuffix(p, ManifestSuffix)); err == nil && os.SameFile(st, pst) {
				return Summary{}, fmt.Errorf("the output %s is one of the shard outputs", out)
			}
		}
	}
	var sum Summary
	err := atomicfile.Write(out, func(w io.Writer) error {
		var err error
		sum, err = Merge(ctx, w, paths, opts)
		return err
	})
	return sum, err
}

// shardFile is one open shard output.
type shardFile struct {
	path string
	m    *Manifest
	spec Spec
	f    *os.File
	csv  *csvio.Reader // csv
	br   *bufio.Reader // ndjson, json
	line int           // ndjson, json: lines read

	rows int // rows read so far
	row  int // the current row's number
	// The current row's bytes: body, then (CSV) its line terminator. They alias the
	// reader's buffer until the next advance.
	body, tail []byte
	cut        int // CSV: len(body) without the row column; JSON: offset of the rest
}

// openShards reads and cross-checks the manifests, and opens the outputs, sorted by
// shard number.
func openShards(paths []string) (shards []*shardFile, err error) {
	defer func() {
		if err != nil {
			for _, s := range shards {
				if s.f != nil {
					s.f.Close()
				}
			}
		}
	}()
	if len(paths) == 0 {
		return nil, errors.New("no shard outputs given")
	}
	seen := map[string]bool{}
	for _, p := range paths {
		p = strings.TrimSuffix(p, ManifestSuffix)
		if seen[p] {
			continue // out.1.csv and out.1.csv.shard.json, as a glob gives them
		}
		seen[p] = true
		m, err := ReadManifest(p)
		if err != nil {
			return shards, err
		}
		spec, err := Parse(m.Shard)
		if err != nil {
			return shards, fmt.Errorf("%s: %w", ManifestPath(p), err)
		}
		shards = append(shards, &shardFile{path: p, m: m, spec: spec})
	}
	if err := checkManifests(shards); err != nil {
		return shards, err
	}
	for _, s := range shards {
		if s.f, err = os.Open(s.path); err != nil {
			return shards, err
		}
		st, err := s.f.Stat()
		if err != nil {
			return shards, err
		}
		if st.Size() != s.m.OutputBytes {
			return shards, fmt.Errorf("%s is %d bytes, its manifest says %d: the file changed after 'everify bulk --shard %s' wrote it",
				s.path, st.Size(), s.m.OutputBytes, s.m.Shard)
		}
		if err := s.open(); err != nil {
			return shards, err
		}
	}
	return shards, nil
}

// checkManifests refuses shards that are not the N shards of one run, naming the files.
func checkManifests(shards []*shardFile) error {
	slices.SortStableFunc(shards, func(a, b *shardFile) int { return a.spec.K - b.spec.K })
	ref := shards[0]
	for _, s := range shards[1:] {
		var what string
		switch m, r := s.m, ref.m; {
		case s.spec.N != ref.spec.N:
			what = fmt.Sprintf("is shard %s, not of %d shards", m.Shard, ref.spec.N)
		case m.InputSHA256 != r.InputSHA256 || m.InputRows != r.InputRows:
			what = fmt.Sprintf("comes from another input (%d rows, SHA-256 %.12s…; not %d rows, %.12s…)",
				m.InputRows, m.InputSHA256, r.InputRows, r.InputSHA256)
		case m.Format != r.Format:
			what = fmt.Sprintf("is %s, not %s", m.Format, r.Format)
		case m.Delimiter != r.Delimiter || m.RowColumn != r.RowColumn:
			what = "has a different header"
		case diffSettings(r.Settings, m.Settings) != "":
			what = "was made with other settings: " + diffSettings(r.Settings, m.Settings)
		case m.Kept != r.Kept:
			what = "was made with other settings: --keep differs"
		case s.spec.K == ref.spec.K:
			return fmt.Errorf("%s and %s are both shard %s", ref.path, s.path, m.Shard)
		}
		if what != "" {
			return fmt.Errorf("%s %s, unlike %s", s.path, what, ref.path)
		}
		ref = s
	}
	if n := shards[0].spec.N; len(shards) != n {
		have := map[int]bool{}
		for _, s := range shards {
			have[s.spec.K] = true
		}
		var missing []string
		for k := 1; k <= n; k++ {
			if !have[k] {
				missing = append(missing, Spec{k, n}.String())
			}
		}
		return fmt.Errorf("shard %s missing: %d of %d shard outputs given (the rows of its domains would be lost)",
			strings.Join(missing, ", "), len(shards), n)
	}
	return nil
}

// maxLine bounds an NDJSON or JSON line of a shard output.
const maxLine = 16 << 20

func (s *shardFile) open() error {
	switch s.m.Format {
	case "csv":
		if len(s.m.Delimiter) != 1 || s.m.RowColumn == "" {
			return fmt.Errorf("%s: manifest lacks the CSV delimiter or row column", ManifestPath(s.path))
		}
		nl := byte('\n')
		if s.m.EOL == "\r" {
			nl = '\r'
		}
		// The output is everify's own: what was checked when it was read as input
		// (binary bytes, the newline) is not sniffed again.
		rd, err := csvio.NewReader(s.f, csvio.Options{Delimiter: s.m.Delimiter[0], Column: s.m.RowColumn,
			SniffLines: 1, Newline: nl, AllowBinary: true, MaxRecord: 2 * csvio.DefaultMaxRecord})
		if err != nil {
			return fmt.Errorf("%s: %w", s.path, err)
		}
		if rd.Header() == nil {
			return fmt.Errorf("%s: no header", s.path)
		}
		s.csv = rd
	case "ndjson", "json":
		s.br = bufio.NewReaderSize(s.f, 64<<10)
		if s.m.Format == "json" {
			if l, err := s.readLine(); err != nil || string(l) != "[" {
				return fmt.Errorf("%s: line 1: not a JSON array written by everify bulk", s.path)
			}
		}
	default:
		return fmt.Errorf("%s: unknown format %q", ManifestPath(s.path), s.m.Format)
	}
	return nil
}

// writeCSVHeader writes the header of the first shard, after checking that every shard
// has the same one (byte order mark included).
func writeCSVHeader(w io.Writer, shards []*shardFile, keepRow bool) error {
	header := func(s *shardFile) []byte {
		var b []byte
		if s.csv.BOM() {
			b = append(b, 0xEF, 0xBB, 0xBF)
		}
		h := s.csv.Header()
		return append(append(b, h.Raw...), h.EOL...)
	}
	ref := header(shards[0])
	for _, s := range shards[1:] {
		if !bytes.Equal(header(s), ref) {
			return fmt.Errorf("%s has a different header from %s", s.path, shards[0].path)
		}
	}
	h := shards[0].csv.Header()
	suffix := shards[0].m.Delimiter + shards[0].m.RowColumn
	if !bytes.HasSuffix(h.Raw, []byte(suffix)) {
		return fmt.Errorf("%s: the header does not end with the row column %q", shards[0].path, shards[0].m.RowColumn)
	}
	if !keepRow {
		ref = slices.Concat(ref[:len(ref)-len(h.EOL)-len(suffix)], h.EOL)
	}
	_, err := w.Write(ref)
	return err
}

// advance reads the shard's next row; io.EOF after the last.
func (s *shardFile) advance() error {
	var err error
	if s.csv != nil {
		err = s.nextCSV()
	} else {
		err = s.nextJSON()
	}
	if err == io.EOF && s.rows != s.m.Rows {
		return fmt.Errorf("%s holds %d rows, its manifest %d: the file changed after 'everify bulk --shard %s' wrote it",
			s.path, s.rows, s.m.Rows, s.m.Shard)
	}
	if err != nil {
		return err
	}
	s.rows++
	return nil
}

func (s *shardFile) nextCSV() error {
	rec, err := s.csv.Read()
	if err != nil {
		if err != io.EOF {
			err = fmt.Errorf("%s: %w", s.path, err)
		}
		return err
	}
	if rec.Truncated {
		return fmt.Errorf("%s: line %d: record too long for a bulk output", s.path, rec.Line)
	}
	i := bytes.LastIndexByte(rec.Raw, s.m.Delimiter[0])
	row, ok := parseRow(rec.Raw[i+1:])
	if i < 0 || !ok {
		return fmt.Errorf("%s: line %d: no row number in the last column", s.path, rec.Line)
	}
	s.row, s.body, s.tail, s.cut = row, rec.Raw, rec.EOL, i
	return nil
}

var rowPrefix = []byte(`{"row":`)

func (s *shardFile) nextJSON() error {
	l, err := s.readLine()
	if err != nil {
		return err
	}
	if s.m.Format == "json" {
		if string(l) == "]" {
			if _, err := s.readLine(); err != io.EOF {
				return fmt.Errorf("%s: line %d: text after the closing ]", s.path, s.line)
			}
			return io.EOF
		}
		l = bytes.TrimSuffix(l, []byte(","))
	}
	bad := fmt.Errorf(`%s: line %d: not a record starting {"row":N, as bulk --shard writes`, s.path, s.line)
	if !bytes.HasPrefix(l, rowPrefix) {
		return bad
	}
	j := bytes.IndexByte(l, ',')
	row, ok := parseRow(l[len(rowPrefix):max(j, len(rowPrefix))])
	if j < 0 || !ok {
		return bad
	}
	s.row, s.body, s.tail, s.cut = row, l, nil, j+1
	return nil
}

// readLine returns the next line without its "\n"; io.EOF at the end (a last line
// without "\n" is an error: the file was cut).
func (s *shardFile) readLine() ([]byte, error) {
	var long []byte
	for {
		l, err := s.br.ReadSlice('\n')
		switch {
		case err == bufio.ErrBufferFull:
			if long = append(long, l...); len(long) > maxLine {
				return nil, fmt.Errorf("%s: line %d: longer than %d bytes", s.path, s.line+1, maxLine)
			}
			continue
		case err == io.EOF && len(l)+len(long) > 0:
			return nil, fmt.Errorf("%s: line %d: cut short", s.path, s.line+1)
		case err != nil:
			return nil, err
		}
		s.line++
		if long != nil {
			l = append(long, l...)
		}
		return l[:len(l)-1], nil
	}
}

// parseRow parses a row number: decimal digits, no sign, no leading zero.
func parseRow(b []byte) (int, bool) {
	if len(b) == 0 || len(b) > 12 || b[0] == '0' {
		return 0, false
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// write writes the current row through fw.
func (s *shardFile) write(fw *framer, keepRow bool) {
	switch {
	case keepRow:
		fw.record(s.body, s.tail)
	case s.csv != nil:
		fw.record(s.body[:s.cut], s.tail)
	default:
		fw.record(openBrace, s.body[s.cut:])
	}
}

// interleave writes the shards' rows in row order, checking that rows 1..R each come
// exactly once (with --keep: at most once).
func interleave(ctx context.Context, shards []*shardFile, fw *framer, keepRow bool) error {
	h := make(shardHeap, 0, len(shards))
	for _, s := range shards {
		switch err := s.advance(); err {
		case nil:
			h = append(h, s)
		case io.EOF:
		default:
			return err
		}
	}
	heap.Init(&h)
	ref := shards[0].m
	last, lastFrom := 0, ""
	for n := 0; len(h) > 0; n++ {
		if n%4096 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		s := h[0]
		switch {
		case s.row == last:
			return fmt.Errorf("row %d appears twice: in %s and in %s", s.row, lastFrom, s.path)
		case s.row < last:
			return fmt.Errorf("%s: row %d comes after row %d: rows out of order", s.path, s.row, last)
		case s.row > ref.InputRows:
			return fmt.Errorf("%s: row %d, but the input has %d rows", s.path, s.row, ref.InputRows)
		case !ref.Kept && s.row != last+1:
			return fmt.Errorf("row %d is missing: no shard output holds it (the next row, %d, is in %s)", last+1, s.row, s.path)
		}
		s.write(fw, keepRow)
		last, lastFrom = s.row, s.path
		switch err := s.advance(); err {
		case nil:
			if s.row <= last {
				// Caught here, not by the heap: it would hide a shard's own disorder.
				if s.row == last {
					return fmt.Errorf("row %d appears twice in %s", s.row, s.path)
				}
				return fmt.Errorf("%s: row %d comes after row %d: rows out of order", s.path, s.row, last)
			}
			heap.Fix(&h, 0)
		case io.EOF:
			heap.Pop(&h)
		default:
			return err
		}
	}
	if !ref.Kept && last != ref.InputRows {
		return fmt.Errorf("row %d is missing: no shard output holds it (the input has %d rows)", last+1, ref.InputRows)
	}
	return nil
}

// shardHeap orders the open shards by their current row.
type shardHeap []*shardFile

func (h shardHeap) Len() int           { return len(h) }
func (h shardHeap) Less(i, j int) bool { return h[i].row < h[j].row }
func (h shardHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *shardHeap) Push(x any)        { *h = append(*h, x.(*shardFile)) }
func (h *shardHeap) Pop() any {
	old := *h
	s := old[len(old)-1]
	*h = old[:len(old)-1]
	return s
}

// framer writes records in the framing of a format: CSV and NDJSON rows as they are,
// a JSON array's records separated by ",\n" inside "[\n" … "\n]\n", as bulk writes it.
type framer struct {
	w    *bufio.Writer
	json bool
	nl   bool // ndjson: each record ends with "\n"
	n    int
}

func newFramer(w *bufio.Writer, format string) *framer {
	return &framer{w: w, json: format == "json", nl: format == "ndjson"}
}

var openBrace = []byte("{")

// record writes one record made of a then b.
func (f *framer) record(a, b []byte) {
	if f.json {
		if f.n == 0 {
			f.w.WriteString("[\n")
		} else {
			f.w.WriteString(",\n")
		}
	}
	f.n++
	f.w.Write(a)
	f.w.Write(b)
	if f.nl {
		f.w.WriteByte('\n')
	}
}

func (f *framer) close() {
	if f.json {
		if f.n == 0 {
			f.w.WriteString("[")
		}
		f.w.WriteString("\n]\n")
	}
}
