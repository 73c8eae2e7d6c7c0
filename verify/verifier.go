package verify

import (
	"context"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/everify/everify/dnscheck"
	"github.com/everify/everify/sched"
	"github.com/everify/everify/smtpprobe"
)

// A Verifier checks email addresses. The zero value is an offline verifier (syntax and
// lists only) using the embedded lists. It is safe for concurrent use; share one per run,
// so that each domain is looked up, and its catch-all status probed, once, and so that
// recipients of one mail server share SMTP sessions. Call [Verifier.Close] when done.
//
// Fields must not be changed after the first call to Verify.
type Verifier struct {
	// DNS looks up mail exchangers. Nil means offline: no network at all, SMTP skipped.
	DNS *dnscheck.Resolver
	// SMTP probes mail exchangers. Nil means the SMTP stage is skipped (smtp_skipped).
	SMTP *smtpprobe.Prober
	// Lists are the disposable/free/role/popular lists. Nil means [EmbeddedLists].
	Lists *Lists
	// Allow and Deny match addresses or domains always treated as deliverable (allowed,
	// no probing) or undeliverable (denied). Deny wins. Nil matches nothing.
	Allow, Deny *Matcher
	// Suppress is the suppression list of `everify bounces` (see package dsn): a listed
	// address is undeliverable with reason suppressed, without any network work. Deny is
	// checked first, Allow after it. Nil suppresses nothing.
	Suppress Suppressor
	// AllowIPLiteral accepts user@[192.0.2.1] and probes that address directly.
	AllowIPLiteral bool
	// NoCatchAll skips the catch-all probe.
	NoCatchAll bool
	// GreylistRetry, when positive, waits that long and retries once an address that got a
	// temporary (4xx) failure.
	GreylistRetry time.Duration
	// PerMX bounds simultaneous SMTP sessions to one MX host; 0 means 2.
	PerMX int
	// RcptPerConn is how many recipients one SMTP session probes before it is closed and a
	// new one opened; 0 means 50.
	RcptPerConn int
	// MaxRejects is how many rejected recipients one session takes before a fresh session
	// is opened, to stay within servers' error limits (Postfix delays every reply after a
	// session's 10th error and disconnects after 20); 0 means 10.
	MaxRejects int
	// MaxMXHosts bounds the MX hosts tried for one domain, in preference order; 0 means 3.
	MaxMXHosts int
	// Linger is how long an idle SMTP session stays open waiting for more recipients of
	// its mail server; 0 means 500ms.
	Linger time.Duration
	// AddressTimeout bounds the total time spent on one address; 0 means 2 minutes
	// (plus GreylistRetry).
	AddressTimeout time.Duration

	initOnce sync.Once
	lists    *Lists
	sched    *sched.Scheduler
	flags    sync.Map // ASCII domain → listFlags: lists are consulted once per domain
	nflags   atomic.Int64
}

// listFlags are the per-domain list answers.
type listFlags struct {
	free, disposable bool
	suggestion       string
}

// maxFlagsCache bounds the per-domain list cache; past it, answers are computed anew.
const maxFlagsCache = 100_000

func (v *Verifier) domainFlags(domain string) listFlags {
	if f, ok := v.flags.Load(domain); ok {
		return f.(listFlags)
	}
	f := listFlags{free: v.lists.Free(domain), disposable: v.lists.Disposable(domain), suggestion: v.lists.Suggest(domain)}
	if v.nflags.Load() < maxFlagsCache {
		if _, loaded := v.flags.LoadOrStore(domain, f); !loaded {
			v.nflags.Add(1)
		}
	}
	return f
}

func (v *Verifier) init() {
	v.initOnce.Do(func() {
		v.lists = v.Lists
		if v.lists == nil {
			v.lists = EmbeddedLists()
		}
		if v.SMTP != nil {
			v.sched = v.newScheduler()
		}
	})
}

