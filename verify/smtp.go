package verify

import (
	"context"
	"crypto/rand"
	"errors"
	"math/big"
	mrand "math/rand/v2"
	"net/netip"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/everify/everify/dnscheck"
	"github.com/everify/everify/smtpprobe"
)

// The SMTP stage batches recipients onto shared sessions. Every address that needs a
// probe becomes an rcptReq on the queue of its domain's mail-exchanger set (domains
// hosted on the same exchangers share a queue and so share sessions). A queue runs at
// most PerMX session goroutines; each opens a session, takes the pending recipients in
// pipelined batches (one round trip per batch when the server offers PIPELINING), and
// stays open for Linger after its queue empties so that the next addresses of the same
// server reuse it. Sessions are recycled after RcptPerConn recipients or MaxRejects
// rejections, before the server's own error limits bite. Per-host semaphores bound the
// connections to each MX host across queues.

// maxBatch bounds the recipients pipelined in one write.
const maxBatch = 20

// maxAttempts bounds how often one recipient is retried after its session died under it.
const maxAttempts = 3

type rcptReq struct {
	addr     string // on the wire: local@ascii-domain
	domain   string // ASCII domain, for the catch-all probe
	utf8     bool   // needs SMTPUTF8
	attempts int
	ctx      context.Context
	done     chan rcptOutcome // buffered: a worker never blocks on a requester that left
}

// rcptOutcome is what the SMTP stage learnt about one recipient.
type rcptOutcome struct {
	step    smtpprobe.Step
	reply   smtpprobe.Reply
	reason  Reason // set when the verdict needs no reply classification
	message string // a message for reason-only outcomes
	host    string
	tls     bool
	checked bool
}

// retryable reports whether a greylist retry can help.
func (o rcptOutcome) retryable() bool {
	if o.reason != "" {
		return o.reason == ReasonSMTPTempFailure
	}
	return o.reply.Transient() && ClassifyReply(o.step, o.reply) == ReasonSMTPTempFailure
}

func (o rcptOutcome) fill(r *Result) {
	r.SMTP.Checked = o.checked
	r.SMTP.MX = o.host
	r.SMTP.TLS = o.tls
	r.SMTP.Code = o.reply.Code
	r.SMTP.EnhancedCode = o.reply.Enhanced
	// As in SPEC.md's record: the reply text after the basic code, enhanced code included.
	r.SMTP.Message = strings.TrimSpace(o.reply.Enhanced + " " + o.reply.Message)
	if o.message != "" && o.reply.Code == 0 {
		r.SMTP.Message = o.message
	}
}

type catchAllResult int

const (
	catchAllUnknown catchAllResult = iota // inconclusive: blocked, 4xx, timeout
	catchAllYes
	catchAllNo
)

type catchAllEntry struct {
	done   chan struct{}
	result catchAllResult
	err    error // the probe was cut short by its requester; waiters probe again
}

type smtpPool struct {
	v      *Verifier
	ctx    context.Context // ends with close: aborts commands in flight
	cancel context.CancelFunc
	quit   chan struct{} // closed by close: idle sessions QUIT at once

	mu      sync.Mutex
	queues  map[string]*mxQueue
	hostSem map[string]chan struct{}
	backoff map[string]time.Time
	caCache map[string]*catchAllEntry
	closed  bool
	wg      sync.WaitGroup

	sessions, roundTrips, attempts, timeouts, failures atomic.Int64
}

type mxQueue struct {
	key     string
	hosts   []dnscheck.Host
	pending []*rcptReq
	workers int
	wake    chan struct{} // signalled when work arrives
	// Consecutive opens that failed on every host; after two, later requests fail at
	// once with the same outcome (bounded cost against a dead or blackholed server).
	openFailures int
	failed       *rcptOutcome
	failedUntil  time.Time // then one trial open is let through again
	// Limits the server has shown, learnt for the rest of the run (0: none seen):
	// rejections per session (it disconnected with "421 too many errors" after one
	// more), simultaneous sessions (it refused another one while one was open), and
	// recipients per transaction ("452 4.5.3 too many recipients").
	rejectLimit, connLimit, txLimit int
}

// maxQueues is how many mail-server queues are kept once idle.
const maxQueues = 10_000

// stickyFor is how long a server that failed twice in a row is not tried again (a
// variable for tests).
var stickyFor = 2 * time.Minute

