package dnscheck

import (
	"context"
	"errors"
	"strings"

	"github.com/miekg/dns"
)

// ErrNoServers is returned (wrapped) by [NewResolver] and [NewResolverFromConfig]
// when no nameserver is configured, and by lookups on a [Resolver] without Servers.
var ErrNoServers = errors.New("no DNS server configured")

// ErrInvalidName is returned (wrapped) by lookups of a name that is not a valid
// DNS domain name (empty, a label over 63 octets, over 255 octets in all).
var ErrInvalidName = errors.New("invalid domain name")

// ErrCNAMEChain is the Err of an [*Error] for a CNAME chain that loops or is
// longer than 8 links.
var ErrCNAMEChain = errors.New("CNAME chain loops or is too long")

// errMismatch is the Err of a reply that does not answer our question.
var errMismatch = errors.New("reply does not match the query")

// An Error is a DNS lookup that produced no answer: the servers failed (SERVFAIL,
// REFUSED, NOTIMP, FORMERR, ...), did not reply in time, could not be reached, or
// replied nonsense. NXDOMAIN and NODATA are answers and never an Error.
type Error struct {
	Name    string // name queried, without trailing dot
	Type    string // query type: "MX", "A", "AAAA"
	Server  string // last server tried, "host:port"; empty when none was asked
	Rcode   int    // response code of the last reply (e.g. dns.RcodeServerFailure), or -1 when there was no usable reply
	Timeout bool   // the last attempt timed out
	Err     error  // underlying error (network error, ctx.Err(), [ErrCNAMEChain], ...), or nil
}

// Error returns e.g. "dnscheck: MX example.com via 127.0.0.1:53: server failure".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("dnscheck: ")
	b.WriteString(e.Type)
	b.WriteByte(' ')
	b.WriteString(e.Name)
	if e.Server != "" {
		b.WriteString(" via ")
		b.WriteString(e.Server)
	}
	b.WriteString(": ")
	b.WriteString(e.reason())
	return b.String()
}

func (e *Error) reason() string {
	switch {
	case e.Timeout && !errors.Is(e.Err, context.DeadlineExceeded):
		return "timeout" // rather than "read udp 127.0.0.1:41234->...: i/o timeout"
	case e.Err != nil:
		return e.Err.Error()
	}
	switch e.Rcode {
	case dns.RcodeServerFailure:
		return "server failure"
	case dns.RcodeRefused:
		return "query refused"
	case dns.RcodeNotImplemented:
		return "query not implemented"
	case dns.RcodeFormatError:
		return "format error"
	}
	if s, ok := dns.RcodeToString[e.Rcode]; ok {
		return "response code " + s
	}
	return "lookup failed"
}

// Unwrap returns e.Err.
func (e *Error) Unwrap() error { return e.Err }

// IsTimeout reports whether the lookup failed because a query (or the caller's
// context deadline) timed out.
func (e *Error) IsTimeout() bool { return e.Timeout }

// Temporary reports whether the failure is likely transient: a timeout, a
// network error or SERVFAIL. REFUSED, NOTIMP, FORMERR, broken CNAME chains and
// cancellation are not.
func (e *Error) Temporary() bool {
	if e.Timeout {
		return true
	}
	if errors.Is(e.Err, context.Canceled) || errors.Is(e.Err, ErrCNAMEChain) || errors.Is(e.Err, errMismatch) {
		return false
	}
	return e.Rcode == dns.RcodeServerFailure || (e.Rcode == -1 && e.Err != nil)
}
