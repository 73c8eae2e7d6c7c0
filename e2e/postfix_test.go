//go:build e2e

package e2e

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// These tests check the world itself, with raw DNS queries and raw SMTP dialogues,
// so that a failing everify test means everify disagrees with a real server, not that
// the servers were set up wrong. They also pin the Postfix behaviour the bulk engine
// must live with (error limits).

// reply is one SMTP reply: the code and the text lines joined by "\n" (each line
// without its "NNN-" prefix), as net/textproto returns them.
type reply struct {
	code int
	msg  string
	took time.Duration
}

func (r reply) String() string { return fmt.Sprintf("%d %s", r.code, r.msg) }

type rawSession struct {
	t    *testing.T
	conn net.Conn
	tp   *textproto.Conn
}

// smtpDial connects to a listener in the namespace and reads the greeting.
func (w *world) smtpDial(t *testing.T, addr string) (*rawSession, reply) {
	t.Helper()
	c, err := w.dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	s := &rawSession{t: t, conn: c, tp: textproto.NewConn(c)}
	t.Cleanup(func() { s.tp.Close() })
	return s, s.read()
}

func (s *rawSession) read() reply {
	s.t.Helper()
	start := time.Now()
	_ = s.conn.SetDeadline(time.Now().Add(10 * time.Second))
	code, msg, err := s.tp.ReadResponse(0)
	if err != nil {
		s.t.Fatalf("reading reply: %v", err)
	}
	return reply{code: code, msg: msg, took: time.Since(start)}
}

func (s *rawSession) cmd(format string, args ...any) reply {
	s.t.Helper()
	_ = s.conn.SetDeadline(time.Now().Add(10 * time.Second))
	if err := s.tp.PrintfLine(format, args...); err != nil {
		s.t.Fatalf("sending %q: %v", fmt.Sprintf(format, args...), err)
	}
	return s.read()
}

// expect fails the test unless r has the code and the exact text.
func expect(t *testing.T, what string, r reply, code int, text string) {
	t.Helper()
	if r.code != code || r.msg != text {
		t.Errorf("%s: got %q, want %q", what, r.String(), fmt.Sprintf("%d %s", code, text))
	}
}

func ehloKeywords(msg string) []string {
	var kw []string
	for _, l := range strings.Split(msg, "\n")[1:] {
		kw = append(kw, strings.ToUpper(strings.Fields(l)[0]))
	}
	return kw
}

func TestDNSZones(t *testing.T) {
	w := requireWorld(t)
	tests := []struct {
		name  string
		qtype uint16
		rcode int
		want  []string // answer and additional records, dig-style "TYPE data", sorted
	}{
		{"alpha.zz.", dns.TypeMX, dns.RcodeSuccess, []string{"A 127.0.0.2", "MX 10 mx1.alpha.zz."}},
		{"mx1.alpha.zz.", dns.TypeA, dns.RcodeSuccess, []string{"A 127.0.0.2"}},
		{"mx1.alpha.zz.", dns.TypeAAAA, dns.RcodeSuccess, nil},
		{"nosuch.zz.", dns.TypeMX, dns.RcodeNameError, nil},
		{"nosuch.zz.", dns.TypeA, dns.RcodeNameError, nil},
		{"nullmx.zz.", dns.TypeMX, dns.RcodeSuccess, []string{"MX 0 ."}},
		{"implicit.zz.", dns.TypeMX, dns.RcodeSuccess, nil},
		{"implicit.zz.", dns.TypeA, dns.RcodeSuccess, []string{"A 127.0.0.2"}},
		{"dangling.zz.", dns.TypeMX, dns.RcodeSuccess, []string{"MX 10 mx.nowhere.zz."}},
		{"mx.nowhere.zz.", dns.TypeA, dns.RcodeNameError, nil},
		{"mx.nowhere.zz.", dns.TypeAAAA, dns.RcodeNameError, nil},
		{"noaddr.zz.", dns.TypeMX, dns.RcodeSuccess, nil},
		{"noaddr.zz.", dns.TypeA, dns.RcodeSuccess, nil},
		{"noaddr.zz.", dns.TypeAAAA, dns.RcodeSuccess, nil},
		{"cname.zz.", dns.TypeMX, dns.RcodeSuccess, []string{"MX 10 mail.cname.zz."}},
		{"mail.cname.zz.", dns.TypeA, dns.RcodeSuccess, []string{"A 127.0.0.2", "CNAME mx1.alpha.zz."}},
		{"v6only.zz.", dns.TypeMX, dns.RcodeSuccess, []string{"AAAA fd00::25", "MX 10 mx6.v6only.zz."}},
		{"mx6.v6only.zz.", dns.TypeA, dns.RcodeSuccess, nil},
		{"mx6.v6only.zz.", dns.TypeAAAA, dns.RcodeSuccess, []string{"AAAA fd00::25"}},
		{"xn--bcher-kva.zz.", dns.TypeMX, dns.RcodeSuccess, []string{"A 127.0.0.2", "MX 10 mx.xn--bcher-kva.zz."}},
		{"multi.zz.", dns.TypeMX, dns.RcodeSuccess, []string{"A 127.0.0.2", "A 127.0.0.7", "MX 10 mx-dead.multi.zz.", "MX 20 mx-live.multi.zz."}},
		{"refused.zz.", dns.TypeMX, dns.RcodeSuccess, []string{"A 127.0.0.7", "MX 10 mx.refused.zz."}},
		{"gmail.com.", dns.TypeMX, dns.RcodeSuccess, []string{"A 127.0.0.2", "MX 5 mx1.alpha.zz."}},
		{"gmial.com.", dns.TypeMX, dns.RcodeNameError, nil},
		{"mailinator.com.", dns.TypeMX, dns.RcodeSuccess, []string{"A 127.0.0.3", "MX 10 mx.catchall.zz."}},
		// Outside every served zone: REFUSED, which everify must report as dns_error.
		{"broken.yy.", dns.TypeMX, dns.RcodeRefused, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name+"/"+dns.TypeToString[tt.qtype], func(t *testing.T) {
			r, err := w.dnsQuery(tt.name, tt.qtype)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, rr := range append(r.Answer, r.Extra...) {
				f := strings.SplitN(rr.String(), "\t", 5)
				got = append(got, f[3]+" "+f[4])
			}
			slices.Sort(got)
			if r.Rcode != tt.rcode || !slices.Equal(got, tt.want) {
				t.Errorf("got %s %q, want %s %q", dns.RcodeToString[r.Rcode], got, dns.RcodeToString[tt.rcode], tt.want)
			}
		})
	}
}