func newSMTPPool(v *Verifier) *smtpPool {
	ctx, cancel := context.WithCancel(context.Background())
	return &smtpPool{
		v: v, ctx: ctx, cancel: cancel, quit: make(chan struct{}),
		queues:  make(map[string]*mxQueue),
		hostSem: make(map[string]chan struct{}),
		backoff: make(map[string]time.Time),
		caCache: make(map[string]*catchAllEntry),
	}
}

func (p *smtpPool) perMX() int       { return orDefault(p.v.PerMX, 2) }
func (p *smtpPool) rcptPerConn() int { return orDefault(p.v.RcptPerConn, 20) }
func (p *smtpPool) maxRejects() int  { return orDefault(p.v.MaxRejects, 8) }
func (p *smtpPool) maxHosts() int    { return orDefault(p.v.MaxMXHosts, 3) }
func (p *smtpPool) linger() time.Duration {
	if p.v.Linger > 0 {
		return p.v.Linger
	}
	return 500 * time.Millisecond
}

func orDefault(n, def int) int {
	if n > 0 {
		return n
	}
	return def
}

func queueKey(hosts []dnscheck.Host) string {
	names := make([]string, len(hosts))
	for i, h := range hosts {
		names[i] = h.Name
	}
	sort.Strings(names)
	return strings.Join(names, ",")
}

// submit queues req for the exchangers hosts and waits for its outcome. It returns an
// error only when ctx ends first.
func (p *smtpPool) submit(ctx context.Context, hosts []dnscheck.Host, req *rcptReq) (rcptOutcome, error) {
	req.ctx = ctx
	req.done = make(chan rcptOutcome, 1)
	key := queueKey(hosts)
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return rcptOutcome{}, context.Canceled
	}
	q := p.queues[key]
	if q == nil {
		q = &mxQueue{key: key, hosts: hosts, wake: make(chan struct{}, 1)}
		p.queues[key] = q
	}
	if q.failed != nil {
		if time.Now().Before(q.failedUntil) {
			out := *q.failed
			p.mu.Unlock()
			return out, nil
		}
		q.failed, q.openFailures = nil, 1 // one trial: a new failure is sticky at once
	}
	q.pending = append(q.pending, req)
	p.maybeStartLocked(q)
	p.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
	select {
	case out := <-req.done:
		return out, nil
	case <-ctx.Done():
		return rcptOutcome{}, ctx.Err()
	}
}

// maybeStartLocked starts a session goroutine for q when it has none, or when work piles
// up and it may have another.
func (p *smtpPool) maybeStartLocked(q *mxQueue) {
	limit := p.perMX()
	if q.connLimit > 0 {
		limit = min(limit, q.connLimit)
	}
	if q.workers == 0 || (q.workers < limit && len(q.pending) > q.workers*maxBatch/2) {
		q.workers++
		p.wg.Add(1)
		go p.run(q)
	}
}

// run is one session goroutine of q: it opens sessions and serves q's recipients until
// the queue stays empty for Linger.
func (p *smtpPool) run(q *mxQueue) {
	defer p.wg.Done()
	for {
		if !p.waitWork(q) {
			p.mu.Lock()
			q.workers--
			// A request may have arrived after waitWork gave up.
			if len(q.pending) > 0 && q.workers == 0 && !p.closed {
				q.workers++
				p.mu.Unlock()
				continue
			}
			// Past maxQueues an idle queue is forgotten, so memory does not grow with the
			// mail servers of a run (what it learnt about its server goes with it).
			if len(p.queues) > maxQueues && q.workers == 0 && len(q.pending) == 0 && q.failed == nil && p.queues[q.key] == q {
				delete(p.queues, q.key)
			}
			p.mu.Unlock()
			return
		}
		// Claim the first batch before connecting, so that a session is only opened
		// with recipients in hand (another session may have served the queue meanwhile).
		n := min(maxBatch, p.rcptPerConn(), p.rejectLimit(q))
		p.mu.Lock()
		if q.txLimit > 0 {
			n = min(n, q.txLimit)
		}
		p.mu.Unlock()
		first := p.take(q, n, false)
		if len(first) == 0 {
			continue
		}
		s, release, fail := p.open(q)
		if s == nil {
			p.mu.Lock()
			if q.workers > 1 && fail.retryable() {
				// Another session of this queue is open: the server limits connections
				// per client ("421 too many connections"). Hand the recipients back to
				// that session and stay within the limit from now on.
				q.pending = append(live(first), q.pending...)
				q.workers--
				q.connLimit = q.workers
				p.mu.Unlock()
				return
			}
			p.mu.Unlock()
			for _, r := range first {
				r.done <- fail
			}
			p.failPending(q, fail)
			continue
		}
		// Opening may have taken long (back-off, timeouts): probe nobody who left.
		p.serve(q, s, live(first))
		s.Quit()
		p.roundTrips.Add(int64(s.RoundTrips()))
		release()
	}
}

