package sched_test

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/everify/everify/dnscheck"
	"github.com/everify/everify/internal/fakes"
	"github.com/everify/everify/sched"
	"github.com/everify/everify/smtpprobe"
	"github.com/everify/everify/verify"
)

func newScheduler(t *testing.T, port int, timeout time.Duration, mod func(*sched.Config)) *sched.Scheduler {
	cfg := sched.Config{
		Prober:   &smtpprobe.Prober{Port: port, HELO: "prober.everify.zz", From: "verify@prober.everify.zz", Timeout: timeout},
		Classify: verify.SchedulerKind,
	}
	if mod != nil {
		mod(&cfg)
	}
	s := sched.New(cfg)
	t.Cleanup(s.Close)
	return s
}

func host(name, ip string) dnscheck.Host {
	return dnscheck.Host{Name: name, Pref: 10, Addrs: []netip.Addr{netip.MustParseAddr(ip)}}
}

// probeAll probes addrs concurrently and returns each outcome and how long it took.
func probeAll(t *testing.T, s *sched.Scheduler, reqs []sched.Request) ([]sched.Outcome, []time.Duration) {
	t.Helper()
	outs := make([]sched.Outcome, len(reqs))
	took := make([]time.Duration, len(reqs))
	var wg sync.WaitGroup
	for i, r := range reqs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			start := time.Now()
			out, err := s.Probe(context.Background(), r)
			took[i] = time.Since(start)
			if err != nil {
				t.Errorf("Probe(%s): %v", r.Addr, err)
			}
			outs[i] = out
		}()
	}
	wg.Wait()
	return outs, took
}

// TestSharedServerTransactions: 40 domains with their own MX names on one server
// address that allows 3 recipients per transaction. The server fails the test on a
// nested MAIL, on two domains in one transaction and on more than 2 sessions at once;
// every verdict must be right, and sessions are shared across domains.
func TestSharedServerTransactions(t *testing.T) {
	farm := fakes.NewMXFarm(t)
	var boxes []string
	var reqs []sched.Request
	for d := range 40 {
		domain := fmt.Sprintf("t%d.zz", d)
		for i := range 5 {
			addr := fmt.Sprintf("u%d@%s", i, domain)
			if i%2 == 0 {
				boxes = append(boxes, addr)
			} else {
				addr = fmt.Sprintf("ghost%d@%s", i, domain)
			}
			reqs = append(reqs, sched.Request{Addr: addr, Domain: domain, CatchAll: true,
				Hosts: []dnscheck.Host{host("mx."+domain, "127.0.3.1")}})
		}
	}
	srv := farm.Host("127.0.3.1", fakes.Config{Mailboxes: boxes, MaxRecipients: 3, StrictTransactions: true,
		MaxSessions: 2, SoftErrorLimit: 10, HardErrorLimit: 20})
	s := newScheduler(t, farm.Port, 2*time.Second, nil)
	outs, _ := probeAll(t, s, reqs)
	for i, out := range outs {
		accepted := out.Reply.Positive()
		if wantOK := !strings.HasPrefix(reqs[i].Addr, "ghost"); accepted != wantOK || out.Fail != sched.FailNone {
			t.Errorf("%s: %+v, want accepted=%v", reqs[i].Addr, out, wantOK)
		}
		if accepted && out.CatchAll != sched.CatchAllNo {
			t.Errorf("%s: catch-all %v, want no (the domain refused a ghost)", reqs[i].Addr, out.CatchAll)
		}
	}
	if srv.TooManyErrors() > 0 {
		t.Errorf("%d '421 too many errors'", srv.TooManyErrors())
	}
	// 80 rejections at most 9 a session: far fewer sessions than domains.
	if n := srv.Sessions(); n > 14 {
		t.Errorf("%d sessions for 200 recipients over 40 domains, want ≤ 14", n)
	}
	if st := s.Stats(); st.PeakPerServer > 2 {
		t.Errorf("peak %d sessions per server, want ≤ 2", st.PeakPerServer)
	}
}

