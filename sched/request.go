package sched

import (
	"context"
	"crypto/rand"
	mrand "math/rand/v2"
	"net/netip"
	"slices"
	"time"

	"github.com/everify/everify/dnscheck"
)

// request is one recipient in the scheduler: a caller's, or a domain's catch-all probe.
type request struct {
	addr     string
	utf8     bool
	wantCA   bool
	probe    bool    // the catch-all probe of dom
	held     bool    // a probe kept out of a group once (see session.group)
	dom      *domain // never nil
	cands    []cand  // the route: cands[0] is the exchanger it is queued for
	attempts int
	started  time.Time       // the oldest work goes first
	ctx      context.Context // the caller's; nil for probes
	done     chan Outcome    // buffered: the scheduler never blocks on a caller that left

	// Under Scheduler.mu:
	finished bool
	timer    *time.Timer // the bound, from the first claim
	accepted *Outcome    // accepted, waiting for the domain's catch-all answer
}

// gone reports whether nobody waits for r's answer any more.
func (r *request) gone() bool {
	if r.probe {
		return r.dom.settled
	}
	return r.finished || r.ctx.Err() != nil
}

// cand is one exchanger address a domain's requests may be sent to.
type cand struct {
	host string
	addr netip.Addr
}

// domain is what the scheduler knows of one domain: its route and catch-all status.
type domain struct {
	name    string
	cands   []cand
	settled bool
	ca      CatchAll
	probing bool
	refuses bool // catch-all, yet it refused a recipient: none of its recipients is safe
	waiters []*request
}

// maxAddrsPerHost bounds the addresses of one MX host tried.
const maxAddrsPerHost = 2

// domainLocked returns the state of name, making it from hosts on first sight.
func (s *Scheduler) domainLocked(name string, hosts []dnscheck.Host) *domain {
	if d := s.domains[name]; d != nil {
		return d
	}
	if len(s.domains) >= maxDomains {
		// Bounded memory: start over; requests keep their own pointers.
		s.domains = make(map[string]*domain)
	}
	d := &domain{name: name, cands: candidates(hosts, s.cfg.MaxHosts)}
	s.domains[name] = d
	return d
}

// candidates orders a domain's exchangers as RFC 5321 §5.1 says: by preference, random
// among equals, at most maxHosts hosts and maxAddrsPerHost addresses each.
func candidates(hosts []dnscheck.Host, maxHosts int) []cand {
	hs := slices.Clone(hosts)
	mrand.Shuffle(len(hs), func(i, j int) { hs[i], hs[j] = hs[j], hs[i] })
	slices.SortStableFunc(hs, func(a, b dnscheck.Host) int { return int(a.Pref) - int(b.Pref) })
	if len(hs) > maxHosts {
		hs = hs[:maxHosts]
	}
	var cs []cand
	for _, h := range hs {
		for i, a := range h.Addrs {
			if i == maxAddrsPerHost {
				break
			}
			if !slices.ContainsFunc(cs, func(c cand) bool { return c.addr == a }) {
				cs = append(cs, cand{h.Name, a})
			}
		}
	}
	return cs
}

// finishLocked answers r with out, once. An accepted caller's request that wants the
// domain's catch-all status waits for it instead.
func (s *Scheduler) finishLocked(r *request, out Outcome) {
	if r.finished {
		return
	}
	if r.probe {
		r.finished = true
		s.settleLocked(r.dom, s.probeResult(out))
		return
	}
	d := r.dom
	if r.wantCA && out.Fail == FailNone && s.cfg.Classify(out.Step, out.Reply) == KindAccepted {
		if !d.settled {
			r.accepted = &out
			d.waiters = append(d.waiters, r)
			s.maybeProbeLocked(d, r)
			return
		}
		out.CatchAll = d.ca
	}
	r.finished = true
	if r.timer != nil {
		r.timer.Stop()
	}
	r.done <- out
}

// maybeProbeLocked queues d's catch-all probe on r's server once accepted recipients
// wait for it. While a group's replies are handed out it waits for the end of the
// group: a recipient of d later in the group may be refused as unknown, which settles d
// without a probe and its rejection.
func (s *Scheduler) maybeProbeLocked(d *domain, r *request) {
	if d.settled || d.probing || len(d.waiters) == 0 {
		return
	}
	if s.group != nil {
		s.group[d] = r
		return
	}
	d.probing = true
	s.enqueueProbeLocked(r)
}

// endGroupLocked queues the probes held back while a group's replies were handed out.
func (s *Scheduler) endGroupLocked() {
	held := s.group
	s.group = nil
	for d, r := range held {
		s.maybeProbeLocked(d, r)
	}
}

// probeResult is the catch-all status a probe's outcome shows.
func (s *Scheduler) probeResult(out Outcome) CatchAll {
	if out.Fail != FailNone {
		return CatchAllUnknown
	}
	switch s.cfg.Classify(out.Step, out.Reply) {
	case KindAccepted:
		return CatchAllYes
	case KindNoMailbox:
		return CatchAllNo
	}
	return CatchAllUnknown
}

// settleLocked records d's catch-all status and answers the requests waiting for it.
func (s *Scheduler) settleLocked(d *domain, ca CatchAll) {
	if d.settled {
		return
	}
	d.settled, d.ca = true, ca
	waiters := d.waiters
	d.waiters = nil
	for _, r := range waiters {
		if r.finished {
			continue
		}
		out := *r.accepted
		out.CatchAll = ca
		r.finished = true
		if r.timer != nil {
			r.timer.Stop()
		}
		r.done <- out
	}
}

// enqueueProbeLocked queues the catch-all probe of r's domain on r's server, first in
// line, so that it goes into the session's next group.
func (s *Scheduler) enqueueProbeLocked(r *request) {
	p := &request{addr: randomLocal() + "@" + r.dom.name, dom: r.dom, probe: true, cands: r.cands, started: r.started}
	s.routeLocked(p, Outcome{Fail: FailUnreachable})
}

// expire answers r when its bound passes: with its accepted reply if it has one (an
// inconclusive catch-all probe never masks it), else as a timeout.
func (s *Scheduler) expire(r *request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.finished {
		return
	}
	if r.accepted != nil {
		out := *r.accepted
		out.CatchAll = CatchAllUnknown
		r.finished = true
		r.done <- out
		return
	}
	out := Outcome{Fail: FailTimeout, Message: "no answer within " + s.cfg.Bound.String(), Checked: true}
	if len(r.cands) > 0 {
		out.Host = r.cands[0].host
	}
	s.finishLocked(r, out)
}

// randomLocal returns a local part no one uses: 16 random lower-case letters and digits.
func randomLocal() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 16)
	rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}
