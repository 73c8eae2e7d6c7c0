package dnscheck

import (
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
	"golang.org/x/sync/singleflight"

	"github.com/everify/everify/internal/defaults"
	"github.com/everify/everify/internal/dnsname"
)

// Defaults of the zero-valued [Resolver] fields.
const (
	DefaultTimeout    = defaults.DNSTimeout
	DefaultAttempts   = 2
	DefaultMaxMXHosts = 10
	DefaultMaxAddrs   = 4
)

// maxCNAME is the number of CNAME links followed from a queried name.
const maxCNAME = 8

// udpSize is the EDNS0 UDP payload size we advertise: the DNS Flag Day 2020
// value, which avoids IP fragmentation on nearly every path.
const udpSize = 1232

// Resolver looks up the mail setup of domains. It is safe for concurrent use;
// use one per run: it caches answers (positive and negative, errors included)
// and deduplicates lookups in flight, so each domain and each MX host is queried
// once per run. Only failures caused by the caller's context are not cached. Each
// cache holds at most 100,000 names and starts over when full (memory stays flat).
//
// The exported fields must not be changed once lookups have started.
type Resolver struct {
	Servers    []string      // "host:port" of recursive resolvers, tried in order
	Timeout    time.Duration // per query; 0 means 5s (the earlier of this and ctx's deadline wins)
	Attempts   int           // rounds over Servers for SERVFAIL/REFUSED/timeout and the like; 0 means 2
	MaxMXHosts int           // MX hosts kept per domain (lowest preference first); 0 means 10
	MaxAddrs   int           // addresses kept per MX host (IPv4 first); 0 means 4

	queries atomic.Int64
	group   singleflight.Group
	mu      sync.RWMutex
	mxs     map[string]entry[*MX]          // by domain (lower-case, no trailing dot)
	hosts   map[string]entry[[]netip.Addr] // by host name (lower-case, no trailing dot)
	txts    map[string]entry[answer]       // records.go: TXT, by name
	ptrs    map[string]entry[answer]       // records.go: PTR, by reverse name
	as      map[string]entry[answer]       // records.go: A, by name
	aaaas   map[string]entry[answer]       // records.go: AAAA, by name

	testHookFlight func() // if non-nil, called after joining or starting a flight
}

type entry[T any] struct {
	v   T
	err error
}

// MX is the mail setup of a domain.
type MX struct {
	Domain     string // the domain looked up: lower-case, no trailing dot
	Hosts      []Host // usable exchangers, by preference; equal preferences in random order (RFC 5321 §5.1)
	NullMX     bool   // RFC 7505 "MX 0 .": the domain accepts no mail
	ImplicitMX bool   // no MX records: the domain's own A/AAAA are used (RFC 5321 §5.1)
	NXDomain   bool   // the domain does not exist (NXDOMAIN): an answer, not an error
	Unresolved []Host // MX hosts skipped (no Addrs): no address, or (when another host was usable) a failed lookup
}

// Host is one mail exchanger.
type Host struct {
	Name  string       // lower-case, no trailing dot
	Pref  uint16       // MX preference; 0 for an implicit MX
	Addrs []netip.Addr // IPv4 first, then IPv6; never empty in MX.Hosts
}

// Queries returns how many DNS queries r has sent, retries and TCP fallbacks
// included.
func (r *Resolver) Queries() int64 { return r.queries.Load() }

func (r *Resolver) timeout() time.Duration { return orDefault(r.Timeout, DefaultTimeout) }
func (r *Resolver) attempts() int          { return orDefault(r.Attempts, DefaultAttempts) }
func (r *Resolver) maxMXHosts() int        { return orDefault(r.MaxMXHosts, DefaultMaxMXHosts) }
func (r *Resolver) maxAddrs() int          { return orDefault(r.MaxAddrs, DefaultMaxAddrs) }

// maxCacheEntries bounds each of the caches (domains, hosts): past it a cache starts
// over, so memory stays flat on a list of millions of distinct domains while a run's
// repeated domains still cost one lookup each in practice.
const maxCacheEntries = 100_000

// orDefault returns v, or def when v is not positive (the zero value of a field).
func orDefault[T int | time.Duration](v, def T) T {
	if v > 0 {
		return v
	}
	return def
}

// key returns the cache key of name: lower-case without trailing dot. It does
// not allocate for names already in that form, which keeps cache hits free.
func key(name string) string {
	return strings.ToLower(strings.TrimSuffix(name, "."))
}

func validName(k string) error {
	if k == "" {
		return fmt.Errorf("dnscheck: %w: empty", ErrInvalidName)
	}
	if dnsname.CheckLookup(k) != "" {
		return fmt.Errorf("dnscheck: %w: %q", ErrInvalidName, k)
	}
	return nil
}

