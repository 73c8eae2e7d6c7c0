package sched

import (
	"context"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/everify/everify/dnscheck"
	"github.com/everify/everify/internal/defaults"
	"github.com/everify/everify/smtpprobe"
)

// Kind is what a reply means to the scheduler, as the caller's classifier says.
type Kind int

const (
	// KindOther is a refusal that says nothing about the domain: policy, blocklist,
	// temporary failure, a full mailbox.
	KindOther Kind = iota
	// KindAccepted is a positive reply.
	KindAccepted
	// KindNoMailbox refuses the recipient as unknown or disabled: the server checks its
	// recipients, so the domain is not catch-all.
	KindNoMailbox
	// KindTooManyRecipients (452 4.5.3) is a limit of the transaction, not a verdict.
	KindTooManyRecipients
	// KindTooManyErrors is a 421 for too many errors in the session.
	KindTooManyErrors
	// KindTooManyConnections is a 421 for too many connections from this client.
	KindTooManyConnections
)

// CatchAll is a domain's catch-all status.
type CatchAll int

const (
	CatchAllUnknown CatchAll = iota // not probed, or inconclusive (blocked, 4xx, timeout)
	CatchAllYes                     // a random local part was accepted
	CatchAllNo                      // a recipient was refused as unknown
)

// Fail says why a request got no reply of its own to RCPT.
type Fail string

const (
	FailNone        Fail = ""
	FailTimeout     Fail = "timeout"     // a connect or command timed out, or the bound passed
	FailUnreachable Fail = "unreachable" // no exchanger could be connected to
	FailProtocol    Fail = "protocol"    // garbled replies, unexpected disconnects
	FailSMTPUTF8    Fail = "smtputf8"    // the address needs SMTPUTF8; the server lacks it
	FailTemporary   Fail = "temporary"   // the server asked us to come back later (421)
	FailClosed      Fail = "closed"      // the scheduler was closed
)

// Request is one recipient to probe.
type Request struct {
	Addr     string          // on the wire: local@ascii-domain
	Domain   string          // ASCII domain: routing and the catch-all probe are per domain
	UTF8     bool            // the address needs SMTPUTF8
	Hosts    []dnscheck.Host // the domain's exchangers
	CatchAll bool            // also find out whether the domain is catch-all, if accepted
	// Started is when the address's verification began: the older are served first
	// (bulk writes rows in input order). Zero means now.
	Started time.Time
}

// Outcome is what the servers said about one request.
type Outcome struct {
	Step  smtpprobe.Step
	Reply smtpprobe.Reply // the reply that decides; Code 0 when there was none
	// Fail is set when no reply decides (Reply may still hold the 421 of FailTemporary).
	Fail     Fail
	Message  string   // detail for Fail
	Host     string   // the MX host name the request was routed to
	TLS      bool     // the session ran over STARTTLS
	Checked  bool     // a server was contacted for the request
	CatchAll CatchAll // with Request.CatchAll and an accepted recipient
}

// Config configures a [Scheduler]. Zero fields take the defaults given.
type Config struct {
	Prober *smtpprobe.Prober // required
	// Classify tells what a reply at a step means; required. It is the only reader of
	// reply text.
	Classify func(smtpprobe.Step, smtpprobe.Reply) Kind
	// PerServer bounds simultaneous sessions to one server address; 2.
	PerServer int
	// RcptPerSession bounds the recipients of one session; 50.
	RcptPerSession int
	// MaxRejects bounds the rejected recipients of one session; 10. Postfix slows every
	// reply once a session has made 10 errors (smtpd_soft_error_limit), but not the
	// reply of the 10th: a group puts the recipients that may be refused last, so the
	// last refusal a session may take is the last reply it waits for.
	MaxRejects int
	// MaxHosts bounds the MX hosts tried for a domain, in preference order; 3.
	MaxHosts int
	// Linger is how long an idle session waits for more work; 500ms.
	Linger time.Duration
	// Bound is the most time a request takes from its first claim by a session;
	// 2 × Prober.Timeout + 5s.
	Bound time.Duration
	// Stagger is how long a connection may stay unestablished before the requests
	// waiting for it move on to the domain's next exchanger; min(2s, Prober.Timeout/5).
	Stagger time.Duration
	// StickyFor is how long a server that failed (two opens in a row, or a command
	// timeout) fails new requests at once before one trial; 2 minutes.
	StickyFor time.Duration
}

