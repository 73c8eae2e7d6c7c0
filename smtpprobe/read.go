package smtpprobe

import (
	"bufio"
	"errors"
	"fmt"
	"io"
)

// Default bounds on what the client reads for one reply.
const (
	defaultMaxLineLen   = 2048     // RFC 5321 §4.5.3.1.5 allows 512; real servers exceed it
	defaultMaxReplySize = 64 << 10 // a long EHLO reply is a few hundred octets
	maxReplyLines       = 256      // EHLO replies have ~20 lines; Gmail's 550 has 4
)

// ReadReply reads one reply (RFC 5321 §4.2) from r: zero or more "250-text" continuation
// lines and a final "250 text" line, ending in CRLF or, leniently, a bare LF. It returns
// the code, the RFC 3463 enhanced code of the first line (when its class matches the
// code's first digit; failing that, of the final line, where some servers put it only)
// and the lines' texts joined with a space, with the enhanced code removed from every
// line that repeats it.
//
// maxLine bounds one line in octets, line ending included, and maxSize the whole reply;
// 0 means 2048 and 64 KiB. A reply also may not exceed 256 lines. Exceeding a bound
// returns an error wrapping [ErrReplyTooLong] and [ErrProtocol] after reading at most
// about maxLine octets more than the bound; a malformed line returns an error wrapping
// [ErrProtocol]. End of input before the first octet returns [io.EOF], within a reply
// [io.ErrUnexpectedEOF]; other read errors are returned as they are. After any error the
// position in r is unspecified.
func ReadReply(r *bufio.Reader, maxLine, maxSize int) (Reply, error) {
	return readReply(r, maxLine, maxSize, nil)
}

// readReply is [ReadReply]; when lines is non-nil, each line's text is appended to it
// (EHLO keywords are lines).
func readReply(r *bufio.Reader, maxLine, maxSize int, lines *[]string) (Reply, error) {
	if maxLine <= 0 {
		maxLine = defaultMaxLineLen
	}
	if maxSize <= 0 {
		maxSize = defaultMaxReplySize
	}
	var (
		rep   Reply
		arr   [256]byte // most messages fit: no allocation but the final string
		msg   = arr[:0]
		buf   []byte
		total int
	)
	for n := 1; ; n++ {
		line, err := readLine(r, &buf, maxLine)
		if err != nil {
			if err == io.EOF && n > 1 {
				err = io.ErrUnexpectedEOF
			}
			return Reply{}, err
		}
		total += len(line)
		if total > maxSize {
			return Reply{}, fmt.Errorf("%w: %w: reply exceeds %d octets", ErrProtocol, ErrReplyTooLong, maxSize)
		}
		if n > maxReplyLines {
			return Reply{}, fmt.Errorf("%w: %w: reply exceeds %d lines", ErrProtocol, ErrReplyTooLong, maxReplyLines)
		}
		line = trimEOL(line)
		code, final, text, ok := parseLine(line)
		if !ok {
			return Reply{}, fmt.Errorf("%w: malformed reply line %q", ErrProtocol, clip(line))
		}
		if n == 1 {
			rep.Code = code
			if e, rest, ok := cutEnhanced(text, code); ok {
				rep.Enhanced, text = string(e), rest
			}
		} else {
			if code != rep.Code {
				return Reply{}, fmt.Errorf("%w: reply line %q does not continue code %d", ErrProtocol, clip(line), rep.Code)
			}
			if rep.Enhanced != "" {
				if e, rest, ok := cutEnhanced(text, code); ok && string(e) == rep.Enhanced {
					text = rest
				}
			} else if final {
				// Some servers (go-smtp) put the code on the final line only.
				if e, rest, ok := cutEnhanced(text, code); ok {
					rep.Enhanced, text = string(e), rest
				}
			}
		}
		text = trimSpace(text)
		if lines != nil {
			*lines = append(*lines, string(text))
		}
		if len(text) > 0 {
			if len(msg) > 0 {
				msg = append(msg, ' ')
			}
			// Control characters (a bare CR, ESC sequences) become spaces: the message
			// ends up in terminals, CSV cells and JSON, and a server must not be able
			// to rewrite a user's screen.
			for _, c := range text {
				if c < 0x20 || c == 0x7f {
					c = ' '
				}
				msg = append(msg, c)
			}
		}
		if final {
			rep.Message = string(msg)
			return rep, nil
		}
	}
}

// readLine reads through the next '\n', at most maxLine octets. The result aliases r's
// buffer when the line fits in it (no copy), else it is accumulated in *scratch, which is
// kept for the next line. Either way it is valid until the next read.
func readLine(r *bufio.Reader, scratch *[]byte, maxLine int) ([]byte, error) {
	buf := (*scratch)[:0]
	defer func() { *scratch = buf[:0] }()
	for {
		chunk, err := r.ReadSlice('\n')
		if len(buf)+len(chunk) > maxLine {
			return nil, fmt.Errorf("%w: %w: reply line exceeds %d octets", ErrProtocol, ErrReplyTooLong, maxLine)
		}
		switch {
		case err == nil && len(buf) == 0:
			return chunk, nil
		case err == nil:
			buf = append(buf, chunk...)
			return buf, nil
		case errors.Is(err, bufio.ErrBufferFull):
			buf = append(buf, chunk...)
		case err == io.EOF:
			if len(buf)+len(chunk) > 0 {
				return nil, io.ErrUnexpectedEOF
			}
			return nil, io.EOF
		default:
			return nil, err
		}
	}
}

func trimEOL(b []byte) []byte {
	b = b[:len(b)-1] // '\n'
	if len(b) > 0 && b[len(b)-1] == '\r' {
		b = b[:len(b)-1]
	}
	return b
}

// parseLine splits "250-text" / "250 text" / "250". The first digit must be 2-5
// (RFC 5321 §4.2: Reply-code = %x32-35 %x30-35 %x30-39); we accept any second and third
// digit.
func parseLine(b []byte) (code int, final bool, text []byte, ok bool) {
	if len(b) < 3 || b[0] < '2' || b[0] > '5' || !isDigit(b[1]) || !isDigit(b[2]) {
		return 0, false, nil, false
	}
	code = int(b[0]-'0')*100 + int(b[1]-'0')*10 + int(b[2]-'0')
	if len(b) == 3 {
		return code, true, nil, true
	}
	switch b[3] {
	case ' ':
		return code, true, b[4:], true
	case '-':
		return code, false, b[4:], true
	}
	return 0, false, nil, false
}

// cutEnhanced splits an RFC 3463 status code "class.subject.detail" (class 2, 4 or 5
// equal to the reply code's first digit; subject and detail of 1-3 digits) off the front
// of text. It must be followed by a space or the end of the text.
func cutEnhanced(text []byte, code int) (enh, rest []byte, ok bool) {
	if len(text) < 5 || text[0] != byte('0'+code/100) || text[1] != '.' {
		return nil, text, false
	}
	i := 2
	for part := 0; part < 2; part++ {
		j := i
		for j < len(text) && j-i < 4 && isDigit(text[j]) {
			j++
		}
		if d := j - i; d < 1 || d > 3 {
			return nil, text, false
		}
		i = j
		if part == 0 {
			if i >= len(text) || text[i] != '.' {
				return nil, text, false
			}
			i++
		}
	}
	if i < len(text) && text[i] != ' ' {
		return nil, text, false
	}
	return text[:i], text[i:], true
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// clip shortens a line quoted in an error.
func clip(b []byte) []byte {
	if len(b) > 64 {
		return b[:64]
	}
	return b
}
