// Package diag diagnoses mail setups: [Checker.Domain] reports what a mail domain
// publishes and how its exchangers behave (`everify domain`), [Doctor.Run] whether this
// machine can probe at all (`everify doctor`).
//
// # Domain reports
//
// A [Report] holds the evidence — MX records and their addresses, what each address
// says on port 25 (banner, EHLO extensions, STARTTLS, TLS version, whether the
// certificate verifies for the MX name), reverse DNS and whether it is forward-confirmed,
// SPF (RFC 7208), DMARC (RFC 7489, with the organizational-domain fallback), MTA-STS
// (RFC 8461) with its HTTPS policy, TLS-RPT (RFC 8460), BIMI, DNSBL listings of the MX
// addresses and a catch-all probe — and the [Problem]s found in it, each with a
// [Severity] and what to fix. [SeverityError] is kept for what stops the domain from
// receiving mail at all (it does not exist, null MX, no mail server); everything the
// owner should fix but that does not stop delivery is [SeverityWarning].
//
// What this machine could not do is never blamed on the domain: an MX that cannot be
// reached on port 25 from here may well be reachable from the internet (port 25 is
// blocked on most clouds), a DNS error is not "the domain does not exist", and a
// DNSBL that refuses to answer (Spamhaus's 127.255.255.x codes for public resolvers) is
// a lookup problem, not a listing.
//
// # Bounded work
//
// Every wait is bounded: DNS queries by the [dnscheck.Resolver]'s timeout, SMTP commands
// by the [smtpprobe.Prober]'s, the MTA-STS policy fetch by [Checker.HTTPTimeout] and a
// 64 KiB body limit. The SPF walk stops after 30 DNS-querying terms; at most
// [Checker.MaxAddrs] addresses are probed, a few at a time.
//
// No message is ever sent: the catch-all probe is one RCPT TO for a random local part,
// followed by QUIT.
package diag
