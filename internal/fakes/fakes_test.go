package fakes

import (
	"bufio"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// ---- DNS ----

func query(t *testing.T, d *DNS, network, name string, qtype uint16, edns bool) (*dns.Msg, error) {
	t.Helper()
	c := &dns.Client{Net: network, Timeout: 2 * time.Second}
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), qtype)
	if edns {
		m.SetEdns0(4096, false)
	}
	r, _, err := c.Exchange(m, d.Addr())
	return r, err
}

func rrStrings(rrs []dns.RR) []string {
	var out []string
	for _, rr := range rrs {
		h := rr.Header()
		out = append(out, strings.TrimPrefix(rr.String(), h.String()))
	}
	return out
}

func TestDNSAnswers(t *testing.T) {
	d := NewDNS(t)
	d.MX("example.com", 10, "mx1.example.com")
	d.MX("example.com", 20, "mx2.example.com.")
	d.A("mx1.example.com", "127.0.0.2")
	d.AAAA("mx1.example.com", "::1")
	d.MX("null.example", 0, ".")
	d.CNAME("www.example.com", "alias.example.com")
	d.CNAME("alias.example.com", "mx1.example.com")
	d.CNAME("dangling.example", "nowhere.example")
	d.CNAME("loop1.example", "loop2.example")
	d.CNAME("loop2.example", "loop1.example")
	d.CNAME("tofail.example", "fail.example")
	d.Rcode("fail.example", dns.RcodeServerFailure)
	d.Rcode("refused.example", dns.RcodeRefused)
	d.A("refused.example", "127.0.0.9") // the rcode wins over records

	tests := []struct {
		name   string
		qname  string
		qtype  uint16
		rcode  int
		answer []string
	}{
		{"MX", "example.com", dns.TypeMX, dns.RcodeSuccess, []string{"10 mx1.example.com.", "20 mx2.example.com."}},
		{"MX case-insensitive", "EXAMPLE.Com", dns.TypeMX, dns.RcodeSuccess, []string{"10 mx1.example.com.", "20 mx2.example.com."}},
		{"null MX", "null.example", dns.TypeMX, dns.RcodeSuccess, []string{"0 ."}},
		{"A", "mx1.example.com", dns.TypeA, dns.RcodeSuccess, []string{"127.0.0.2"}},
		{"AAAA", "mx1.example.com", dns.TypeAAAA, dns.RcodeSuccess, []string{"::1"}},
		{"NODATA", "mx1.example.com", dns.TypeMX, dns.RcodeSuccess, nil},
		{"NXDOMAIN", "nope.example", dns.TypeMX, dns.RcodeNameError, nil},
		{"CNAME chain and target", "www.example.com", dns.TypeA, dns.RcodeSuccess,
			[]string{"alias.example.com.", "mx1.example.com.", "127.0.0.2"}},
		{"CNAME chain to NODATA", "www.example.com", dns.TypeMX, dns.RcodeSuccess,
			[]string{"alias.example.com.", "mx1.example.com."}},
		{"CNAME asked itself", "www.example.com", dns.TypeCNAME, dns.RcodeSuccess, []string{"alias.example.com."}},
		{"CNAME to unknown name", "dangling.example", dns.TypeA, dns.RcodeNameError, []string{"nowhere.example."}},
		{"CNAME loop", "loop1.example", dns.TypeA, dns.RcodeServerFailure, nil},
		{"CNAME to SERVFAIL", "tofail.example", dns.TypeA, dns.RcodeServerFailure, nil},
		{"SERVFAIL", "fail.example", dns.TypeMX, dns.RcodeServerFailure, nil},
		{"REFUSED", "refused.example", dns.TypeA, dns.RcodeRefused, nil},
	}
	for _, tt := range tests {
		for _, network := range []string{"udp", "tcp"} {
			t.Run(tt.name+"/"+network, func(t *testing.T) {
				r, err := query(t, d, network, tt.qname, tt.qtype, false)
				if err != nil {
					t.Fatal(err)
				}
				if r.Rcode != tt.rcode {
					t.Errorf("rcode = %s, want %s", dns.RcodeToString[r.Rcode], dns.RcodeToString[tt.rcode])
				}
				if got := rrStrings(r.Answer); !slices.Equal(got, tt.answer) {
					t.Errorf("answer = %q, want %q", got, tt.answer)
				}
				if !r.Authoritative || r.Truncated {
					t.Errorf("AA = %v, TC = %v, want true, false", r.Authoritative, r.Truncated)
				}
			})
		}
	}
}

