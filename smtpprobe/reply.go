package smtpprobe

import (
	"fmt"
	"strings"
)

// Step names the SMTP command (or connection phase) a [Reply] answers.
type Step string

// The steps of a probe conversation, in the order they happen.
const (
	StepConnect  Step = "connect"  // TCP connect (no reply)
	StepBanner   Step = "banner"   // the 220 greeting
	StepEHLO     Step = "ehlo"     // EHLO, or HELO after a rejected EHLO
	StepSTARTTLS Step = "starttls" // STARTTLS and the TLS handshake
	StepMAIL     Step = "mail"     // MAIL FROM
	StepRCPT     Step = "rcpt"     // RCPT TO
	StepRSET     Step = "rset"     // RSET
	StepQUIT     Step = "quit"     // QUIT
)

// Reply is one SMTP reply: the basic code, the RFC 3463 enhanced status code when the
// server sent one, and the text with the codes removed (lines of a multi-line reply are
// joined with a single space).
type Reply struct {
	Code     int    // e.g. 550
	Enhanced string // e.g. "5.1.1"; empty when the server sends none (qmail)
	Message  string // e.g. "User unknown in virtual mailbox table"
}

// Positive reports whether r is a 2xx or 3xx reply.
func (r Reply) Positive() bool { return r.Code >= 200 && r.Code < 400 }

// Transient reports whether r is a 4xx reply.
func (r Reply) Transient() bool { return r.Code >= 400 && r.Code < 500 }

// Permanent reports whether r is a 5xx reply.
func (r Reply) Permanent() bool { return r.Code >= 500 && r.Code < 600 }

// String formats r the way a server would have sent it on one line.
func (r Reply) String() string {
	parts := make([]string, 0, 3)
	parts = append(parts, fmt.Sprint(r.Code))
	if r.Enhanced != "" {
		parts = append(parts, r.Enhanced)
	}
	if r.Message != "" {
		parts = append(parts, r.Message)
	}
	return strings.Join(parts, " ")
}
