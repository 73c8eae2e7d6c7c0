package fakes

import (
	"crypto/tls"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-smtp"
)

// Config configures a well-behaved server started by [MXFarm.Host]. The zero
// value accepts no recipient: every RCPT gets the Unknown reply.
//
// Addresses and domains are matched case-insensitively. A RCPT's reply is,
// in order: Replies[addr]; the greylisting 450 if Greylist is set and addr
// is new; go-smtp's "250 2.0.0" if addr is in Mailboxes or its domain in
// CatchAll; otherwise Unknown.
//
// Errors are counted per session as Postfix does for smtpd_soft_error_limit
// and smtpd_hard_error_limit: each 4xx/5xx reply this package gives to MAIL
// or RCPT (MailReply, rejected or greylisted recipients) counts one. go-smtp's
// own protocol errors (bad syntax, RCPT before MAIL, ...) are not counted.
type Config struct {
	// Mailboxes are the accepted recipients, "local@domain".
	Mailboxes []string
	// CatchAll are domains that accept any local part.
	CatchAll []string
	// Replies are per-recipient replies, keyed by address (any case),
	// checked before anything else: e.g. {552, "5.2.2", "Mailbox full"},
	// {550, "5.2.1", "Mailbox disabled"}, {450, "4.7.1", "Try later"}.
	// A 2xx reply accepts the recipient with that text.
	Replies map[string]Reply
	// Unknown is the reply to any other recipient. Nil means Postfix's
	// "550 5.1.1 <addr>: Recipient address rejected: User unknown in
	// virtual mailbox table".
	Unknown *Reply
	// Banner, if non-nil, is sent at connect instead of the 220 greeting,
	// after which the server closes the connection (e.g. 554 5.7.1 for a
	// blocklisted client). Such a server never reaches go-smtp.
	Banner *Reply
	// MailReply, if non-nil, is the reply to every MAIL FROM (e.g. 553
	// 5.7.1 sender rejected). Nil accepts the sender.
	MailReply *Reply
	// SMTPUTF8 makes EHLO advertise SMTPUTF8 (RFC 6531). Without it go-smtp
	// answers 504 5.5.4 to MAIL FROM with the SMTPUTF8 parameter.
	SMTPUTF8 bool
	// NoPipelining removes PIPELINING from the EHLO reply; go-smtp always
	// advertises it, so the server deletes that line on the wire. Commands
	// sent pipelined anyway are still processed in order. It cannot be
	// combined with TLS (the EHLO after STARTTLS is encrypted by go-smtp
	// itself, out of this package's reach): Host calls t.Fatal.
	NoPipelining bool
	// TLS, if non-nil, makes EHLO advertise STARTTLS, handled by go-smtp
	// with this config (see [TLSConfig]).
	TLS *tls.Config
	// Latency delays the server's first write after each read that brought
	// data from the client, and its banner: one simulated round trip per
	// time the client waits, so a pipelined group of commands pays it once,
	// as over a real network. 0 means no delay.
	Latency time.Duration
	// SoftErrorLimit, if > 0, is like Postfix's smtpd_soft_error_limit:
	// once a session has made this many errors, the server sleeps
	// ErrorSleep before each reply to EHLO, MAIL, RCPT and RSET (and before
	// the 421 of HardErrorLimit).
	SoftErrorLimit int
	// ErrorSleep is the delay of SoftErrorLimit; it defaults to 1s
	// (Postfix's smtpd_error_sleep_time) when SoftErrorLimit > 0.
	ErrorSleep time.Duration
	// HardErrorLimit, if > 0, is like Postfix's smtpd_hard_error_limit:
	// right after the reply that brings a session's errors to this many,
	// the server sends "421 4.7.0 <Hostname> Error: too many errors" and
	// disconnects. The 421 goes out before the server waits for the client
	// again, or, if the client had already pipelined more commands, before
	// the next EHLO, MAIL, RCPT, RSET or DATA is handled (a pipelined NOOP,
	// VRFY or QUIT gets go-smtp's reply first).
	HardErrorLimit int
	// MaxSessions, if > 0, makes the server call t.Errorf whenever more
	// than this many of its sessions are open at once. A session counts as
	// open from accept until the server closes it or sees that the client
	// closed it (TCP CLOSE_WAIT, checked on Linux), so a client that
	// closes one connection before dialing the next never trips it.
	MaxSessions int
	// Greylist makes the first RCPT for each address (per server, not in
	// Replies) answer "450 4.7.1 <addr>: Recipient address rejected:
	// Greylisted, ..." (postgrey's wording); later RCPTs for it are
	// answered normally.
	Greylist bool
	// GreylistDelay, with Greylist, keeps answering 450 to an address until this long
	// after its first RCPT (postgrey waits 5 minutes), as real greylisting does.
	GreylistDelay time.Duration
	// ConnLimit, if > 0, refuses a connection that would make more than this
	// many sessions open at once with "421 4.7.0 Too many connections from
	// your host" instead of the greeting (then closes it), as Exim's
	// smtp_accept_max_per_host and Postfix's smtpd_client_connection_count_limit do.
	ConnLimit int
	// MaxRecipients, if > 0, answers "452 4.5.3 Maximum limit of N recipients
	// reached" (go-smtp's wording) to RCPTs beyond this many in one transaction.
	MaxRecipients int
	// StrictTransactions makes the server call t.Errorf on a nested MAIL (a MAIL FROM
	// while a transaction is open; answered "503 5.5.1 Error: nested MAIL command" as
	// Postfix does, with or without this) and on recipients of two domains in one
	// transaction (some providers refuse transactions that span tenants).
	StrictTransactions bool
	// Hostname is the server's name in its banner, EHLO reply and 421. It
	// defaults to "mx-127-0-0-2.fakes.test" for 127.0.0.2, and so on.
	Hostname string
}

