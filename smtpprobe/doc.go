// Package smtpprobe holds one SMTP conversation (RFC 5321) that asks a mail exchanger
// whether it accepts recipients, without ever sending a message.
//
// A [Prober] opens a [Session]: connect, banner, EHLO (HELO when EHLO gets a 5xx),
// STARTTLS when offered and a second EHLO. The session then carries as many recipients
// as the caller wants — MAIL FROM, RCPT TO after RCPT TO ([Session.RcptBatch] pipelines
// them, RFC 2920), RSET before the next MAIL FROM — and ends with QUIT:
//
//	p := &smtpprobe.Prober{HELO: "probe.example.net", From: "verify@probe.example.net"}
//	s, err := p.Open(ctx, "mx1.example.com", addr)
//	if err != nil {
//		return err // *smtpprobe.Error: Step, Reply (a 554 banner), Err (timeout)
//	}
//	defer s.Quit()
//	if _, err := s.Mail(ctx, false); err != nil {
//		return err
//	}
//	replies, err := s.RcptBatch(ctx, []string{"jane@example.com", "x7q2k9@example.com"})
//
// # Never DATA
//
// The package never sends DATA or BDAT: a Session has no method that could, and every
// command it writes is one of EHLO, HELO, STARTTLS, MAIL, RCPT, RSET and QUIT. Command
// arguments containing CR, LF or NUL are refused before anything is written
// ([ErrInvalidArgument]), so caller input cannot smuggle in a command.
//
// # Bounded cost
//
// The client is our own, over a bounded reader, rather than go-smtp's client, whose
// net/textproto reads accept lines and multi-line replies of any length and whose
// deadline handling is left to the caller. Whatever the server does, a session costs
// bounded time and memory:
//
//   - Each command (and the connect, the banner and the TLS handshake) gets one deadline,
//     now + [Prober.Timeout] or the context's deadline if earlier, set once on the
//     connection before the command is written. A server dripping one byte at a time
//     cannot extend it. Pipelined RCPTs get one such deadline per reply.
//   - A context.AfterFunc closes the connection when the context ends, so cancellation
//     (Ctrl-C) unblocks a read at once; the error then wraps ctx.Err().
//   - A reply line is capped at [Prober.MaxLineLen] (2048 octets), a reply at
//     [Prober.MaxReplySize] (64 KiB) and 256 lines; beyond that the read stops with
//     [ErrReplyTooLong] after reading at most one line's worth past the cap.
//   - A garbled reply, codes that change across the lines of a reply, or bytes the
//     server sent unasked (which would pair a later reply with the wrong command) end
//     the session with [ErrProtocol].
//   - With PIPELINING, RCPT commands are written in groups of at most 4 KiB, so neither
//     side can block writing while the other does (RFC 2920 §3.1), and the replies are
//     read in order: one round trip per group ([Session.RoundTrips]).
//
// A 421 reply (RFC 5321 §3.8), an I/O error, a timeout or a protocol error ends the
// session: [Session.Alive] turns false and later commands return [ErrClosed].
//
// # TLS policy
//
// STARTTLS is opportunistic (RFC 3207, as MTAs do without MTA-STS or DANE): unless
// [Prober.NoTLS] is set, it is used when the server offers it, and by default the
// certificate is not verified during the handshake, because a self-signed or expired
// certificate says nothing about whether a mailbox exists. [Session.TLSVerified]
// records whether the chain would have verified for the MX name. A non-220 reply to
// STARTTLS leaves the session in plain text. A failed handshake (or plain-text bytes
// after the 220, a response-injection attempt) leaves the connection unusable, so
// [Prober.Open] closes it and reconnects once without STARTTLS; [Session.TLS] is then
// false and [Session.TLSError] tells why.
//
// # Replies
//
// Every command returns a [Reply]: the basic code, the RFC 3463 enhanced code and the
// text, parsed by [ReadReply] (which needs no socket). A negative reply is a Reply, not
// an error; interpreting it is the caller's job. Errors are [*Error] values naming the
// [Step] and the host.
package smtpprobe
