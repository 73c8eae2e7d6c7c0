package smtpprobe

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"strings"
	"sync/atomic"
	"time"
)

// Session is one SMTP conversation with one server, meant to carry many recipients:
// [Session.Mail], then [Session.Rcpt] or [Session.RcptBatch] as often as needed,
// [Session.Reset] before the next MAIL, and [Session.Quit]. It has no method that sends
// DATA or BDAT.
//
// A Session is not safe for concurrent use, except that [Session.Close] and
// [Session.Alive] may be called from any goroutine (Close aborts a command in flight).
type Session struct {
	host, helo, from string
	timeout          time.Duration
	maxLine, maxSize int
	dialFn           func(ctx context.Context, network, addr string) (net.Conn, error)
	tlsConf          *tls.Config
	noTLS            bool
	dialAddr         string // "" for NewSession: no reconnect

	raw  net.Conn // the TCP (or proxied) connection; closing it unblocks everything
	conn net.Conn // raw or the TLS connection over it
	br   *bufio.Reader
	wbuf []byte

	alive       atomic.Bool
	closed      atomic.Bool // raw has been closed
	banner      Reply
	extNames    map[string]string
	tls         bool
	tlsVerified bool
	tlsState    tls.ConnectionState
	tlsErr      error
	rt          int
}

// maxPipelineBytes bounds the commands written in one pipelined group. RFC 2920 §3.1:
// a client that writes while the server blocks writing replies it does not read can
// deadlock; a group far smaller than any socket buffer cannot.
const maxPipelineBytes = 4096

// Host returns the MX host name the session was opened for.
func (s *Session) Host() string { return s.host }

// TLS reports whether STARTTLS succeeded: the session runs over TLS.
func (s *Session) TLS() bool { return s.tls }

// TLSVerified reports whether the server's certificate chain is valid for the host name
// (against [tls.Config.RootCAs] of [Prober.TLSConfig], else the system roots). It is
// false when [Session.TLS] is false.
func (s *Session) TLSVerified() bool { return s.tlsVerified }

// TLSError returns the handshake error that made [Prober.Open] reconnect without TLS, or
// nil.
func (s *Session) TLSError() error { return s.tlsErr }

// ConnectionState returns the TLS state and whether the session runs over TLS.
func (s *Session) ConnectionState() (tls.ConnectionState, bool) { return s.tlsState, s.tls }

// Extension reports whether the server offered the EHLO keyword name (case-insensitive,
// e.g. "PIPELINING", "SIZE") and returns its parameters ("35882577" for SIZE). After
// STARTTLS, these are the extensions of the second EHLO; after a HELO fallback, none.
func (s *Session) Extension(name string) (bool, string) {
	v, ok := s.extNames[strings.ToUpper(name)]
	return ok, v
}

// SMTPUTF8 reports whether the server offers SMTPUTF8 (RFC 6531).
func (s *Session) SMTPUTF8() bool {
	ok, _ := s.Extension("SMTPUTF8")
	return ok
}

// Banner returns the server's greeting.
func (s *Session) Banner() Reply { return s.banner }

// Alive reports whether the session can still carry commands: false after a 421, an I/O
// error, a timeout, a protocol error, a cancelled context during a command, Quit or
// Close.
func (s *Session) Alive() bool { return s.alive.Load() }

// RoundTrips returns how many times the client waited for the server: the banner, each
// command and each pipelined group of RCPTs, across a TLS-failure reconnect too.
func (s *Session) RoundTrips() int { return s.rt }

// Mail sends MAIL FROM:<From>, with the SMTPUTF8 parameter when smtputf8 is true. When
// smtputf8 is true and the server does not offer SMTPUTF8, Mail returns
// [ErrSMTPUTF8Unsupported] without sending anything. Any reply other than 421 is
// returned with a nil error, so a 550 to MAIL is the Reply, not an error; a 421 is
// returned both as the Reply and as an [*Error], and ends the session.
func (s *Session) Mail(ctx context.Context, smtputf8 bool) (Reply, error) {
	cmd := "MAIL FROM:<" + s.from + ">"
	if smtputf8 {
		if !s.Alive() {
			return Reply{}, s.errf(StepMAIL, nil, ErrClosed)
		}
		if !s.SMTPUTF8() {
			return Reply{}, s.errf(StepMAIL, nil, ErrSMTPUTF8Unsupported)
		}
		cmd += " SMTPUTF8"
	}
	return s.command(ctx, StepMAIL, cmd)
}

