package diag

import (
	"crypto/tls"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/everify/everify/internal/fakes"
)

func codes(r *Report) []string {
	var out []string
	for _, p := range r.Problems {
		out = append(out, string(p.Severity)+":"+p.Code)
	}
	return out
}

func TestDomainHealthy(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	r := w.run("good.zz")
	if r.Health() != "" {
		t.Fatalf("Health = %q, want healthy; problems %v", r.Health(), r.Problems)
	}
	if len(r.Problems) != 0 {
		t.Errorf("problems = %v, want none", codes(r))
	}
	if len(r.MX.Hosts) != 2 || r.MX.Hosts[0].Name != "mx1.good.zz" || r.MX.Hosts[0].Pref != 10 || !r.MX.BackupMX {
		t.Errorf("MX = %+v", r.MX)
	}
	a := r.MX.Hosts[0].Addresses[0]
	if a.IP != "127.0.0.2" || !a.FCrDNS || len(a.PTR) != 1 || a.PTR[0] != "mx1.good.zz" {
		t.Errorf("address = %+v", a)
	}
	s := a.SMTP
	if s == nil || !s.Reachable || s.STARTTLS != "ok" || !s.CertValid || s.TLSVersion != "TLS 1.3" || !s.Extensions["PIPELINING"] || !s.Extensions["STARTTLS"] || !strings.HasPrefix(s.Banner, "220 ") {
		t.Errorf("smtp = %+v", s)
	}
	if r.SPF.Lookups != 1 || r.SPF.All != "-" || r.SPF.Result != "fail" {
		t.Errorf("SPF = %+v", r.SPF)
	}
	if r.DMARC.Policy != "reject" || r.DMARC.Percent != 100 || r.DMARC.Source != "_dmarc.good.zz" || len(r.DMARC.RUA) != 1 {
		t.Errorf("DMARC = %+v", r.DMARC)
	}
	if r.MTASTS.Mode != "enforce" || !r.MTASTS.MXMatch || r.MTASTS.ID != "20240101" || r.MTASTS.MaxAge != 86400 {
		t.Errorf("MTA-STS = %+v", r.MTASTS)
	}
	if r.TLSRPT.Record == "" || r.BIMI.Record == "" {
		t.Errorf("TLS-RPT %+v, BIMI %+v", r.TLSRPT, r.BIMI)
	}
	if len(r.DNSBL) != 2 || r.DNSBL[0].Listed || r.DNSBL[0].Error != "" {
		t.Errorf("DNSBL = %+v", r.DNSBL)
	}
	if r.CatchAll.Result != "no" || r.CatchAll.MX != "mx1.good.zz" || !strings.Contains(r.CatchAll.Reply, "RANDOM@good.zz") {
		t.Errorf("catch-all = %+v", r.CatchAll)
	}
}