// TestNeverAnswersRCPT: a server that accepts the session and never answers RCPT costs
// each address one timeout at most, within the bound, with exactly one result, and is
// not tried again in session after session.
func TestNeverAnswersRCPT(t *testing.T) {
	farm := fakes.NewMXFarm(t)
	silent := &script{rcpt: func(int, bool, string) string { return "" }} // never answers RCPT
	farm.Scripted("127.0.3.2", silent.serve)
	sessions := &silent.sessions
	const timeout = 300 * time.Millisecond
	s := newScheduler(t, farm.Port, timeout, nil)
	var reqs []sched.Request
	for i := range 30 {
		reqs = append(reqs, sched.Request{Addr: fmt.Sprintf("u%d@silent.zz", i), Domain: "silent.zz",
			Hosts: []dnscheck.Host{host("mx.silent.zz", "127.0.3.2")}})
	}
	outs, took := probeAll(t, s, reqs)
	bound := 2*timeout + 5*time.Second
	for i, out := range outs {
		if out.Fail != sched.FailTimeout {
			t.Errorf("%s: %+v, want a timeout", reqs[i].Addr, out)
		}
		if took[i] > bound {
			t.Errorf("%s took %v, want ≤ %v", reqs[i].Addr, took[i], bound)
		}
	}
	if n := sessions.Load(); n > 2 {
		t.Errorf("%d sessions to a server that never answers RCPT, want ≤ 2 (--per-mx, no retries)", n)
	}
}

// TestBlackholedMXHosts: a domain with 1,000 MX hosts whose connections all hang gets
// one result within the bound, having tried no more than MaxHosts of them, staggered.
func TestBlackholedMXHosts(t *testing.T) {
	var dials atomic.Int32
	const timeout = time.Second
	s := newScheduler(t, 25, timeout, func(c *sched.Config) {
		c.Prober.Dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
			dials.Add(1)
			<-ctx.Done() // a firewall that drops SYNs
			return nil, &net.OpError{Op: "dial", Net: network, Err: ctx.Err()}
		}
	})
	var hosts []dnscheck.Host
	for i := range 1000 {
		hosts = append(hosts, host(fmt.Sprintf("mx%d.hole.zz", i), fmt.Sprintf("198.51.%d.%d", 100+i/250, i%250+1)))
	}
	start := time.Now()
	out, err := s.Probe(context.Background(), sched.Request{Addr: "x@hole.zz", Domain: "hole.zz", Hosts: hosts})
	took := time.Since(start)
	if err != nil || out.Fail != sched.FailTimeout {
		t.Errorf("Probe = %+v, %v; want a timeout", out, err)
	}
	if bound := 2*timeout + 5*time.Second; took > bound {
		t.Errorf("took %v, want ≤ %v", took, bound)
	}
	// Staggered: three hosts' timeouts overlap instead of adding up.
	if took > 3*timeout {
		t.Errorf("took %v: the connections to the next hosts were not started while the first was pending", took)
	}
	if n := dials.Load(); n != 3 {
		t.Errorf("%d connection attempts, want 3 (MaxHosts)", n)
	}
}

// TestStickyFailureExpires: a server that failed twice is skipped for StickyFor, then
// tried again.
func TestStickyFailureExpires(t *testing.T) {
	farm := fakes.NewMXFarm(t)
	s := newScheduler(t, farm.Port, time.Second, func(c *sched.Config) { c.StickyFor = 300 * time.Millisecond })
	req := sched.Request{Addr: "jane@later.zz", Domain: "later.zz", Hosts: []dnscheck.Host{host("mx.later.zz", "127.0.3.3")}}
	for range 3 {
		if out, _ := s.Probe(context.Background(), req); out.Fail != sched.FailUnreachable {
			t.Fatalf("nothing listens yet: %+v, want unreachable", out)
		}
	}
	srv := farm.Host("127.0.3.3", fakes.Config{Mailboxes: []string{"jane@later.zz"}})
	if out, _ := s.Probe(context.Background(), req); out.Fail == sched.FailNone || srv.Sessions() != 0 {
		t.Fatalf("within StickyFor the server was tried again: %+v, %d sessions", out, srv.Sessions())
	}
	time.Sleep(400 * time.Millisecond)
	if out, _ := s.Probe(context.Background(), req); !out.Reply.Positive() {
		t.Errorf("after StickyFor: %+v, want accepted", out)
	}
}