// waitWork waits until q has a live request or Linger passes; it reports whether there
// is work.
func (p *smtpPool) waitWork(q *mxQueue) bool {
	t := time.NewTimer(p.linger())
	defer t.Stop()
	for {
		p.mu.Lock()
		q.pending = slices.DeleteFunc(q.pending, func(r *rcptReq) bool { return r.ctx.Err() != nil })
		n := len(q.pending)
		closed := p.closed
		p.mu.Unlock()
		if n > 0 && !closed {
			return true
		}
		if closed {
			return false
		}
		select {
		case <-q.wake:
		case <-t.C:
			return false
		case <-p.quit:
			return false
		}
	}
}

// failPending answers every pending request of q with out after a failed open, and
// makes the failure sticky after two in a row.
// live returns the requests whose requester still waits.
func live(reqs []*rcptReq) []*rcptReq {
	return slices.DeleteFunc(reqs, func(r *rcptReq) bool { return r.ctx.Err() != nil })
}

func (p *smtpPool) failPending(q *mxQueue, out rcptOutcome) {
	p.mu.Lock()
	q.openFailures++
	sticky := q.openFailures >= 2 && !out.retryable()
	p.mu.Unlock()
	p.failAll(q, out, sticky)
}

// failAll answers every pending request of q with out; sticky makes later requests get
// the same answer at once.
func (p *smtpPool) failAll(q *mxQueue, out rcptOutcome, sticky bool) {
	p.mu.Lock()
	pending := q.pending
	q.pending = nil
	if sticky {
		q.failed = &out
		q.failedUntil = time.Now().Add(stickyFor)
	}
	p.mu.Unlock()
	for _, r := range pending {
		r.done <- out
	}
}

// take removes up to n pending requests of q that share an SMTPUTF8 need, preferring
// the need given (the current transaction's) when any request has it.
func (p *smtpPool) take(q *mxQueue, n int, utf8 bool) []*rcptReq {
	p.mu.Lock()
	defer p.mu.Unlock()
	var batch []*rcptReq
	rest := q.pending[:0]
	mode := utf8
	if len(q.pending) > 0 && !slices.ContainsFunc(q.pending, func(r *rcptReq) bool { return r.utf8 == utf8 }) {
		mode = !utf8
	}
	for _, r := range q.pending {
		switch {
		case r.ctx.Err() != nil:
		case len(batch) < n && r.utf8 == mode:
			batch = append(batch, r)
		default:
			rest = append(rest, r)
		}
	}
	clear(q.pending[len(rest):])
	q.pending = rest
	return batch
}

// requeue puts reqs, whose session died under them, back in q for another session; a
// request that has had maxAttempts gets out instead.
func (p *smtpPool) requeue(q *mxQueue, reqs []*rcptReq, out rcptOutcome) {
	p.mu.Lock()
	var failed []*rcptReq
	for _, r := range reqs {
		r.attempts++
		if r.attempts >= maxAttempts {
			failed = append(failed, r)
			continue
		}
		q.pending = append(q.pending, r)
	}
	p.mu.Unlock()
	for _, r := range failed {
		r.done <- out
	}
}

