package sched

import (
	"slices"

	"github.com/everify/everify/smtpprobe"
)

// session is the state of one open session while it serves its queue.
type session struct {
	s       *Scheduler
	q       *queue
	sess    *smtpprobe.Session
	used    int  // recipients answered
	rejects int  // of those, refused
	txOpen  bool // a MAIL was sent since the last RSET
}

// serve probes q's work on sess, starting with work, until the session's budget is
// used, it dies, or q stays empty for Linger.
func (s *Scheduler) serve(q *queue, sess *smtpprobe.Session, work []*tx) {
	ss := &session{s: s, q: q, sess: sess}
	// The queue filled while the session opened: top the first group up.
	s.mu.Lock()
	unsafe, safe := counts(work)
	if n := min(maxGroup, s.cfg.RcptPerSession, s.rejectLimit(q)) - unsafe; n > 0 || safe < s.cfg.MaxRejects {
		work = merge(work, s.takeLocked(q, max(0, n), s.cfg.MaxRejects-safe))
	}
	s.mu.Unlock()
	for {
		if len(work) > 0 && !ss.group(work) {
			return
		}
		s.mu.Lock()
		n := min(maxGroup, s.cfg.RcptPerSession-ss.used, s.rejectLimit(q)-ss.rejects)
		// A group this small costs a round trip for little: when the queue holds a
		// fresh session's worth, a new session (banner, EHLO, a full group) does better.
		done := n <= minGroup && q.n >= s.rejectLimit(q)
		s.mu.Unlock()
		if n <= 0 || done || !sess.Alive() || !s.waitWork(q) {
			return
		}
		s.mu.Lock()
		work = s.takeLocked(q, n, s.cfg.MaxRejects)
		s.mu.Unlock()
	}
}

// minGroup is the group size below which a session with a full queue ends.
const minGroup = 3

// slot says which request, if any, a command of a group is for.
type slot struct {
	t   *tx
	req *request // nil for RSET and MAIL
}

// group sends work as one pipelined group, a transaction per domain, and hands out
// the replies. It reports whether the session can go on.
func (ss *session) group(work []*tx) bool {
	s, q, sess := ss.s, ss.q, ss.sess
	// Transactions that cannot be refused go first: the recipients that can are then the
	// group's last commands, so the session's last allowed refusal is its last reply,
	// never one that the server's error limit makes it delay (see Config.MaxRejects).
	work = slices.Clone(work)
	slices.SortStableFunc(work, func(a, b *tx) int {
		switch {
		case a.safe == b.safe:
			return 0
		case a.safe:
			return -1
		}
		return 1
	})
	var cmds []smtpprobe.Command
	var slots []slot
	var held []*request // catch-all probes kept for after this group
	for _, t := range work {
		if len(t.reqs) > 1 {
			// A probe waits out one group that has real recipients of its domain: one of
			// them refused as unknown settles the domain and spares the probe's refusal.
			// Only one, so that a domain with a long queue still gets its answer.
			t.reqs = slices.DeleteFunc(t.reqs, func(r *request) bool {
				hold := r.probe && !r.held
				if hold {
					r.held = true
					held = append(held, r)
				}
				return hold
			})
		}
		if len(t.reqs) == 0 {
			continue
		}
		if t.utf8 && !sess.SMTPUTF8() {
			s.mu.Lock()
			for _, r := range t.reqs {
				s.finishLocked(r, ss.outcome(r, Outcome{Fail: FailSMTPUTF8,
					Message: "the address needs SMTPUTF8 (RFC 6531) and " + q.host + " does not offer it"}))
			}
			s.mu.Unlock()
			continue
		}
		if ss.txOpen {
			cmds = append(cmds, smtpprobe.Command{Step: smtpprobe.StepRSET, Line: "RSET"})
			slots = append(slots, slot{t: t})
		}
		cmds = append(cmds, sess.MailCommand(t.utf8))
		slots = append(slots, slot{t: t})
		ss.txOpen = true
		for _, r := range t.reqs {
			cmds = append(cmds, smtpprobe.Command{Step: smtpprobe.StepRCPT, Line: "RCPT TO:<" + r.addr + ">"})
			slots = append(slots, slot{t: t, req: r})
		}
	}
	if len(cmds) == 0 {
		s.mu.Lock()
		ss.requeueHeld(held)
		s.mu.Unlock()
		return true
	}
	replies, err := sess.Pipeline(s.ctx, cmds)

	s.mu.Lock()
	defer s.mu.Unlock()
	s.group = map[*domain]*request{}
	defer s.endGroupLocked()
	defer ss.requeueHeld(held)
	var skip *tx // a transaction whose remaining RCPTs need no answer here
	inTx := 0    // recipients answered in the current transaction
	for i, sl := range slots {
		if i >= len(replies) {
			ss.lost(slots[i:], err)
			return false
		}
		reply := replies[i]
		step := cmds[i].Step
		if sl.req == nil {
			skip, inTx = nil, 0
			switch {
			case reply.Positive():
			case reply.Code == 421:
				q.setBackoffLocked()
				ss.requeueRest(slots[i+1:], ss.outcome(nil, Outcome{Step: step, Reply: reply, Fail: FailTemporary}))
				return false
			case step == smtpprobe.StepMAIL && reply.Permanent():
				// A refusal of our sender says nothing about any recipient: every
				// recipient of this server gets the same answer.
				out := ss.outcome(nil, Outcome{Step: step, Reply: reply})
				var rest []*request
				for _, o := range slots[i+1:] {
					if o.req != nil {
						rest = append(rest, o.req)
					}
				}
				s.failLocked(q, rest, out, true, false)
				return false
			default:
				// A 4xx to MAIL, or a failed RSET: this transaction's recipients go back
				// (their RCPTs get "503 need MAIL", not verdicts) and the server is
				// backed off from. The server counts the failure as an error, one the
				// budget did not foresee: from now on one is kept in reserve for it.
				q.setBackoffLocked()
				ss.rejects++
				if lim := s.cfg.MaxRejects - 1; lim >= 1 && (q.rejectLimit == 0 || q.rejectLimit > lim) {
					q.rejectLimit = lim
				}
				skip = sl.t
				ss.requeueTx(slots[i+1:], sl.t, ss.outcome(nil, Outcome{Step: step, Reply: reply, Fail: FailTemporary}))
			}
			continue
		}
		if skip == sl.t {
			if !reply.Positive() {
				ss.rejects++ // servers count these errors too
			}
			continue
		}
		r := sl.req
		if sl.t.safe && !reply.Positive() {
			// A catch-all domain refused one (policy, a full mailbox): its recipients
			// count against the budget from now on.
			r.dom.refuses = true
		}
		kind := s.cfg.Classify(step, reply)
		switch {
		case kind == KindTooManyRecipients && inTx > 0:
			// A limit of the transaction: learn it and give the rest of this
			// transaction back; the next transaction starts with RSET. (Refused as the
			// first recipient, it is an answer: a temporary failure.)
			q.txLimit = inTx
			skip = sl.t
			ss.rejects++
			ss.requeueTx(slots[i:], sl.t, Outcome{})
			continue
		case reply.Code == 421:
			if kind == KindTooManyErrors && ss.rejects > 0 {
				// The server's error limit: stay one under it from now on.
				q.rejectLimit = max(1, ss.rejects-1)
			}
			q.setBackoffLocked()
			ss.requeueRest(slots[i:], ss.outcome(r, Outcome{Step: step, Reply: reply, Fail: FailTemporary}))
			return false
		}
		inTx++
		ss.used++
		if !reply.Positive() {
			ss.rejects++
		}
		if kind == KindNoMailbox && !r.probe {
			s.settleLocked(r.dom, CatchAllNo)
		}
		s.finishLocked(r, ss.outcome(r, Outcome{Step: step, Reply: reply}))
	}
	return err == nil
}

