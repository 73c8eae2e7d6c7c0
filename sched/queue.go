package sched

import (
	"net/netip"
	"slices"
	"time"
)

// queue is the work of one server address and the limits it has shown.
type queue struct {
	addr netip.Addr
	host string // the MX name sessions are opened with: the first routed here
	txs  []*tx  // pending work, one entry per domain transaction, oldest first
	n    int    // requests in txs

	sessions int // session goroutines, connecting or connected: at most the limit
	idle     int // of those, waiting for work
	open     int // connected sessions
	wake     chan struct{}

	failed      *Outcome // while before failedUntil, requests fail at once with it
	failedUntil time.Time
	failures    int // opens in a row that failed

	backoffUntil time.Time
	backoff      time.Duration

	// Limits the server has shown (0: none seen): rejections per session, sessions at
	// once, recipients per transaction.
	rejectLimit, connLimit, txLimit int
}

// tx is the pending requests of one domain on one queue, to go in one transaction.
type tx struct {
	domain string
	utf8   bool
	safe   bool // taken as a catch-all domain's: its recipients cannot be refused
	reqs   []*request
}

// counts returns how many recipients of work may be refused, and how many may not.
func counts(work []*tx) (unsafe, safe int) {
	for _, t := range work {
		if t.safe {
			safe += len(t.reqs)
		} else {
			unsafe += len(t.reqs)
		}
	}
	return unsafe, safe
}

// merge adds the requests of more to work, in the transaction of their domain.
func merge(work, more []*tx) []*tx {
	for _, m := range more {
		i := slices.IndexFunc(work, func(t *tx) bool { return t.domain == m.domain && t.utf8 == m.utf8 })
		if i < 0 {
			work = append(work, m)
			continue
		}
		work[i].reqs = append(work[i].reqs, m.reqs...)
	}
	return work
}

// routeLocked queues r for its first candidate exchanger that has not failed, or
// answers it with the last failure (fail when it has no candidate at all).
func (s *Scheduler) routeLocked(r *request, fail Outcome) {
	for len(r.cands) > 0 {
		c := r.cands[0]
		q := s.queues[c.addr]
		if q == nil {
			q = &queue{addr: c.addr, host: c.host, wake: make(chan struct{}, 1)}
			s.queues[c.addr] = q
		}
		if q.failed != nil {
			if time.Now().Before(q.failedUntil) {
				fail = *q.failed
				fail.Host = c.host
				r.cands = r.cands[1:]
				continue
			}
			q.failed, q.failures = nil, 1 // one trial: a new failure is sticky at once
		}
		q.pushLocked(r, r.probe)
		s.kickLocked(q)
		return
	}
	s.finishLocked(r, fail)
}

// pushLocked adds r to its domain's transaction on q; first puts r, and that
// transaction, at the head of the line.
func (q *queue) pushLocked(r *request, first bool) {
	q.n++
	for i, t := range q.txs {
		if t.domain == r.dom.name && t.utf8 == r.utf8 {
			if first {
				t.reqs = slices.Insert(t.reqs, 0, r)
			} else {
				// In order of age: workers start addresses in input order, but their
				// DNS answers (and so their arrival here) come in any order.
				i, _ := slices.BinarySearchFunc(t.reqs, r, func(a, b *request) int {
					if a.started.After(b.started) {
						return 1
					}
					return -1
				})
				t.reqs = slices.Insert(t.reqs, i, r)
			}
			if first && i > 0 {
				copy(q.txs[1:i+1], q.txs[:i])
				q.txs[0] = t
			}
			return
		}
	}
	t := &tx{domain: r.dom.name, utf8: r.utf8, reqs: []*request{r}}
	if first {
		q.txs = slices.Insert(q.txs, 0, t)
	} else {
		q.txs = append(q.txs, t)
	}
}

// startThreshold is the pending work that makes a queue open another session while
// one is busy (a single address needs no second connection).
const startThreshold = 4

func (s *Scheduler) limit(q *queue) int {
	if q.connLimit > 0 {
		return min(s.cfg.PerServer, q.connLimit)
	}
	return s.cfg.PerServer
}

