package verify_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/everify/everify/dnscheck"
	"github.com/everify/everify/internal/fakes"
	"github.com/everify/everify/smtpprobe"
	"github.com/everify/everify/verify"
)

// newVerifier returns a Verifier probing the zoo's servers.
func newVerifier(t *testing.T, z *fakes.Zoo, mod func(*verify.Verifier)) *verify.Verifier {
	v := &verify.Verifier{
		DNS:  &dnscheck.Resolver{Servers: []string{z.DNS.Addr()}, Timeout: time.Second, Attempts: 1},
		SMTP: &smtpprobe.Prober{Port: z.Farm.Port, HELO: "prober.everify.zz", From: "verify@prober.everify.zz", Timeout: 2 * time.Second},
	}
	if mod != nil {
		mod(v)
	}
	t.Cleanup(func() { v.Close() })
	return v
}

func reply(code int, enh, msg string) *fakes.Reply {
	return &fakes.Reply{Code: code, Enhanced: enh, Message: msg}
}

type want struct {
	status   verify.Status
	reason   verify.Reason
	catchAll bool
}

func check(t *testing.T, v *verify.Verifier, addr string, w want) verify.Result {
	t.Helper()
	r, err := v.Verify(context.Background(), addr)
	if err != nil {
		// Errorf, not Fatalf: probeAll calls check from goroutines.
		t.Errorf("Verify(%q) error: %v", addr, err)
		return r
	}
	if r.Status != w.status || r.Reason != w.reason || r.SMTP.CatchAll != w.catchAll {
		t.Errorf("Verify(%q) = %s/%s catch_all=%v, want %s/%s catch_all=%v (smtp %d %s %q, domain %+v)",
			addr, r.Status, r.Reason, r.SMTP.CatchAll, w.status, w.reason, w.catchAll,
			r.SMTP.Code, r.SMTP.EnhancedCode, r.SMTP.Message, r.Domain)
	}
	return r
}

// TestEveryReason produces every reason of docs/reasons.md through the library against fakes.
func TestEveryReason(t *testing.T) {
	z := fakes.NewZoo(t)
	v := newVerifier(t, z, func(v *verify.Verifier) {
		v.Allow = mustMatcher(t, z.AllowList)
		v.Deny = mustMatcher(t, z.DenyList)
		v.Suppress = suppressList{"bounced@corp.zz": -1} // z.SuppressList
		v.SMTP.Timeout = 500 * time.Millisecond
	})
	seen := map[verify.Reason]bool{}
	for _, c := range z.Cases {
		t.Run(c.Addr, func(t *testing.T) {
			r := check(t, v, c.Addr, want{verify.Status(c.Status), verify.Reason(c.Reason), c.CatchAll})
			seen[r.Reason] = true
		})
	}
	r, _ := v.Verify(context.Background(), "jane@implicit.zz")
	if !r.Domain.ImplicitMX || len(r.Domain.MX) != 1 || r.Domain.MX[0].Host != "implicit.zz" {
		t.Errorf("implicit MX record = %+v", r.Domain)
	}
	if r, _ := v.Verify(context.Background(), "x@nullmx.zz"); !r.Domain.NullMX {
		t.Errorf("null_mx flag not set: %+v", r.Domain)
	}
	if r, _ := v.Verify(context.Background(), "jöse@utf8.zz"); !r.Syntax.SMTPUTF8 {
		t.Errorf("smtputf8 flag not set: %+v", r.Syntax)
	}
	if z.Corp.Seen("vip@corp.zz") != 0 {
		t.Errorf("an --allow address was probed")
	}
	offline := &verify.Verifier{}
	if r, _ := offline.Verify(context.Background(), "jane@corp.zz"); r.Reason != verify.ReasonSMTPSkipped {
		t.Errorf("offline reason = %s, want smtp_skipped", r.Reason)
	}
	seen[verify.ReasonSMTPSkipped] = true
	for _, reason := range verify.Reasons {
		if !seen[reason] {
			t.Errorf("reason %s not produced by any case", reason)
		}
	}
}

