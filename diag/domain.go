package diag

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/everify/everify/dnscheck"
	"github.com/everify/everify/smtpprobe"
	"github.com/everify/everify/verify"
)

// Defaults of the zero-valued [Checker] fields.
const (
	DefaultMaxAddrs    = 8
	DefaultHTTPTimeout = 10 * time.Second
	probeParallelism   = 4
)

// DefaultDNSBLZones are the blocklists asked about each MX address and the egress IP.
var DefaultDNSBLZones = []string{"zen.spamhaus.org", "bl.spamcop.net", "b.barracudacentral.org"}

// extensionNames are the EHLO keywords reported in [SMTPCheck.Extensions].
var extensionNames = []string{"STARTTLS", "SMTPUTF8", "PIPELINING", "SIZE", "ENHANCEDSTATUSCODES", "CHUNKING"}

// Checker diagnoses domains. Its fields must not change once [Checker.Domain] has been
// called; it is then safe for concurrent use.
type Checker struct {
	// DNS answers every lookup. Required.
	DNS *dnscheck.Resolver
	// SMTP probes the exchangers on port 25 (reachability, banner, EHLO, STARTTLS) and
	// the catch-all. Nil skips those checks (--no-smtp). Certificates are judged against
	// its TLSConfig's RootCAs (nil: the system roots).
	SMTP *smtpprobe.Prober
	// DNSBLZones are the blocklists asked about each MX address; nil means
	// [DefaultDNSBLZones], an empty non-nil slice none.
	DNSBLZones []string
	// HTTPClient fetches the MTA-STS policy. Nil means a client that resolves through DNS,
	// connects to HTTPSPort, trusts RootCAs, never follows redirects (RFC 8461 §3.3) and
	// gives up after HTTPTimeout.
	HTTPClient *http.Client
	// HTTPTimeout bounds the MTA-STS policy fetch; 0 means 10 s.
	HTTPTimeout time.Duration
	// HTTPSPort is the port of the MTA-STS policy host; 0 means 443 (tests use another).
	HTTPSPort int
	// RootCAs verify the MTA-STS policy host; nil means the system roots.
	RootCAs *x509.CertPool
	// MaxAddrs bounds the exchanger addresses probed on port 25; 0 means 8.
	MaxAddrs int
	// RandomLocal returns the local part of the catch-all probe; nil means 16 random hex
	// digits (tests pin it for golden files).
	RandomLocal func() string

	httpOnce sync.Once
	http     *http.Client
}

// Domain diagnoses domain (Unicode or A-label form). It returns an error only when ctx
// ends; everything else, an invalid name included, is reported in the Report.
func (c *Checker) Domain(ctx context.Context, domain string) (*Report, error) {
	// Empty lists, never null, in the JSON form whatever stops the diagnosis early.
	r := &Report{Domain: domain, MX: MXReport{Hosts: []MXHost{}}, SPF: SPFReport{Records: []string{}},
		DMARC: DMARCReport{RUA: []string{}, RUF: []string{}}, MTASTS: MTASTS{MXPatterns: []string{}},
		DNSBL: []Listing{}, CatchAll: CatchAll{Result: "skipped"}, Problems: []Problem{}}
	syn := verify.ParseAddress("postmaster@"+domain, verify.ParseOptions{})
	if !syn.Valid {
		r.add(SeverityError, "invalid_domain", fmt.Sprintf("%q is not a valid domain name: %s", domain, strings.TrimPrefix(syn.Error, "domain: ")), "give the domain part of an address, e.g. example.com")
		return r, ctx.Err()
	}
	ascii := syn.ASCIIDomain
	r.Domain = syn.Domain

	mx, err := c.DNS.LookupMX(ctx, ascii)
	if cerr := ctx.Err(); cerr != nil {
		return r, cerr
	}
	c.mxRecords(r, mx, err)
	if mx != nil && mx.NXDomain {
		return r, nil // nothing else can exist
	}

	// Port 25 checks run while the DNS policies are looked up.
	var wg sync.WaitGroup
	probes := c.startProbes(ctx, &wg, r)

	r.SPF = c.spf(ctx, r, ascii)
	r.DMARC = c.dmarc(ctx, r, ascii)
	r.MTASTS = c.mtaSTS(ctx, r, ascii)
	r.TLSRPT = c.txtPolicy(ctx, r, "_smtp._tls."+ascii, "v=TLSRPTv1", "tls_rpt")
	r.BIMI = c.txtPolicy(ctx, r, "default._bimi."+ascii, "v=BIMI1", "bimi")
	r.DNSBL = c.dnsblAll(ctx, r)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		for _, p := range probes {
			if p.sess != nil {
				p.sess.Close()
			}
		}
		return r, err
	}
	c.finishProbes(ctx, r, ascii, probes)
	c.mtaSTSMatch(r)
	return r, nil
}

