package diag

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"slices"
	"strings"
	"sync"

	"github.com/everify/everify/dnscheck"
	"github.com/everify/everify/smtpprobe"
)

// PopularDomains are mail domains that exist beyond doubt. A resolver that says one of
// them does not exist (NXDOMAIN) filters or is broken, and every verdict made through it
// would be wrong; [Doctor] asks about the first three.
var PopularDomains = []string{"gmail.com", "outlook.com", "yahoo.com", "hotmail.com", "icloud.com", "aol.com", "googlemail.com", "live.com", "gmx.de", "web.de", "mail.ru", "yandex.ru", "proton.me", "protonmail.com", "zoho.com", "qq.com"}

// IsPopular reports whether asciiDomain is one of [PopularDomains].
func IsPopular(asciiDomain string) bool { return slices.Contains(PopularDomains, asciiDomain) }

// Status is the outcome of one doctor check.
type Status string

// Statuses of a [Check].
const (
	StatusPass Status = "pass"
	StatusWarn Status = "warn" // probing works, but some receivers will refuse or mislead it
	StatusFail Status = "fail" // probing cannot work
)

// Check is one thing the doctor looked at.
type Check struct {
	Name    string `json:"name"` // "dns", "dns_truth", "port25", "helo", "fcrdns", "dnsbl"
	Status  Status `json:"status"`
	Message string `json:"message"`
	Fix     string `json:"fix"` // how to fix it; "" on pass
}

// Doctor checks whether this machine can probe.
type Doctor struct {
	// DNS is the resolver probes would use. Required.
	DNS *dnscheck.Resolver
	// SMTP is the prober (with its proxy dialer, if any). Nil skips the port-25 check.
	SMTP *smtpprobe.Prober
	// Proxied says SMTP dials through a proxy: the local address of its connection is
	// then not the egress IP.
	Proxied bool
	// MX is the server connected to on the SMTP port: a host name or an IP address. ""
	// means the first MX of the first popular domain that has one.
	MX string
	// EgressIP is the address receivers see. The zero value means the local address of
	// the port-25 connection, which is the egress IP unless this machine is behind NAT
	// (a private local address is reported as such) or a proxy.
	EgressIP netip.Addr
	// DNSBLZones are the blocklists asked about the egress IP; nil means
	// [DefaultDNSBLZones].
	DNSBLZones []string
}

// Run runs the checks in order. It returns an error only when ctx ends.
func (d *Doctor) Run(ctx context.Context) ([]Check, error) {
	var checks []Check
	checks = append(checks, d.resolver(ctx)...)
	port25, local := d.port25(ctx)
	checks = append(checks, port25, d.helo(ctx))
	egress, how := d.EgressIP, "given with --egress-ip"
	if !egress.IsValid() && local.IsValid() {
		egress, how = local, "the local address of the port-25 connection"
	}
	checks = append(checks, d.fcrdns(ctx, egress, how), d.dnsbl(ctx, egress, how))
	return checks, ctx.Err()
}

// CanProbe reports whether no check failed.
func CanProbe(checks []Check) bool {
	return !slices.ContainsFunc(checks, func(c Check) bool { return c.Status == StatusFail })
}

func (d *Doctor) resolver(ctx context.Context) []Check {
	canaries := PopularDomains[:3]
	var lies, answered []string
	var firstErr error
	for _, dom := range canaries {
		mx, err := d.DNS.LookupMX(ctx, dom)
		switch {
		case err != nil:
			firstErr = cmpErr(firstErr, err)
		case mx.NXDomain:
			lies = append(lies, dom)
		default:
			answered = append(answered, dom)
		}
	}
	servers := strings.Join(d.DNS.Servers, ", ")
	answers := Check{Name: "dns", Status: StatusPass, Message: "the resolver (" + servers + ") answers"}
	if len(answered)+len(lies) == 0 {
		answers = Check{Name: "dns", Status: StatusFail, Message: "the resolver (" + servers + ") does not answer: " + firstErr.Error(),
			Fix: "name a working DNS server with --resolver HOST[:PORT] (or fix /etc/resolv.conf)"}
	}
	truth := Check{Name: "dns_truth", Status: StatusPass, Message: "the resolver knows " + strings.Join(answered, ", ")}
	switch {
	case len(lies) > 0:
		truth = Check{Name: "dns_truth", Status: StatusFail,
			Message: "the resolver says " + strings.Join(lies, ", ") + " does not exist (NXDOMAIN): it filters or is broken, and every verdict through it would be wrong",
			Fix:     "use a resolver that does not filter: --resolver with your own recursive resolver or your ISP's"}
	case len(answered) == 0:
		truth = Check{Name: "dns_truth", Status: StatusWarn, Message: "not checked: the resolver did not answer", Fix: "fix the dns check first"}
	}
	return []Check{answers, truth}
}

func cmpErr(first, err error) error {
	if first != nil {
		return first
	}
	return err
}

