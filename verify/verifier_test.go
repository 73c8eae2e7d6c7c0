package verify_test

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/everify/everify/dnscheck"
	"github.com/everify/everify/internal/fakes"
	"github.com/everify/everify/smtpprobe"
	"github.com/everify/everify/verify"
)

// world is a fake internet: one DNS server and a farm of mail servers on loopback.
type world struct {
	t    *testing.T
	dns  *fakes.DNS
	farm *fakes.MXFarm
	next int // next free 127.0.0.x
}

func newWorld(t *testing.T) *world {
	return &world{t: t, dns: fakes.NewDNS(t), farm: fakes.NewMXFarm(t), next: 10}
}

// mx gives domain one exchanger at a fresh loopback address served with cfg.
func (w *world) mx(domain string, cfg fakes.Config) *fakes.Server {
	ip := fmt.Sprintf("127.0.0.%d", w.next)
	w.next++
	host := "mx." + domain
	w.dns.MX(domain, 10, host)
	w.dns.A(host, ip)
	return w.farm.Host(ip, cfg)
}

// scripted gives domain one exchanger run by fn.
func (w *world) scripted(domain string, fn func(net.Conn)) *fakes.Server {
	ip := fmt.Sprintf("127.0.0.%d", w.next)
	w.next++
	host := "mx." + domain
	w.dns.MX(domain, 10, host)
	w.dns.A(host, ip)
	return w.farm.Scripted(ip, fn)
}

func (w *world) verifier(mod func(*verify.Verifier)) *verify.Verifier {
	v := &verify.Verifier{
		DNS:  &dnscheck.Resolver{Servers: []string{w.dns.Addr()}, Timeout: time.Second, Attempts: 1},
		SMTP: &smtpprobe.Prober{Port: w.farm.Port, HELO: "prober.everify.zz", From: "verify@prober.everify.zz", Timeout: 2 * time.Second},
	}
	if mod != nil {
		mod(v)
	}
	w.t.Cleanup(func() { v.Close() })
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
		t.Fatalf("Verify(%q) error: %v", addr, err)
	}
	if r.Status != w.status || r.Reason != w.reason || r.SMTP.CatchAll != w.catchAll {
		t.Errorf("Verify(%q) = %s/%s catch_all=%v, want %s/%s catch_all=%v (smtp %d %s %q, domain %+v)",
			addr, r.Status, r.Reason, r.SMTP.CatchAll, w.status, w.reason, w.catchAll,
			r.SMTP.Code, r.SMTP.EnhancedCode, r.SMTP.Message, r.Domain)
	}
	return r
}