func TestDNSDropAndCounts(t *testing.T) {
	d := NewDNS(t)
	d.A("ok.example", "127.0.0.1")
	d.Drop("slow.example")
	d.CNAME("toslow.example", "slow.example")

	c := &dns.Client{Timeout: 150 * time.Millisecond}
	for _, name := range []string{"slow.example", "toslow.example"} {
		m := new(dns.Msg)
		m.SetQuestion(name+".", dns.TypeMX)
		if r, _, err := c.Exchange(m, d.Addr()); err == nil {
			t.Errorf("query %s: got %v, want a timeout", name, r)
		} else if ne, ok := err.(net.Error); !ok || !ne.Timeout() {
			t.Errorf("query %s: err = %v, want a timeout", name, err)
		}
	}
	for range 2 {
		if _, err := query(t, d, "udp", "OK.example", dns.TypeA, false); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := query(t, d, "tcp", "ok.example", dns.TypeAAAA, false); err != nil {
		t.Fatal(err)
	}
	if got := d.Queries(); got != 5 {
		t.Errorf("Queries() = %d, want 5", got)
	}
	for _, tt := range []struct {
		name  string
		qtype uint16
		want  int
	}{
		{"ok.example", dns.TypeA, 2},
		{"ok.example.", dns.TypeAAAA, 1},
		{"Slow.Example", dns.TypeMX, 1},
		{"ok.example", dns.TypeMX, 0},
	} {
		if got := d.QueriesFor(tt.name, tt.qtype); got != tt.want {
			t.Errorf("QueriesFor(%q, %s) = %d, want %d", tt.name, dns.TypeToString[tt.qtype], got, tt.want)
		}
	}
}

func TestDNSTruncation(t *testing.T) {
	d := NewDNS(t)
	for i := range 15 { // about 800 bytes: over 512, under 1232
		d.MX("big.example", uint16(i), fmt.Sprintf("a-rather-long-mail-exchanger-name-%02d.big.example", i))
	}
	for i := range 40 { // about 1650 bytes: over 1232
		d.MX("huge.example", uint16(i), fmt.Sprintf("a-rather-long-mail-exchanger-name-%02d.huge.example", i))
	}
	d.A("forced.example", "127.0.0.1")
	d.Truncate("forced.example")

	tests := []struct {
		name    string
		qname   string
		network string
		edns    bool
		tc      bool
		answers int
	}{
		{"UDP over 512 bytes", "big.example", "udp", false, true, -1},
		{"UDP with EDNS0", "big.example", "udp", true, false, 15},
		{"TCP", "big.example", "tcp", false, false, 15},
		{"UDP with EDNS0 over 1232 bytes", "huge.example", "udp", true, true, -1},
		{"TCP over 1232 bytes", "huge.example", "tcp", true, false, 40},
		{"Truncate over UDP", "forced.example", "udp", true, true, 0},
		{"Truncate over TCP", "forced.example", "tcp", false, false, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &dns.Client{Net: tt.network, Timeout: 2 * time.Second, UDPSize: 4096}
			m := new(dns.Msg)
			m.SetQuestion(dns.Fqdn(tt.qname), dns.TypeMX)
			if tt.qname == "forced.example" {
				m.Question[0].Qtype = dns.TypeA
			}
			if tt.edns {
				m.SetEdns0(4096, false)
			}
			r, _, err := c.Exchange(m, d.Addr())
			if err != nil {
				t.Fatal(err)
			}
			if r.Truncated != tt.tc {
				t.Errorf("TC = %v, want %v", r.Truncated, tt.tc)
			}
			if tt.answers >= 0 && len(r.Answer) != tt.answers {
				t.Errorf("%d answers, want %d", len(r.Answer), tt.answers)
			}
			if tt.edns && r.IsEdns0() == nil {
				t.Error("no OPT record in the answer to an EDNS0 query")
			}
		})
	}
}

func TestDNSLatency(t *testing.T) {
	d := NewDNS(t)
	d.A("a.example", "127.0.0.1")
	const latency = 100 * time.Millisecond
	d.Latency(latency)
	start := time.Now()
	if _, err := query(t, d, "udp", "a.example", dns.TypeA, false); err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el < latency {
		t.Errorf("answer after %v, want at least %v", el, latency)
	}
}

// ---- SMTP test helpers ----

