package smtpprobe

import (
	"context"
	"errors"
	"net"
	"os"
	"strings"
)

// Sentinel errors. Test for them with [errors.Is]; the errors a [Session] returns wrap
// them in an [*Error] that names the step and the host.
var (
	// ErrSMTPUTF8Unsupported is returned by [Session.Mail] when the caller needs
	// SMTPUTF8 (RFC 6531) and the server did not offer it in its EHLO reply. Nothing is
	// sent, and the session stays usable.
	ErrSMTPUTF8Unsupported = errors.New("smtpprobe: server does not offer SMTPUTF8")

	// ErrClosed is returned by every command on a session that is no longer alive: after
	// a 421 reply, an I/O error, a timeout, a protocol error or [Session.Close].
	ErrClosed = errors.New("smtpprobe: session closed")

	// ErrProtocol is wrapped, with detail, by the error for a reply that does not follow
	// RFC 5321 §4.2 (bad code, inconsistent codes across the lines of a reply, a
	// continuation that never ends), or for data the server sent unasked.
	ErrProtocol = errors.New("smtpprobe: protocol error")

	// ErrReplyTooLong is wrapped, together with [ErrProtocol], by the error for a reply
	// line longer than [Prober.MaxLineLen], a reply larger than [Prober.MaxReplySize], or
	// a reply of more than 256 lines.
	ErrReplyTooLong = errors.New("smtpprobe: reply too long")

	// ErrInvalidArgument is returned, before anything is written, for a command argument
	// (recipient, envelope sender) that contains CR, LF or NUL: such an argument would let the
	// caller's input inject SMTP commands. The session stays usable.
	ErrInvalidArgument = errors.New("smtpprobe: argument contains CR, LF or NUL")
)

// Error is the error of one step of a probe session. Reply is set when the server's
// reply is the reason (a 554 banner, a rejected HELO, a 421 at any step); Err is set for
// everything else (connect failure, I/O error, timeout, garbled reply, cancellation).
type Error struct {
	Step  Step   // the step that failed
	Host  string // the MX host name given to [Prober.Open] or [Prober.NewSession]
	Reply *Reply // the server's reply, if it sent one
	Err   error  // the underlying error; nil when Reply says it all
}

// Error formats e as "smtpprobe: rcpt at mx.example.com: 421 4.7.0 too many errors".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("smtpprobe: ")
	b.WriteString(string(e.Step))
	if e.Host != "" {
		b.WriteString(" at ")
		b.WriteString(e.Host)
	}
	if e.Reply != nil {
		b.WriteString(": ")
		b.WriteString(e.Reply.String())
	}
	if e.Err != nil {
		b.WriteString(": ")
		// Our sentinels carry the package prefix for standalone use; don't repeat it.
		b.WriteString(strings.TrimPrefix(e.Err.Error(), "smtpprobe: "))
	}
	return b.String()
}

// Unwrap returns e.Err.
func (e *Error) Unwrap() error { return e.Err }

// Timeout reports whether e was caused by a deadline: the per-command timeout, a dial
// timeout or the context's deadline.
func (e *Error) Timeout() bool {
	if e.Err == nil {
		return false
	}
	if errors.Is(e.Err, context.DeadlineExceeded) || errors.Is(e.Err, os.ErrDeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(e.Err, &ne) && ne.Timeout()
}
