// Package dnscheck looks up the mail setup of domains: their mail exchangers
// (RFC 5321 §5.1), null MX (RFC 7505), implicit MX and the addresses of MX hosts.
// It speaks DNS itself, with github.com/miekg/dns, to the recursive resolvers it is
// given (or those of /etc/resolv.conf), so that every outcome is visible to the
// caller instead of being folded into "no such host".
//
// # Answers and errors
//
// A [Resolver] distinguishes what a domain says from what the network did:
//
//   - NXDOMAIN is an answer: [MX.NXDomain] is set and the error is nil
//     (everify reports no_such_domain).
//   - "MX 0 ." is an answer: [MX.NullMX] (null_mx).
//   - No MX records is an answer: the domain's own A/AAAA records are its implicit
//     MX ([MX.ImplicitMX]); with none, or when every MX host resolves to nothing,
//     [MX.Hosts] is empty (no_mail_server).
//   - SERVFAIL, REFUSED, NOTIMP, FORMERR, timeouts and network errors are retried
//     over the servers and then returned as an [*Error] (dns_error). They never
//     mean the domain does not exist.
//
// # Caching
//
// A Resolver is meant to live for one run. It caches every result, positive or
// negative, errors included, for its whole life, and deduplicates lookups in
// flight, so a million addresses at one domain cost one MX lookup, and MX hosts
// shared by many domains are resolved once. Only failures caused by the caller's
// context (cancellation, deadline) are not cached. Each cache holds at most 100,000
// names and starts over when full, so memory stays flat on any input.
//
// # Bounded work
//
// At most [Resolver.MaxMXHosts] MX hosts are resolved per domain, at most
// [Resolver.MaxAddrs] addresses kept per host, CNAME chains are followed for at
// most 8 links, and every query has a deadline.
//
// # Usage
//
//	r, err := dnscheck.NewResolver(nil, 5*time.Second) // servers of /etc/resolv.conf
//	if err != nil {
//		return err
//	}
//	mx, err := r.LookupMX(ctx, "example.org")
//	switch {
//	case err != nil: // dns_error: SERVFAIL, timeout, ...
//	case mx.NXDomain: // no_such_domain
//	case mx.NullMX: // null_mx
//	case len(mx.Hosts) == 0: // no_mail_server
//	default:
//		for _, h := range mx.Hosts { /* h.Name, h.Addrs */ }
//	}
package dnscheck