// TestEveryReason produces every reason of SPEC.md through the library against fakes.
func TestEveryReason(t *testing.T) {
	w := newWorld(t)
	corp := w.mx("corp.zz", fakes.Config{
		Mailboxes: []string{"jane@corp.zz", "info@corp.zz"},
		Replies: map[string]fakes.Reply{
			"full@corp.zz":  {Code: 552, Enhanced: "5.2.2", Message: "<full@corp.zz>: Recipient address rejected: Mailbox full"},
			"gone@corp.zz":  {Code: 550, Enhanced: "5.2.1", Message: "<gone@corp.zz>: Recipient address rejected: mailbox disabled"},
			"grey@corp.zz":  {Code: 450, Enhanced: "4.7.1", Message: "<grey@corp.zz>: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/help/corp.zz.html"},
			"policy@corp.zz": {Code: 554, Enhanced: "5.7.1", Message: "<policy@corp.zz>: Recipient address rejected: Access denied by policy"},
		},
	})
	w.mx("catchall.zz", fakes.Config{CatchAll: []string{"catchall.zz"}})
	w.mx("blocked.zz", fakes.Config{Banner: reply(554, "5.7.1", "Service unavailable; Client host [127.0.0.1] blocked using zen.spamhaus.org")})
	w.mx("sender.zz", fakes.Config{MailReply: reply(553, "5.7.1", "<verify@prober.everify.zz>: Sender address rejected: not logged in")})
	w.mx("ascii.zz", fakes.Config{Mailboxes: []string{"jöse@ascii.zz"}})
	w.mx("utf8.zz", fakes.Config{SMTPUTF8: true, Mailboxes: []string{"jöse@utf8.zz"}})
	w.scripted("silent.zz", fakes.NoBanner)
	w.scripted("garbled.zz", fakes.Garbled)
	w.dns.MX("refused.zz", 10, "mx.refused.zz")
	w.dns.A("mx.refused.zz", "127.0.0.250") // nothing listens there
	w.dns.MX("nullmx.zz", 0, ".")
	w.dns.MX("nohost.zz", 10, "mx.nowhere.zz")
	w.dns.A("implicit.zz", "127.0.0.10") // no MX: corp's server answers for it
	w.dns.Rcode("servfail.zz", dns.RcodeServerFailure)
	w.dns.MX("mailinator.com", 10, "mx.mailinator.com")
	w.dns.A("mx.mailinator.com", "127.0.0.250")

	v := w.verifier(func(v *verify.Verifier) {
		v.Deny = mustMatcher(t, "denied.zz\n")
		v.Allow = mustMatcher(t, "vip@corp.zz\n")
	})
	v.SMTP.Timeout = 500 * time.Millisecond
	cases := []struct {
		addr string
		want want
	}{
		{"jane@corp.zz", want{verify.StatusDeliverable, verify.ReasonAccepted, false}},
		{"nobody@corp.zz", want{verify.StatusUndeliverable, verify.ReasonMailboxNotFound, false}},
		{"full@corp.zz", want{verify.StatusRisky, verify.ReasonMailboxFull, false}},
		{"gone@corp.zz", want{verify.StatusUndeliverable, verify.ReasonMailboxDisabled, false}},
		{"grey@corp.zz", want{verify.StatusUnknown, verify.ReasonSMTPTempFailure, false}},
		{"policy@corp.zz", want{verify.StatusUnknown, verify.ReasonSMTPBlocked, false}},
		{"anyone@catchall.zz", want{verify.StatusRisky, verify.ReasonCatchAll, true}},
		{"x@blocked.zz", want{verify.StatusUnknown, verify.ReasonSMTPBlocked, false}},
		{"x@sender.zz", want{verify.StatusUnknown, verify.ReasonSMTPBlocked, false}},
		{"jöse@ascii.zz", want{verify.StatusUndeliverable, verify.ReasonSMTPUTF8Unsupported, false}},
		{"jöse@utf8.zz", want{verify.StatusDeliverable, verify.ReasonAccepted, false}},
		{"x@silent.zz", want{verify.StatusUnknown, verify.ReasonSMTPTimeout, false}},
		{"x@garbled.zz", want{verify.StatusUnknown, verify.ReasonSMTPProtocolError, false}},
		{"x@refused.zz", want{verify.StatusUnknown, verify.ReasonSMTPUnreachable, false}},
		{"x@nullmx.zz", want{verify.StatusUndeliverable, verify.ReasonNullMX, false}},
		{"x@nohost.zz", want{verify.StatusUndeliverable, verify.ReasonNoMailServer, false}},
		{"x@nothing.zz", want{verify.StatusUndeliverable, verify.ReasonNoSuchDomain, false}},
		{"x@servfail.zz", want{verify.StatusUnknown, verify.ReasonDNSError, false}},
		{"jane@implicit.zz", want{verify.StatusUndeliverable, verify.ReasonMailboxNotFound, false}},
		{"x@mailinator.com", want{verify.StatusRisky, verify.ReasonDisposable, false}},
		{"x@example.com", want{verify.StatusUndeliverable, verify.ReasonReservedDomain, false}},
		{"x@@corp.zz", want{verify.StatusUndeliverable, verify.ReasonInvalidSyntax, false}},
		{"x@denied.zz", want{verify.StatusUndeliverable, verify.ReasonDenied, false}},
		{"vip@corp.zz", want{verify.StatusDeliverable, verify.ReasonAllowed, false}},
	}
	seen := map[verify.Reason]bool{}
	for _, c := range cases {
		t.Run(c.addr, func(t *testing.T) {
			r := check(t, v, c.addr, c.want)
			seen[r.Reason] = true
			if c.want.reason == verify.ReasonSMTPBlocked || c.want.reason == verify.ReasonSMTPTempFailure {
				if r.Status == verify.StatusUndeliverable {
					t.Errorf("a rejection of the prober is undeliverable")
				}
			}
		})
	}
	// The disposable domain was never probed, the implicit MX is recorded.
	r, _ := v.Verify(context.Background(), "jane@implicit.zz")
	if !r.Domain.ImplicitMX || len(r.Domain.MX) != 1 || r.Domain.MX[0].Host != "implicit.zz" {
		t.Errorf("implicit MX record = %+v", r.Domain)
	}
	if r, _ := v.Verify(context.Background(), "x@nullmx.zz"); !r.Domain.NullMX {
		t.Errorf("null_mx flag not set: %+v", r.Domain)
	}
	if corp.Seen("vip@corp.zz") != 0 {
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
	w := newWorld(t)
	srv := w.mx("catchall.zz", fakes.Config{CatchAll: []string{"catchall.zz"}})
	v := w.verifier(nil)
	var wg sync.WaitGroup
	for i := range 30 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			check(t, v, fmt.Sprintf("user%d@catchall.zz", i), want{verify.StatusRisky, verify.ReasonCatchAll, true})
		}()
	}
	wg.Wait()
	if got := srv.Recipients(); got != 31 {
		t.Errorf("server saw %d RCPTs, want 30 + 1 catch-all probe", got)
	}
}

