package dsn

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"unicode"
	"unicode/utf8"
)

// A Problem is an input that could not be read, and where it is. The run goes on.
type Problem struct {
	File string
	Pos  string // "message 3 at byte 5120", "event 7", "line 12"; "" for the whole file
	Err  error
}

func (p Problem) String() string {
	// Errors may quote the input: binary garbage must not reach a terminal.
	msg := strings.TrimSpace(strings.Map(func(r rune) rune {
		if r == utf8.RuneError || unicode.IsControl(r) {
			return '?'
		}
		return r
	}, strings.ToValidUTF8(p.Err.Error(), "?")))
	if p.Pos == "" {
		return p.File + ": " + msg
	}
	return p.File + ": " + p.Pos + ": " + msg
}

// Stats counts what a [Scanner] read.
type Stats struct {
	Messages   int // messages and ESP event records read
	Events     int // events passed on (one message may report several recipients)
	NotBounces int // messages that are no bounce, ESP events that are none (opens, clicks)
	Problems   int // unreadable messages, records and files
}

// A Scanner reads bounce sources and passes on the events they hold: mbox files
// (mboxo and mboxrd), Maildir directories (cur/ and new/, and Maildir++ sub-folders),
// single messages (.eml), ESP event exports (JSON: Amazon SES through SNS, SendGrid,
// Mailgun, Postmark) and CSV files, each possibly gzip-compressed. The format of a file
// is recognised from its content, not its name.
type Scanner struct {
	// Event is called for each event, in input order. An error it returns stops the scan.
	Event func(Event) error
	// Problem is called for each input that could not be read; nil ignores them.
	Problem func(Problem)
	// Stats counts what was read so far.
	Stats Stats
}

// Scan reads each path, a file or a directory (read recursively, in name order). It
// returns an error only for a path that cannot be opened, an error of Event, or the end
// of ctx; every other failure is a [Problem] and the scan goes on.
func (s *Scanner) Scan(ctx context.Context, paths ...string) error {
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return err
		}
		if st.IsDir() {
			err = s.scanDir(ctx, p)
		} else {
			err = s.scanFile(ctx, p)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (s *Scanner) problem(file, pos string, err error) {
	s.Stats.Problems++
	if s.Problem != nil {
		s.Problem(Problem{File: file, Pos: pos, Err: err})
	}
}

func (s *Scanner) emit(ev Event) error {
	s.Stats.Events++
	return s.Event(ev)
}

// isMaildir reports whether dir holds cur/ or new/.
func isMaildir(dir string) bool {
	for _, sub := range []string{"cur", "new"} {
		if st, err := os.Stat(filepath.Join(dir, sub)); err == nil && st.IsDir() {
			return true
		}
	}
	return false
}

func (s *Scanner) scanDir(ctx context.Context, dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		s.problem(dir, "", err)
		return nil
	}
	if isMaildir(dir) {
		for _, sub := range []string{"cur", "new"} {
			if err := s.scanFiles(ctx, filepath.Join(dir, sub)); err != nil {
				return err
			}
		}
		// Maildir++ folders (.Bounces, .Junk) are sub-directories starting with a dot;
		// tmp/ holds messages still being written.
		for _, e := range entries {
			if e.IsDir() && strings.HasPrefix(e.Name(), ".") && isMaildir(filepath.Join(dir, e.Name())) {
				if err := s.scanDir(ctx, filepath.Join(dir, e.Name())); err != nil {
					return err
				}
			}
		}
		return nil
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			continue
		}
		p := filepath.Join(dir, e.Name())
		if e.IsDir() {
			err = s.scanDir(ctx, p)
		} else if e.Type().IsRegular() {
			err = s.scanFile(ctx, p)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// scanFiles reads every regular file of dir (a Maildir's cur/ or new/), in name order.
func (s *Scanner) scanFiles(ctx context.Context, dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			s.problem(dir, "", err)
		}
		return nil
	}
	for _, e := range entries {
		if e.Type().IsRegular() && !strings.HasPrefix(e.Name(), ".") {
			if err := s.scanFile(ctx, filepath.Join(dir, e.Name())); err != nil {
				return err
			}
		}
	}
	return nil
}

// scanFile reads one file, gunzipping it first when it is compressed.
func (s *Scanner) scanFile(ctx context.Context, name string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f, err := os.Open(name)
	if err != nil {
		s.problem(name, "", err)
		return nil
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 64<<10)
	var r io.Reader = br
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			s.problem(name, "", fmt.Errorf("gzip: %w", err))
			return nil
		}
		defer zr.Close()
		r = bufio.NewReaderSize(zr, 64<<10)
	}
	return s.scanReader(ctx, name, r.(*bufio.Reader))
}

// scanReader recognises the format of one file from its first bytes.
func (s *Scanner) scanReader(ctx context.Context, name string, br *bufio.Reader) error {
	head, _ := br.Peek(4096)
	trimmed := bytes.TrimLeft(bytes.TrimPrefix(head, []byte("\ufeff")), " \t\r\n")
	switch {
	case len(trimmed) == 0:
		s.problem(name, "", errors.New("empty file"))
		return nil
	case bytes.HasPrefix(head, fromLine):
		return s.scanMbox(ctx, name, br)
	case trimmed[0] == '{' || trimmed[0] == '[':
		return s.scanJSON(ctx, name, br)
	case isHeaderLine(head):
		return s.scanMessage(name, func() string { return "" }, br)
	}
	return s.scanCSV(ctx, name, br)
}

// isHeaderLine reports whether b starts with an RFC 5322 header field: a name of
// printable characters other than ':' and space, then ':'.
func isHeaderLine(b []byte) bool {
	for i, c := range b {
		switch {
		case c == ':':
			return i > 0
		case c <= ' ' || c > '~':
			return false
		}
	}
	return false
}

func (s *Scanner) scanMbox(ctx context.Context, name string, br *bufio.Reader) error {
	m := newMboxReader(br)
	for n := 1; ; n++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		msg, off, cut, err := m.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		// Formatted only for a problem: most messages have none.
		pos := func() string { return fmt.Sprintf("message %d at byte %d", n, off) }
		if err != nil {
			s.problem(name, pos(), err)
			return nil
		}
		if cut {
			s.problem(name, pos(), fmt.Errorf("message longer than %d bytes: only its start was read", maxMessage))
		}
		if err := s.scanMessage(name, pos, bytes.NewReader(msg)); err != nil {
			return err
		}
	}
}

// scanMessage parses one message and passes on its events.
func (s *Scanner) scanMessage(name string, pos func() string, r io.Reader) error {
	s.Stats.Messages++
	evs, err := ParseMessage(r)
	switch {
	case errors.Is(err, ErrNotBounce):
		s.Stats.NotBounces++
	case err != nil:
		s.problem(name, pos(), err)
	}
	for _, ev := range evs {
		if err := s.emit(ev); err != nil {
			return err
		}
	}
	return nil
}
