package dsn

import (
	"bufio"
	"bytes"
	"errors"
	"io"
)

// maxMessage bounds the bytes of one message kept in memory; a longer one is cut (a
// bounce's own parts come first, the returned original message last).
const maxMessage = 4 << 20

var fromLine = []byte("From ")

// mboxReader splits an mbox file into messages. Both variants are read: in mboxo a body
// line "From " was written as ">From ", in mboxrd every ">*From " line got one more '>';
// removing one '>' from each ">+From " line undoes both (for bounce parsing the rare
// mboxo body line that really began with ">From " does not matter). Every line that
// begins with "From " starts a message, since writers of both variants escape the
// others. Memory is one message, at most maxMessage bytes.
type mboxReader struct {
	br      *bufio.Reader
	off     int64 // offset of the next unread byte
	next    int64 // offset of the From_ line of the next message; -1 before the first
	buf     bytes.Buffer
	long    []byte // a line longer than the bufio buffer, being assembled
	started bool
	done    bool
}

func newMboxReader(r io.Reader) *mboxReader {
	return &mboxReader{br: bufio.NewReaderSize(r, 64<<10), next: -1}
}

// readLine returns the next line with its terminator (the last one may lack it).
func (m *mboxReader) readLine() ([]byte, error) {
	line, err := m.br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		m.long = append(m.long[:0], line...)
		for errors.Is(err, bufio.ErrBufferFull) {
			line, err = m.br.ReadSlice('\n')
			if len(m.long) < maxMessage {
				m.long = append(m.long, line...)
			}
		}
		line = m.long
	}
	m.off += int64(len(line))
	return line, err
}

// Next returns the next message (unescaped; valid until the following call) and the
// byte offset of its From_ line, or io.EOF after the last one. cut reports a message
// longer than maxMessage, of which only the start is returned.
func (m *mboxReader) Next() (msg []byte, offset int64, cut bool, err error) {
	if m.done {
		return nil, 0, false, io.EOF
	}
	m.buf.Reset()
	offset = m.next
	for {
		start := m.off
		line, rerr := m.readLine()
		if len(line) > 0 {
			if bytes.HasPrefix(line, fromLine) {
				if m.started {
					m.next = start
					return m.buf.Bytes(), offset, cut, nil
				}
				m.started, offset = true, start
			} else if m.started {
				if l := bytes.TrimLeft(line, ">"); len(l) < len(line) && bytes.HasPrefix(l, fromLine) {
					line = line[1:]
				}
				if m.buf.Len()+len(line) <= maxMessage {
					m.buf.Write(line)
				} else {
					cut = true
				}
			}
		}
		if rerr != nil {
			m.done = true
			if !errors.Is(rerr, io.EOF) {
				return nil, offset, cut, rerr
			}
			if !m.started {
				return nil, 0, false, io.EOF
			}
			return m.buf.Bytes(), offset, cut, nil
		}
	}
}