// LookupMX returns the mail exchangers of domain, an ASCII (A-label) domain name
// with or without trailing dot, in any case. NXDOMAIN, null MX and "no mail
// server" are answers reported in the MX; the error is non-nil only when no
// answer could be had: an [*Error] (also for ctx's end, wrapping ctx.Err()) or
// an [ErrInvalidName]. The returned MX is shared by all callers and must not be
// modified.
//
// The domain's CNAME chain is followed; NXDOMAIN for its last name sets NXDomain
// (RFC 6604 §3: the response code is about the end of the chain).
//
// Null MX: an MX record whose exchange is the root "." marks the domain as
// NullMX, whatever its preference and even beside other MX records (which
// RFC 7505 §3 forbids): the owner said the domain takes no mail.
//
// An MX exchange that is an IPv4 address literal ("1.2.3.4", which RFC 5321 does
// not allow but some zones publish and some MTAs accept) is used as the host's
// address, without a query.
func (r *Resolver) LookupMX(ctx context.Context, domain string) (*MX, error) {
	k := key(domain)
	return cached(ctx, r, &r.mxs, "MX", k, (*Resolver).lookupMX)
}

// LookupHost returns the addresses of host: those of its A records or, only when it
// has none, of its AAAA records (most port-25 egress is IPv4, and one query per host
// keeps a run's DNS cost at one query per domain and per MX host), after following
// CNAMEs, at most MaxAddrs in all. A host with no address (NXDOMAIN or NODATA)
// yields an empty slice and a nil error. An IP address literal is returned as
// is. The error is an [*Error] when neither A nor AAAA could be had, or wraps
// [ErrInvalidName]. The returned slice is shared and must not be modified.
func (r *Resolver) LookupHost(ctx context.Context, host string) ([]netip.Addr, error) {
	k := key(host)
	if a, err := netip.ParseAddr(k); err == nil {
		return []netip.Addr{a.Unmap()}, nil
	}
	return cached(ctx, r, &r.hosts, "A", k, (*Resolver).lookupHost)
}

// cached returns the cached result for k in *m, or runs fn once for all the
// callers asking for k at the same time and caches its result. A result caused by
// the end of the leader's context is not cached; callers whose own context is
// still live then try again.
func cached[T any](ctx context.Context, r *Resolver, m *map[string]entry[T], typ, k string, fn func(*Resolver, context.Context, string) (T, error)) (T, error) {
	r.mu.RLock()
	e, ok := (*m)[k]
	r.mu.RUnlock()
	if ok {
		return e.v, e.err
	}
	var zero T
	if err := validName(k); err != nil {
		return zero, err
	}
	sfKey := typ + " " + k
	for {
		if err := ctx.Err(); err != nil {
			return zero, ctxError(k, typ, "", err)
		}
		ch := r.group.DoChan(sfKey, func() (any, error) {
			// Another flight may have finished between our cache miss and now.
			r.mu.RLock()
			e, ok := (*m)[k]
			r.mu.RUnlock()
			if ok {
				return e, nil
			}
			v, err := fn(r, ctx, k)
			e = entry[T]{v, err}
			if err != nil && ctxErr(ctx) != nil {
				return e, errUncached
			}
			r.mu.Lock()
			if *m == nil || len(*m) >= maxCacheEntries {
				// Bounded memory on runs over very many domains: start the cache over.
				*m = make(map[string]entry[T])
			}
			(*m)[k] = e
			r.mu.Unlock()
			return e, nil
		})
		if r.testHookFlight != nil {
			r.testHookFlight()
		}
		select {
		case <-ctx.Done():
			return zero, ctxError(k, typ, "", ctx.Err())
		case res := <-ch:
			e := res.Val.(entry[T])
			if res.Err == errUncached && ctx.Err() == nil {
				continue // the leader's context ended, not ours
			}
			return e.v, e.err
		}
	}
}

// errUncached marks a singleflight result that was not cached because the
// leader's context ended.
var errUncached = fmt.Errorf("dnscheck: lookup abandoned")