func mustMatcher(t *testing.T, s string) *verify.Matcher {
	m, err := verify.LoadMatcher(strings.NewReader(s))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestCatchAllOncePerDomain: the random-local-part probe runs once per domain, after the
// real recipient, and every address of the domain gets catch_all.
func TestCatchAllOncePerDomain(t *testing.T) {
	z := fakes.NewZoo(t)
	srv := z.MX("wild.zz", fakes.Config{CatchAll: []string{"wild.zz"}})
	v := newVerifier(t, z, nil)
	probeAll(t, v, mailboxes("wild.zz", 30), want{verify.StatusRisky, verify.ReasonCatchAll, true})
	if got := srv.Recipients(); got != 31 {
		t.Errorf("server saw %d RCPTs, want 30 + 1 catch-all probe", got)
	}
}

// TestCatchAllInconclusive: a catch-all probe that gets a 4xx never turns an accepted
// recipient into catch_all, and never masks a refusal.
func TestCatchAllInconclusive(t *testing.T) {
	z := fakes.NewZoo(t)
	z.MX("grey.zz", fakes.Config{
		Mailboxes: []string{"jane@grey.zz"},
		Unknown:   reply(451, "4.7.1", "Service unavailable, try again later"),
		Replies:   map[string]fakes.Reply{"bob@grey.zz": {Code: 550, Enhanced: "5.1.1", Message: "User unknown"}},
	})
	v := newVerifier(t, z, nil)
	check(t, v, "jane@grey.zz", want{verify.StatusDeliverable, verify.ReasonAccepted, false})
	check(t, v, "bob@grey.zz", want{verify.StatusUndeliverable, verify.ReasonMailboxNotFound, false})
}

// TestNoCatchAll skips the probe.
func TestNoCatchAll(t *testing.T) {
	z := fakes.NewZoo(t)
	srv := z.MX("wild.zz", fakes.Config{CatchAll: []string{"wild.zz"}})
	v := newVerifier(t, z, func(v *verify.Verifier) { v.NoCatchAll = true })
	check(t, v, "a@wild.zz", want{verify.StatusDeliverable, verify.ReasonAccepted, false})
	if srv.Recipients() != 1 {
		t.Errorf("RCPTs = %d, want 1", srv.Recipients())
	}
}

// TestGreylistRetry retries a 4xx once after the delay.
func TestGreylistRetry(t *testing.T) {
	z := fakes.NewZoo(t)
	z.MX("grey.zz", fakes.Config{Mailboxes: []string{"jane@grey.zz"}, Greylist: true})
	v := newVerifier(t, z, func(v *verify.Verifier) { v.GreylistRetry = 50 * time.Millisecond; v.NoCatchAll = true })
	check(t, v, "jane@grey.zz", want{verify.StatusDeliverable, verify.ReasonAccepted, false})

	z2 := fakes.NewZoo(t)
	z2.MX("grey.zz", fakes.Config{Mailboxes: []string{"jane@grey.zz"}, Greylist: true})
	v2 := newVerifier(t, z2, func(v *verify.Verifier) { v.NoCatchAll = true })
	check(t, v2, "jane@grey.zz", want{verify.StatusUnknown, verify.ReasonSMTPTempFailure, false})
}

// TestSharedSessionsAndErrorLimits: many addresses of one domain share few sessions, no
// more than PerMX at once, and sessions are recycled before Postfix-like error limits.
func TestSharedSessionsAndErrorLimits(t *testing.T) {
	z := fakes.NewZoo(t)
	var boxes []string
	for i := range 40 {
		boxes = append(boxes, fmt.Sprintf("real%d@many.zz", i))
	}
	srv := z.MX("many.zz", fakes.Config{
		Mailboxes:      boxes,
		SoftErrorLimit: 10, ErrorSleep: 2 * time.Second,
		HardErrorLimit: 20,
		MaxSessions:    2,
	})
	v := newVerifier(t, z, nil)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	for i := range 120 {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if i%3 == 0 {
				check(t, v, fmt.Sprintf("real%d@many.zz", i/3), want{verify.StatusDeliverable, verify.ReasonAccepted, false})
			} else {
				check(t, v, fmt.Sprintf("ghost%d@many.zz", i), want{verify.StatusUndeliverable, verify.ReasonMailboxNotFound, false})
			}
		}()
	}
	wg.Wait()
	if srv.TooManyErrors() != 0 {
		t.Errorf("server sent %d 'too many errors' 421s", srv.TooManyErrors())
	}
	// 80 rejected recipients at most 8 per session, plus the catch-all probe.
	if s := srv.Sessions(); s > 12 {
		t.Errorf("sessions = %d, want ≤ 12 for 120 recipients with 80 rejections", s)
	}
	if srv.MaxOpen() > 2 {
		t.Errorf("max open sessions = %d, want ≤ PerMX 2", srv.MaxOpen())
	}
	st := v.Stats()
	if st.Sessions != int64(srv.Sessions()) {
		t.Errorf("Stats.Sessions = %d, server saw %d", st.Sessions, srv.Sessions())
	}
}

