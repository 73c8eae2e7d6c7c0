package csvio

import "bytes"

// span locates one field inside a record. For a quoted field it covers the bytes between
// the quotes, with "" escapes still doubled; otherwise the field's raw bytes.
type span struct {
	start, end int
	quoted     bool
}

// problem is a structural defect found by the scanner.
type problem uint8

const (
	probNone problem = iota
	probBareQuote
	probAfterQuote
	probUnterminated
)

func (p problem) String() string {
	switch p {
	case probBareQuote:
		return "bare quote in unquoted field"
	case probAfterQuote:
		return "text after closing quote"
	case probUnterminated:
		return "unterminated quoted field"
	}
	return ""
}

// scanResult describes the record found at the start of a buffer.
type scanResult struct {
	more   bool    // the record does not end within the buffer: read more input
	rawEnd int     // end of the record's bytes, before its terminator
	n      int     // bytes consumed: record plus terminator
	prob   problem // first structural defect, if any
	open   bool    // the record ends inside a quoted field (prob is probUnterminated)
	multi  bool    // a quoted field holds a line terminator
	quoted bool    // the record holds a quote (so scanSimple would refuse it)
}

// scanner splits records. It is an RFC 4180 state machine that keeps each record's
// bytes in place: it only reports where fields and the record end.
type scanner struct {
	delim   byte
	nl      byte // '\n' (a preceding '\r' belongs to the terminator) or '\r' (old Mac files)
	special [256]bool
	spans   []span

	wDelim, wNL uint64 // delim and nl broadcast, for skipPlain
}

var wQuote = broadcast('"')

func newScanner(delim, nl byte) scanner {
	s := scanner{delim: delim, nl: nl, spans: make([]span, 0, 16), wDelim: broadcast(delim), wNL: broadcast(nl)}
	s.special[delim] = true
	s.special[nl] = true
	s.special['"'] = true
	return s
}

// scan parses the record at the start of b. atEOF says b holds the rest of the input;
// otherwise a record that may continue past b yields more=true. Fields go to s.spans.
func (s *scanner) scan(b []byte, atEOF bool) (res scanResult) {
	s.spans = s.spans[:0]
	d, nl := s.delim, s.nl
	n := len(b)
	i := 0
	for {
		fs := i // field start; stays at the opening quote if text follows the closing one
		if i < n && b[i] == '"' {
			res.quoted = true
			j := i + 1
			for {
				k := bytes.IndexByte(b[j:], '"')
				if k < 0 {
					if !atEOF {
						res.more = true
						return res
					}
					// The input ends inside the quotes.
					res.prob, res.open = probUnterminated, true
					res.multi = res.multi || bytes.IndexByte(b[i+1:], nl) >= 0
					s.spans = append(s.spans, span{i + 1, n, true})
					res.rawEnd, res.n = n, n
					return res
				}
				j += k
				if j+1 < n {
					if b[j+1] == '"' { // "" escape
						j += 2
						continue
					}
					break
				}
				if !atEOF { // cannot tell a closing quote from the first half of ""
					res.more = true
					return res
				}
				break
			}
			if !res.multi && bytes.IndexByte(b[i+1:j], nl) >= 0 {
				res.multi = true
			}
			e := j + 1 // just past the closing quote
			if e == n {
				s.spans = append(s.spans, span{i + 1, j, true})
				res.rawEnd, res.n = n, n
				return res
			}
			switch c := b[e]; {
			case c == d:
				s.spans = append(s.spans, span{i + 1, j, true})
				i = e + 1
				continue
			case c == nl:
				s.spans = append(s.spans, span{i + 1, j, true})
				res.rawEnd, res.n = e, e+1
				return res
			case c == '\r' && nl == '\n':
				if e+1 < n {
					if b[e+1] == '\n' {
						s.spans = append(s.spans, span{i + 1, j, true})
						res.rawEnd, res.n = e, e+2
						return res
					}
				} else if !atEOF {
					res.more = true
					return res
				} else { // a bare CR ending the input ends the record
					s.spans = append(s.spans, span{i + 1, j, true})
					res.rawEnd, res.n = e, e+1
					return res
				}
			}
			// Text after the closing quote: keep going as an unquoted field whose raw
			// bytes start at the opening quote.
			if res.prob == probNone {
				res.prob = probAfterQuote
			}
			i = e
		}
		j := i
		for {
			j = skipPlain(b, j, s.wDelim, s.wNL, wQuote)
			for j < n && !s.special[b[j]] {
				j++
			}
			if j < n && b[j] == '"' {
				res.quoted = true
				if res.prob == probNone {
					res.prob = probBareQuote
				}
				j++
				continue
			}
			break
		}
		if j == n {
			if !atEOF {
				res.more = true
				return res
			}
			end := n
			if nl == '\n' && end > fs && b[end-1] == '\r' {
				end-- // a bare CR ending the input is its terminator, not data
			}
			s.spans = append(s.spans, span{fs, end, false})
			res.rawEnd, res.n = end, n
			return res
		}
		if b[j] == d {
			s.spans = append(s.spans, span{fs, j, false})
			i = j + 1
			continue
		}
		end := j
		if nl == '\n' && end > fs && b[end-1] == '\r' {
			end--
		}
		s.spans = append(s.spans, span{fs, end, false})
		res.rawEnd, res.n = end, j+1
		return res
	}
}