// serve probes q's recipients on s, starting with first, until the session is used
// up, dies or idles out.
func (p *smtpPool) serve(q *mxQueue, s *smtpprobe.Session, first []*rcptReq) {
	used, rejects, inTx := 0, 0, 0 // inTx: recipients in the open transaction
	tx, txUTF8 := false, false
	base := rcptOutcome{host: s.Host(), tls: s.TLS(), checked: true}
	maxRejects := p.rejectLimit(q)
	for s.Alive() && used < p.rcptPerConn() && rejects < maxRejects {
		p.mu.Lock()
		txLimit := q.txLimit
		p.mu.Unlock()
		if tx && txLimit > 0 && inTx >= txLimit {
			tx = false // a new transaction (RSET, MAIL) below
		}
		batch := first
		first = nil
		if len(batch) == 0 {
			if !p.waitWork(q) {
				return
			}
			n := min(maxBatch, p.rcptPerConn()-used, maxRejects-rejects)
			if txLimit > 0 {
				n = min(n, txLimit)
			}
			if batch = p.take(q, n, txUTF8); len(batch) == 0 {
				continue
			}
		}
		utf8 := batch[0].utf8
		if utf8 && !s.SMTPUTF8() {
			out := base
			out.reason = ReasonSMTPUTF8Unsupported
			out.message = "the address needs SMTPUTF8 (RFC 6531) and " + s.Host() + " does not offer it"
			for _, r := range batch {
				r.done <- out
			}
			continue
		}
		if !tx || txUTF8 != utf8 {
			if tx || inTx > 0 {
				if _, err := s.Reset(p.ctx); err != nil {
					p.requeue(q, batch, p.errOutcome(base, smtpprobe.StepRSET, err))
					return
				}
			}
			reply, err := s.Mail(p.ctx, utf8)
			if err != nil {
				p.requeue(q, batch, p.errOutcome(base, smtpprobe.StepMAIL, err))
				return
			}
			if !reply.Positive() {
				out := base
				out.step, out.reply = smtpprobe.StepMAIL, reply
				if reply.Transient() {
					p.setBackoff(s.Host())
					p.requeue(q, batch, out)
					return
				}
				// A refusal of our sender says nothing about any recipient: every
				// recipient of this server gets the same answer.
				for _, r := range batch {
					r.done <- out
				}
				p.failAll(q, out, true)
				return
			}
			tx, txUTF8, inTx = true, utf8, 0
		}
		addrs := make([]string, len(batch))
		for i, r := range batch {
			addrs[i] = r.addr
		}
		replies, err := s.RcptBatch(p.ctx, addrs)
		var retry []*rcptReq
		for i, r := range batch {
			if i >= len(replies) {
				retry = append(retry, batch[i:]...)
				break
			}
			reply := replies[i]
			if tooManyRecipients(reply) {
				// A limit of the transaction, not a verdict: learn it, give the rest back
				// and go on in a new transaction on the same session.
				p.mu.Lock()
				q.txLimit = max(1, inTx)
				q.pending = append(slices.Clone(batch[i:]), q.pending...)
				p.mu.Unlock()
				tx = false
				break
			}
			if reply.Code == 421 {
				// 421 closes the session and says nothing about the recipient.
				if rejects > 0 && strings.Contains(strings.ToLower(reply.Message), "too many") {
					// Learn the server's error limit: stay one under it from now on.
					p.mu.Lock()
					q.rejectLimit = max(1, rejects-1)
					p.mu.Unlock()
				}
				p.setBackoff(s.Host())
				out := base
				out.step, out.reply = smtpprobe.StepRCPT, reply
				p.requeue(q, append(retry, batch[i:]...), out)
				return
			}
			used++
			inTx++
			if !reply.Positive() {
				rejects++
			}
			out := base
			out.step, out.reply = smtpprobe.StepRCPT, reply
			r.done <- out
		}
		if len(retry) > 0 {
			if err == nil {
				err = smtpprobe.ErrProtocol
			}
			p.requeue(q, retry, p.errOutcome(base, smtpprobe.StepRCPT, err))
			return
		}
		if err != nil {
			return
		}
	}
}

// tooManyRecipients reports whether r refuses a recipient because the transaction has
// too many (RFC 5321 §4.5.3.1.10: 452, formerly 552; RFC 3463 X.5.3).
func tooManyRecipients(r smtpprobe.Reply) bool {
	if r.Code != 452 && r.Code != 552 {
		return false
	}
	return r.Enhanced == "4.5.3" || r.Enhanced == "5.5.3" ||
		strings.Contains(strings.ToLower(r.Message), "too many recipients")
}

// rejectLimit is how many rejected recipients one session of q may take: MaxRejects,
// or less when the server has shown a lower limit.
func (p *smtpPool) rejectLimit(q *mxQueue) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if q.rejectLimit > 0 {
		return min(p.maxRejects(), q.rejectLimit)
	}
	return p.maxRejects()
}