// TestCatchAllInconclusive: a catch-all probe that gets a 4xx never turns an accepted
// recipient into catch_all, and never masks a refusal.
func TestCatchAllInconclusive(t *testing.T) {
	w := newWorld(t)
	w.mx("grey.zz", fakes.Config{
		Mailboxes: []string{"jane@grey.zz"},
		Unknown:   reply(451, "4.7.1", "Service unavailable, try again later"),
		Replies:   map[string]fakes.Reply{"bob@grey.zz": {Code: 550, Enhanced: "5.1.1", Message: "User unknown"}},
	})
	v := w.verifier(nil)
	check(t, v, "jane@grey.zz", want{verify.StatusDeliverable, verify.ReasonAccepted, false})
	check(t, v, "bob@grey.zz", want{verify.StatusUndeliverable, verify.ReasonMailboxNotFound, false})
}

// TestNoCatchAll skips the probe.
func TestNoCatchAll(t *testing.T) {
	w := newWorld(t)
	srv := w.mx("catchall.zz", fakes.Config{CatchAll: []string{"catchall.zz"}})
	v := w.verifier(func(v *verify.Verifier) { v.NoCatchAll = true })
	check(t, v, "a@catchall.zz", want{verify.StatusDeliverable, verify.ReasonAccepted, false})
	if srv.Recipients() != 1 {
		t.Errorf("RCPTs = %d, want 1", srv.Recipients())
	}
}

// TestGreylistRetry retries a 4xx once after the delay.
func TestGreylistRetry(t *testing.T) {
	w := newWorld(t)
	w.mx("grey.zz", fakes.Config{Mailboxes: []string{"jane@grey.zz"}, Greylist: true})
	v := w.verifier(func(v *verify.Verifier) { v.GreylistRetry = 50 * time.Millisecond; v.NoCatchAll = true })
	check(t, v, "jane@grey.zz", want{verify.StatusDeliverable, verify.ReasonAccepted, false})

	w2 := newWorld(t)
	w2.mx("grey.zz", fakes.Config{Mailboxes: []string{"jane@grey.zz"}, Greylist: true})
	v2 := w2.verifier(func(v *verify.Verifier) { v.NoCatchAll = true })
	check(t, v2, "jane@grey.zz", want{verify.StatusUnknown, verify.ReasonSMTPTempFailure, false})
}

