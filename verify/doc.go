// Package verify answers, per email address, "will mail to this address be delivered?"
// as one of four statuses ([StatusDeliverable], [StatusUndeliverable], [StatusRisky],
// [StatusUnknown]) with a precise [Reason].
//
// # Stages
//
// [Verifier.Verify] runs the stages in order and stops at the first that decides:
//
//  1. syntax: [ParseAddress], an RFC 5321 Mailbox parser with RFC 6531 UTF-8 local parts
//     and IDNA (UTS-46) domains; RFC 2606/6761 special-use domains are reserved_domain.
//  2. DNS: MX lookup through [dnscheck.Resolver]: NXDOMAIN is no_such_domain, "MX 0 ." is
//     null_mx (RFC 7505), no MX means the implicit MX of RFC 5321 §5.1, and a DNS failure
//     (SERVFAIL, timeout) is dns_error, never "the domain does not exist".
//  3. lists: disposable domains are risky without any probe; role, free and typo
//     suggestions are flags only.
//  4. SMTP: RCPT TO on the domain's exchangers through [smtpprobe], then a catch-all probe
//     with a random local part, once per domain. No message is ever sent.
//
// A rejection of the prober (a 554 banner, a refusal at MAIL FROM, a 5.7.x policy or
// blocklist reply, a rate limit, greylisting) is never undeliverable: it says nothing
// about the mailbox, so it is unknown (smtp_blocked or smtp_temp_failure). [ClassifyReply]
// is the one place that reads reply codes and text.
//
// # Sharing
//
// A Verifier is safe for concurrent use and is meant to be shared by a whole run: DNS
// answers are cached per run, each domain's catch-all status is probed once, and
// recipients of the same mail server address are batched onto shared SMTP sessions by
// package sched, at most [Verifier.PerMX] at a time per server address.
// [Verifier.VerifyAll] runs a bounded pool and delivers results in input order.
//
// # Example
//
//	v := &verify.Verifier{} // offline: syntax and lists only
//	r, err := v.Verify(ctx, "Jane Doe <jane@gmail.con>")
//	// r.Status == verify.StatusUnknown, r.Reason == verify.ReasonSMTPSkipped,
//	// r.Suggestion == "jane@gmail.com"
package verify