// TestCatchAllAnswerWithinBound: the accepted recipients of a catch-all domain with a
// long queue get its catch-all answer within their bound:
//   - the probe goes ahead of the domain's queued recipients (one recipient per
//     session, one session at a time: ten take about 3 s, past the first one's 2 s);
//   - a probe waits out one group at most (groups of 10: the 100 take about 1.2 s,
//     past the first ones' 1 s).
func TestCatchAllAnswerWithinBound(t *testing.T) {
	for i, tt := range []struct {
		name         string
		bound        time.Duration
		rcpts, addrs int
	}{
		{"probe first in line", 2 * time.Second, 1, 10},
		{"probe held once", time.Second, 1000, 100},
	} {
		t.Run(tt.name, func(t *testing.T) {
			farm := fakes.NewMXFarm(t)
			ip := fmt.Sprintf("127.0.3.%d", 20+i)
			farm.Host(ip, fakes.Config{CatchAll: []string{"ca.zz"}, Latency: 100 * time.Millisecond})
			s := newScheduler(t, farm.Port, time.Second, func(c *sched.Config) {
				c.Bound, c.PerServer, c.RcptPerSession = tt.bound, 1, tt.rcpts
			})
			var reqs []sched.Request
			for i := range tt.addrs {
				reqs = append(reqs, sched.Request{Addr: fmt.Sprintf("u%d@ca.zz", i), Domain: "ca.zz", CatchAll: true,
					Hosts: []dnscheck.Host{host("mx.ca.zz", ip)}})
			}
			outs, _ := probeAll(t, s, reqs)
			for i, out := range outs {
				if !out.Reply.Positive() || out.CatchAll != sched.CatchAllYes {
					t.Errorf("%s: %+v, want accepted on a catch-all domain", reqs[i].Addr, out)
				}
			}
		})
	}
}

// TestWorkArrivingAsSlotEnds: a request queued just as the server's only session slot
// ends (its linger passed, the slot not yet released) is served all the same, not left
// waiting until its caller gives up.
func TestWorkArrivingAsSlotEnds(t *testing.T) {
	farm := fakes.NewMXFarm(t)
	farm.Host("127.0.3.7", fakes.Config{Mailboxes: []string{"a@late.zz", "b@late.zz"}})
	var s *sched.Scheduler
	req := func(local string) sched.Request {
		return sched.Request{Addr: local + "@late.zz", Domain: "late.zz", Hosts: []dnscheck.Host{host("mx.late.zz", "127.0.3.7")}}
	}
	var once sync.Once
	second := make(chan error, 1)
	restore := sched.SetSlotEndsHook(func() {
		once.Do(func() {
			// The second request comes while the first one's slot is ending.
			go func() {
				ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
				defer cancel()
				out, err := s.Probe(ctx, req("b"))
				if err == nil && !out.Reply.Positive() {
					err = fmt.Errorf("outcome %+v", out)
				}
				second <- err
			}()
			time.Sleep(100 * time.Millisecond)
		})
	})
	t.Cleanup(restore)
	s = newScheduler(t, farm.Port, time.Second, func(c *sched.Config) { c.Linger = 10 * time.Millisecond })
	if out, err := s.Probe(context.Background(), req("a")); err != nil || !out.Reply.Positive() {
		t.Fatalf("first: %+v %v", out, err)
	}
	if err := <-second; err != nil {
		t.Errorf("request queued as the slot ended: %v", err)
	}
}

// TestLastRefusalIsLastReply: a session may take --max-rejects refusals (10, Postfix's
// soft limit) because recipients that can be refused go last in a group: when the
// 10th refusal comes, no reply after it is one the server's error limit delays, even
// with recipients of a known catch-all domain in the same group.
func TestLastRefusalIsLastReply(t *testing.T) {
	farm := fakes.NewMXFarm(t)
	srv := farm.Host("127.0.3.8", fakes.Config{CatchAll: []string{"ca.zz"}, Latency: 30 * time.Millisecond,
		SoftErrorLimit: 10, ErrorSleep: 5 * time.Second, HardErrorLimit: 20})
	s := newScheduler(t, farm.Port, 10*time.Second, func(c *sched.Config) {
		c.PerServer, c.MaxRejects, c.Linger = 1, 10, time.Millisecond
	})
	mx := []dnscheck.Host{host("mx.shared.zz", "127.0.3.8")}
	// Settle ca.zz as catch-all first.
	if out, err := s.Probe(context.Background(), sched.Request{Addr: "first@ca.zz", Domain: "ca.zz", CatchAll: true, Hosts: mx}); err != nil || out.CatchAll != sched.CatchAllYes {
		t.Fatalf("first@ca.zz: %+v %v", out, err)
	}
	// Ten unknown recipients, then (younger) five of the catch-all domain, all queued
	// while one session connects: they share its first group.
	t0 := time.Now()
	var reqs []sched.Request
	for i := range 10 {
		d := fmt.Sprintf("d%d.zz", i)
		reqs = append(reqs, sched.Request{Addr: "ghost@" + d, Domain: d, Hosts: mx, Started: t0})
	}
	for i := range 5 {
		reqs = append(reqs, sched.Request{Addr: fmt.Sprintf("u%d@ca.zz", i), Domain: "ca.zz", Hosts: mx, Started: t0.Add(time.Second)})
	}
	outs, _ := probeAll(t, s, reqs)
	for i, out := range outs {
		if wantOK := i >= 10; out.Reply.Positive() != wantOK || out.Fail != sched.FailNone {
			t.Errorf("%s: %+v, want accepted=%v", reqs[i].Addr, out, wantOK)
		}
	}
	if n := srv.Slowed(); n > 0 {
		t.Errorf("%d replies delayed by the server's error limit", n)
	}
	if n := srv.Sessions(); n > 3 {
		t.Errorf("%d sessions, want at most 3", n)
	}
}