func TestPostfixListeners(t *testing.T) {
	w := requireWorld(t)
	const unknown = "Recipient address rejected: User unknown in virtual mailbox table"
	tests := []struct {
		name     string
		addr     string
		utf8     bool // MAIL FROM ... SMTPUTF8
		rcpt     string
		code     int
		text     string
		contains string // instead of text, when the text names the client's rDNS
	}{
		{"mailbox", lnMain, false, "alice@alpha.zz", 250, "2.1.5 Ok", ""},
		{"role mailbox", lnMain, false, "postmaster@alpha.zz", 250, "2.1.5 Ok", ""},
		{"unknown user", lnMain, false, "stranger@alpha.zz", 550, "5.1.1 <stranger@alpha.zz>: " + unknown, ""},
		{"mailbox full", lnMain, false, "full@alpha.zz", 552, "5.2.2 <full@alpha.zz>: Recipient address rejected: Mailbox full, quota exceeded", ""},
		{"disabled", lnMain, false, "disabled@alpha.zz", 550, "5.2.1 <disabled@alpha.zz>: Recipient address rejected: Mailbox disabled, not accepting messages", ""},
		{"greylisted", lnMain, false, "grey@alpha.zz", 450, "4.7.1 <grey@alpha.zz>: Recipient address rejected: Greylisted, please try again later", ""},
		{"idn", lnMain, false, "anna@xn--bcher-kva.zz", 250, "2.1.5 Ok", ""},
		{"utf8 local part", lnMain, true, "jösé@utf8.zz", 250, "2.1.5 Ok", ""},
		{"utf8 unknown", lnMain, true, "jose@utf8.zz", 550, "5.1.1 <jose@utf8.zz>: " + unknown, ""},
		{"implicit mx", lnMain, false, "carol@implicit.zz", 250, "2.1.5 Ok", ""},
		{"cname mx", lnMain, false, "dave@cname.zz", 250, "2.1.5 Ok", ""},
		{"backup mx", lnMain, false, "frank@multi.zz", 250, "2.1.5 Ok", ""},
		{"free provider", lnMain, false, "jane@gmail.com", 250, "2.1.5 Ok", ""},
		{"ipv6", lnV6, false, "erin@v6only.zz", 250, "2.1.5 Ok", ""},
		{"catch-all", lnCatchAll, false, "q8z3k1v7@catchall.zz", 250, "2.1.5 Ok", ""},
		{"disposable catch-all", lnCatchAll, false, "anything@mailinator.com", 250, "2.1.5 Ok", ""},
		{"policy", lnPolicy, false, "gina@policy.zz", 550, "", "5.7.1 <"},
		{"no smtputf8", lnNoUTF8, false, "ascii@noutf8.zz", 250, "2.1.5 Ok", ""},
		{"bulk member", lnBulk, false, bulkMembers()[0] + "@bulk.zz", 250, "2.1.5 Ok", ""},
		{"bulk ghost", lnBulk, false, "ghost001@bulk.zz", 550, "5.1.1 <ghost001@bulk.zz>: " + unknown, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, banner := w.smtpDial(t, tt.addr)
			expect(t, "banner", banner, 220, "mx.e2e-everify.zz ESMTP Postfix (everify e2e)")
			r := s.cmd("EHLO prober.e2e-everify.zz")
			kw := ehloKeywords(r.msg)
			if r.code != 250 || !slices.Contains(kw, "ENHANCEDSTATUSCODES") {
				t.Fatalf("EHLO: %v", r)
			}
			if got, want := slices.Contains(kw, "SMTPUTF8"), tt.addr != lnNoUTF8; got != want {
				t.Errorf("SMTPUTF8 advertised = %v, want %v (%q)", got, want, kw)
			}
			if got, want := slices.Contains(kw, "STARTTLS"), tt.addr == lnMain || tt.addr == lnV6; got != want {
				t.Errorf("STARTTLS advertised = %v, want %v (%q)", got, want, kw)
			}
			from := "MAIL FROM:<verify@prober.e2e-everify.zz>"
			if tt.utf8 {
				from += " SMTPUTF8"
			}
			expect(t, "MAIL", s.cmd("%s", from), 250, "2.1.0 Ok")
			r = s.cmd("RCPT TO:<%s>", tt.rcpt)
			if tt.contains != "" {
				if r.code != tt.code || !strings.HasPrefix(r.msg, tt.contains) || !strings.Contains(r.msg, "Client host rejected: Access denied by local policy") {
					t.Errorf("RCPT: got %q", r.String())
				}
			} else {
				expect(t, "RCPT", r, tt.code, tt.text)
			}
			t.Logf("RCPT TO:<%s> -> %v", tt.rcpt, r)
			expect(t, "QUIT", s.cmd("QUIT"), 221, "2.0.0 Bye")
		})
	}

	t.Run("blocked at connect", func(t *testing.T) {
		s, banner := w.smtpDial(t, lnBlocked)
		want := "Client host rejected: Service unavailable; client host blocked using bl.e2e-everify.zz, see http://bl.e2e-everify.zz/lookup"
		if banner.code != 554 || !strings.HasPrefix(banner.msg, "5.7.1 <") || !strings.HasSuffix(banner.msg, want) {
			t.Errorf("banner: got %q, want 554 5.7.1 <client>: %s", banner.String(), want)
		}
		t.Logf("banner: %v", banner)
		r := s.cmd("EHLO prober.e2e-everify.zz")
		if r.code != 503 || !strings.HasPrefix(r.msg, "5.7.0 Error: access denied for ") {
			t.Errorf("EHLO after a 554 greeting: got %q", r.String())
		}
		t.Logf("EHLO: %v", r)
		expect(t, "QUIT", s.cmd("QUIT"), 221, "2.0.0 Bye")
	})

	t.Run("SMTPUTF8 refused when not offered", func(t *testing.T) {
		s, _ := w.smtpDial(t, lnNoUTF8)
		s.cmd("EHLO prober.e2e-everify.zz")
		expect(t, "MAIL", s.cmd("MAIL FROM:<verify@prober.e2e-everify.zz> SMTPUTF8"), 555, "5.5.4 Unsupported option: SMTPUTF8")
		// Without the SMTPUTF8 parameter this Postfix takes a UTF-8 RCPT anyway, so a
		// prober must decide smtputf8_unsupported from EHLO, not from RCPT.
		expect(t, "MAIL", s.cmd("MAIL FROM:<verify@prober.e2e-everify.zz>"), 250, "2.1.0 Ok")
		expect(t, "RCPT", s.cmd("RCPT TO:<jösé@noutf8.zz>"), 250, "2.1.5 Ok")
	})

	t.Run("STARTTLS", func(t *testing.T) {
		s, _ := w.smtpDial(t, lnMain)
		s.cmd("EHLO prober.e2e-everify.zz")
		expect(t, "STARTTLS", s.cmd("STARTTLS"), 220, "2.0.0 Ready to start TLS")
		tc := tls.Client(s.conn, &tls.Config{ServerName: "mx1.alpha.zz", InsecureSkipVerify: true})
		_ = tc.SetDeadline(time.Now().Add(10 * time.Second))
		if err := tc.Handshake(); err != nil {
			t.Fatalf("TLS handshake: %v", err)
		}
		s.conn, s.tp = tc, textproto.NewConn(tc)
		if r := s.cmd("EHLO prober.e2e-everify.zz"); r.code != 250 {
			t.Errorf("EHLO after STARTTLS: %v", r)
		}
		expect(t, "RCPT needs MAIL", s.cmd("MAIL FROM:<verify@prober.e2e-everify.zz>"), 250, "2.1.0 Ok")
		expect(t, "RCPT", s.cmd("RCPT TO:<alice@alpha.zz>"), 250, "2.1.5 Ok")
	})

	t.Run("nothing on 127.0.0.7", func(t *testing.T) {
		c, err := w.dial("tcp", lnRefused)
		if err == nil {
			c.Close()
			t.Fatal("connected; want connection refused")
		}
		if !errors.Is(err, syscall.ECONNREFUSED) {
			t.Errorf("got %v, want connection refused", err)
		}
	})
}