// scanSimple handles the common record quickly: one complete physical line holding no
// quote, split with vectorized byte searches. ok is false for any other record, which
// scan then handles; both give the same result for the records scanSimple accepts.
func (s *scanner) scanSimple(b []byte) (res scanResult, ok bool) {
	k := bytes.IndexByte(b, s.nl)
	if k < 0 {
		return res, false
	}
	end := k
	if s.nl == '\n' && k > 0 && b[k-1] == '\r' {
		end--
	}
	line := b[:end]
	if bytes.IndexByte(line, '"') >= 0 {
		return res, false
	}
	s.spans = s.spans[:0]
	start := 0
	for {
		i := bytes.IndexByte(line[start:], s.delim)
		if i < 0 {
			break
		}
		s.spans = append(s.spans, span{start, start + i, false})
		start += i + 1
	}
	s.spans = append(s.spans, span{start, end, false})
	res.rawEnd, res.n = end, k+1
	return res, true
}

// scanLine splits a plain list: every physical line is one record of one field. A line
// that is exactly one well-formed quoted field is unquoted; any other line is taken as
// is, so `"Jane Doe" <jane@example.org>` stays whole.
func (s *scanner) scanLine(b []byte, atEOF bool) (res scanResult) {
	s.spans = s.spans[:0]
	k := bytes.IndexByte(b, s.nl)
	if k < 0 {
		if !atEOF {
			res.more = true
			return res
		}
		res.rawEnd, res.n = len(b), len(b)
		if s.nl == '\n' && len(b) > 0 && b[len(b)-1] == '\r' {
			res.rawEnd-- // a bare CR ending the input is its terminator
		}
	} else {
		res.rawEnd, res.n = k, k+1
		if s.nl == '\n' && k > 0 && b[k-1] == '\r' {
			res.rawEnd--
		}
	}
	if isQuotedField(b[:res.rawEnd]) {
		s.spans = append(s.spans, span{1, res.rawEnd - 1, true})
	} else {
		s.spans = append(s.spans, span{0, res.rawEnd, false})
	}
	return res
}

// isQuotedField reports whether b is exactly one RFC 4180 quoted field.
func isQuotedField(b []byte) bool {
	if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' {
		return false
	}
	for i := 1; i < len(b)-1; i++ {
		if b[i] == '"' {
			if i+1 < len(b)-1 && b[i+1] == '"' {
				i++
				continue
			}
			return false
		}
	}
	return true
}

// appendValue appends the field's value to dst, undoing "" escapes of a quoted field.
func appendValue(dst, rec []byte, sp span) []byte {
	v := rec[sp.start:sp.end]
	if !sp.quoted {
		return append(dst, v...)
	}
	for {
		k := bytes.IndexByte(v, '"')
		if k < 0 || k+1 >= len(v) {
			return append(dst, v...)
		}
		dst = append(dst, v[:k+1]...)
		v = v[k+2:] // skip the second quote of the pair
	}
}

// value returns the field's value as a string.
func value(rec []byte, sp span) string {
	if !sp.quoted || bytes.IndexByte(rec[sp.start:sp.end], '"') < 0 {
		return string(rec[sp.start:sp.end])
	}
	return string(appendValue(nil, rec, sp))
}