// port25 connects to the MX on the SMTP port and returns the check and the local address
// of the connection.
func (d *Doctor) port25(ctx context.Context) (Check, netip.Addr) {
	c := Check{Name: "port25"}
	if d.SMTP == nil {
		c.Status, c.Message, c.Fix = StatusWarn, "not checked (--no-smtp)", "run without --no-smtp to check outbound port 25"
		return c, netip.Addr{}
	}
	host, addr, err := d.target(ctx)
	if err != nil {
		c.Status, c.Message, c.Fix = StatusFail, err.Error(), "name a reachable mail server with --mx HOST, and check the dns checks"
		return c, netip.Addr{}
	}
	port := d.SMTP.Port
	if port == 0 {
		port = 25
	}
	via := ""
	if d.Proxied {
		via = " through the proxy"
	}
	dest := fmt.Sprintf("%s (%s)%s", host, netip.AddrPortFrom(addr, uint16(port)), via)

	var mu sync.Mutex
	var local netip.Addr
	p := d.SMTP.OnConnect(func(conn net.Conn) {
		if ap, err := netip.ParseAddrPort(conn.LocalAddr().String()); err == nil {
			mu.Lock()
			local = ap.Addr().Unmap()
			mu.Unlock()
		}
	})
	s, err := p.Open(ctx, host, addr)
	mu.Lock()
	defer mu.Unlock()
	if d.Proxied {
		local = netip.Addr{} // the proxy's side of the connection, not the egress
	}
	if err == nil {
		c.Status, c.Message = StatusPass, "connected to "+dest+": "+s.Banner().String()
		s.Quit()
		return c, local
	}
	var pe *smtpprobe.Error
	switch {
	case errors.As(err, &pe) && pe.Step != smtpprobe.StepConnect:
		// The port is open; the server did not like us (or spoke nonsense).
		c.Status, c.Message = StatusWarn, "connected to "+dest+", but: "+err.Error()
		c.Fix = "a refusal at the banner is usually about this machine's IP: see the fcrdns and dnsbl checks"
	case errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) || (pe != nil && pe.Timeout()):
		c.Status, c.Message = StatusFail, "no answer from "+dest+" within the timeout: outbound port 25 looks blocked"
		c.Fix = "most clouds and ISPs block port 25: ask the provider to lift it, probe from a host that can reach port 25 through --proxy socks5://host:port, or use --no-smtp"
	default:
		c.Status, c.Message = StatusFail, "cannot connect to "+dest+": "+err.Error()
		c.Fix = "outbound port 25 is refused or unroutable here: use --proxy socks5://host:port through a host that can reach port 25, or --no-smtp"
	}
	return c, local
}

// target resolves the server to connect to.
func (d *Doctor) target(ctx context.Context) (string, netip.Addr, error) {
	if d.MX != "" {
		addrs, err := d.DNS.LookupHost(ctx, d.MX)
		switch {
		case err != nil:
			return "", netip.Addr{}, fmt.Errorf("cannot resolve --mx %s: %w", d.MX, err)
		case len(addrs) == 0:
			return "", netip.Addr{}, fmt.Errorf("--mx %s has no address", d.MX)
		}
		return d.MX, addrs[0], nil
	}
	for _, dom := range PopularDomains[:3] {
		mx, err := d.DNS.LookupMX(ctx, dom)
		if err == nil && len(mx.Hosts) > 0 {
			return mx.Hosts[0].Name, mx.Hosts[0].Addrs[0], nil
		}
	}
	return "", netip.Addr{}, errors.New("no MX of " + strings.Join(PopularDomains[:3], ", ") + " could be resolved to connect to")
}

func (d *Doctor) heloName() string {
	if d.SMTP == nil {
		return ""
	}
	return d.SMTP.HELO
}

func (d *Doctor) helo(ctx context.Context) Check {
	name := d.heloName()
	c := Check{Name: "helo"}
	if name == "" {
		c.Status, c.Message = StatusWarn, "not checked (--no-smtp)"
		return c
	}
	addrs := d.forward(ctx, name)
	switch {
	case !strings.Contains(name, "."):
		c.Status, c.Message, c.Fix = StatusWarn, "the EHLO name "+name+" is not a fully-qualified domain name", "give --helo a name with an A record for this machine's egress IP, e.g. probe.example.net"
	case len(addrs) == 0:
		c.Status, c.Message, c.Fix = StatusWarn, "the EHLO name "+name+" does not resolve (no A/AAAA record): many receivers refuse such clients", "give --helo a name with an A record for this machine's egress IP"
	default:
		c.Status, c.Message = StatusPass, "the EHLO name "+name+" resolves to "+joinAddrs(addrs)
	}
	return c
}