// TestProbeWaitsOutRealRecipients: a domain's catch-all probe that would share a group
// with a real recipient of the domain waits for that recipient's answer; refused as
// unknown, it settles the domain and the probe is never sent.
func TestProbeWaitsOutRealRecipients(t *testing.T) {
	farm := fakes.NewMXFarm(t)
	gotA, release := make(chan struct{}), make(chan struct{})
	var rcpts []string
	var mu sync.Mutex
	sc := &script{rcpt: func(_ int, _ bool, cmd string) string {
		mu.Lock()
		rcpts = append(rcpts, cmd)
		mu.Unlock()
		if strings.Contains(cmd, "<a@p.zz>") {
			close(gotA)
			<-release
			return "250 2.1.5 Ok"
		}
		return "550 5.1.1 User unknown"
	}}
	farm.Scripted("127.0.3.9", sc.serve)
	s := newScheduler(t, farm.Port, 5*time.Second, func(c *sched.Config) { c.PerServer = 1 })
	req := func(local string) sched.Request {
		return sched.Request{Addr: local + "@p.zz", Domain: "p.zz", CatchAll: true, Hosts: []dnscheck.Host{host("mx.p.zz", "127.0.3.9")}}
	}
	first := make(chan sched.Outcome, 1)
	go func() { out, _ := s.Probe(context.Background(), req("a")); first <- out }()
	<-gotA
	// The second address comes while the first one's RCPT is out: it goes into the
	// next group, with the probe that a's acceptance queues.
	second := make(chan sched.Outcome, 1)
	go func() { out, _ := s.Probe(context.Background(), req("ghost")); second <- out }()
	time.Sleep(50 * time.Millisecond)
	close(release)
	a, ghost := <-first, <-second
	if !a.Reply.Positive() || a.CatchAll != sched.CatchAllNo || ghost.Reply.Code != 550 {
		t.Errorf("a: %+v\nghost: %+v\nwant a accepted, not catch-all; ghost refused", a, ghost)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(rcpts) != 2 {
		t.Errorf("RCPTs %q, want a's and ghost's only (no probe)", rcpts)
	}
}

// errorCounter is a scripted server that counts errors per session as Postfix does
// (every 4xx or 5xx reply), refuses every recipient as unknown, and answers the MAIL
// commands that failMail picks (by their number over all sessions) with a 451.
type errorCounter struct {
	mu     sync.Mutex
	mails  int
	errors map[int]int // by session
}

func (e *errorCounter) script(failMail func(n int) bool) *script {
	e.errors = map[int]int{}
	return &script{
		mail: func() string {
			e.mu.Lock()
			defer e.mu.Unlock()
			if e.mails++; failMail(e.mails) {
				return "451 4.3.0 Try again later"
			}
			return "250 2.1.0 Ok"
		},
		rcpt: func(_ int, inTx bool, _ string) string {
			if !inTx {
				return "503 5.5.1 Error: need MAIL command"
			}
			return "550 5.1.1 User unknown"
		},
		sent: func(session int, reply string) {
			if reply[0] == '4' || reply[0] == '5' {
				e.mu.Lock()
				e.errors[session]++
				e.mu.Unlock()
			}
		},
	}
}

// TestMailFailureKeepsAnErrorInReserve: a 4xx to MAIL is an error the budget did not
// foresee (and the RCPTs after it get 503s, errors too). Once a server has given one,
// its sessions keep one error in reserve: no later session reaches 10 errors.
func TestMailFailureKeepsAnErrorInReserve(t *testing.T) {
	farm := fakes.NewMXFarm(t)
	var e errorCounter
	farm.Scripted("127.0.3.30", e.script(func(n int) bool { return n == 1 }).serve)
	s := newScheduler(t, farm.Port, 2*time.Second, func(c *sched.Config) { c.PerServer, c.MaxRejects = 1, 10 })
	var reqs []sched.Request
	for i := range 30 {
		reqs = append(reqs, sched.Request{Addr: fmt.Sprintf("ghost%d@e.zz", i), Domain: "e.zz",
			Hosts: []dnscheck.Host{host("mx.e.zz", "127.0.3.30")}})
	}
	outs, _ := probeAll(t, s, reqs)
	for i, out := range outs {
		if out.Reply.Code != 550 {
			t.Errorf("%s: %+v, want 550", reqs[i].Addr, out)
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for session, n := range e.errors {
		if session > 1 && n >= 10 {
			t.Errorf("session %d made %d errors after the server's MAIL failure (all: %v)", session, n, e.errors)
		}
	}
}

// TestHeldProbeRespectsFailedServer: a probe held out of a group whose server then
// stops answering is not taken to that server in a new session; the accepted recipient
// gets its answer (catch-all unknown) without waiting for one.
func TestHeldProbeRespectsFailedServer(t *testing.T) {
	farm := fakes.NewMXFarm(t)
	var rcpts atomic.Int32
	sc := &script{rcpt: func(session int, _ bool, _ string) string {
		// The first session answers its first RCPT late, then nothing more.
		switch {
		case session > 1:
			return "250 2.1.5 Ok"
		case rcpts.Add(1) == 1:
			time.Sleep(300 * time.Millisecond)
			return "250 2.1.5 Ok"
		}
		return ""
	}}
	farm.Scripted("127.0.3.31", sc.serve)
	sessions := &sc.sessions
	s := newScheduler(t, farm.Port, 500*time.Millisecond, nil)
	req := func(local string) sched.Request {
		return sched.Request{Addr: local + "@h.zz", Domain: "h.zz", CatchAll: true, Hosts: []dnscheck.Host{host("mx.h.zz", "127.0.3.31")}}
	}
	a := make(chan sched.Outcome, 1)
	go func() { out, _ := s.Probe(context.Background(), req("a")); a <- out }()
	time.Sleep(100 * time.Millisecond) // b comes while a's RCPT is out: next group, with the probe
	b, _ := s.Probe(context.Background(), req("b"))
	outA := <-a
	if !outA.Reply.Positive() || outA.CatchAll != sched.CatchAllUnknown || b.Fail != sched.FailTimeout {
		t.Errorf("a: %+v\nb: %+v\nwant a accepted (catch-all unknown), b timed out", outA, b)
	}
	if n := sessions.Load(); n != 1 {
		t.Errorf("%d sessions to a server that stopped answering, want 1", n)
	}
}

// TestRefusingCatchAllNotSafe: once a catch-all domain refuses a recipient (here a full
// mailbox), its recipients no longer ride free on top of the refusal budget: a group
// that also holds ten unknown recipients does not reach an 11th error.
func TestRefusingCatchAllNotSafe(t *testing.T) {
	farm := fakes.NewMXFarm(t)
	full := fakes.Reply{Code: 552, Enhanced: "5.2.2", Message: "Mailbox full"}
	srv := farm.Host("127.0.3.32", fakes.Config{CatchAll: []string{"ca.zz"}, Latency: 30 * time.Millisecond,
		Replies:        map[string]fakes.Reply{"full0@ca.zz": full, "full1@ca.zz": full},
		SoftErrorLimit: 10, ErrorSleep: 5 * time.Second, HardErrorLimit: 20})
	s := newScheduler(t, farm.Port, 10*time.Second, func(c *sched.Config) {
		c.PerServer, c.MaxRejects, c.Linger = 1, 10, time.Millisecond
	})
	mx := []dnscheck.Host{host("mx.shared.zz", "127.0.3.32")}
	ca := func(local string) sched.Request {
		return sched.Request{Addr: local + "@ca.zz", Domain: "ca.zz", CatchAll: true, Hosts: mx}
	}
	if out, err := s.Probe(context.Background(), ca("first")); err != nil || out.CatchAll != sched.CatchAllYes {
		t.Fatalf("first@ca.zz: %+v %v", out, err)
	}
	if out, _ := s.Probe(context.Background(), ca("full0")); out.Reply.Code != 552 {
		t.Fatalf("full0@ca.zz: %+v", out)
	}
	t0 := time.Now()
	var reqs []sched.Request
	for i := range 10 {
		d := fmt.Sprintf("d%d.zz", i)
		reqs = append(reqs, sched.Request{Addr: "ghost@" + d, Domain: d, Hosts: mx, Started: t0})
	}
	for _, local := range []string{"full1", "u1", "u2", "u3", "u4"} {
		r := ca(local)
		r.Started = t0.Add(time.Second)
		reqs = append(reqs, r)
	}
	outs, _ := probeAll(t, s, reqs)
	for i, out := range outs {
		if out.Fail != sched.FailNone || out.Reply.Code == 0 {
			t.Errorf("%s: %+v", reqs[i].Addr, out)
		}
	}
	if n := srv.Slowed(); n > 0 {
		t.Errorf("%d replies delayed by the server's error limit", n)
	}
}
