package diag

import (
	"context"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/miekg/dns"

	"github.com/everify/everify/dnscheck"
)

// zones returns the DNSBL zones to ask.
func (c *Checker) zones() []string {
	if c.DNSBLZones == nil {
		return DefaultDNSBLZones
	}
	return c.DNSBLZones
}

// dnsblAll asks every zone about every probed MX address (at most MaxAddrs addresses)
// and adds a problem per listing.
func (c *Checker) dnsblAll(ctx context.Context, r *Report) []Listing {
	var ips []netip.Addr
	maxAddrs := c.MaxAddrs
	if maxAddrs <= 0 {
		maxAddrs = DefaultMaxAddrs
	}
	for _, h := range r.MX.Hosts {
		for i := range h.Addresses {
			// Only IP is read: the probes are filling the other fields meanwhile.
			ip := netip.MustParseAddr(h.Addresses[i].IP)
			if len(ips) < maxAddrs && !slices.Contains(ips, ip) {
				ips = append(ips, ip)
			}
		}
	}
	out := lookupDNSBLs(ctx, c.DNS, ips, c.zones())
	for _, l := range out {
		switch {
		case l.Listed:
			r.add(SeverityWarning, "dnsbl_listed", "MX address "+l.IP+" is listed on "+l.Zone+" ("+l.Meaning+")", "mail sent from this address is refused by receivers using "+l.Zone+"; find the cause (compromised host, open relay, dynamic range) and request delisting")
		case l.Error != "":
			r.add(SeverityInfo, "dnsbl_lookup_failed", l.Zone+" gave no usable answer for "+l.IP+": "+l.Error, "DNSBLs refuse queries from public resolvers: use your own recursive resolver (--resolver) to check listings")
		}
	}
	return out
}

// lookupDNSBLs asks every zone about every address, a few at a time; the listings come
// in address, then zone order.
func lookupDNSBLs(ctx context.Context, res *dnscheck.Resolver, ips []netip.Addr, zones []string) []Listing {
	out := make([]Listing, len(ips)*len(zones))
	sem := make(chan struct{}, probeParallelism)
	var wg sync.WaitGroup
	for i, ip := range ips {
		for j, z := range zones {
			wg.Go(func() {
				select {
				case sem <- struct{}{}:
				case <-ctx.Done():
					out[i*len(zones)+j] = Listing{IP: ip.String(), Zone: z, Codes: []string{}, Error: ctx.Err().Error()}
					return
				}
				defer func() { <-sem }()
				out[i*len(zones)+j] = lookupDNSBL(ctx, res, ip, z)
			})
		}
	}
	wg.Wait()
	return out
}

// lookupDNSBL asks zone about ip: an A record under the reversed address means listed,
// NXDOMAIN not listed (RFC 5782 §2). Answers in 127.255.255.0/24 are Spamhaus's
// "query refused" codes and answers outside 127/8 come from a resolver that rewrites
// NXDOMAIN: both are lookup problems, never listings.
func lookupDNSBL(ctx context.Context, res *dnscheck.Resolver, ip netip.Addr, zone string) Listing {
	l := Listing{IP: ip.String(), Zone: zone, Codes: []string{}}
	rev, err := dns.ReverseAddr(ip.Unmap().String())
	if err != nil {
		l.Error = err.Error()
		return l
	}
	rev = strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(rev, "."), ".in-addr.arpa"), ".ip6.arpa")
	recs, err := res.LookupA(ctx, rev+"."+zone)
	if err != nil {
		l.Error = err.Error()
		return l
	}
	var meanings []string
	for _, v := range recs.Values {
		l.Codes = append(l.Codes, v)
		a, _ := netip.ParseAddr(v)
		b := a.As4()
		switch {
		case b[0] != 127:
			l.Error = "answer " + v + " is outside 127.0.0.0/8: the resolver rewrites NXDOMAIN, listings cannot be checked through it"
		case b[1] == 255 && b[2] == 255:
			l.Error = refusedMeaning(b[3])
		default:
			if m := codeMeaning(zone, b[3]); !slices.Contains(meanings, m) {
				meanings = append(meanings, m)
			}
		}
	}
	if l.Error == "" && len(meanings) > 0 {
		l.Listed, l.Meaning = true, strings.Join(meanings, ", ")
	}
	return l
}

// refusedMeaning explains Spamhaus's 127.255.255.x answers.
func refusedMeaning(x byte) string {
	switch x {
	case 252:
		return "query refused (127.255.255.252: typo in the DNSBL name)"
	case 254:
		return "query refused (127.255.255.254: queries through public or open resolvers are not answered)"
	case 255:
		return "query refused (127.255.255.255: excessive number of queries)"
	}
	return "query refused (127.255.255." + strconv.Itoa(int(x)) + ")"
}

// codeMeaning names the list a 127.0.0.x answer of zone stands for.
func codeMeaning(zone string, x byte) string {
	if strings.HasSuffix(zone, "spamhaus.org") {
		switch {
		case x == 2:
			return "Spamhaus SBL: spam source"
		case x == 3:
			return "Spamhaus SBL CSS: snowshoe spam"
		case x >= 4 && x <= 7:
			return "Spamhaus XBL: compromised or infected host"
		case x == 9:
			return "Spamhaus DROP: hijacked network"
		case x == 10:
			return "Spamhaus PBL (ISP): end-user range that should not send mail directly"
		case x == 11:
			return "Spamhaus PBL (Spamhaus): end-user range that should not send mail directly"
		}
	}
	return "listed (127.0.0." + strconv.Itoa(int(x)) + ")"
}