// Reply is an SMTP reply: Code 250, Enhanced "2.1.5" (RFC 3463; "" for
// none), Message "Ok". A Message with "\n" becomes a multi-line reply.
type Reply struct {
	Code     int
	Enhanced string
	Message  string
}

// String returns the reply as sent on the wire, CRLF-terminated.
func (r Reply) String() string {
	lines := strings.Split(r.Message, "\n")
	var b strings.Builder
	for i, l := range lines {
		sep := "-"
		if i == len(lines)-1 {
			sep = " "
			if r.Enhanced != "" {
				l = r.Enhanced + " " + l
			}
		}
		fmt.Fprintf(&b, "%d%s%s\r\n", r.Code, sep, l)
	}
	return b.String()
}

// enhanced parses r.Enhanced into go-smtp's form.
func (r Reply) enhanced() (smtp.EnhancedCode, error) {
	if r.Enhanced == "" {
		return smtp.NoEnhancedCode, nil
	}
	var ec smtp.EnhancedCode
	parts := strings.Split(r.Enhanced, ".")
	if len(parts) != 3 {
		return ec, fmt.Errorf("enhanced code %q is not class.subject.detail", r.Enhanced)
	}
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || n > 999 {
			return ec, fmt.Errorf("enhanced code %q is not class.subject.detail", r.Enhanced)
		}
		ec[i] = n
	}
	if ec[0] != r.Code/100 {
		return ec, fmt.Errorf("enhanced code %q does not match code %d", r.Enhanced, r.Code)
	}
	return ec, nil
}

func (r Reply) check() error {
	if r.Code < 200 || r.Code > 599 {
		return fmt.Errorf("code %d is not 2xx-5xx", r.Code)
	}
	_, err := r.enhanced()
	return err
}

// err returns r as the error a go-smtp session method returns to have it sent.
func (r Reply) err() error {
	ec, _ := r.enhanced() // checked by Host
	return &smtp.SMTPError{Code: r.Code, EnhancedCode: ec, Message: r.Message}
}
