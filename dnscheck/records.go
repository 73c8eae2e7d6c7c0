package dnscheck

import (
	"context"
	"net/netip"
	"strings"

	"github.com/miekg/dns"
)

// answer is the cached outcome of one record lookup: the records at the end of the
// CNAME chain, or NXDOMAIN.
type answer struct {
	rrs []dns.RR
	nx  bool
}

// Records is the answer to a TXT, PTR, A or AAAA lookup.
type Records struct {
	// Values are the records in order: TXT strings of one record concatenated
	// (RFC 7208 §3.3), PTR targets lower-case without trailing dot, addresses in their
	// text form.
	Values []string
	// NXDomain reports that the name does not exist; Values is then empty. NODATA
	// (the name exists without records of the type) is an empty Values and false.
	NXDomain bool
}

// LookupTXT returns the TXT records of name (SPF, DMARC, MTA-STS, TLS-RPT, BIMI,
// DNSBL reasons). Errors are as for [Resolver.LookupMX]; answers are cached for the
// Resolver's life.
func (r *Resolver) LookupTXT(ctx context.Context, name string) (Records, error) {
	return r.lookupRecords(ctx, &r.txts, name, dns.TypeTXT)
}

// LookupPTR returns the names of addr's PTR records (reverse DNS, in-addr.arpa or
// ip6.arpa).
func (r *Resolver) LookupPTR(ctx context.Context, addr netip.Addr) (Records, error) {
	rev, err := dns.ReverseAddr(addr.Unmap().String())
	if err != nil {
		return Records{}, &Error{Name: addr.String(), Type: "PTR", Rcode: -1, Err: ErrInvalidName}
	}
	return r.lookupRecords(ctx, &r.ptrs, rev, dns.TypePTR)
}

// LookupA returns the IPv4 addresses of name, all of them, unlike
// [Resolver.LookupHost]: for DNSBL answers (127.0.0.x codes) and forward-confirmed
// reverse DNS.
func (r *Resolver) LookupA(ctx context.Context, name string) (Records, error) {
	return r.lookupRecords(ctx, &r.as, name, dns.TypeA)
}

// LookupAAAA returns the IPv6 addresses of name.
func (r *Resolver) LookupAAAA(ctx context.Context, name string) (Records, error) {
	return r.lookupRecords(ctx, &r.aaaas, name, dns.TypeAAAA)
}

func (r *Resolver) lookupRecords(ctx context.Context, m *map[string]entry[answer], name string, qtype uint16) (Records, error) {
	a, err := cached(ctx, r, m, dns.TypeToString[qtype], key(name), func(r *Resolver, ctx context.Context, k string) (answer, error) {
		rrs, nx, err := r.follow(ctx, k, qtype)
		return answer{rrs, nx}, err
	})
	if err != nil {
		return Records{}, err
	}
	out := Records{NXDomain: a.nx}
	for _, rr := range a.rrs {
		switch v := rr.(type) {
		case *dns.TXT:
			out.Values = append(out.Values, strings.Join(v.Txt, ""))
		case *dns.PTR:
			out.Values = append(out.Values, key(v.Ptr))
		case *dns.A:
			if ip, ok := netip.AddrFromSlice(v.A.To4()); ok {
				out.Values = append(out.Values, ip.String())
			}
		case *dns.AAAA:
			if ip, ok := netip.AddrFromSlice(v.AAAA.To16()); ok {
				out.Values = append(out.Values, ip.String())
			}
		}
	}
	return out, nil
}