// TestPostfixErrorLimits pins what the bulk engine must live with, with Postfix's
// defaults (smtpd_soft_error_limit 10, smtpd_hard_error_limit 20, error sleep 1s):
// every rejected RCPT counts as an error, RSET does not reset the count, the replies
// that make the first 10 errors are not delayed, after 10 errors every reply (250s
// too) is delayed by 1 s, and the command after the 20th error gets "421 4.7.0 <host>
// Error: too many errors" and the connection is closed. Delays are asserted against
// 0.9 s: a sleep cannot be shorter, and an undelayed reply on loopback takes far less.
func TestPostfixErrorLimits(t *testing.T) {
	w := requireWorld(t)
	t.Parallel()
	const delayed = 900 * time.Millisecond
	s, _ := w.smtpDial(t, lnMain)
	s.cmd("EHLO prober.e2e-everify.zz")
	expect(t, "MAIL", s.cmd("MAIL FROM:<verify@prober.e2e-everify.zz>"), 250, "2.1.0 Ok")
	var took []string
	for i := 1; i <= 10; i++ {
		r := s.cmd("RCPT TO:<limit%02d@alpha.zz>", i)
		took = append(took, r.took.Round(10*time.Millisecond).String())
		if r.code != 550 {
			t.Fatalf("RCPT %d: %v", i, r)
		}
		// The 10th error's own reply is not delayed: what --max-rejects 10 relies on.
		if r.took >= delayed {
			t.Errorf("RCPT %d (error %d) delayed by %v; the delay starts after the 10th error", i, i, r.took)
		}
	}
	t.Logf("replies to rejected RCPTs 1-10 took %v", took)
	for _, c := range []struct{ cmd, want string }{
		{"RSET", "250 2.0.0 Ok"},
		{"MAIL FROM:<verify@prober.e2e-everify.zz>", "250 2.1.0 Ok"},
		{"RCPT TO:<alice@alpha.zz>", "250 2.1.5 Ok"},
	} {
		r := s.cmd("%s", c.cmd)
		if r.String() != c.want || r.took < delayed {
			t.Errorf("%s after 10 errors: %q in %v, want %q delayed by ~1s", c.cmd, r.String(), r.took, c.want)
		}
		t.Logf("%s after 10 errors: %v in %v", c.cmd, r, r.took.Round(10*time.Millisecond))
	}
	took = took[:0]
	for i := 11; i <= 20; i++ {
		r := s.cmd("RCPT TO:<limit%02d@alpha.zz>", i)
		took = append(took, r.took.Round(10*time.Millisecond).String())
		if r.code != 550 || r.took < delayed {
			t.Errorf("RCPT %d: %v in %v, want 550 delayed by ~1s", i, r, r.took)
		}
	}
	t.Logf("replies to rejected RCPTs 11-20 took %v", took)
	r := s.cmd("RCPT TO:<alice@alpha.zz>")
	expect(t, "command after 20 errors", r, 421, "4.7.0 mx.e2e-everify.zz Error: too many errors")
	t.Logf("command after 20 errors: %v in %v", r, r.took.Round(10*time.Millisecond))
	_ = s.conn.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := s.tp.ReadLine(); !errors.Is(err, io.EOF) && !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("after 421: got %v, want the connection closed", err)
	}
}