// errOutcome turns a session error (I/O, timeout, garbled reply) into an outcome.
func (p *smtpPool) errOutcome(base rcptOutcome, step smtpprobe.Step, err error) rcptOutcome {
	out := base
	out.step = step
	var se *smtpprobe.Error
	if errors.As(err, &se) && se.Reply != nil {
		out.reply = *se.Reply
		if se.Reply.Code == 421 {
			// The server asked us to go away for now (smtpprobe returns a 421 as an
			// error: the session is over).
			p.setBackoff(base.host)
			out.reason = ReasonSMTPTempFailure
		}
		return out
	}
	out.message = err.Error()
	switch {
	case isTimeout(err):
		out.reason = ReasonSMTPTimeout
	default:
		out.reason = ReasonSMTPProtocolError
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

func (p *smtpPool) setBackoff(host string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	until := time.Now().Add(time.Second)
	if prev, ok := p.backoff[host]; ok && prev.After(time.Now()) {
		// Doubles while the server keeps refusing, up to a minute.
		d := min(2*time.Until(prev)+time.Second, time.Minute)
		until = time.Now().Add(d)
	}
	p.backoff[host] = until
}

// sem returns the semaphore bounding sessions to one server address.
func (p *smtpPool) sem(addr string) chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.hostSem[addr]
	if s == nil {
		s = make(chan struct{}, p.perMX())
		p.hostSem[addr] = s
	}
	return s
}

// orderHosts returns the hosts to try: by preference, random within equal preference
// (RFC 5321 §5.1), at most MaxMXHosts.
func (p *smtpPool) orderHosts(hosts []dnscheck.Host) []dnscheck.Host {
	hs := slices.Clone(hosts)
	mrand.Shuffle(len(hs), func(i, j int) { hs[i], hs[j] = hs[j], hs[i] })
	slices.SortStableFunc(hs, func(a, b dnscheck.Host) int { return int(a.Pref) - int(b.Pref) })
	if len(hs) > p.maxHosts() {
		hs = hs[:p.maxHosts()]
	}
	return hs
}

// maxAddrsPerHost bounds the addresses of one MX host tried in one open.
const maxAddrsPerHost = 2

// open opens a session to the first of q's exchangers that answers. It holds the server
// address's semaphore (PerMX sessions at most) until release is called. When every host fails, fail says why.
func (p *smtpPool) open(q *mxQueue) (s *smtpprobe.Session, release func(), fail rcptOutcome) {
	var lastReply *rcptOutcome
	timedOut, protocol := false, false
	var lastErr error
	for _, h := range p.orderHosts(q.hosts) {
		p.waitBackoff(h.Name)
		addrs := h.Addrs
		if len(addrs) > maxAddrsPerHost {
			addrs = addrs[:maxAddrsPerHost]
		}
		for _, a := range addrs {
			// The bound is per server address: several MX names often share one.
			sem := p.sem(a.String())
			select {
			case sem <- struct{}{}:
			case <-p.ctx.Done():
				return nil, nil, rcptOutcome{reason: ReasonSMTPTimeout, message: "verifier closed"}
			}
			sess, err := p.dial(h.Name, a)
			if err == nil {
				p.mu.Lock()
				q.openFailures = 0
				p.mu.Unlock()
				var once sync.Once
				return sess, func() { once.Do(func() { <-sem }) }, rcptOutcome{}
			}
			<-sem
			lastErr = err
			var se *smtpprobe.Error
			if errors.As(err, &se) && se.Reply != nil {
				out := rcptOutcome{step: se.Step, reply: *se.Reply, host: h.Name, checked: true}
				lastReply = &out
				if se.Reply.Permanent() {
					// The server answered and refused us: other exchangers of the same
					// domain would say no better.
					return nil, nil, out
				}
				p.setBackoff(h.Name)
				break
			}
			if isTimeout(err) {
				timedOut = true
			} else if errors.As(err, &se) && se.Step != smtpprobe.StepConnect {
				protocol = true
			}
		}
	}
	switch {
	case lastReply != nil:
		return nil, nil, *lastReply
	case protocol:
		return nil, nil, rcptOutcome{reason: ReasonSMTPProtocolError, message: errString(lastErr), checked: true}
	case timedOut:
		return nil, nil, rcptOutcome{reason: ReasonSMTPTimeout, message: errString(lastErr), checked: true}
	default:
		return nil, nil, rcptOutcome{reason: ReasonSMTPUnreachable, message: errString(lastErr), checked: true}
	}
}

func errString(err error) string {
	if err == nil {
		return "no address to connect to"
	}
	return err.Error()
}

func (p *smtpPool) waitBackoff(host string) {
	p.mu.Lock()
	until, ok := p.backoff[host]
	if ok && time.Now().After(until) {
		delete(p.backoff, host)
	}
	p.mu.Unlock()
	if d := time.Until(until); d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-p.ctx.Done():
		}
	}
}