// recordingTB records Errorf/Fatalf instead of failing, to test that a server
// reports a client's misbehaviour. Fatalf must be called from a goroutine
// the test may end with runtime.Goexit.
type recordingTB struct {
	testing.TB
	mu   sync.Mutex
	errs []string
}

func (r *recordingTB) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func (r *recordingTB) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	runtime.Goexit()
}

func (r *recordingTB) errors() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.errs)
}

type client struct {
	t  *testing.T
	nc net.Conn
	tp *textproto.Conn
}

func dial(t *testing.T, addr string) *client {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	nc.SetDeadline(time.Now().Add(5 * time.Second))
	t.Cleanup(func() { nc.Close() })
	return &client{t: t, nc: nc, tp: textproto.NewConn(nc)}
}

// reply reads one reply; it returns code 0 on EOF or error.
func (c *client) reply() (int, string) {
	c.t.Helper()
	code, msg, err := c.tp.ReadResponse(0)
	if err != nil {
		var te *textproto.Error
		if errors.As(err, &te) {
			return te.Code, te.Msg
		}
		return 0, err.Error()
	}
	return code, msg
}

func (c *client) expect(code int, contains string) string {
	c.t.Helper()
	got, msg := c.reply()
	if got != code || !strings.Contains(msg, contains) {
		c.t.Fatalf("reply %d %q, want %d containing %q", got, msg, code, contains)
	}
	return msg
}

func (c *client) cmd(line string, code int, contains string) string {
	c.t.Helper()
	if err := c.tp.PrintfLine("%s", line); err != nil {
		c.t.Fatal(err)
	}
	return c.expect(code, contains)
}

// send writes lines in one Write, as a pipelining client does.
func (c *client) send(lines ...string) {
	c.t.Helper()
	if _, err := io.WriteString(c.nc, strings.Join(lines, "\r\n")+"\r\n"); err != nil {
		c.t.Fatal(err)
	}
}

func (c *client) expectEOF() {
	c.t.Helper()
	if line, err := c.tp.ReadLine(); err != io.EOF {
		c.t.Fatalf("read %q, %v; want EOF", line, err)
	}
}

// ---- SMTP ----

func TestHostGreetingAndEHLO(t *testing.T) {
	farm := NewMXFarm(t)
	tests := []struct {
		name   string
		ip     string
		cfg    Config
		want   []string
		absent []string
	}{
		{"default", "127.0.0.2", Config{}, []string{"PIPELINING", "ENHANCEDSTATUSCODES"}, []string{"SMTPUTF8", "STARTTLS", "AUTH"}},
		{"SMTPUTF8", "127.0.0.3", Config{SMTPUTF8: true}, []string{"PIPELINING", "SMTPUTF8"}, nil},
		{"NoPipelining", "127.0.0.4", Config{NoPipelining: true}, []string{"8BITMIME", "SIZE"}, []string{"PIPELINING"}},
		{"TLS", "127.0.0.5", Config{TLS: TLSConfig(t, "mx.tls.test")}, []string{"STARTTLS", "PIPELINING"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := farm.Host(tt.ip, tt.cfg)
			c := dial(t, s.Addr())
			c.expect(220, "mx-"+strings.ReplaceAll(tt.ip, ".", "-")+".fakes.test ESMTP")
			ehlo := strings.Split(c.cmd("EHLO client.test", 250, "Hello client.test"), "\n")
			for _, w := range tt.want {
				if !slices.Contains(ehlo, w) {
					t.Errorf("EHLO reply %q lacks %s", ehlo, w)
				}
			}
			for _, a := range tt.absent {
				for _, l := range ehlo {
					if strings.HasPrefix(l, a) {
						t.Errorf("EHLO reply %q lists %s", ehlo, a)
					}
				}
			}
			c.cmd("QUIT", 221, "")
		})
	}
}