// requeueHeld routes the probes held out of a group again, first in line, unless the
// group settled their domains. Routing respects a server the group found failing.
func (ss *session) requeueHeld(held []*request) {
	for _, p := range held {
		if !p.gone() {
			ss.s.routeLocked(p, Outcome{Fail: FailUnreachable, Message: "no exchanger left for the catch-all probe"})
		}
	}
}

// outcome completes out with what the session knows.
func (ss *session) outcome(r *request, out Outcome) Outcome {
	out.Host = ss.q.host
	if r != nil && len(r.cands) > 0 {
		out.Host = r.cands[0].host
	}
	out.TLS = ss.sess.TLS()
	out.Checked = true
	return out
}

// lost handles the requests whose replies the session died before giving. A timeout
// fails them, and the server's other requests, at once: a server that stops answering
// is not tried again in session after session. Other errors give them back for another
// session.
func (ss *session) lost(rest []slot, err error) {
	s, q := ss.s, ss.q
	if err == nil {
		err = smtpprobe.ErrProtocol
	}
	var reqs []*request
	for _, sl := range rest {
		if sl.req != nil {
			reqs = append(reqs, sl.req)
		}
	}
	out := ss.outcome(nil, errOutcome(q.host, err))
	if out.Fail == FailTimeout {
		s.failLocked(q, reqs, out, true, false)
		return
	}
	if out.Fail == FailTemporary {
		q.setBackoffLocked()
	}
	s.requeueLocked(q, reqs, out, true)
}

// requeueRest gives back every request of rest.
func (ss *session) requeueRest(rest []slot, out Outcome) {
	var reqs []*request
	for _, sl := range rest {
		if sl.req != nil {
			reqs = append(reqs, sl.req)
		}
	}
	ss.s.requeueLocked(ss.q, reqs, out, out.Fail != FailNone)
}

// requeueTx gives back the requests of rest that belong to t, uncounted when out is
// the zero Outcome (a limit of the transaction, not a failure).
func (ss *session) requeueTx(rest []slot, t *tx, out Outcome) {
	var reqs []*request
	for _, sl := range rest {
		if sl.t == t && sl.req != nil {
			reqs = append(reqs, sl.req)
		}
	}
	ss.s.requeueLocked(ss.q, reqs, out, out.Fail != FailNone)
}