func (p *smtpPool) dial(host string, addr netip.Addr) (*smtpprobe.Session, error) {
	p.attempts.Add(1)
	s, err := p.v.SMTP.Open(p.ctx, host, addr)
	if err != nil {
		p.failures.Add(1)
		var se *smtpprobe.Error
		if errors.As(err, &se) && se.Step == smtpprobe.StepConnect && se.Timeout() {
			p.timeouts.Add(1)
		}
		return nil, err
	}
	p.sessions.Add(1)
	return s, nil
}

// maxCatchAllCache bounds the domains whose catch-all status is remembered.
const maxCatchAllCache = 100_000

// catchAll returns the catch-all status of domain, probing it once per run with a random
// local part on the domain's exchangers.
func (p *smtpPool) catchAll(ctx context.Context, hosts []dnscheck.Host, domain string) (catchAllResult, error) {
	for {
		p.mu.Lock()
		e := p.caCache[domain]
		if e == nil {
			e = &catchAllEntry{done: make(chan struct{})}
			if len(p.caCache) >= maxCatchAllCache {
				// Bounded memory: start over (waiters keep their entries).
				p.caCache = make(map[string]*catchAllEntry)
			}
			p.caCache[domain] = e
			p.mu.Unlock()
			e.result, e.err = p.probeCatchAll(ctx, hosts, domain)
			if e.err != nil {
				p.mu.Lock()
				delete(p.caCache, domain)
				p.mu.Unlock()
			}
			close(e.done)
			return e.result, e.err
		}
		p.mu.Unlock()
		select {
		case <-e.done:
		case <-ctx.Done():
			return catchAllUnknown, ctx.Err()
		}
		if e.err == nil {
			return e.result, nil
		}
	}
}

func (p *smtpPool) probeCatchAll(ctx context.Context, hosts []dnscheck.Host, domain string) (catchAllResult, error) {
	// The random local part is ASCII: it needs no SMTPUTF8, whatever the real address did.
	out, err := p.submit(ctx, hosts, &rcptReq{addr: randomLocal() + "@" + domain, domain: domain})
	if err != nil {
		return catchAllUnknown, err
	}
	if out.reason != "" {
		return catchAllUnknown, nil
	}
	if out.reply.Positive() {
		return catchAllYes, nil
	}
	if ClassifyReply(out.step, out.reply).Status() == StatusUndeliverable {
		return catchAllNo, nil
	}
	return catchAllUnknown, nil
}

// randomLocal returns a local part no one uses: 16 random lower-case letters and digits.
func randomLocal() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 16)
	for i := range b {
		n, err := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
		if err != nil {
			n = big.NewInt(int64(mrand.IntN(len(alphabet))))
		}
		b[i] = alphabet[n.Int64()]
	}
	return string(b)
}

func (p *smtpPool) stats(s *Stats) {
	s.Sessions = p.sessions.Load()
	s.ConnectAttempts = p.attempts.Load()
	s.ConnectTimeouts = p.timeouts.Load()
	s.ConnectFailures = p.failures.Load()
	s.RoundTrips = p.roundTrips.Load()
}

// close makes idle sessions QUIT, aborts commands in flight, and waits for every
// session goroutine.
func (p *smtpPool) close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	close(p.quit)
	p.mu.Unlock()
	p.cancel()
	p.wg.Wait()
	// Nobody serves the queues any more: answer whoever still waits.
	p.mu.Lock()
	queues := make([]*mxQueue, 0, len(p.queues))
	for _, q := range p.queues {
		queues = append(queues, q)
	}
	p.mu.Unlock()
	for _, q := range queues {
		p.failAll(q, rcptOutcome{reason: ReasonSMTPTimeout, message: "verifier closed"}, true)
	}
}
