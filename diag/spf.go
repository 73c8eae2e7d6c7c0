package diag

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"

	"blitiri.com.ar/go/spf"

	"github.com/everify/everify/dnscheck"
)

// spfLookupLimit is RFC 7208 §4.6.4's bound on DNS-querying terms.
const spfLookupLimit = 10

// maxSPFWalk bounds the terms the lookup count follows (loops, absurd records).
const maxSPFWalk = 30

// spfOutsider is the address the policy is evaluated for: TEST-NET-1 (RFC 5737), which
// no honest policy authorises, so the evaluation walks the whole record.
var spfOutsider = net.IPv4(192, 0, 2, 1)

// spf checks the SPF policy of domain: blitiri.com.ar/go/spf evaluates it (syntax, the
// lookup and void-lookup limits, multiple records), and a walk of the record counts the
// DNS-querying terms per include, to say which to flatten.
func (c *Checker) spf(ctx context.Context, r *Report, domain string) SPFReport {
	rep := SPFReport{Records: []string{}}
	txt, err := c.DNS.LookupTXT(ctx, domain)
	if err != nil {
		rep.Result, rep.Error = string(spf.TempError), err.Error()
		r.add(SeverityWarning, "spf_lookup_failed", "the SPF (TXT) lookup failed: "+err.Error(), "check that the domain's name servers answer TXT queries")
		return rep
	}
	rep.Records = spfRecords(txt.Values)
	switch len(rep.Records) {
	case 0:
		rep.Result = string(spf.None)
		r.add(SeverityWarning, "spf_missing", r.Domain+" publishes no SPF record", `publish a TXT record such as "v=spf1 mx -all" listing the servers that send for the domain ("v=spf1 -all" if none does)`)
		return rep
	case 1:
	default:
		rep.Result, rep.Error = string(spf.PermError), spf.ErrMultipleRecords.Error()
		r.add(SeverityWarning, "spf_multiple_records", fmt.Sprintf("%s publishes %d SPF records: SPF fails (permerror) for all its mail", r.Domain, len(rep.Records)), "merge them into one v=spf1 record (RFC 7208 §3.2)")
		return rep
	}
	res, err := spf.CheckHostWithSender(spfOutsider, domain, "postmaster@"+domain,
		spf.WithContext(ctx), spf.WithResolver(spfResolver{c.DNS}))
	rep.Result = string(res)
	if res == spf.PermError || res == spf.TempError {
		rep.Error = err.Error()
	}

	w := spfWalk{c: c, seen: map[string]bool{domain: true}}
	terms := strings.Fields(rep.Records[0])
	rep.Lookups = w.count(ctx, terms, 0)
	rep.All = allQualifier(terms)
	hasRedirect := slices.ContainsFunc(terms, func(t string) bool { return strings.HasPrefix(strings.ToLower(t), "redirect=") })

	switch {
	case rep.Lookups > spfLookupLimit:
		r.add(SeverityWarning, "spf_too_many_lookups", fmt.Sprintf("SPF has %d DNS lookups (limit %d): receivers answer permerror", rep.Lookups, spfLookupLimit), "flatten "+w.heaviest()+": replace it by the ip4:/ip6: ranges it resolves to, or drop includes no longer used")
	case res == spf.PermError && errors.Is(err, spf.ErrVoidLookupLimitReached):
		r.add(SeverityWarning, "spf_void_lookups", "SPF makes more than 2 lookups that return nothing (RFC 7208 §4.6.4): receivers answer permerror", "remove the include:, a: or mx: terms naming domains that no longer exist")
	case res == spf.PermError:
		r.add(SeverityWarning, "spf_invalid", "the SPF record is invalid ("+err.Error()+"): receivers answer permerror", "fix the record's syntax (RFC 7208 §4.6, §5)")
	case res == spf.TempError:
		r.add(SeverityWarning, "spf_lookup_failed", "SPF evaluation failed temporarily: "+err.Error(), "check that every domain the record includes answers")
	}
	switch {
	case rep.All == "+":
		r.add(SeverityWarning, "spf_pass_all", "SPF ends with +all: anyone may send as "+r.Domain, "end the record with -all (or ~all while testing)")
	case rep.All == "?":
		r.add(SeverityWarning, "spf_neutral_all", "SPF ends with ?all: it says nothing about other senders", "end the record with -all (or ~all while testing)")
	case rep.All == "" && !hasRedirect:
		r.add(SeverityInfo, "spf_no_all", "SPF has no all term: other senders get neutral", "end the record with -all or ~all")
	}
	if w.ptr {
		r.add(SeverityInfo, "spf_ptr", "SPF uses the ptr mechanism, which RFC 7208 §5.5 says not to use", "replace ptr by ip4:/ip6: or a: terms")
	}
	return rep
}

// spfRecords returns the v=spf1 records among a name's TXT records.
func spfRecords(txts []string) []string {
	out := []string{}
	for _, t := range txts {
		l := strings.ToLower(t)
		if l == "v=spf1" || strings.HasPrefix(l, "v=spf1 ") {
			out = append(out, t)
		}
	}
	return out
}