func TestHostRcptReplies(t *testing.T) {
	farm := NewMXFarm(t)
	s := farm.Host("127.0.0.2", Config{
		Mailboxes: []string{"Alice@Example.com"},
		CatchAll:  []string{"catchall.example"},
		Replies: map[string]Reply{
			"Full@example.com": {552, "5.2.2", "<full@example.com>: mailbox full"},
			"ok@other.example": {250, "2.1.5", "Ok"},
		},
	})
	custom := farm.Host("127.0.0.3", Config{
		Unknown:   &Reply{550, "", "no such user here"},
		MailReply: nil,
	})
	sender := farm.Host("127.0.0.4", Config{MailReply: &Reply{553, "5.7.1", "Sender address rejected"}})

	tests := []struct {
		name string
		s    *Server
		rcpt string
		code int
		text string
	}{
		{"mailbox", s, "alice@example.com", 250, "2.0.0"},
		{"mailbox any case", s, "ALICE@example.COM", 250, ""},
		{"catch-all", s, "whoever@CatchAll.example", 250, ""},
		{"per-recipient reply", s, "full@EXAMPLE.com", 552, "5.2.2 <full@example.com>: mailbox full"},
		{"per-recipient 2xx", s, "ok@other.example", 250, "2.1.5 Ok"},
		{"unknown, Postfix wording", s, "bob@example.com", 550,
			"5.1.1 <bob@example.com>: Recipient address rejected: User unknown in virtual mailbox table"},
		{"custom unknown", custom, "bob@example.com", 550, "no such user here"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := dial(t, tt.s.Addr())
			c.expect(220, "")
			c.cmd("EHLO client.test", 250, "")
			c.cmd("MAIL FROM:<probe@client.test>", 250, "")
			c.cmd("RCPT TO:<"+tt.rcpt+">", tt.code, tt.text)
			c.cmd("RSET", 250, "")
			c.cmd("QUIT", 221, "")
		})
	}
	if got, want := s.Recipients(), 6; got != want {
		t.Errorf("Recipients() = %d, want %d", got, want)
	}
	if got, want := s.Rejected(), 2; got != want {
		t.Errorf("Rejected() = %d, want %d", got, want)
	}
	if got := s.Seen("Alice@example.com"); got != 2 {
		t.Errorf("Seen(alice) = %d, want 2", got)
	}
	if got := s.Sessions(); got != 6 {
		t.Errorf("Sessions() = %d, want 6", got)
	}

	t.Run("MailReply", func(t *testing.T) {
		c := dial(t, sender.Addr())
		c.expect(220, "")
		c.cmd("EHLO client.test", 250, "")
		c.cmd("MAIL FROM:<probe@client.test>", 553, "5.7.1 Sender address rejected")
	})
}

func TestHostBannerReject(t *testing.T) {
	farm := NewMXFarm(t)
	s := farm.Host("127.0.0.2", Config{Banner: &Reply{554, "5.7.1", "Service unavailable; client [127.0.0.1] blocked using zen.spamhaus.org"}})
	for range 2 {
		c := dial(t, s.Addr())
		c.expect(554, "5.7.1 Service unavailable; client [127.0.0.1] blocked")
		c.expectEOF()
	}
	if got := s.Sessions(); got != 2 {
		t.Errorf("Sessions() = %d, want 2", got)
	}
}

func TestHostGreylist(t *testing.T) {
	farm := NewMXFarm(t)
	s := farm.Host("127.0.0.2", Config{Mailboxes: []string{"a@example.com"}, Greylist: true})
	c := dial(t, s.Addr())
	c.expect(220, "")
	c.cmd("EHLO client.test", 250, "")
	c.cmd("MAIL FROM:<>", 250, "")
	c.cmd("RCPT TO:<a@example.com>", 450, "4.7.1 <a@example.com>: Recipient address rejected: Greylisted")
	c.cmd("RCPT TO:<b@example.com>", 450, "Greylisted")
	c.cmd("RCPT TO:<a@example.com>", 250, "")
	c.cmd("RCPT TO:<b@example.com>", 550, "5.1.1")
	if got := s.Rejected(); got != 3 {
		t.Errorf("Rejected() = %d, want 3", got)
	}
}

func TestHostSoftErrorLimit(t *testing.T) {
	farm := NewMXFarm(t)
	const sleepFor = 150 * time.Millisecond
	s := farm.Host("127.0.0.2", Config{SoftErrorLimit: 2, ErrorSleep: sleepFor})
	c := dial(t, s.Addr())
	c.expect(220, "")
	c.cmd("EHLO client.test", 250, "")
	c.cmd("MAIL FROM:<>", 250, "")
	c.cmd("RCPT TO:<a@example.com>", 550, "")
	c.cmd("RCPT TO:<b@example.com>", 550, "")
	for _, cmd := range []string{"RCPT TO:<c@example.com>", "RSET"} {
		start := time.Now()
		c.cmd(cmd, map[bool]int{true: 550, false: 250}[cmd != "RSET"], "")
		if el := time.Since(start); el < sleepFor {
			t.Errorf("%s answered after %v, want at least ErrorSleep %v", cmd, el, sleepFor)
		}
	}
	if got := s.TooManyErrors(); got != 0 {
		t.Errorf("TooManyErrors() = %d, want 0", got)
	}
}