// forward returns the A and AAAA addresses of name.
func (d *Doctor) forward(ctx context.Context, name string) []netip.Addr {
	var out []netip.Addr
	for _, lookup := range []func(context.Context, string) (dnscheck.Records, error){d.DNS.LookupA, d.DNS.LookupAAAA} {
		recs, err := lookup(ctx, name)
		if err != nil {
			continue
		}
		for _, v := range recs.Values {
			if a, err := netip.ParseAddr(v); err == nil {
				out = append(out, a)
			}
		}
	}
	return out
}

func joinAddrs(addrs []netip.Addr) string {
	s := make([]string, len(addrs))
	for i, a := range addrs {
		s[i] = a.String()
	}
	return strings.Join(s, ", ")
}

// egressUnknown explains why the egress IP cannot be checked, or returns "".
func (d *Doctor) egressUnknown(egress netip.Addr, how string) string {
	switch {
	case !egress.IsValid() && d.Proxied:
		return "the egress IP is unknown behind a proxy"
	case !egress.IsValid():
		return "the egress IP is unknown (no port-25 connection was made)"
	case !d.EgressIP.IsValid() && (egress.IsPrivate() || egress.IsLoopback() || egress.IsLinkLocalUnicast()):
		return "the local address " + egress.String() + " (" + how + ") is private: behind NAT, the egress IP is not known"
	}
	return ""
}

func (d *Doctor) fcrdns(ctx context.Context, egress netip.Addr, how string) Check {
	c := Check{Name: "fcrdns"}
	if why := d.egressUnknown(egress, how); why != "" {
		c.Status, c.Message, c.Fix = StatusWarn, "reverse DNS not checked: "+why, "pass the address receivers see with --egress-ip"
		return c
	}
	ptr, err := d.DNS.LookupPTR(ctx, egress)
	if err != nil {
		c.Status, c.Message, c.Fix = StatusWarn, "the PTR lookup of "+egress.String()+" failed: "+err.Error(), "check the dns checks"
		return c
	}
	if len(ptr.Values) == 0 {
		c.Status, c.Message, c.Fix = StatusWarn, "the egress IP "+egress.String()+" has no reverse DNS (PTR): many receivers refuse such clients", "ask the address's owner (cloud or ISP) for a PTR record naming the EHLO name, and an A record back"
		return c
	}
	helo := strings.ToLower(strings.TrimSuffix(d.heloName(), "."))
	var confirmed []string
	for _, n := range ptr.Values {
		if slices.Contains(d.forward(ctx, n), egress) {
			confirmed = append(confirmed, n)
		}
	}
	switch {
	case slices.Contains(confirmed, helo):
		c.Status, c.Message = StatusPass, "the egress IP "+egress.String()+" ("+how+") has PTR "+helo+", which resolves back to it"
	case len(confirmed) > 0:
		c.Status, c.Message, c.Fix = StatusWarn, "the egress IP "+egress.String()+" has forward-confirmed PTR "+confirmed[0]+", but the EHLO name is "+firstNonEmpty(helo, "not set"), "use --helo "+confirmed[0]
	default:
		c.Status, c.Message, c.Fix = StatusWarn, "the egress IP "+egress.String()+" has PTR "+strings.Join(ptr.Values, ", ")+", which does not resolve back to it", "make the PTR name's A/AAAA record point to "+egress.String()+" (forward-confirmed reverse DNS)"
	}
	return c
}

func (d *Doctor) dnsbl(ctx context.Context, egress netip.Addr, how string) Check {
	c := Check{Name: "dnsbl"}
	if why := d.egressUnknown(egress, how); why != "" {
		c.Status, c.Message, c.Fix = StatusWarn, "blocklists not checked: "+why, "pass the address receivers see with --egress-ip"
		return c
	}
	zones := d.DNSBLZones
	if zones == nil {
		zones = DefaultDNSBLZones
	}
	var listed, failed, clean []string
	for _, l := range lookupDNSBLs(ctx, d.DNS, []netip.Addr{egress}, zones) {
		switch {
		case l.Listed:
			listed = append(listed, l.Zone+" ("+l.Meaning+")")
		case l.Error != "":
			failed = append(failed, l.Zone+": "+l.Error)
		default:
			clean = append(clean, l.Zone)
		}
	}
	switch {
	case len(listed) > 0:
		c.Status, c.Message, c.Fix = StatusWarn, "the egress IP "+egress.String()+" is listed on "+strings.Join(listed, "; ")+": receivers using these lists refuse probes (results turn unknown)", "probe from another address (--proxy), or request delisting"
	case len(failed) > 0:
		c.Status, c.Message, c.Fix = StatusWarn, "blocklist lookups for "+egress.String()+" gave no usable answer: "+strings.Join(failed, "; "), "DNSBLs refuse queries from public resolvers: use your own recursive resolver (--resolver)"
	default:
		c.Status, c.Message = StatusPass, "the egress IP "+egress.String()+" is not listed on "+strings.Join(clean, ", ")
	}
	if len(zones) == 0 {
		c.Status, c.Message = StatusPass, "no blocklist zones given"
	}
	return c
}