// Rcpt sends RCPT TO:<addr>; addr is already normalized (A-label domain) and is sent as
// it is. Any reply is returned with a nil error, except a 421 (returned as the Reply and
// an [*Error]; the session ends). The error is otherwise non-nil only for I/O errors,
// timeouts, garbled replies, a closed session or an addr containing CR, LF or NUL.
func (s *Session) Rcpt(ctx context.Context, addr string) (Reply, error) {
	return s.command(ctx, StepRCPT, "RCPT TO:<"+addr+">")
}

// RcptBatch sends RCPT TO for each of addrs and returns one Reply per address, in order.
// When the server offers PIPELINING (RFC 2920) the commands are written together and
// the replies read in order: one round trip per group of up to 4 KiB of commands; else
// they are sent one by one. Each reply gets its own deadline. On error it returns the
// replies received before the failure (a 421 among them, last) with the error. No
// command is sent if any addr contains CR, LF or NUL.
func (s *Session) RcptBatch(ctx context.Context, addrs []string) ([]Reply, error) {
	cmds := make([]Command, len(addrs))
	for i, a := range addrs {
		cmds[i] = Command{StepRCPT, "RCPT TO:<" + a + ">"}
	}
	return s.Pipeline(ctx, cmds)
}

// Command is one command line of a [Session.Pipeline] group, without CRLF.
type Command struct {
	Step Step   // what the command is, for errors
	Line string // e.g. "RCPT TO:<jane@example.org>"
}

// MailCommand returns the MAIL FROM command [Session.Mail] would send, for a
// [Session.Pipeline] group. It does not check that the server offers SMTPUTF8.
func (s *Session) MailCommand(smtputf8 bool) Command {
	cmd := "MAIL FROM:<" + s.from + ">"
	if smtputf8 {
		cmd += " SMTPUTF8"
	}
	return Command{StepMAIL, cmd}
}

// Pipeline sends cmds (RSET, MAIL and RCPT commands, several transactions in a row if
// need be) and returns one Reply per command, in order. When the server offers
// PIPELINING (RFC 2920) the commands are written together and the replies read in
// order: one round trip per group of up to 4 KiB of commands; else they are sent one by
// one. Each reply gets its own deadline. On error it returns the replies received
// before the failure (a 421 among them, last) with the error, at the step of the
// command whose reply is missing. No command is sent if any contains CR, LF or NUL.
func (s *Session) Pipeline(ctx context.Context, cmds []Command) ([]Reply, error) {
	for _, c := range cmds {
		if err := checkArg(c.Line); err != nil {
			return nil, s.errf(c.Step, nil, err)
		}
	}
	replies := make([]Reply, 0, len(cmds))
	pipelining, _ := s.Extension("PIPELINING")
	for len(cmds) > 0 {
		n, size := 1, len(cmds[0].Line)
		if pipelining {
			for n < len(cmds) && size+len(cmds[n].Line)+2 <= maxPipelineBytes {
				size += len(cmds[n].Line) + 2
				n++
			}
		}
		var err error
		replies, err = s.roundTrip(ctx, cmds[:n], replies, nil)
		if err != nil {
			return replies, err
		}
		cmds = cmds[n:]
	}
	return replies, nil
}

// Reset sends RSET. Replies are returned as by [Session.Rcpt].
func (s *Session) Reset(ctx context.Context) (Reply, error) {
	return s.command(ctx, StepRSET, "RSET")
}

// Quit sends QUIT, waits for the reply at most min(Timeout, 2 s), and closes the
// connection whatever happens. On a session that is no longer alive it only closes and
// returns nil. The error, if any, is an [*Error] at [StepQUIT] that callers may ignore.
func (s *Session) Quit() error {
	if !s.Alive() {
		s.Close()
		return nil
	}
	d := min(s.timeout, maxQuitWait)
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	_, err := s.command(ctx, StepQUIT, "QUIT")
	s.Close()
	return err
}

// Leave sends QUIT and closes the connection without waiting for the reply, so that the
// caller's slot for this server is free one round trip sooner (RFC 5321 §4.1.1.10 only
// says the client SHOULD wait for it; the server has seen the QUIT). On a session that
// is no longer alive it only closes.
func (s *Session) Leave() {
	if s.Alive() {
		s.raw.SetWriteDeadline(time.Now().Add(min(s.timeout, maxQuitWait)))
		s.conn.Write([]byte("QUIT\r\n"))
	}
	s.Close()
}