func TestHostHardErrorLimit(t *testing.T) {
	farm := NewMXFarm(t)
	tlsCfg := TLSConfig(t, "127.0.0.3")
	tests := []struct {
		name      string
		ip        string
		cfg       Config
		pipelined bool
		tls       bool
	}{
		{"lockstep", "127.0.0.2", Config{HardErrorLimit: 3}, false, false},
		{"pipelined", "127.0.0.4", Config{HardErrorLimit: 3}, true, false},
		{"after STARTTLS", "127.0.0.3", Config{HardErrorLimit: 3, TLS: tlsCfg}, false, true},
		{"MAIL errors count", "127.0.0.5", Config{HardErrorLimit: 3, MailReply: &Reply{553, "5.7.1", "no"}}, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := farm.Host(tt.ip, tt.cfg)
			c := dial(t, s.Addr())
			c.expect(220, "")
			c.cmd("EHLO client.test", 250, "")
			if tt.tls {
				c.cmd("STARTTLS", 220, "")
				tc := tls.Client(c.nc, tlsCfg)
				if err := tc.Handshake(); err != nil {
					t.Fatal(err)
				}
				c.nc, c.tp = tc, textproto.NewConn(tc)
				c.cmd("EHLO client.test", 250, "")
			}
			host := "mx-" + strings.ReplaceAll(tt.ip, ".", "-") + ".fakes.test"
			switch {
			case tt.cfg.MailReply != nil:
				c.cmd("MAIL FROM:<>", 553, "")
				c.cmd("MAIL FROM:<>", 553, "")
				c.cmd("MAIL FROM:<>", 553, "")
			case tt.pipelined:
				c.send("MAIL FROM:<>", "RCPT TO:<a@x.example>", "RCPT TO:<b@x.example>",
					"RCPT TO:<c@x.example>", "RCPT TO:<d@x.example>", "RSET")
				c.expect(250, "")
				for range 3 {
					c.expect(550, "5.1.1")
				}
			default:
				c.cmd("MAIL FROM:<>", 250, "")
				c.cmd("RCPT TO:<a@x.example>", 550, "")
				c.cmd("RCPT TO:<b@x.example>", 550, "")
				c.cmd("RCPT TO:<c@x.example>", 550, "")
			}
			// The 421 comes without the client sending anything more.
			c.expect(421, "4.7.0 "+host+" Error: too many errors")
			c.expectEOF()
			if got := s.TooManyErrors(); got != 1 {
				t.Errorf("TooManyErrors() = %d, want 1", got)
			}
			if tt.cfg.MailReply == nil {
				if got := s.Recipients(); got != 3 {
					t.Errorf("Recipients() = %d, want 3 (none handled after the 421)", got)
				}
			}
		})
	}
}

func TestHostDataFailsTest(t *testing.T) {
	data := func(c *client) {
		c.cmd("DATA", 354, "")
		c.cmd("Subject: hi\r\n\r\nhello\r\n.", 554, "")
	}
	bdat := func(code int) func(c *client) {
		return func(c *client) {
			c.send("BDAT 5 LAST")
			if _, err := io.WriteString(c.nc, "hello"); err != nil {
				c.t.Fatal(err)
			}
			c.expect(code, "")
		}
	}
	tests := []struct {
		name string
		rcpt string // accepted: a@example.com
		tls  bool
		send func(c *client)
	}{
		{"DATA", "a@example.com", false, data},
		{"BDAT", "a@example.com", false, bdat(554)},
		{"DATA after STARTTLS", "a@example.com", true, data},
		{"DATA, no recipient accepted", "b@example.com", false, func(c *client) { c.cmd("data", 502, "") }},
		{"BDAT, no recipient accepted", "b@example.com", false, bdat(502)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rtb := &recordingTB{TB: t}
			farm := NewMXFarm(rtb)
			cfg := Config{Mailboxes: []string{"a@example.com"}}
			if tt.tls {
				cfg.TLS = TLSConfig(t, "127.0.0.2")
			}
			s := farm.Host("127.0.0.2", cfg)
			c := dial(t, s.Addr())
			c.expect(220, "")
			c.cmd("EHLO client.test", 250, "")
			if tt.tls {
				c.cmd("STARTTLS", 220, "")
				tc := tls.Client(c.nc, cfg.TLS)
				if err := tc.Handshake(); err != nil {
					t.Fatal(err)
				}
				c.nc, c.tp = tc, textproto.NewConn(tc)
				c.cmd("EHLO client.test", 250, "")
			}
			c.cmd("MAIL FROM:<>", 250, "")
			c.cmd("RCPT TO:<"+tt.rcpt+">", map[bool]int{true: 250, false: 550}[tt.rcpt == "a@example.com"], "")
			tt.send(c)
			errs := rtb.errors()
			if len(errs) != 1 || !strings.Contains(errs[0], "DATA or BDAT") {
				t.Errorf("errors reported: %q, want one about DATA or BDAT", errs)
			}
		})
	}
}