// Verify runs the stages in order (syntax, DNS, lists, SMTP) and returns the first
// verdict. It returns a non-nil error only if ctx ends first; every other failure, a
// timeout or a DNS error included, is reported as the Result's Reason.
func (v *Verifier) Verify(ctx context.Context, input string) (Result, error) {
	v.init()
	start := time.Now()
	r, err := v.verify(ctx, input)
	if err != nil {
		return Result{}, err
	}
	r.finish(start)
	return r, nil
}

// Invalid returns the result for an input known to be unusable before parsing, such as a
// malformed CSV row: status undeliverable, reason invalid_syntax, with msg as syntax.error.
func Invalid(input, msg string) Result {
	r := Result{Input: input, Syntax: Syntax{Error: msg}}
	r.setReason(ReasonInvalidSyntax)
	r.finish(time.Now())
	return r
}

// Parse runs the syntax stage alone, with the Verifier's options; [Verifier.VerifyParsed]
// runs the others. Callers that key caches on the normalized address use the pair to
// parse only once.
func (v *Verifier) Parse(input string) Syntax {
	return ParseAddress(input, ParseOptions{AllowIPLiteral: v.AllowIPLiteral})
}

// VerifyParsed is [Verifier.Verify] for an input already parsed by [Verifier.Parse].
func (v *Verifier) VerifyParsed(ctx context.Context, input string, syn Syntax) (Result, error) {
	v.init()
	start := time.Now()
	r, err := v.verifyParsed(ctx, input, syn)
	if err != nil {
		return Result{}, err
	}
	r.finish(start)
	return r, nil
}

// LocalVerdict runs the stages that need no network — syntax, lists, --allow/--deny,
// reserved names — on an input parsed by [Verifier.Parse]. It returns their verdict and
// true when they decide, and false when the address needs the DNS and SMTP stages. A
// result store consults it first, so that an address now denied, allowed or invalid is
// never answered from a stored verdict.
func (v *Verifier) LocalVerdict(input string, syn Syntax) (Result, bool) {
	v.init()
	start := time.Now()
	r := Result{Input: input, Syntax: syn}
	if !syn.Valid {
		r.setReason(ReasonInvalidSyntax)
	} else if !v.local(&r) {
		return Result{}, false
	}
	r.finish(start)
	return r, true
}

// local fills r's list flags and, when the allow/deny lists or a reserved name decide,
// its verdict, reporting whether they did. r.Syntax is valid.
func (v *Verifier) local(r *Result) bool {
	syn := &r.Syntax
	r.Email = syn.Email()
	domain := syn.ASCIIDomain
	literal := syn.Literal.IsValid()
	if !literal {
		r.Role = v.lists.Role(syn.Local)
		f := v.domainFlags(domain)
		r.Free, r.Disposable = f.free, f.disposable
		if f.suggestion != "" {
			r.Suggestion = syn.Local + "@" + f.suggestion
		}
	}
	switch {
	case v.Deny.Match(syn.Local, domain):
		r.setReason(ReasonDenied)
	case v.suppressed(r):
		r.setReason(ReasonSuppressed)
	case v.Allow.Match(syn.Local, domain):
		r.setReason(ReasonAllowed)
	case !literal && IsReservedDomain(domain):
		r.setReason(ReasonReservedDomain)
	default:
		return false
	}
	return true
}

func (v *Verifier) verify(ctx context.Context, input string) (Result, error) {
	return v.verifyParsed(ctx, input, v.Parse(input))
}