// Close closes the connection at once without QUIT. It is idempotent.
func (s *Session) Close() error {
	s.alive.Store(false)
	return s.closeRaw()
}

// abort closes the connection from a context.AfterFunc, unblocking a read or write.
func (s *Session) abort() { s.kill() }

// kill ends the session after an error.
func (s *Session) kill() {
	s.alive.Store(false)
	s.closeRaw()
}

// closeRaw closes the current connection once.
func (s *Session) closeRaw() error {
	if s.raw == nil || s.closed.Swap(true) {
		return nil
	}
	return s.raw.Close()
}

// deadline is now+timeout, or ctx's deadline if that is earlier.
func (s *Session) deadline(ctx context.Context) time.Time {
	d := time.Now().Add(s.timeout)
	if dl, ok := ctx.Deadline(); ok && dl.Before(d) {
		d = dl
	}
	return d
}

// command sends one command and reads its reply.
func (s *Session) command(ctx context.Context, step Step, cmd string) (Reply, error) {
	return s.exchange(ctx, step, cmd, nil)
}

func (s *Session) exchange(ctx context.Context, step Step, cmd string, lines *[]string) (Reply, error) {
	var one [1]Reply
	r, err := s.roundTrip(ctx, []Command{{step, cmd}}, one[:0], lines)
	if len(r) == 1 {
		return r[0], err
	}
	return Reply{}, err
}

// roundTrip writes cmds in one write, then reads one reply per command, appending them
// to replies. Every reply read has its own deadline, fixed before the read starts, so
// a server dripping bytes cannot extend it. An error is reported at the step of the
// command whose reply is missing.
func (s *Session) roundTrip(ctx context.Context, cmds []Command, replies []Reply, lines *[]string) ([]Reply, error) {
	step := cmds[0].Step
	if !s.Alive() {
		return replies, s.errf(step, nil, ErrClosed)
	}
	s.wbuf = s.wbuf[:0]
	for _, c := range cmds {
		if err := checkArg(c.Line); err != nil {
			return replies, s.errf(c.Step, nil, err)
		}
		s.wbuf = append(s.wbuf, c.Line...)
		s.wbuf = append(s.wbuf, '\r', '\n')
	}
	if err := ctx.Err(); err != nil {
		return replies, s.errf(step, nil, err)
	}
	if s.br.Buffered() > 0 {
		// Bytes nobody asked for: a reply would be matched to the wrong command.
		return replies, s.fail(ctx, step, fmt.Errorf("%w: unsolicited data before %s", ErrProtocol, verb(cmds[0].Line)))
	}
	stop := context.AfterFunc(ctx, s.abort)
	defer stop()
	s.raw.SetDeadline(s.deadline(ctx))
	if _, err := s.conn.Write(s.wbuf); err != nil {
		return replies, s.fail(ctx, step, err)
	}
	s.rt++
	for i, c := range cmds {
		if i > 0 {
			s.raw.SetDeadline(s.deadline(ctx))
		}
		r, err := readReply(s.br, s.maxLine, s.maxSize, lines)
		if err != nil {
			return replies, s.fail(ctx, c.Step, err)
		}
		replies = append(replies, r)
		if r.Code == 421 {
			// RFC 5321 §3.8: the server is closing the transmission channel.
			s.kill()
			return replies, s.errf(c.Step, &r, nil)
		}
	}
	if !stop() {
		return replies, s.fail(ctx, cmds[len(cmds)-1].Step, ctx.Err())
	}
	return replies, nil
}

// fail ends the session after an I/O or protocol error and wraps it. If ctx ended (its
// AfterFunc closed the connection) the context's error is what happened; if Close did,
// ErrClosed.
func (s *Session) fail(ctx context.Context, step Step, err error) error {
	closedByUs := !s.alive.Load() // Close from another goroutine
	s.kill()
	switch {
	case ctx.Err() != nil:
		err = ctx.Err()
	case closedByUs:
		err = ErrClosed
	}
	return s.errf(step, nil, err)
}

func (s *Session) errf(step Step, r *Reply, err error) *Error {
	return &Error{Step: step, Host: s.host, Reply: r, Err: err}
}

// checkArg rejects a command line that would smuggle in another command.
func checkArg(cmd string) error {
	if strings.ContainsAny(cmd, "\r\n\x00") {
		return fmt.Errorf("%w: %q", ErrInvalidArgument, cmd)
	}
	return nil
}

func verb(cmd string) string {
	v, _, _ := strings.Cut(cmd, " ")
	return v
}
