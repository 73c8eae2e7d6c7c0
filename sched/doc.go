// Package sched schedules SMTP recipient probes onto shared sessions, politely.
//
// The unit of politeness is the mail server address: every address gets one queue, and
// at most [Config.PerServer] sessions at any instant, whatever MX names point at it
// (Google Workspace tenants share one MX name; each Microsoft 365 tenant has its own
// name on shared addresses). A domain's recipients are routed to the queue of the
// exchanger address it would use (MX preference, random among equals, the next host
// when one fails), so one session serves every domain routed to its server.
//
// A session writes its work as pipelined groups (RFC 2920): for each domain a
// transaction (RSET when one is open, MAIL FROM, the domain's RCPTs), several
// transactions in one write. Recipients of two domains never share a transaction. A
// group never holds more recipients than the session may still see rejected, and puts
// those that may be rejected last, so a session stays within the server's error limit
// (Postfix slows the replies after a session's 10th error and disconnects after 20)
// whatever the replies; it is recycled once that budget or [Config.RcptPerSession] is
// used. A session lingers only while its queue is empty, so
// no slot is held by an idle session while a recipient for that server waits.
//
// The catch-all probe costs no extra wait: a domain one of whose real recipients was
// refused as unknown is not catch-all and is never probed; otherwise the probe (a
// random local part) goes into the next group of the same session, after the domain's
// first accepted recipients, and waits out one more group if that one holds real
// recipients of its domain. Its outcome is tri-state ([CatchAll]).
//
// Servers teach limits, learnt for the run: "421 too many errors" lowers the rejection
// budget, "421 too many connections" the session count, "452 4.5.3 too many
// recipients" the transaction size. A 421 or 4xx to MAIL backs the server off (1 s,
// doubling to a minute) without holding a slot.
//
// Time is bounded per request: from the moment a request is first taken into a session
// it gets an answer within [Config.Bound] (2 × the SMTP timeout + 5 s by default),
// whatever the servers do. A server that stops answering commands, or whose
// connections fail twice in a row, fails its pending requests at once for a while
// instead of costing each of them a timeout; a connection still not established after
// a short delay lets the request move on to the domain's next exchanger (staggered, as
// in RFC 8305's Happy Eyeballs).
//
// The scheduler reports what each server said ([Outcome]); it decides no verdict.
// Replies are read only through [Config.Classify], the caller's reply classifier.
package sched