// TestSharedSessionsAndErrorLimits: many addresses of one domain share few sessions, no
// more than PerMX at once, and sessions are recycled before Postfix-like error limits.
func TestSharedSessionsAndErrorLimits(t *testing.T) {
	w := newWorld(t)
	var boxes []string
	for i := range 40 {
		boxes = append(boxes, fmt.Sprintf("real%d@corp.zz", i))
	}
	srv := w.mx("corp.zz", fakes.Config{
		Mailboxes:      boxes,
		SoftErrorLimit: 10, ErrorSleep: 2 * time.Second,
		HardErrorLimit: 20,
		MaxSessions:    2,
	})
	v := w.verifier(nil)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	for i := range 120 {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if i%3 == 0 {
				check(t, v, fmt.Sprintf("real%d@corp.zz", i/3), want{verify.StatusDeliverable, verify.ReasonAccepted, false})
			} else {
				check(t, v, fmt.Sprintf("ghost%d@corp.zz", i), want{verify.StatusUndeliverable, verify.ReasonMailboxNotFound, false})
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
	w := newWorld(t)
	srv := w.mx("strict.zz", fakes.Config{Mailboxes: []string{"a@strict.zz", "b@strict.zz"}, HardErrorLimit: 3})
	v := w.verifier(func(v *verify.Verifier) { v.NoCatchAll = true })
	var wg sync.WaitGroup
	for i := range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			check(t, v, fmt.Sprintf("ghost%d@strict.zz", i), want{verify.StatusUndeliverable, verify.ReasonMailboxNotFound, false})
		}()
	}
	wg.Wait()
	check(t, v, "a@strict.zz", want{verify.StatusDeliverable, verify.ReasonAccepted, false})
	if srv.TooManyErrors() == 0 {
		t.Log("server never had to send 421 (batches stayed under its limit)")
	}
}

// TestDripBounded: a server dripping its banner cannot hold a probe past the deadline.
func TestDripBounded(t *testing.T) {
	w := newWorld(t)
	w.scripted("drip.zz", fakes.Drip("220 slow.drip.zz ESMTP", 50*time.Millisecond))
	w.scripted("endless.zz", fakes.Endless)
	v := w.verifier(nil)
	v.SMTP.Timeout = 300 * time.Millisecond
	check(t, v, "x@drip.zz", want{verify.StatusUnknown, verify.ReasonSMTPTimeout, false})
	check(t, v, "x@endless.zz", want{verify.StatusUnknown, verify.ReasonSMTPProtocolError, false})
}

// TestPortBlocked: when every connection times out, Stats says port 25 looks blocked.
func TestPortBlocked(t *testing.T) {
	w := newWorld(t)
	w.dns.MX("corp.zz", 10, "mx.corp.zz")
	w.dns.A("mx.corp.zz", "127.0.0.99")
	v := w.verifier(nil)
	v.SMTP.Timeout = 100 * time.Millisecond
	v.SMTP.Dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
		<-ctx.Done() // a firewall that drops SYNs
		return nil, &net.OpError{Op: "dial", Net: network, Err: ctx.Err()}
	}
	check(t, v, "x@corp.zz", want{verify.StatusUnknown, verify.ReasonSMTPTimeout, false})
	if st := v.Stats(); !st.PortBlocked() {
		t.Errorf("Stats = %+v, want PortBlocked", st)
	}
}

// TestCancel: Verify returns the ctx error when the caller's ctx ends.
func TestCancel(t *testing.T) {
	w := newWorld(t)
	w.scripted("silent.zz", fakes.NoBanner)
	v := w.verifier(nil)
	v.SMTP.Timeout = time.Hour
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(50 * time.Millisecond); cancel() }()
	if _, err := v.Verify(ctx, "x@silent.zz"); err == nil {
		t.Fatal("Verify returned no error after cancellation")
	}
}
