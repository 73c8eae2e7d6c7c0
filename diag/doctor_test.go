package diag

import (
	"context"
	"net"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/everify/everify/dnscheck"
	"github.com/everify/everify/internal/fakes"
	"github.com/everify/everify/smtpprobe"
)

func TestDoctor(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		setup  func(d *fakes.DNS, doc *Doctor)
		check  string // the check looked at
		status Status
		text   string // in its message
	}{
		{name: "all good", check: "fcrdns", status: StatusPass, text: "has PTR prober.doc.zz, which resolves back to it"},
		{name: "resolver silent", setup: func(d *fakes.DNS, doc *Doctor) { doc.DNS.Servers = []string{"127.0.0.1:1"} }, check: "dns", status: StatusFail, text: "does not answer"},
		{name: "resolver lies", setup: func(d *fakes.DNS, _ *Doctor) { d.Rcode("outlook.com", dns.RcodeNameError) }, check: "dns_truth", status: StatusFail, text: "outlook.com does not exist"},
		{name: "port 25 times out", setup: func(_ *fakes.DNS, doc *Doctor) {
			doc.SMTP.Dial = func(context.Context, string, string) (net.Conn, error) { return nil, os.ErrDeadlineExceeded }
		}, check: "port25", status: StatusFail, text: "outbound port 25 looks blocked"},
		{name: "banner refusal", setup: func(_ *fakes.DNS, doc *Doctor) { doc.MX = "mx.refuse.zz" }, check: "port25", status: StatusWarn, text: "554"},
		{name: "helo does not resolve", setup: func(_ *fakes.DNS, doc *Doctor) { doc.SMTP.HELO = "nowhere.doc.zz" }, check: "helo", status: StatusWarn, text: "does not resolve"},
		{name: "helo not a fqdn", setup: func(_ *fakes.DNS, doc *Doctor) { doc.SMTP.HELO = "laptop" }, check: "helo", status: StatusWarn, text: "not a fully-qualified"},
		{name: "ptr names another host", setup: func(_ *fakes.DNS, doc *Doctor) { doc.EgressIP = netip.MustParseAddr("127.0.0.9") }, check: "fcrdns", status: StatusWarn, text: "forward-confirmed PTR other.doc.zz, but the EHLO name is prober.doc.zz"},
		{name: "no ptr", setup: func(_ *fakes.DNS, doc *Doctor) { doc.EgressIP = netip.MustParseAddr("127.0.0.8") }, check: "fcrdns", status: StatusWarn, text: "no reverse DNS"},
		{name: "ptr not confirmed", setup: func(d *fakes.DNS, doc *Doctor) {
			doc.EgressIP = netip.MustParseAddr("127.0.0.7")
			d.PTR("127.0.0.7", "dyn-7.isp.zz")
		}, check: "fcrdns", status: StatusWarn, text: "does not resolve back"},
		{name: "egress listed", setup: func(d *fakes.DNS, _ *Doctor) { d.A("1.0.0.127.zen.spamhaus.org", "127.0.0.11") }, check: "dnsbl", status: StatusWarn, text: "Spamhaus PBL"},
		{name: "proxy hides the egress", setup: func(_ *fakes.DNS, doc *Doctor) { doc.Proxied, doc.EgressIP = true, netip.Addr{} }, check: "fcrdns", status: StatusWarn, text: "unknown behind a proxy"},
		{name: "no smtp", setup: func(_ *fakes.DNS, doc *Doctor) { doc.SMTP = nil }, check: "port25", status: StatusWarn, text: "--no-smtp"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := fakes.NewDNS(t)
			farm := fakes.NewMXFarm(t)
			farm.Host("127.0.0.2", fakes.Config{Hostname: "mx.doc.zz"})
			farm.Host("127.0.0.3", fakes.Config{Banner: &fakes.Reply{Code: 554, Enhanced: "5.7.1", Message: "blocked"}})
			for _, dom := range PopularDomains[:3] {
				d.MX(dom, 10, "mx.doc.zz")
			}
			d.A("mx.doc.zz", "127.0.0.2")
			d.A("mx.refuse.zz", "127.0.0.3")
			d.A("prober.doc.zz", "127.0.0.1")
			d.PTR("127.0.0.1", "prober.doc.zz")
			d.A("other.doc.zz", "127.0.0.9")
			d.PTR("127.0.0.9", "other.doc.zz")
			doc := &Doctor{
				DNS:        &dnscheck.Resolver{Servers: []string{d.Addr()}, Timeout: time.Second, Attempts: 1},
				SMTP:       &smtpprobe.Prober{Port: farm.Port, HELO: "prober.doc.zz", Timeout: 2 * time.Second},
				EgressIP:   netip.MustParseAddr("127.0.0.1"),
				DNSBLZones: []string{"zen.spamhaus.org"},
			}
			if tt.setup != nil {
				tt.setup(d, doc)
			}
			checks, err := doc.Run(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range checks {
				if c.Name != tt.check {
					continue
				}
				if c.Status != tt.status || !strings.Contains(c.Message, tt.text) {
					t.Errorf("%s = %s %q, want %s containing %q", c.Name, c.Status, c.Message, tt.status, tt.text)
				}
				if c.Status != StatusPass && c.Fix == "" {
					t.Errorf("%s has no fix", c.Name)
				}
				if CanProbe(checks) != (tt.status != StatusFail) {
					t.Errorf("CanProbe = %v with %s %s", CanProbe(checks), c.Name, c.Status)
				}
				return
			}
			t.Errorf("no %s check in %+v", tt.check, checks)
		})
	}
}
