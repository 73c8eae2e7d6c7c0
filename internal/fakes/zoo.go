package fakes

import (
	"fmt"
	"net"
	"testing"
)

// ZooCase is one address of a [Zoo] and the verdict everify must give it.
type ZooCase struct {
	Addr     string
	Status   string
	Reason   string
	CatchAll bool
}

// Zoo is a fake internet with one domain for every verdict of docs/reasons.md. The verdicts
// assume the prober uses HELO prober.everify.zz, the Zoo's DNS server as resolver and
// the Zoo's farm port, with an SMTP timeout short enough (≤ 1 s) for the silent server.
type Zoo struct {
	DNS   *DNS
	Farm  *MXFarm
	Corp  *Server // the exchanger of corp.zz (and of implicit.zz)
	Cases []ZooCase
	// AllowList and DenyList are the contents of --allow / --deny files the cases
	// expect (allowed and denied).
	AllowList, DenyList string
	// SuppressList is the content of a --suppress file (a suppression list CSV as
	// `everify bounces` writes it) the cases expect (suppressed).
	SuppressList string
	next         int
}

// NewZoo starts the Zoo's servers; they stop in t.Cleanup.
func NewZoo(t testing.TB) *Zoo {
	z := &Zoo{DNS: NewDNS(t), Farm: NewMXFarm(t), next: 10,
		AllowList: "vip@corp.zz\n", DenyList: "denied.zz\n",
		SuppressList: "email,state,reason,bounces,soft_count,suppressed\nbounced@corp.zz,hard,mailbox_not_found,1,0,true\n"}
	z.Corp = z.MX("corp.zz", Config{
		Mailboxes: []string{"jane@corp.zz", "info@corp.zz"},
		Replies: map[string]Reply{
			"full@corp.zz":   {Code: 552, Enhanced: "5.2.2", Message: "<full@corp.zz>: Recipient address rejected: Mailbox full"},
			"gone@corp.zz":   {Code: 550, Enhanced: "5.2.1", Message: "<gone@corp.zz>: Recipient address rejected: mailbox disabled"},
			"grey@corp.zz":   {Code: 450, Enhanced: "4.7.1", Message: "<grey@corp.zz>: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/help/corp.zz.html"},
			"policy@corp.zz": {Code: 554, Enhanced: "5.7.1", Message: "<policy@corp.zz>: Recipient address rejected: Access denied by policy"},
		},
	})
	z.MX("catchall.zz", Config{CatchAll: []string{"catchall.zz"}})
	z.MX("blocked.zz", Config{Banner: &Reply{554, "5.7.1", "Service unavailable; Client host [127.0.0.1] blocked using zen.spamhaus.org"}})
	z.MX("sender.zz", Config{MailReply: &Reply{553, "5.7.1", "<verify@prober.everify.zz>: Sender address rejected: not logged in"}})
	z.MX("ascii.zz", Config{Mailboxes: []string{"jöse@ascii.zz"}})
	z.MX("utf8.zz", Config{SMTPUTF8: true, Mailboxes: []string{"jöse@utf8.zz"}})
	z.Scripted("silent.zz", NoBanner)
	z.Scripted("garbled.zz", Garbled)
	z.DNS.MX("refused.zz", 10, "mx.refused.zz")
	z.DNS.A("mx.refused.zz", "127.0.0.250") // nothing listens there
	z.DNS.MX("nullmx.zz", 0, ".")
	z.DNS.MX("nohost.zz", 10, "mx.nowhere.zz")
	z.DNS.A("implicit.zz", "127.0.0.10") // no MX: corp's exchanger answers for it
	z.DNS.Rcode("servfail.zz", 2)        // SERVFAIL
	z.DNS.MX("mailinator.com", 10, "mx.mailinator.com")
	z.DNS.A("mx.mailinator.com", "127.0.0.250")
	z.Cases = []ZooCase{
		{"jane@corp.zz", "deliverable", "accepted", false},
		{"nobody@corp.zz", "undeliverable", "mailbox_not_found", false},
		{"full@corp.zz", "risky", "mailbox_full", false},
		{"gone@corp.zz", "undeliverable", "mailbox_disabled", false},
		{"grey@corp.zz", "unknown", "smtp_temp_failure", false},
		{"policy@corp.zz", "unknown", "smtp_blocked", false},
		{"anyone@catchall.zz", "risky", "catch_all", true},
		{"x@blocked.zz", "unknown", "smtp_blocked", false},
		{"x@sender.zz", "unknown", "smtp_blocked", false},
		{"jöse@ascii.zz", "undeliverable", "smtputf8_unsupported", false},
		{"jöse@utf8.zz", "deliverable", "accepted", false},
		{"x@silent.zz", "unknown", "smtp_timeout", false},
		{"x@garbled.zz", "unknown", "smtp_protocol_error", false},
		{"x@refused.zz", "unknown", "smtp_unreachable", false},
		{"x@nullmx.zz", "undeliverable", "null_mx", false},
		{"x@nohost.zz", "undeliverable", "no_mail_server", false},
		{"x@nothing.zz", "undeliverable", "no_such_domain", false},
		{"x@servfail.zz", "unknown", "dns_error", false},
		{"jane@implicit.zz", "undeliverable", "mailbox_not_found", false},
		{"x@mailinator.com", "risky", "disposable", false},
		{"x@example.com", "undeliverable", "reserved_domain", false},
		{"x@@corp.zz", "undeliverable", "invalid_syntax", false},
		{"x@denied.zz", "undeliverable", "denied", false},
		{"vip@corp.zz", "deliverable", "allowed", false},
		{"bounced@corp.zz", "undeliverable", "suppressed", false},
	}
	return z
}

// MX gives domain one exchanger, mx.<domain>, at a fresh loopback address.
func (z *Zoo) MX(domain string, cfg Config) *Server {
	ip := z.nextIP()
	z.DNS.MX(domain, 10, "mx."+domain)
	z.DNS.A("mx."+domain, ip)
	return z.Farm.Host(ip, cfg)
}

// Scripted gives domain one exchanger run by fn.
func (z *Zoo) Scripted(domain string, fn func(net.Conn)) *Server {
	ip := z.nextIP()
	z.DNS.MX(domain, 10, "mx."+domain)
	z.DNS.A("mx."+domain, ip)
	return z.Farm.Scripted(ip, fn)
}

func (z *Zoo) nextIP() string {
	ip := fmt.Sprintf("127.0.0.%d", z.next)
	z.next++
	return ip
}