func TestHostRoundTrips(t *testing.T) {
	farm := NewMXFarm(t)
	s := farm.Host("127.0.0.2", Config{Mailboxes: []string{"a@example.com"}})

	c := dial(t, s.Addr())
	c.expect(220, "")
	c.cmd("EHLO client.test", 250, "")        // 1
	c.cmd("MAIL FROM:<>", 250, "")            // 2
	c.cmd("RCPT TO:<a@example.com>", 250, "") // 3
	c.cmd("QUIT", 221, "")                    // 4
	c.expectEOF()
	if got := s.RoundTrips(); got != 4 {
		t.Errorf("lockstep: RoundTrips() = %d, want 4", got)
	}

	c = dial(t, s.Addr())
	c.expect(220, "")
	c.cmd("EHLO client.test", 250, "")                                                                      // 1
	c.send("MAIL FROM:<>", "RCPT TO:<a@example.com>", "RCPT TO:<b@example.com>", "RCPT TO:<c@example.com>") // 2
	c.expect(250, "")
	c.expect(250, "")
	c.expect(550, "")
	c.expect(550, "")
	c.cmd("QUIT", 221, "") // 3
	c.expectEOF()
	if got := s.RoundTrips() - 4; got != 3 {
		t.Errorf("pipelined: RoundTrips() = %d, want 3", got)
	}
}

func TestHostLatency(t *testing.T) {
	farm := NewMXFarm(t)
	const latency = 100 * time.Millisecond
	s := farm.Host("127.0.0.2", Config{Latency: latency})
	start := time.Now()
	c := dial(t, s.Addr())
	c.expect(220, "")
	if el := time.Since(start); el < latency {
		t.Errorf("banner after %v, want at least %v", el, latency)
	}
	start = time.Now()
	c.cmd("EHLO client.test", 250, "")
	if el := time.Since(start); el < latency {
		t.Errorf("EHLO reply after %v, want at least %v", el, latency)
	}
}

func TestHostMaxOpen(t *testing.T) {
	rtb := &recordingTB{TB: t}
	farm := NewMXFarm(rtb)
	s := farm.Host("127.0.0.2", Config{MaxSessions: 2})
	var cs []*client
	for range 3 {
		c := dial(t, s.Addr())
		c.expect(220, "") // accepted and tracked
		cs = append(cs, c)
	}
	if got := s.MaxOpen(); got != 3 {
		t.Errorf("MaxOpen() = %d, want 3", got)
	}
	if errs := rtb.errors(); len(errs) != 1 || !strings.Contains(errs[0], "3 sessions open at once") {
		t.Errorf("errors reported: %q, want one about 3 sessions", errs)
	}
	for _, c := range cs {
		c.cmd("QUIT", 221, "")
		c.expectEOF()
	}
	c := dial(t, s.Addr())
	c.expect(220, "")
	if got := s.Sessions(); got != 4 {
		t.Errorf("Sessions() = %d, want 4", got)
	}
	if errs := rtb.errors(); len(errs) != 1 {
		t.Errorf("errors reported: %q, want only the first", errs)
	}
}

// TestHostMaxSessionsClientClosed checks that a session the client closed
// no longer counts even while the server is busy with it (here: sleeping
// before a reply), so sequential sessions never trip MaxSessions.
func TestHostMaxSessionsClientClosed(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("peerClosed needs Linux")
	}
	rtb := &recordingTB{TB: t}
	farm := NewMXFarm(rtb)
	s := farm.Host("127.0.0.2", Config{MaxSessions: 1, SoftErrorLimit: 1, ErrorSleep: time.Minute})
	c := dial(t, s.Addr())
	c.expect(220, "")
	c.cmd("EHLO client.test", 250, "")
	c.cmd("MAIL FROM:<>", 250, "")
	c.cmd("RCPT TO:<a@example.com>", 550, "")
	c.send("RCPT TO:<b@example.com>") // the server sleeps a minute before answering
	c.nc.Close()
	c2 := dial(t, s.Addr())
	c2.expect(220, "")
	if errs := rtb.errors(); len(errs) != 0 {
		t.Errorf("errors reported: %q, want none", errs)
	}
	if got := s.MaxOpen(); got != 1 {
		t.Errorf("MaxOpen() = %d, want 1", got)
	}
}