func (r *Resolver) lookupMX(ctx context.Context, domain string) (*MX, error) {
	res := &MX{Domain: domain}
	rrs, nx, err := r.follow(ctx, domain, dns.TypeMX)
	if err != nil {
		return nil, err
	}
	if nx {
		res.NXDomain = true
		return res, nil
	}
	type cand struct {
		name string
		pref uint16
	}
	var cands []cand
	for _, rr := range rrs {
		mx, ok := rr.(*dns.MX)
		if !ok {
			continue
		}
		name := key(mx.Mx)
		if name == "" {
			res.NullMX = true
			return res, nil
		}
		if i := slices.IndexFunc(cands, func(c cand) bool { return c.name == name }); i >= 0 {
			cands[i].pref = min(cands[i].pref, mx.Preference)
			continue
		}
		cands = append(cands, cand{name, mx.Preference})
	}
	if len(cands) == 0 {
		// NODATA: the domain itself is the implicit MX (RFC 5321 §5.1).
		addrs, err := r.LookupHost(ctx, domain)
		if err != nil {
			return nil, err
		}
		if len(addrs) > 0 {
			res.ImplicitMX = true
			res.Hosts = []Host{{Name: domain, Addrs: addrs}}
		}
		return res, nil
	}

	// Order by preference, shuffle equal preferences (RFC 5321 §5.1), then keep
	// the first MaxMXHosts: a domain listing hundreds of MX hosts costs no more.
	rand.Shuffle(len(cands), func(i, j int) { cands[i], cands[j] = cands[j], cands[i] })
	slices.SortStableFunc(cands, func(a, b cand) int { return cmp.Compare(a.pref, b.pref) })
	if n := r.maxMXHosts(); len(cands) > n {
		cands = cands[:n]
	}

	type result struct {
		addrs []netip.Addr
		err   error
	}
	results := make([]result, len(cands))
	var wg sync.WaitGroup
	for i, c := range cands {
		wg.Go(func() {
			a, err := r.LookupHost(ctx, c.name)
			results[i] = result{a, err}
		})
	}
	wg.Wait()
	// A host lookup cut short by ctx would be cached as unresolved: give up.
	if slices.ContainsFunc(results, func(rs result) bool { return rs.err != nil }) {
		if err := ctxErr(ctx); err != nil {
			return nil, ctxError(domain, "MX", "", err)
		}
	}
	var firstErr error
	for i, c := range cands {
		switch rs := results[i]; {
		case len(rs.addrs) > 0:
			res.Hosts = append(res.Hosts, Host{Name: c.name, Pref: c.pref, Addrs: rs.addrs})
		case rs.err != nil:
			if firstErr == nil {
				firstErr = rs.err
			}
			res.Unresolved = append(res.Unresolved, Host{Name: c.name, Pref: c.pref})
		default:
			res.Unresolved = append(res.Unresolved, Host{Name: c.name, Pref: c.pref})
		}
	}
	// A host we could not resolve might be the only working one: without a
	// usable host that is a DNS error, not "no mail server".
	if len(res.Hosts) == 0 && firstErr != nil {
		return nil, firstErr
	}
	return res, nil
}

func hasType(rrs []dns.RR, t uint16) bool {
	for _, rr := range rrs {
		if rr.Header().Rrtype == t {
			return true
		}
	}
	return false
}

func (r *Resolver) lookupHost(ctx context.Context, host string) ([]netip.Addr, error) {
	var (
		v4, v6     []dns.RR
		nx4, nx6   bool
		err4, err6 error
	)
	// AAAA only when there is no A record: probes go out over IPv4 first anyway, and one
	// query per MX host keeps a run at "domains + MX hosts" queries.
	v4, nx4, err4 = r.follow(ctx, host, dns.TypeA)
	if nx4 {
		return nil, nil
	}
	if !hasType(v4, dns.TypeA) {
		v6, nx6, err6 = r.follow(ctx, host, dns.TypeAAAA)
	}
	if err4 != nil || err6 != nil {
		// An answer cut short by ctx must not be cached as the whole answer.
		if err := ctxErr(ctx); err != nil {
			return nil, ctxError(host, "A", "", err)
		}
	}
	maxAddrs := r.maxAddrs()
	var addrs []netip.Addr
	add := func(ip net.IP) {
		a, ok := netip.AddrFromSlice(ip)
		if ok && len(addrs) < maxAddrs && !slices.Contains(addrs, a) {
			addrs = append(addrs, a)
		}
	}
	for _, rr := range v4 {
		if a, ok := rr.(*dns.A); ok {
			add(a.A.To4())
		}
	}
	for _, rr := range v6 {
		if a, ok := rr.(*dns.AAAA); ok {
			add(a.AAAA.To16())
		}
	}
	switch {
	case len(addrs) > 0:
		return addrs, nil
	case nx4 || nx6: // the name does not exist, whatever the other query did
		return nil, nil
	case err4 != nil:
		return nil, err4
	case err6 != nil:
		return nil, err6
	}
	return nil, nil
}

// ctxErr returns ctx's error, or context.DeadlineExceeded once its deadline has
// passed even if its timer has not fired yet: a query cut short by the deadline
// must not be cached as a server timeout.
func ctxErr(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if dl, ok := ctx.Deadline(); ok && !time.Now().Before(dl) {
		return context.DeadlineExceeded
	}
	return nil
}

func ctxError(name, typ, server string, err error) *Error {
	return &Error{Name: name, Type: typ, Server: server, Rcode: -1, Timeout: err == context.DeadlineExceeded, Err: err}
}