// mxRecords fills r.MX and the routing problems.
func (c *Checker) mxRecords(r *Report, mx *dnscheck.MX, err error) {
	switch {
	case err != nil:
		r.MX.Error = err.Error()
		r.add(SeverityWarning, "mx_lookup_failed", "the MX lookup failed: "+err.Error(), "check the domain's name servers answer (a DNS error does not mean the domain is missing), or try another --resolver")
		return
	case mx.NXDomain:
		r.MX.NXDomain = true
		r.add(SeverityError, "no_such_domain", r.Domain+" does not exist (NXDOMAIN)", "register the domain, or check its spelling")
		return
	case mx.NullMX:
		r.MX.NullMX = true
		r.add(SeverityError, "null_mx", r.Domain+` publishes a null MX ("MX 0 .", RFC 7505): it accepts no mail`, "remove the null MX record and publish the domain's mail servers, if it should receive mail")
		return
	}
	var names []string
	for _, h := range mx.Hosts {
		mh := MXHost{Name: h.Name, Pref: h.Pref, Addresses: []AddrReport{}}
		for _, a := range h.Addrs {
			mh.Addresses = append(mh.Addresses, AddrReport{IP: a.String(), PTR: []string{}})
		}
		r.MX.Hosts = append(r.MX.Hosts, mh)
		names = append(names, h.Name)
	}
	for _, h := range mx.Unresolved {
		r.MX.Hosts = append(r.MX.Hosts, MXHost{Name: h.Name, Pref: h.Pref, Addresses: []AddrReport{}})
		names = append(names, h.Name)
	}
	r.MX.ImplicitMX = mx.ImplicitMX
	r.MX.BackupMX = len(names) > 1
	r.Provider = verify.Provider(names)
	switch {
	case len(mx.Hosts) == 0 && len(mx.Unresolved) == 0:
		r.add(SeverityError, "no_mail_server", r.Domain+" has no MX record and no address record: it cannot receive mail", "publish an MX record naming the domain's mail server")
	case len(mx.Hosts) == 0:
		r.add(SeverityError, "no_mail_server", "no MX host of "+r.Domain+" has an address ("+strings.Join(names, ", ")+"): it cannot receive mail", "give each MX host an A or AAAA record, or fix the MX records")
	default:
		for _, h := range mx.Unresolved {
			r.add(SeverityWarning, "mx_host_unresolved", "MX host "+h.Name+" has no address record", "give "+h.Name+" an A/AAAA record or remove it from the MX records")
		}
	}
	if mx.ImplicitMX {
		r.add(SeverityWarning, "implicit_mx", r.Domain+" has no MX record: mail goes to its own address (implicit MX, RFC 5321 §5.1)", "publish an MX record; some senders do not use implicit MX")
	}
	if len(names) == 1 && len(mx.Hosts) == 1 && !mx.ImplicitMX {
		r.add(SeverityInfo, "no_backup_mx", "one MX host only ("+names[0]+")", "fine for a provider whose single name has many addresses; otherwise add a second MX host")
	}
}

// probe holds the open session of one exchanger address, kept for the catch-all probe.
type probe struct{ sess *smtpprobe.Session }

// startProbes fills the PTR, forward-confirmation and SMTP checks of each address in
// goroutines added to wg. It returns the sessions they open, in preference order, valid
// once wg is done.
func (c *Checker) startProbes(ctx context.Context, wg *sync.WaitGroup, r *Report) []probe {
	maxAddrs := c.MaxAddrs
	if maxAddrs <= 0 {
		maxAddrs = DefaultMaxAddrs
	}
	// Never grown past its capacity, so the goroutines' pointers stay valid.
	probes := make([]probe, 0, maxAddrs)
	sem := make(chan struct{}, probeParallelism)
	for hi := range r.MX.Hosts {
		h := &r.MX.Hosts[hi]
		for ai := range h.Addresses {
			a := &h.Addresses[ai]
			var p *probe
			if c.SMTP != nil && len(probes) < maxAddrs {
				probes = append(probes, probe{})
				p = &probes[len(probes)-1]
			}
			wg.Go(func() {
				select {
				case sem <- struct{}{}:
				case <-ctx.Done():
					return
				}
				defer func() { <-sem }()
				ip := netip.MustParseAddr(a.IP)
				a.PTR, a.FCrDNS, a.PTRError = c.reverse(ctx, ip)
				if p != nil {
					a.SMTP, p.sess = c.smtpCheck(ctx, h.Name, ip)
				}
			})
		}
	}
	return probes
}

