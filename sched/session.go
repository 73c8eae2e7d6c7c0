package sched

import (
	"context"
	"errors"
	"net"
	"sync"
	"time"

	"github.com/everify/everify/smtpprobe"
)

// run is one slot of q: it opens sessions and serves q's work until q stays empty for
// Linger.
func (s *Scheduler) run(q *queue) {
	defer s.wg.Done()
	for {
		if !s.waitBackoff(q) || !s.waitWork(q) {
			if testHookSlotEnds != nil {
				testHookSlotEnds()
			}
			s.mu.Lock()
			if q.n > 0 && !s.closed {
				// Work came after waitWork looked and before this lock: kickLocked saw
				// this slot as taken and started none, so the slot must serve it.
				s.mu.Unlock()
				continue
			}
			q.sessions--
			// Past maxQueues an idle queue is forgotten (with what it learnt), so memory
			// does not grow with the servers of a run.
			if len(s.queues) > maxQueues && q.sessions == 0 && q.n == 0 && q.failed == nil && s.queues[q.addr] == q {
				delete(s.queues, q.addr)
			}
			s.mu.Unlock()
			return
		}
		// Claim the first group before connecting, so that a session is only opened
		// with work in hand.
		s.mu.Lock()
		work := s.takeLocked(q, min(maxGroup, s.cfg.RcptPerSession, s.rejectLimit(q)), s.cfg.MaxRejects)
		s.mu.Unlock()
		if len(work) == 0 {
			continue
		}
		sess, err := s.open(q, work)
		if err != nil {
			if !s.openFailed(q, work, err) {
				return
			}
			continue
		}
		s.mu.Lock()
		q.open++
		q.failures = 0
		if p := int64(q.open); p > s.peak.Load() {
			s.peak.Store(p)
		}
		s.mu.Unlock()
		s.serve(q, sess, work)
		sess.Leave()
		s.roundTrips.Add(int64(sess.RoundTrips()))
		s.mu.Lock()
		q.open--
		s.mu.Unlock()
	}
}

// testHookSlotEnds, when set by a test, runs as a slot that found no work ends.
var testHookSlotEnds func()

// waitBackoff waits until q's back-off passes, holding no session; false when closed.
func (s *Scheduler) waitBackoff(q *queue) bool {
	s.mu.Lock()
	d := time.Until(q.backoffUntil)
	s.mu.Unlock()
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-s.quit:
		return false
	}
}

// waitWork waits until q has work or Linger passes; it reports whether there is work.
func (s *Scheduler) waitWork(q *queue) bool {
	var t *time.Timer
	for {
		s.mu.Lock()
		has := q.n > 0 && !s.closed
		if has || s.closed {
			s.mu.Unlock()
			return has
		}
		q.idle++
		s.mu.Unlock()
		if t == nil {
			t = time.NewTimer(s.cfg.Linger)
			defer t.Stop()
		}
		var expired bool
		select {
		case <-q.wake:
		case <-t.C:
			expired = true
		case <-s.quit:
		}
		s.mu.Lock()
		q.idle--
		has = q.n > 0 && !s.closed
		s.mu.Unlock()
		if has {
			return true
		}
		if expired || s.isClosed() {
			return false
		}
	}
}

func (s *Scheduler) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// rejectLimit is how many rejected recipients one session of q may take.
func (s *Scheduler) rejectLimit(q *queue) int {
	if q.rejectLimit > 0 {
		return min(s.cfg.MaxRejects, q.rejectLimit)
	}
	return s.cfg.MaxRejects
}

// open connects to q's server for work. While the TCP connection is not established
// after Stagger, the requests that have another exchanger move on to it (RFC 8305's
// staggered attempts), so a blackholed server costs them one short wait.
func (s *Scheduler) open(q *queue, work []*tx) (*smtpprobe.Session, error) {
	connected := make(chan struct{})
	var once sync.Once
	p := s.cfg.Prober.OnConnect(func(net.Conn) { once.Do(func() { close(connected) }) })
	type result struct {
		sess *smtpprobe.Session
		err  error
	}
	res := make(chan result, 1)
	s.attempts.Add(1)
	go func() {
		sess, err := p.Open(s.ctx, q.host, q.addr)
		res <- result{sess, err}
	}()
	stagger := time.NewTimer(s.cfg.Stagger)
	defer stagger.Stop()
	for {
		select {
		case r := <-res:
			if r.err != nil {
				s.failures.Add(1)
				var se *smtpprobe.Error
				if errors.As(r.err, &se) && se.Step == smtpprobe.StepConnect && se.Timeout() {
					s.timeouts.Add(1)
				}
				return nil, r.err
			}
			s.sessions.Add(1)
			return r.sess, nil
		case <-connected:
			connected = nil
		case <-stagger.C:
			if connected != nil {
				s.moveOn(q, work)
			}
		}
	}
}

// moveOn sends the requests of work that have another exchanger to it.
func (s *Scheduler) moveOn(q *queue, work []*tx) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range work {
		kept := t.reqs[:0]
		for _, r := range t.reqs {
			if len(r.cands) > 1 && r.cands[0].addr == q.addr {
				r.cands = r.cands[1:]
				s.routeLocked(r, Outcome{Fail: FailUnreachable})
				continue
			}
			kept = append(kept, r)
		}
		t.reqs = kept
	}
}

// openFailed answers or requeues work after a failed open; false means this slot ends
// (the server showed it takes fewer sessions).
func (s *Scheduler) openFailed(q *queue, work []*tx, err error) bool {
	var reqs []*request
	for _, t := range work {
		reqs = append(reqs, t.reqs...)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := errOutcome(q.host, err)
	var se *smtpprobe.Error
	if errors.As(err, &se) && se.Reply != nil {
		out.Step, out.Reply, out.Fail = se.Step, *se.Reply, FailNone
		switch {
		case se.Reply.Permanent():
			// The server answered and refused us: its other domains would fare no better.
			s.failLocked(q, reqs, out, true, false)
		case s.cfg.Classify(se.Step, *se.Reply) == KindTooManyConnections && q.sessions > 1:
			// The server limits connections per client: hand the work to the sessions
			// that are open and stay within the limit from now on.
			q.connLimit = q.sessions - 1
			q.sessions--
			s.requeueLocked(q, reqs, out, false)
			return false
		default:
			q.setBackoffLocked()
			out.Fail = FailTemporary
			s.requeueLocked(q, reqs, out, true)
		}
		return true
	}
	q.failures++
	s.failLocked(q, reqs, out, q.failures >= 2, true)
	return true
}

// errOutcome turns a session error (I/O, timeout, garbled reply) into an outcome.
func errOutcome(host string, err error) Outcome {
	out := Outcome{Host: host, Message: err.Error(), Checked: true, Fail: FailProtocol}
	var se *smtpprobe.Error
	if errors.As(err, &se) {
		out.Step = se.Step
		if se.Reply != nil {
			out.Reply = *se.Reply
			if se.Reply.Code == 421 {
				out.Fail = FailTemporary
			}
			return out
		}
		if se.Step == smtpprobe.StepConnect {
			out.Fail = FailUnreachable
		}
	}
	if isTimeout(err) {
		out.Fail = FailTimeout
	}
	return out
}

func isTimeout(err error) bool {
	var se *smtpprobe.Error
	if errors.As(err, &se) && se.Timeout() {
		return true
	}
	var te interface{ Timeout() bool }
	return errors.As(err, &te) && te.Timeout() || errors.Is(err, context.DeadlineExceeded)
}