func TestFarmSharedPort(t *testing.T) {
	farm := NewMXFarm(t)
	a := farm.Host("127.0.0.2", Config{})
	b := farm.Host("127.0.0.3", Config{})
	lo := farm.Scripted("127.0.0.1", DisconnectAfterBanner)
	for _, s := range []*Server{a, b, lo} {
		if want := net.JoinHostPort(s.ip, strconv.Itoa(farm.Port)); s.Addr() != want {
			t.Errorf("Addr() = %s, want %s", s.Addr(), want)
		}
	}
	dial(t, a.Addr()).expect(220, "mx-127-0-0-2.fakes.test")
	dial(t, b.Addr()).expect(220, "mx-127-0-0-3.fakes.test")
	dial(t, lo.Addr()).expect(220, "fakes.test ESMTP")
	for _, s := range []*Server{a, b, lo} {
		if got := s.Sessions(); got != 1 {
			t.Errorf("%s: Sessions() = %d, want 1", s.ip, got)
		}
	}
}

func TestFarmMovesWhenPortTaken(t *testing.T) {
	farm := NewMXFarm(t)
	a := farm.Host("127.0.0.2", Config{})
	old := farm.Port
	squatter, err := net.Listen("tcp", net.JoinHostPort("127.0.0.9", strconv.Itoa(old)))
	if err != nil {
		t.Fatal(err)
	}
	defer squatter.Close()
	b := farm.Host("127.0.0.9", Config{})
	if farm.Port == old {
		t.Fatalf("Port still %d, taken on 127.0.0.9", old)
	}
	dial(t, a.Addr()).expect(220, "mx-127-0-0-2")
	dial(t, b.Addr()).expect(220, "mx-127-0-0-9")
	if nc, err := net.Dial("tcp", net.JoinHostPort("127.0.0.2", strconv.Itoa(old))); err == nil {
		nc.Close()
		t.Errorf("127.0.0.2:%d still accepts after the move", old)
	}
}

func TestHostConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		ip   string
		cfg  Config
		want string
	}{
		{"not loopback", "10.0.0.1", Config{}, "127.0.0.0/8"},
		{"IPv6", "::1", Config{}, "127.0.0.0/8"},
		{"bad enhanced code", "127.0.0.2", Config{Replies: map[string]Reply{"a@b": {550, "5.1", "x"}}}, "class.subject.detail"},
		{"mismatched class", "127.0.0.2", Config{Unknown: &Reply{550, "4.1.1", "x"}}, "does not match"},
		{"NoPipelining with TLS", "127.0.0.2", Config{NoPipelining: true, TLS: &tls.Config{}}, "NoPipelining"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rtb := &recordingTB{TB: t}
			farm := NewMXFarm(rtb)
			done := make(chan struct{})
			go func() { // Fatalf ends this goroutine
				defer close(done)
				farm.Host(tt.ip, tt.cfg)
			}()
			<-done
			if errs := rtb.errors(); len(errs) != 1 || !strings.Contains(errs[0], tt.want) {
				t.Errorf("errors = %q, want one containing %q", errs, tt.want)
			}
		})
	}
}