// reverse returns the PTR names of ip and whether one resolves back to ip, or why the
// PTR lookup failed.
func (c *Checker) reverse(ctx context.Context, ip netip.Addr) (names []string, confirmed bool, lookupErr string) {
	ptr, err := c.DNS.LookupPTR(ctx, ip)
	if err != nil {
		return []string{}, false, err.Error()
	}
	names = append([]string{}, ptr.Values...)
	for _, n := range names {
		if c.resolvesTo(ctx, n, ip) {
			return names, true, ""
		}
	}
	return names, false, ""
}

// resolvesTo reports whether name has an A or AAAA record equal to ip.
func (c *Checker) resolvesTo(ctx context.Context, name string, ip netip.Addr) bool {
	lookup := c.DNS.LookupA
	if ip.Is6() && !ip.Is4In6() {
		lookup = c.DNS.LookupAAAA
	}
	recs, err := lookup(ctx, name)
	if err != nil {
		return false
	}
	for _, v := range recs.Values {
		if a, err := netip.ParseAddr(v); err == nil && a == ip.Unmap() {
			return true
		}
	}
	return false
}

// smtpCheck opens a session with one exchanger address and records what it said. The
// session, if it opened, is returned for the catch-all probe; the caller quits it.
func (c *Checker) smtpCheck(ctx context.Context, host string, ip netip.Addr) (*SMTPCheck, *smtpprobe.Session) {
	chk := &SMTPCheck{Extensions: map[string]bool{}}
	s, err := c.SMTP.Open(ctx, host, ip)
	if err != nil {
		var pe *smtpprobe.Error
		if errors.As(err, &pe) {
			chk.Reachable = pe.Step != smtpprobe.StepConnect
			if pe.Step == smtpprobe.StepBanner && pe.Reply != nil {
				chk.Banner = pe.Reply.String()
			}
		}
		chk.Error = err.Error()
		return chk, nil
	}
	chk.Reachable = true
	chk.Banner = s.Banner().String()
	for _, e := range extensionNames {
		chk.Extensions[e], _ = s.Extension(e)
	}
	offered := chk.Extensions["STARTTLS"]
	switch {
	case s.TLS():
		chk.STARTTLS = "ok"
		chk.Extensions["STARTTLS"] = true // the EHLO after TLS no longer offers it
		st, _ := s.ConnectionState()
		chk.TLSVersion = tls.VersionName(st.Version)
		chk.CertValid = s.TLSVerified()
	case s.TLSError() != nil:
		chk.STARTTLS = "failed"
		chk.TLSError = s.TLSError().Error()
	case offered:
		chk.STARTTLS = "refused"
	default:
		chk.STARTTLS = "not_offered"
	}
	return chk, s
}

// finishProbes runs the catch-all probe on the first open session (preference order),
// quits every session and adds the port-25 problems.
func (c *Checker) finishProbes(ctx context.Context, r *Report, domain string, probes []probe) {
	if c.SMTP == nil {
		return
	}
	r.CatchAll = CatchAll{Result: "inconclusive"}
	done := false
	for _, p := range probes {
		if p.sess == nil {
			continue
		}
		if !done {
			done = true
			r.CatchAll = c.catchAll(ctx, p.sess, domain)
		}
		p.sess.Quit()
	}
	if !done {
		r.CatchAll.Reply = "no exchanger could be reached"
	}
	if r.CatchAll.Result == "yes" {
		r.add(SeverityInfo, "catch_all", r.Domain+" accepts mail for any local part (catch-all): addresses there cannot be verified", "reject unknown recipients at RCPT time to avoid backscatter and spam to made-up addresses")
	}
	c.smtpProblems(r, len(probes))
}

// catchAll asks s whether it accepts a random local part of domain.
func (c *Checker) catchAll(ctx context.Context, s *smtpprobe.Session, domain string) CatchAll {
	res := CatchAll{Result: "inconclusive", MX: s.Host()}
	mr, err := s.Mail(ctx, false)
	if err != nil {
		res.Reply = err.Error()
		return res
	}
	if !mr.Positive() {
		res.Reply = "MAIL FROM: " + mr.String()
		return res
	}
	local := c.randomLocal()
	rr, err := s.Rcpt(ctx, local+"@"+domain)
	if err != nil {
		res.Reply = err.Error()
		return res
	}
	res.Reply = strings.ReplaceAll(rr.String(), local, "RANDOM")
	switch verify.ClassifyReply(smtpprobe.StepRCPT, rr) {
	case verify.ReasonAccepted:
		res.Result = "yes"
	case verify.ReasonMailboxNotFound, verify.ReasonMailboxDisabled:
		res.Result = "no"
	}
	s.Reset(ctx)
	return res
}

func (c *Checker) randomLocal() string {
	if c.RandomLocal != nil {
		return c.RandomLocal()
	}
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}