// allQualifier returns the qualifier of the all term ("+" when bare), or "".
func allQualifier(terms []string) string {
	for _, t := range terms {
		l := strings.ToLower(t)
		switch {
		case l == "all":
			return "+"
		case len(l) == 4 && strings.HasSuffix(l, "all") && strings.ContainsAny(l[:1], "+-~?"):
			return l[:1]
		}
	}
	return ""
}

// spfWalk counts the DNS-querying terms of a record (RFC 7208 §4.6.4: include, a, mx,
// ptr, exists and redirect), following include and redirect, and remembers the cost of
// each top-level include.
type spfWalk struct {
	c       *Checker
	seen    map[string]bool
	visited int
	ptr     bool
	costs   []spfCost
}

type spfCost struct {
	term    string
	lookups int
}

func (w *spfWalk) count(ctx context.Context, terms []string, depth int) int {
	n := 0
	for _, t := range terms {
		if w.visited >= maxSPFWalk {
			break
		}
		l := strings.ToLower(strings.TrimLeft(t, "+-~?"))
		name, target, _ := strings.Cut(l, ":")
		if strings.HasPrefix(l, "redirect=") {
			name, target = "redirect", strings.TrimPrefix(l, "redirect=")
		}
		name, _, _ = strings.Cut(name, "/")
		switch name {
		case "a", "mx", "exists":
			w.visited++
			n++
		case "ptr":
			w.visited++
			w.ptr = true
			n++
		case "include", "redirect":
			w.visited++
			sub := 1 + w.follow(ctx, target, depth)
			if depth == 0 {
				w.costs = append(w.costs, spfCost{t, sub})
			}
			n += sub
		}
	}
	return n
}

// follow returns the lookups of the record at target (0 when it has none or holds a
// macro that cannot be expanded here).
func (w *spfWalk) follow(ctx context.Context, target string, depth int) int {
	if target == "" || strings.Contains(target, "%") || w.seen[target] || depth >= 10 {
		return 0
	}
	w.seen[target] = true
	txt, err := w.c.DNS.LookupTXT(ctx, target)
	if err != nil {
		return 0
	}
	recs := spfRecords(txt.Values)
	if len(recs) != 1 {
		return 0
	}
	return w.count(ctx, strings.Fields(recs[0]), depth+1)
}

// heaviest names the top-level includes by cost, most expensive first.
func (w *spfWalk) heaviest() string {
	costs := slices.Clone(w.costs)
	slices.SortStableFunc(costs, func(a, b spfCost) int { return cmp.Compare(b.lookups, a.lookups) })
	var parts []string
	for _, c := range costs {
		parts = append(parts, fmt.Sprintf("%s (%d)", c.term, c.lookups))
	}
	if len(parts) == 0 {
		return "the a/mx terms"
	}
	return strings.Join(parts, ", ")
}

// spfResolver lets blitiri.com.ar/go/spf ask through the run's resolver, turning
// dnscheck's answers into the *net.DNSError values it expects.
type spfResolver struct{ r *dnscheck.Resolver }

func notFound(name string) error {
	return &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
}

func dnsError(name string, err error) error {
	de := &net.DNSError{Err: err.Error(), Name: name}
	var e *dnscheck.Error
	if errors.As(err, &e) {
		de.IsTimeout, de.IsTemporary = e.IsTimeout(), e.Temporary()
	}
	return de
}

func (s spfResolver) LookupTXT(ctx context.Context, name string) ([]string, error) {
	recs, err := s.r.LookupTXT(ctx, name)
	switch {
	case err != nil:
		return nil, dnsError(name, err)
	case recs.NXDomain:
		return nil, notFound(name)
	}
	return recs.Values, nil
}

func (s spfResolver) LookupMX(ctx context.Context, name string) ([]*net.MX, error) {
	mx, err := s.r.LookupMX(ctx, name)
	switch {
	case err != nil:
		return nil, dnsError(name, err)
	case mx.NXDomain:
		return nil, notFound(name)
	}
	var out []*net.MX
	if !mx.ImplicitMX {
		for _, h := range append(slices.Clone(mx.Hosts), mx.Unresolved...) {
			out = append(out, &net.MX{Host: h.Name + ".", Pref: h.Pref})
		}
	}
	return out, nil
}

func (s spfResolver) LookupIPAddr(ctx context.Context, host string) ([]net.IPAddr, error) {
	var out []net.IPAddr
	nx := true
	for _, lookup := range []func(context.Context, string) (dnscheck.Records, error){s.r.LookupA, s.r.LookupAAAA} {
		recs, err := lookup(ctx, host)
		if err != nil {
			return nil, dnsError(host, err)
		}
		nx = nx && recs.NXDomain
		for _, v := range recs.Values {
			if a, err := netip.ParseAddr(v); err == nil {
				out = append(out, net.IPAddr{IP: a.AsSlice()})
			}
		}
	}
	if nx {
		return nil, notFound(host)
	}
	return out, nil
}

func (s spfResolver) LookupAddr(ctx context.Context, addr string) ([]string, error) {
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return nil, &net.DNSError{Err: "invalid address", Name: addr}
	}
	recs, err := s.r.LookupPTR(ctx, a)
	switch {
	case err != nil:
		return nil, dnsError(addr, err)
	case recs.NXDomain:
		return nil, notFound(addr)
	}
	out := make([]string, len(recs.Values))
	for i, v := range recs.Values {
		out[i] = v + "."
	}
	return out, nil
}