func TestScripts(t *testing.T) {
	farm := NewMXFarm(t)
	tests := []struct {
		name  string
		ip    string
		fn    func(net.Conn)
		check func(t *testing.T, c *client)
	}{
		{"NoBanner", "127.0.0.2", NoBanner, func(t *testing.T, c *client) {
			c.send("EHLO client.test")
			c.nc.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
			var buf [1]byte
			if _, err := c.nc.Read(buf[:]); !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Errorf("read: %v, want a timeout", err)
			}
		}},
		{"Drip", "127.0.0.3", Drip("220 x", time.Millisecond), func(t *testing.T, c *client) {
			var buf [12]byte
			if _, err := io.ReadFull(c.nc, buf[:]); err != nil || string(buf[:]) != "220 x220 x22" {
				t.Errorf("read %q, %v; want %q", buf, err, "220 x220 x22")
			}
		}},
		{"Endless", "127.0.0.4", Endless, func(t *testing.T, c *client) {
			r := bufio.NewReader(c.nc)
			for i := range 1000 {
				line, err := r.ReadString('\n')
				if err != nil || !strings.HasPrefix(line, "220-") {
					t.Fatalf("line %d: %q, %v; want a 220- line", i, line, err)
				}
			}
		}},
		{"Garbled", "127.0.0.5", Garbled, func(t *testing.T, c *client) {
			if line, err := c.tp.ReadLine(); err != nil || line != "hello world" {
				t.Errorf("read %q, %v; want %q", line, err, "hello world")
			}
		}},
		{"DisconnectAfterBanner", "127.0.0.6", DisconnectAfterBanner, func(t *testing.T, c *client) {
			c.expect(220, "")
			c.expectEOF()
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := farm.Scripted(tt.ip, tt.fn)
			tt.check(t, dial(t, s.Addr()))
			if got := s.Sessions(); got != 1 {
				t.Errorf("Sessions() = %d, want 1", got)
			}
		})
	}
}

func TestHostSTARTTLS(t *testing.T) {
	farm := NewMXFarm(t)
	cfg := TLSConfig(t, "mx.tls.test")
	s := farm.Host("127.0.0.2", Config{TLS: cfg, Mailboxes: []string{"a@example.com"}})
	c := dial(t, s.Addr())
	c.expect(220, "")
	c.cmd("EHLO client.test", 250, "STARTTLS")
	c.cmd("STARTTLS", 220, "")
	tc := tls.Client(c.nc, cfg) // verifies the certificate against itself
	if err := tc.Handshake(); err != nil {
		t.Fatal(err)
	}
	c.nc, c.tp = tc, textproto.NewConn(tc)
	c.cmd("MAIL FROM:<>", 502, "") // EHLO again first
	ehlo := c.cmd("EHLO client.test", 250, "")
	if strings.Contains(ehlo, "STARTTLS") {
		t.Errorf("EHLO after STARTTLS lists STARTTLS: %q", ehlo)
	}
	c.cmd("MAIL FROM:<>", 250, "")
	c.cmd("RCPT TO:<a@example.com>", 250, "")
	c.cmd("QUIT", 221, "")
}

// ---- benchmarks: the fakes' own cost, to tell it apart from the prober's ----

func BenchmarkDNSQuery(b *testing.B) {
	d := NewDNS(b)
	d.MX("example.com", 10, "mx.example.com")
	c := &dns.Client{Timeout: 2 * time.Second}
	m := new(dns.Msg)
	m.SetQuestion("example.com.", dns.TypeMX)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := c.Exchange(m, d.Addr()); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHostSession runs one whole probe session per iteration: banner,
// EHLO, a pipelined MAIL and 5 RCPTs, QUIT.
func BenchmarkHostSession(b *testing.B) {
	for _, bb := range []struct {
		name string
		cfg  Config
	}{
		{"plain", Config{Mailboxes: []string{"a@example.com"}}},
		{"limits", Config{Mailboxes: []string{"a@example.com"}, SoftErrorLimit: 10, HardErrorLimit: 20, MaxSessions: 1}},
	} {
		b.Run(bb.name, func(b *testing.B) {
			farm := NewMXFarm(b)
			s := farm.Host("127.0.0.2", bb.cfg)
			cmds := "MAIL FROM:<>\r\n" + strings.Repeat("RCPT TO:<a@example.com>\r\nRCPT TO:<b@example.com>\r\n", 2) +
				"RCPT TO:<c@example.com>\r\n"
			b.ReportAllocs()
			for b.Loop() {
				nc, err := net.Dial("tcp", s.Addr())
				if err != nil {
					b.Fatal(err)
				}
				nc.SetDeadline(time.Now().Add(5 * time.Second))
				tp := textproto.NewConn(nc)
				step := func(code int) {
					if _, _, err := tp.ReadResponse(code); err != nil {
						b.Fatal(err)
					}
				}
				step(220)
				tp.PrintfLine("EHLO client.test")
				step(250)
				io.WriteString(nc, cmds)
				step(250)
				for range 2 {
					step(250)
					step(550)
				}
				step(550)
				tp.PrintfLine("QUIT")
				step(221)
				nc.Close()
			}
		})
	}
}