// TestDomainFindings breaks one thing of good.zz per case and wants its finding.
func TestDomainFindings(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		domain string // default good.zz
		setup  func(w *world)
		want   string // severity:code
		health Severity
		check  func(t *testing.T, r *Report)
	}{
		{name: "nxdomain", domain: "missing.zz", want: "error:no_such_domain", health: SeverityError},
		{name: "invalid name", domain: "not a domain", want: "error:invalid_domain", health: SeverityError},
		{name: "null mx", domain: "null.zz", setup: func(w *world) { w.dns.MX("null.zz", 0, ".") }, want: "error:null_mx", health: SeverityError},
		{name: "no mail server", domain: "nohost.zz", setup: func(w *world) { w.dns.MX("nohost.zz", 10, "mx.nowhere.zz") }, want: "error:no_mail_server", health: SeverityError},
		{name: "mx servfail", domain: "broken.zz", setup: func(w *world) { w.dns.Rcode("broken.zz", dns.RcodeServerFailure) }, want: "warning:mx_lookup_failed", health: SeverityWarning},
		{name: "implicit mx", domain: "implicit.zz", setup: func(w *world) { w.dns.A("implicit.zz", "127.0.0.2") }, want: "warning:implicit_mx", health: SeverityWarning,
			check: func(t *testing.T, r *Report) {
				if !r.MX.ImplicitMX || r.MX.Hosts[0].Name != "implicit.zz" {
					t.Errorf("MX = %+v", r.MX)
				}
			}},
		{name: "unresolved mx host", setup: func(w *world) { w.dns.MX("good.zz", 30, "mx3.nowhere.zz") }, want: "warning:mx_host_unresolved", health: SeverityWarning},
		{name: "single mx", domain: "one.zz", setup: func(w *world) {
			w.dns.MX("one.zz", 10, "mx1.good.zz")
			w.dns.TXT("one.zz", "v=spf1 -all")
			w.dns.TXT("_dmarc.one.zz", "v=DMARC1; p=reject; rua=mailto:d@one.zz")
		}, want: "info:no_backup_mx"},
		{name: "no starttls", setup: func(w *world) {
			w.dns.MX("good.zz", 30, "mx3.good.zz")
			w.dns.A("mx3.good.zz", "127.0.0.4")
			w.dns.PTR("127.0.0.4", "mx3.good.zz")
			w.farm.Host("127.0.0.4", fakes.Config{Hostname: "mx3.good.zz"})
		}, want: "warning:starttls_missing", health: SeverityWarning},
		{name: "certificate for another name", setup: func(w *world) {
			w.dns.MX("good.zz", 30, "mx3.good.zz")
			w.mx("mx3.good.zz", "127.0.0.4", fakes.Config{TLS: fakes.TLSConfig(w.t, "other.zz")})
		}, want: "warning:certificate_invalid", health: SeverityWarning},
		{name: "outdated tls", setup: func(w *world) {
			w.dns.MX("good.zz", 30, "mx3.good.zz")
			cfg := fakes.TLSConfig(w.t, "mx3.good.zz")
			cfg.MinVersion, cfg.MaxVersion = tls.VersionTLS10, tls.VersionTLS11
			w.mx("mx3.good.zz", "127.0.0.4", fakes.Config{TLS: cfg})
		}, want: "warning:tls_outdated", health: SeverityWarning},
		{name: "tls handshake fails", setup: func(w *world) {
			w.dns.MX("good.zz", 30, "mx3.good.zz")
			cfg := fakes.TLSConfig(w.t, "mx3.good.zz")
			cfg.MaxVersion = tls.VersionTLS10
			cfg.CipherSuites = []uint16{tls.TLS_RSA_WITH_RC4_128_SHA} // nothing the client offers
			w.mx("mx3.good.zz", "127.0.0.4", fakes.Config{TLS: cfg})
		}, want: "warning:starttls_failed", health: SeverityWarning},
		{name: "no ptr", setup: func(w *world) {
			w.dns.MX("good.zz", 30, "mx3.good.zz")
			w.dns.A("mx3.good.zz", "127.0.0.4")
			cfg := fakes.TLSConfig(w.t, "mx3.good.zz")
			w.roots.AddCert(cfg.Certificates[0].Leaf)
			w.farm.Host("127.0.0.4", fakes.Config{TLS: cfg})
		}, want: "warning:mx_no_ptr", health: SeverityWarning},
		{name: "ptr not forward-confirmed", setup: func(w *world) {
			w.dns.MX("good.zz", 30, "mx3.good.zz")
			w.dns.A("mx3.good.zz", "127.0.0.4")
			w.dns.PTR("127.0.0.4", "host-4.isp.zz")
			cfg := fakes.TLSConfig(w.t, "mx3.good.zz")
			w.roots.AddCert(cfg.Certificates[0].Leaf)
			w.farm.Host("127.0.0.4", fakes.Config{TLS: cfg})
		}, want: "warning:mx_ptr_not_confirmed", health: SeverityWarning},
		{name: "backup mx unreachable", setup: func(w *world) {
			w.dns.MX("good.zz", 30, "mx3.good.zz")
			w.dns.A("mx3.good.zz", "127.0.0.250")
			w.dns.PTR("127.0.0.250", "mx3.good.zz")
		}, want: "warning:mx_unreachable", health: SeverityWarning},
		{name: "every mx unreachable", domain: "down.zz", setup: func(w *world) {
			w.dns.MX("down.zz", 10, "mx.down.zz")
			w.dns.A("mx.down.zz", "127.0.0.250")
		}, want: "warning:smtp_unreachable", health: SeverityWarning,
			check: func(t *testing.T, r *Report) {
				if r.CatchAll.Result != "inconclusive" {
					t.Errorf("catch-all = %+v, want inconclusive", r.CatchAll)
				}
			}},
		{name: "session refused", setup: func(w *world) {
			w.dns.MX("good.zz", 30, "mx3.good.zz")
			w.mx("mx3.good.zz", "127.0.0.4", fakes.Config{Banner: &fakes.Reply{Code: 554, Enhanced: "5.7.1", Message: "Client host blocked using zen.spamhaus.org"}})
		}, want: "warning:mx_refused_session", health: SeverityWarning},
		{name: "catch-all", domain: "ca.zz", setup: func(w *world) {
			w.dns.MX("ca.zz", 10, "mx.ca.zz")
			w.mx("mx.ca.zz", "127.0.0.4", fakes.Config{CatchAll: []string{"ca.zz"}})
			w.dns.TXT("ca.zz", "v=spf1 -all")
			w.dns.TXT("_dmarc.ca.zz", "v=DMARC1; p=reject; rua=mailto:d@ca.zz")
		}, want: "info:catch_all",
			check: func(t *testing.T, r *Report) {
				if r.CatchAll.Result != "yes" {
					t.Errorf("catch-all = %+v, want yes", r.CatchAll)
				}
			}},
		{name: "spf missing", domain: "nospf.zz", setup: func(w *world) { w.dns.MX("nospf.zz", 10, "mx1.good.zz") }, want: "warning:spf_missing", health: SeverityWarning},
		{name: "spf twice", setup: func(w *world) { w.dns.TXT("good.zz", "v=spf1 a -all") }, want: "warning:spf_multiple_records", health: SeverityWarning},
		{name: "spf syntax", domain: "s.zz", setup: func(w *world) { w.spfDomain("s.zz", "v=spf1 mx foo:bar -all", okDMARC) }, want: "warning:spf_invalid", health: SeverityWarning},
		{name: "spf +all", domain: "s.zz", setup: func(w *world) { w.spfDomain("s.zz", "v=spf1 mx +all", okDMARC) }, want: "warning:spf_pass_all", health: SeverityWarning},
		{name: "spf ?all", domain: "s.zz", setup: func(w *world) { w.spfDomain("s.zz", "v=spf1 mx ?all", okDMARC) }, want: "warning:spf_neutral_all", health: SeverityWarning},
		{name: "spf without all", domain: "s.zz", setup: func(w *world) { w.spfDomain("s.zz", "v=spf1 mx", okDMARC) }, want: "info:spf_no_all"},
		{name: "spf ptr", domain: "s.zz", setup: func(w *world) { w.spfDomain("s.zz", "v=spf1 ptr -all", okDMARC) }, want: "info:spf_ptr"},
		{name: "spf void lookups", domain: "s.zz", setup: func(w *world) { w.spfDomain("s.zz", "v=spf1 a:nx1.zz a:nx2.zz a:nx3.zz -all", okDMARC) }, want: "warning:spf_void_lookups", health: SeverityWarning},
		{name: "spf too many lookups", domain: "s.zz", setup: func(w *world) {
			w.spfDomain("s.zz", "v=spf1 include:_spf.big.zz include:_spf.small.zz mx -all", okDMARC)
			w.dns.TXT("_spf.big.zz", "v=spf1 a:h1.big.zz a:h2.big.zz a:h3.big.zz a:h4.big.zz include:_n.big.zz ~all")
			w.dns.TXT("_n.big.zz", "v=spf1 a:h5.big.zz a:h6.big.zz a:h7.big.zz -all")
			w.dns.TXT("_spf.small.zz", "v=spf1 ip4:192.0.2.0/24 a:h8.big.zz -all")
			for i := 1; i <= 8; i++ {
				w.dns.A("h"+string(rune('0'+i))+".big.zz", "192.0.2.99")
			}
		}, want: "warning:spf_too_many_lookups", health: SeverityWarning,
			check: func(t *testing.T, r *Report) {
				if r.SPF.Lookups != 12 {
					t.Errorf("SPF lookups = %d, want 12", r.SPF.Lookups)
				}
				for _, p := range r.Problems {
					if p.Code == "spf_too_many_lookups" && !strings.Contains(p.Message, "12 DNS lookups (limit 10)") || p.Code == "spf_too_many_lookups" && !strings.HasPrefix(p.Fix, "flatten include:_spf.big.zz (9), include:_spf.small.zz (2)") {
						t.Errorf("problem = %+v", p)
					}
				}
			}},
		{name: "dmarc missing", domain: "s.zz", setup: func(w *world) { w.spfDomain("s.zz", "v=spf1 mx -all", "") }, want: "warning:dmarc_missing", health: SeverityWarning},
		{name: "dmarc invalid", domain: "s.zz", setup: func(w *world) { w.spfDomain("s.zz", "v=spf1 mx -all", "v=DMARC1; p=bogus") }, want: "warning:dmarc_invalid", health: SeverityWarning},
		{name: "dmarc p=none", domain: "s.zz", setup: func(w *world) {
			w.spfDomain("s.zz", "v=spf1 mx -all", "v=DMARC1; p=none; pct=50")
		}, want: "info:dmarc_policy_none",
			check: func(t *testing.T, r *Report) {
				if r.DMARC.Percent != 50 || len(r.DMARC.RUA) != 0 {
					t.Errorf("DMARC = %+v", r.DMARC)
				}
			}},
		{name: "dmarc from the organizational domain", domain: "sub.org.zz", setup: func(w *world) {
			w.spfDomain("sub.org.zz", "v=spf1 -all", "")
			w.dns.TXT("_dmarc.org.zz", "v=DMARC1; p=reject; sp=quarantine; rua=mailto:d@org.zz")
		}, want: "info:mta_sts_missing",
			check: func(t *testing.T, r *Report) {
				if r.DMARC.Source != "_dmarc.org.zz" || r.DMARC.Policy != "quarantine" {
					t.Errorf("DMARC = %+v, want the sp= of _dmarc.org.zz", r.DMARC)
				}
			}},
		{name: "mta-sts policy missing", setup: func(w *world) { w.policy = "" }, want: "warning:mta_sts_policy_unavailable", health: SeverityWarning},
		{name: "mta-sts mx mismatch", setup: func(w *world) { w.policy = "version: STSv1\nmode: enforce\nmx: mx1.good.zz\nmax_age: 86400\n" }, want: "warning:mta_sts_mx_mismatch", health: SeverityWarning},
		{name: "mta-sts testing", setup: func(w *world) { w.policy = strings.Replace(goodPolicy, "enforce", "testing", 1) }, want: "info:mta_sts_testing"},
		{name: "mta-sts bad policy", setup: func(w *world) { w.policy = "version: STSv2\n" }, want: "warning:mta_sts_policy_unavailable", health: SeverityWarning},
		{name: "mta-sts without id", domain: "s.zz", setup: func(w *world) {
			w.spfDomain("s.zz", "v=spf1 mx -all", "v=DMARC1; p=reject; rua=mailto:d@s.zz")
			w.dns.TXT("_mta-sts.s.zz", "v=STSv1;")
		}, want: "warning:mta_sts_invalid", health: SeverityWarning},
		{name: "no tls-rpt", setup: func(w *world) { w.dns.Rcode("_smtp._tls.good.zz", dns.RcodeNameError) }, want: "info:tls_rpt_missing"},
		{name: "no bimi", setup: func(w *world) { w.dns.Rcode("default._bimi.good.zz", dns.RcodeNameError) }, want: "info:bimi_missing"},
		{name: "dnsbl listing", setup: func(w *world) { w.dns.A("2.0.0.127.zen.spamhaus.org", "127.0.0.4") }, want: "warning:dnsbl_listed", health: SeverityWarning,
			check: func(t *testing.T, r *Report) {
				if l := r.DNSBL[0]; !l.Listed || l.Meaning != "Spamhaus XBL: compromised or infected host" || l.Codes[0] != "127.0.0.4" {
					t.Errorf("listing = %+v", l)
				}
			}},
		{name: "dnsbl refuses public resolver", setup: func(w *world) { w.dns.A("2.0.0.127.zen.spamhaus.org", "127.255.255.254") }, want: "info:dnsbl_lookup_failed",
			check: func(t *testing.T, r *Report) {
				if l := r.DNSBL[0]; l.Listed || !strings.Contains(l.Error, "public or open resolvers") {
					t.Errorf("listing = %+v, want a lookup problem, not a listing", l)
				}
			}},
		{name: "dnsbl through a lying resolver", setup: func(w *world) { w.dns.A("2.0.0.127.zen.spamhaus.org", "192.0.2.80") }, want: "info:dnsbl_lookup_failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			if tt.setup != nil {
				tt.setup(w)
			}
			domain := tt.domain
			if domain == "" {
				domain = "good.zz"
			}
			r := w.run(domain)
			found := false
			for _, c := range codes(r) {
				found = found || c == tt.want
			}
			if !found {
				t.Errorf("problems = %v, want %s", codes(r), tt.want)
			}
			if r.Health() != tt.health {
				t.Errorf("Health = %q, want %q (problems %v)", r.Health(), tt.health, codes(r))
			}
			if tt.check != nil {
				tt.check(t, r)
			}
		})
	}
}

const okDMARC = "v=DMARC1; p=reject; rua=mailto:d@s.zz"

// spfDomain makes domain a copy of good.zz's mail routing with the given SPF and
// DMARC records ("" for none).
func (w *world) spfDomain(domain, spf, dmarc string) {
	w.dns.MX(domain, 10, "mx1.good.zz")
	w.dns.MX(domain, 20, "mx2.good.zz")
	w.dns.TXT(domain, spf)
	if dmarc != "" {
		w.dns.TXT("_dmarc."+domain, dmarc)
	}
}