func (v *Verifier) verifyParsed(ctx context.Context, input string, syn Syntax) (Result, error) {
	start := time.Now()
	r := Result{Input: input}
	r.Syntax = syn
	if !syn.Valid {
		r.setReason(ReasonInvalidSyntax)
		return r, nil
	}
	if v.local(&r) {
		return r, nil
	}
	domain := syn.ASCIIDomain
	literal := syn.Literal.IsValid()
	if v.DNS == nil {
		if r.Disposable {
			r.setReason(ReasonDisposable)
		} else {
			r.setReason(ReasonSMTPSkipped)
		}
		return r, nil
	}

	timeout := v.AddressTimeout
	if timeout <= 0 {
		timeout = 2 * time.Minute
	}
	actx, cancel := context.WithTimeout(ctx, timeout+v.GreylistRetry)
	defer cancel()

	var hosts []dnscheck.Host
	if literal {
		hosts = []dnscheck.Host{{Name: syn.ASCIIDomain, Addrs: []netip.Addr{syn.Literal}}}
	} else {
		mx, err := v.DNS.LookupMX(actx, domain)
		if err != nil {
			if ctx.Err() != nil {
				return r, ctx.Err()
			}
			r.Domain.Error = err.Error()
			r.setReason(ReasonDNSError)
			return r, nil
		}
		r.Domain.ImplicitMX = mx.ImplicitMX
		r.Domain.NullMX = mx.NullMX
		// Hosts that resolve to nothing are listed too: "MX points nowhere" is not "no MX".
		for _, hs := range [][]dnscheck.Host{mx.Hosts, mx.Unresolved} {
			for _, h := range hs {
				r.Domain.MX = append(r.Domain.MX, MXHost{Host: h.Name, Pref: h.Pref})
			}
		}
		slices.SortStableFunc(r.Domain.MX, func(a, b MXHost) int { return int(a.Pref) - int(b.Pref) })
		r.Domain.Provider = providerOf(r.Domain.MX)
		switch {
		case mx.NXDomain:
			r.Domain.Error = "domain does not exist (NXDOMAIN)"
			r.setReason(ReasonNoSuchDomain)
			return r, nil
		case mx.NullMX:
			r.setReason(ReasonNullMX)
			return r, nil
		case len(mx.Hosts) == 0:
			if len(mx.Unresolved) > 0 {
				r.Domain.Error = "no MX host resolves to an address"
			} else {
				r.Domain.Error = "no MX and no A/AAAA records"
			}
			r.setReason(ReasonNoMailServer)
			return r, nil
		}
		hosts = mx.Hosts
	}
	if r.Disposable {
		r.setReason(ReasonDisposable)
		return r, nil
	}
	if v.sched == nil {
		r.setReason(ReasonSMTPSkipped)
		return r, nil
	}
	err := v.probe(actx, &r, hosts, start)
	if err != nil && ctx.Err() != nil {
		return r, ctx.Err()
	}
	return r, nil
}

// Close ends the SMTP sessions kept open for more recipients (QUIT) and waits for them.
// The Verifier must not be used afterwards.
func (v *Verifier) Close() error {
	v.init()
	if v.sched != nil {
		v.sched.Close()
	}
	return nil
}

// Stats counts the network work of a Verifier, for summaries and benchmarks.
type Stats struct {
	DNSQueries      int64 // queries sent by the DNS resolver
	Sessions        int64 // SMTP sessions opened (greeting completed)
	RoundTrips      int64 // SMTP replies waited for (a pipelined group counts once)
	ConnectAttempts int64 // TCP connections tried to mail servers
	ConnectTimeouts int64 // of those, how many timed out
	ConnectFailures int64 // of those, how many failed in any way (refused, unreachable, timeout)
	PeakPerServer   int64 // the most SMTP sessions open at once to one server address
}

// Stats returns the counters so far.
func (v *Verifier) Stats() Stats {
	v.init()
	var s Stats
	if v.DNS != nil {
		s.DNSQueries = v.DNS.Queries()
	}
	if v.sched != nil {
		ss := v.sched.Stats()
		s.Sessions, s.RoundTrips, s.PeakPerServer = ss.Sessions, ss.RoundTrips, ss.PeakPerServer
		s.ConnectAttempts, s.ConnectTimeouts, s.ConnectFailures = ss.ConnectAttempts, ss.ConnectTimeouts, ss.ConnectFailures
	}
	return s
}

// PortBlocked reports whether outbound SMTP looks blocked: connections were tried and
// every one of them timed out (what a firewall dropping port 25 looks like).
func (s Stats) PortBlocked() bool {
	return s.ConnectAttempts > 0 && s.ConnectTimeouts == s.ConnectAttempts
}