// TestHardLimitReconnect: a server that disconnects with 421 after few errors (lower
// than MaxRejects) still gets every address classified right.
func TestHardLimitReconnect(t *testing.T) {
	z := fakes.NewZoo(t)
	srv := z.MX("strict.zz", fakes.Config{Mailboxes: []string{"a@strict.zz", "b@strict.zz"}, HardErrorLimit: 3})
	v := newVerifier(t, z, func(v *verify.Verifier) { v.NoCatchAll = true })
	probeAll(t, v, mailboxes("strict.zz", 12), want{verify.StatusUndeliverable, verify.ReasonMailboxNotFound, false})
	check(t, v, "a@strict.zz", want{verify.StatusDeliverable, verify.ReasonAccepted, false})
	// The first sessions (at most PerMX at once) learn the limit from the 421; later
	// ones stay under it.
	if n := srv.TooManyErrors(); n < 1 || n > 2 {
		t.Errorf("server sent %d 'too many errors' replies, want 1 or 2 (sessions %d)", n, srv.Sessions())
	}
}

// TestDripBounded: a server dripping its banner cannot hold a probe past the deadline.
func TestDripBounded(t *testing.T) {
	z := fakes.NewZoo(t)
	// A byte every 100ms: no single read waits as long as the 300ms timeout, but the
	// 24-byte banner would take 2.4s (and the fake drips it forever).
	z.Scripted("drip.zz", fakes.Drip("220 slow.drip.zz ESMTP\r\n", 100*time.Millisecond))
	z.Scripted("endless.zz", fakes.Endless)
	v := newVerifier(t, z, nil)
	v.SMTP.Timeout = 300 * time.Millisecond
	for _, c := range []struct {
		addr string
		want want
	}{
		{"x@drip.zz", want{verify.StatusUnknown, verify.ReasonSMTPTimeout, false}},
		{"x@endless.zz", want{verify.StatusUnknown, verify.ReasonSMTPProtocolError, false}},
	} {
		start := time.Now()
		check(t, v, c.addr, c.want)
		// The bound is the per-command timeout (plus slack for a loaded machine), far
		// below the time a per-read deadline would let the drip run.
		if d := time.Since(start); d > 1500*time.Millisecond {
			t.Errorf("Verify(%q) took %v: the 300ms command timeout did not bound it", c.addr, d)
		}
	}
}

// TestPortBlocked: when every connection times out, Stats says port 25 looks blocked.
func TestPortBlocked(t *testing.T) {
	z := fakes.NewZoo(t)
	z.DNS.MX("firewalled.zz", 10, "mx.firewalled.zz")
	z.DNS.A("mx.firewalled.zz", "127.0.0.99")
	v := newVerifier(t, z, nil)
	v.SMTP.Timeout = 100 * time.Millisecond
	v.SMTP.Dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
		<-ctx.Done() // a firewall that drops SYNs
		return nil, &net.OpError{Op: "dial", Net: network, Err: ctx.Err()}
	}
	check(t, v, "x@firewalled.zz", want{verify.StatusUnknown, verify.ReasonSMTPTimeout, false})
	if st := v.Stats(); !st.PortBlocked() {
		t.Errorf("Stats = %+v, want PortBlocked", st)
	}
}

