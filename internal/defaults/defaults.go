// Package defaults holds the tuning defaults that the command's flags show and the
// engines apply to zero-valued fields, so that help text and behaviour cannot differ.
// It is a leaf: every package may import it.
package defaults

import "time"

const (
	// PerMX bounds simultaneous SMTP sessions to one mail server (--per-mx).
	PerMX = 2
	// RcptPerConn is how many recipients one SMTP session probes (--rcpt-per-conn).
	RcptPerConn = 50
	// MaxRejects is how many rejected recipients one session takes before a fresh one
	// is opened (--max-rejects): Postfix slows the replies after a session's 10th error.
	MaxRejects = 10
	// MaxMXHosts bounds the mail exchangers tried for a domain, in preference order.
	MaxMXHosts = 3
	// Linger is how long an idle SMTP session waits for more recipients.
	Linger = 500 * time.Millisecond
	// DNSTimeout bounds one DNS query (--dns-timeout).
	DNSTimeout = 5 * time.Second
	// SMTPTimeout bounds one SMTP command, connect included (--smtp-timeout).
	SMTPTimeout = 15 * time.Second
	// Workers is how many addresses are verified at once (--workers).
	Workers = 64
	// SMTPPort is the TCP port of mail exchangers (--smtp-port).
	SMTPPort = 25
)