// kickLocked gets q's work going: it wakes an idle session, or starts one when the
// limit allows and the work needs it.
func (s *Scheduler) kickLocked(q *queue) {
	if s.closed {
		return
	}
	if q.idle > 0 {
		select {
		case q.wake <- struct{}{}:
		default:
		}
		return
	}
	if q.sessions < s.limit(q) && (q.sessions == 0 || q.n >= startThreshold) {
		q.sessions++
		s.wg.Add(1)
		go s.run(q)
	}
}

// takeLocked removes up to n live requests from q, whole transactions first, at most
// txLimit per transaction, and starts the bound of each that had none. Recipients of a
// domain known to be catch-all cannot be refused: up to safe of them come on top of n.
func (s *Scheduler) takeLocked(q *queue, n, safe int) []*tx {
	// The oldest work first, whatever its domain, so that results come out close to
	// input order (bulk writes rows in order: a young request served early only waits).
	slices.SortStableFunc(q.txs, func(a, b *tx) int { return a.reqs[0].started.Compare(b.reqs[0].started) })
	var out []*tx
	keep := q.txs[:0]
	for _, t := range q.txs {
		t.reqs = slices.DeleteFunc(t.reqs, func(r *request) bool {
			if r.gone() {
				q.n--
				return true
			}
			return false
		})
		budget := &n
		if d := t.reqs; len(d) > 0 && d[0].dom.settled && d[0].dom.ca == CatchAllYes && !d[0].dom.refuses {
			budget = &safe
		}
		if *budget <= 0 || len(t.reqs) == 0 {
			if len(t.reqs) > 0 {
				keep = append(keep, t)
			}
			continue
		}
		k := min(*budget, len(t.reqs))
		if q.txLimit > 0 {
			k = min(k, q.txLimit)
		}
		taken := &tx{domain: t.domain, utf8: t.utf8, safe: budget == &safe, reqs: slices.Clone(t.reqs[:k])}
		t.reqs = slices.Delete(t.reqs, 0, k)
		q.n -= k
		*budget -= k
		for _, r := range taken.reqs {
			if r.timer == nil {
				r.timer = time.AfterFunc(s.cfg.Bound, func() { s.expire(r) })
			}
		}
		out = append(out, taken)
		if len(t.reqs) > 0 {
			keep = append(keep, t)
		}
	}
	clear(q.txs[len(keep):])
	q.txs = keep
	return out
}

// requeueLocked gives reqs, whose session died under them, back to q, first in line;
// one that has had maxAttempts is answered with out instead.
func (s *Scheduler) requeueLocked(q *queue, reqs []*request, out Outcome, count bool) {
	for i := len(reqs) - 1; i >= 0; i-- {
		r := reqs[i]
		if count {
			r.attempts++
		}
		if r.attempts >= maxAttempts {
			s.finishLocked(r, out)
			continue
		}
		q.pushLocked(r, true)
	}
	s.kickLocked(q)
}

// drainLocked removes and returns every pending request of q.
func (q *queue) drainLocked() []*request {
	var all []*request
	for _, t := range q.txs {
		all = append(all, t.reqs...)
	}
	q.txs, q.n = nil, 0
	return all
}

// failLocked answers every pending request of q, and reqs, with out, or moves them on
// to their next exchanger; sticky makes q fail new requests at once for a while.
func (s *Scheduler) failLocked(q *queue, reqs []*request, out Outcome, sticky, moveOn bool) {
	if sticky {
		o := out
		q.failed, q.failedUntil = &o, time.Now().Add(s.cfg.StickyFor)
	}
	for _, r := range append(reqs, q.drainLocked()...) {
		if moveOn && len(r.cands) > 1 && r.cands[0].addr == q.addr {
			r.cands = r.cands[1:]
			s.routeLocked(r, out)
			continue
		}
		o := out
		if len(r.cands) > 0 {
			o.Host = r.cands[0].host
		}
		s.finishLocked(r, o)
	}
}

// setBackoffLocked makes q wait before its next session: 1 s, doubling while the server
// keeps refusing, up to a minute.
func (q *queue) setBackoffLocked() {
	now := time.Now()
	if q.backoffUntil.After(now) {
		q.backoff = min(2*q.backoff, time.Minute)
	} else {
		q.backoff = time.Second
	}
	q.backoffUntil = now.Add(q.backoff)
}
