package fakes

import (
	"errors"
	"io"
	"strings"
	"time"

	"github.com/emersion/go-smtp"
)

// rcpt decides the reply to RCPT TO:<to>; nil accepts.
func (s *Server) rcpt(to string) *Reply {
	addr := strings.ToLower(to)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.recipients++
	s.seen[addr]++
	first := s.seen[addr] == 1
	if first {
		s.firstSeen[addr] = time.Now()
	} else if s.cfg.GreylistDelay > 0 && time.Since(s.firstSeen[addr]) < s.cfg.GreylistDelay {
		first = true // retried too early: still greylisted
	}
	r := s.decide(to, addr, first)
	if r != nil && r.Code >= 400 {
		s.rejected++
	}
	return r
}

func (s *Server) decide(to, addr string, first bool) *Reply {
	if r, ok := s.replies[addr]; ok {
		return &r
	}
	_, domain, _ := cutLast(addr, "@")
	if s.cfg.Greylist && first {
		return &Reply{450, "4.7.1", "<" + to + ">: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/help/" + domain + ".html"}
	}
	if s.mailboxes[addr] || s.catchAll[domain] {
		return nil
	}
	if s.cfg.Unknown != nil {
		return s.cfg.Unknown
	}
	return &Reply{550, "5.1.1", "<" + to + ">: Recipient address rejected: User unknown in virtual mailbox table"}
}

func cutLast(s, sep string) (before, after string, found bool) {
	if i := strings.LastIndex(s, sep); i >= 0 {
		return s[:i], s[i+len(sep):], true
	}
	return s, "", false
}

// newSession is go-smtp's Backend: it is called at the first EHLO/HELO of a
// connection and again after STARTTLS.
func (s *Server) newSession(sc *smtp.Conn) (smtp.Session, error) {
	c := unwrap(sc.Conn())
	if c == nil {
		return nil, errors.New("fakes: connection not from this package")
	}
	c.mu.Lock()
	c.top = sc.Conn() // the *tls.Conn after STARTTLS
	c.mu.Unlock()
	if !c.beforeReply() {
		return nil, errClosed
	}
	return &session{s: s, c: c}, nil
}

// session implements smtp.Session for [MXFarm.Host] servers.
type session struct {
	s      *Server
	c      *conn
	inTx   bool   // a MAIL was accepted since the last RSET
	domain string // of the transaction's first recipient
}

func (se *session) Mail(from string, _ *smtp.MailOptions) error {
	if !se.c.beforeReply() {
		return errClosed
	}
	if se.inTx {
		if se.s.cfg.StrictTransactions {
			se.s.errorf("fakes: MX %s: nested MAIL command (no RSET after the previous MAIL)", se.s.ip)
		}
		se.c.noteError()
		return &smtp.SMTPError{Code: 503, EnhancedCode: smtp.EnhancedCode{5, 5, 1}, Message: "Error: nested MAIL command"}
	}
	r := se.s.cfg.MailReply
	if r == nil || r.Code < 400 {
		se.inTx, se.domain = true, ""
	}
	if r == nil {
		return nil
	}
	if r.Code >= 400 {
		se.c.noteError()
	}
	return r.err()
}

func (se *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if !se.c.beforeReply() {
		return errClosed
	}
	_, domain, _ := cutLast(strings.ToLower(to), "@")
	if se.domain == "" {
		se.domain = domain
	} else if se.domain != domain && se.s.cfg.StrictTransactions {
		se.s.errorf("fakes: MX %s: recipients of %s and %s in one transaction", se.s.ip, se.domain, domain)
	}
	r := se.s.rcpt(to)
	if r == nil {
		return nil
	}
	if r.Code >= 400 {
		se.c.noteError()
	}
	return r.err()
}

// Data is called for DATA and BDAT once a recipient was accepted; the
// command was already reported by dataScanner, but a command split across
// two reads escapes the scanner, so report it here too (only the first
// report per server fails the test).
func (se *session) Data(io.Reader) error {
	se.s.reportData()
	return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 5, 1}, Message: "fakes: DATA/BDAT is never expected"}
}

// Reset is called for RSET, a repeated EHLO and after STARTTLS.
func (se *session) Reset() {
	se.inTx, se.domain = false, ""
	se.c.beforeReply()
}

func (se *session) Logout() error { return nil }