// Scheduler probes recipients on shared sessions. It is safe for concurrent use; call
// [Scheduler.Close] when done.
type Scheduler struct {
	cfg    Config
	ctx    context.Context // ends with Close: aborts commands in flight
	cancel context.CancelFunc
	quit   chan struct{} // closed by Close: idle sessions leave at once

	mu      sync.Mutex
	queues  map[netip.Addr]*queue
	domains map[string]*domain
	closed  bool
	group   map[*domain]*request // while a group's replies are handed out: probes held
	wg      sync.WaitGroup

	sessions, roundTrips, attempts, timeouts, failures, peak atomic.Int64
}

// maxAttempts bounds how often one request is retried after its session died under it.
const maxAttempts = 3

// maxGroup bounds the recipients of one pipelined group.
const maxGroup = 50

// maxQueues is how many server queues are kept once idle; maxDomains how many domains'
// routes and catch-all answers are remembered.
const (
	maxQueues  = 10_000
	maxDomains = 100_000
)

// New returns a Scheduler for cfg.
func New(cfg Config) *Scheduler {
	def := func(p *int, d int) {
		if *p <= 0 {
			*p = d
		}
	}
	def(&cfg.PerServer, defaults.PerMX)
	def(&cfg.RcptPerSession, defaults.RcptPerConn)
	def(&cfg.MaxRejects, defaults.MaxRejects)
	def(&cfg.MaxHosts, defaults.MaxMXHosts)
	if cfg.Linger <= 0 {
		cfg.Linger = defaults.Linger
	}
	timeout := cfg.Prober.Timeout
	if timeout <= 0 {
		timeout = defaults.SMTPTimeout
	}
	if cfg.Bound <= 0 {
		cfg.Bound = 2*timeout + 5*time.Second
	}
	if cfg.StickyFor <= 0 {
		cfg.StickyFor = 2 * time.Minute
	}
	if cfg.Stagger <= 0 {
		cfg.Stagger = min(2*time.Second, timeout/5)
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Scheduler{cfg: cfg, ctx: ctx, cancel: cancel, quit: make(chan struct{}),
		queues: make(map[netip.Addr]*queue), domains: make(map[string]*domain)}
}

// Probe sends RCPT TO for req on a session shared with other requests of the same
// server and returns what the server said. It returns an error only when ctx ends
// first.
func (s *Scheduler) Probe(ctx context.Context, req Request) (Outcome, error) {
	r := &request{addr: req.Addr, utf8: req.UTF8, wantCA: req.CatchAll, ctx: ctx,
		done: make(chan Outcome, 1)}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return Outcome{}, context.Canceled
	}
	r.dom = s.domainLocked(req.Domain, req.Hosts)
	r.started = req.Started
	if r.started.IsZero() {
		r.started = time.Now()
	}
	r.cands = r.dom.cands
	s.routeLocked(r, Outcome{Fail: FailUnreachable, Message: "no address to connect to"})
	s.mu.Unlock()
	select {
	case out := <-r.done:
		return out, nil
	case <-ctx.Done():
		return Outcome{}, ctx.Err()
	}
}

// Stats counts the network work so far.
type Stats struct {
	Sessions        int64 // sessions opened (greeting completed)
	RoundTrips      int64 // replies waited for (a pipelined group counts once)
	ConnectAttempts int64 // TCP connections tried
	ConnectTimeouts int64 // of those, how many timed out
	ConnectFailures int64 // of those, how many failed in any way
	PeakPerServer   int64 // the most sessions open at once to one server address
}

// Stats returns the counters so far.
func (s *Scheduler) Stats() Stats {
	return Stats{Sessions: s.sessions.Load(), RoundTrips: s.roundTrips.Load(),
		ConnectAttempts: s.attempts.Load(), ConnectTimeouts: s.timeouts.Load(),
		ConnectFailures: s.failures.Load(), PeakPerServer: s.peak.Load()}
}

// Close makes idle sessions QUIT, aborts commands in flight, waits for every session
// goroutine and answers whatever still waits.
func (s *Scheduler) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	close(s.quit)
	s.mu.Unlock()
	s.cancel()
	s.wg.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	out := Outcome{Fail: FailClosed, Message: "verifier closed"}
	for _, q := range s.queues {
		for _, r := range q.drainLocked() {
			s.finishLocked(r, out)
		}
	}
	for _, d := range s.domains {
		s.settleLocked(d, CatchAllUnknown)
	}
}