// TestCancel: Verify returns the ctx error when the caller's ctx ends.
func TestCancel(t *testing.T) {
	z := fakes.NewZoo(t)
	z.Scripted("silent.zz", fakes.NoBanner)
	v := newVerifier(t, z, nil)
	v.SMTP.Timeout = time.Hour
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(50 * time.Millisecond); cancel() }()
	start := time.Now()
	_, err := v.Verify(ctx, "x@silent.zz")
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Verify after cancellation: error = %v, want context.Canceled", err)
	}
	// Nothing else bounds the wait: the server never answers and the timeout is an hour.
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Verify returned %v after it started, want promptly after the 50ms cancel", d)
	}
}

// probeAll verifies addrs concurrently and checks each against want.
func probeAll(t *testing.T, v *verify.Verifier, addrs []string, w want) {
	t.Helper()
	var wg sync.WaitGroup
	for _, a := range addrs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			check(t, v, a, w)
		}()
	}
	wg.Wait()
}

func mailboxes(domain string, n int) []string {
	var out []string
	for i := range n {
		out = append(out, fmt.Sprintf("user%d@%s", i, domain))
	}
	return out
}

// TestConnectionLimit: a server that allows one connection per client refuses the
// second session with 421; the first session carries on and every address is right.
func TestConnectionLimit(t *testing.T) {
	z := fakes.NewZoo(t)
	boxes := mailboxes("single.zz", 60)
	// The latency keeps the first session busy while the other requests queue, so that
	// a second session is wanted however the goroutines are scheduled.
	srv := z.MX("single.zz", fakes.Config{Mailboxes: boxes, ConnLimit: 1, Latency: 20 * time.Millisecond})
	v := newVerifier(t, z, func(v *verify.Verifier) { v.NoCatchAll = true })
	probeAll(t, v, boxes, want{verify.StatusDeliverable, verify.ReasonAccepted, false})
	// --per-mx 2 opens two sessions at once; the server refuses the second, and from
	// then on the scheduler keeps to one session: no connection is refused again.
	if n := srv.Refused(); n != 1 {
		t.Errorf("server refused %d connections, want 1 (the limit is learnt from the first refusal)", n)
	}
	if n := srv.Sessions(); n > 1+len(boxes)/20+1 {
		t.Errorf("%d connections for %d recipients at 20 per session: the limit was not kept to", n, len(boxes))
	}
}

// TestTooManyRecipients: a server taking 5 recipients per transaction gets new
// transactions on the same session, without back-off or lost verdicts.
func TestTooManyRecipients(t *testing.T) {
	z := fakes.NewZoo(t)
	boxes := mailboxes("five.zz", 60)
	srv := z.MX("five.zz", fakes.Config{Mailboxes: boxes, MaxRecipients: 5})
	v := newVerifier(t, z, func(v *verify.Verifier) { v.NoCatchAll = true; v.PerMX = 1 })
	start := time.Now()
	probeAll(t, v, boxes, want{verify.StatusDeliverable, verify.ReasonAccepted, false})
	if s := srv.Sessions(); s > 60/20+1 {
		t.Errorf("%d sessions, want ≤ %d: a transaction limit needs no new session", s, 60/20+1)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v: the transaction limit was backed off from", d)
	}
}

// TestPerMXCountsAddresses: two domains whose MX names differ but resolve to the same
// server share its --per-mx bound.
func TestPerMXCountsAddresses(t *testing.T) {
	z := fakes.NewZoo(t)
	a, b := mailboxes("one.zz", 60), mailboxes("two.zz", 60)
	srv := z.Farm.Host("127.0.0.240", fakes.Config{Mailboxes: append(slices.Clone(a), b...), MaxSessions: 2})
	for _, d := range []string{"one.zz", "two.zz"} {
		z.DNS.MX(d, 10, "mx."+d)
		z.DNS.A("mx."+d, "127.0.0.240")
	}
	v := newVerifier(t, z, func(v *verify.Verifier) { v.NoCatchAll = true; v.SMTP.Port = z.Farm.Port })
	probeAll(t, v, append(a, b...), want{verify.StatusDeliverable, verify.ReasonAccepted, false})
	if srv.MaxOpen() > 2 {
		t.Errorf("server saw %d sessions at once, want ≤ --per-mx 2", srv.MaxOpen())
	}
}
