package diag

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/everify/everify/dnscheck"
	"github.com/everify/everify/internal/fakes"
	"github.com/everify/everify/smtpprobe"
)

// world is a fake internet holding good.zz, a domain with nothing to fix: two MX hosts
// with STARTTLS and valid certificates, forward-confirmed reverse DNS, SPF, DMARC
// p=reject, MTA-STS enforce with its HTTPS policy, TLS-RPT and BIMI. Tests break one
// thing and look for the finding.
type world struct {
	t      *testing.T
	dns    *fakes.DNS
	farm   *fakes.MXFarm
	roots  *x509.CertPool
	policy string // the MTA-STS policy body; "" answers 404
	https  *httptest.Server
}

const goodPolicy = "version: STSv1\nmode: enforce\nmx: *.good.zz\nmax_age: 86400\n"

func newWorld(t *testing.T) *world {
	t.Helper()
	w := &world{t: t, dns: fakes.NewDNS(t), farm: fakes.NewMXFarm(t), roots: x509.NewCertPool(), policy: goodPolicy}
	d := w.dns
	d.MX("good.zz", 10, "mx1.good.zz")
	d.MX("good.zz", 20, "mx2.good.zz")
	w.mx("mx1.good.zz", "127.0.0.2", fakes.Config{})
	w.mx("mx2.good.zz", "127.0.0.3", fakes.Config{})
	d.TXT("good.zz", "v=spf1 mx -all")
	d.TXT("good.zz", "google-site-verification=abc")
	d.TXT("_dmarc.good.zz", "v=DMARC1; p=reject; rua=mailto:dmarc@good.zz")
	d.TXT("_mta-sts.good.zz", "v=STSv1; id=20240101")
	d.TXT("_smtp._tls.good.zz", "v=TLSRPTv1; rua=mailto:tls@good.zz")
	d.TXT("default._bimi.good.zz", "v=BIMI1; l=https://good.zz/logo.svg")

	srvTLS := fakes.TLSConfig(t, "mta-sts.good.zz")
	w.roots.AddCert(srvTLS.Certificates[0].Leaf)
	w.https = httptest.NewUnstartedServer(http.HandlerFunc(func(rw http.ResponseWriter, req *http.Request) {
		if w.policy == "" || req.URL.Path != "/.well-known/mta-sts.txt" {
			http.NotFound(rw, req)
			return
		}
		rw.Header().Set("Content-Type", "text/plain")
		rw.Write([]byte(w.policy))
	}))
	w.https.TLS = &tls.Config{Certificates: srvTLS.Certificates}
	w.https.StartTLS()
	t.Cleanup(w.https.Close)
	d.A("mta-sts.good.zz", "127.0.0.1")
	return w
}

// mx starts an exchanger for host at ip with STARTTLS (a certificate for host unless
// cfg.TLS is set) and forward-confirmed reverse DNS.
func (w *world) mx(host, ip string, cfg fakes.Config) *fakes.Server {
	w.t.Helper()
	if cfg.TLS == nil {
		cfg.TLS = fakes.TLSConfig(w.t, host)
	}
	w.roots.AddCert(cfg.TLS.Certificates[0].Leaf)
	if cfg.Hostname == "" {
		cfg.Hostname = host
	}
	w.dns.A(host, ip)
	w.dns.PTR(ip, host)
	return w.farm.Host(ip, cfg)
}

// checker returns a Checker for the world; call it after the last MX is added.
func (w *world) checker() *Checker {
	_, port, _ := net.SplitHostPort(w.https.Listener.Addr().String())
	p, _ := strconv.Atoi(port)
	return &Checker{
		DNS: &dnscheck.Resolver{Servers: []string{w.dns.Addr()}, Timeout: 2 * time.Second, Attempts: 1},
		SMTP: &smtpprobe.Prober{Port: w.farm.Port, HELO: "prober.everify.zz", From: "verify@prober.everify.zz",
			Timeout:   2 * time.Second,
			TLSConfig: &tls.Config{InsecureSkipVerify: true, RootCAs: w.roots, MinVersion: tls.VersionTLS10}},
		DNSBLZones:  []string{"zen.spamhaus.org"},
		HTTPSPort:   p,
		RootCAs:     w.roots,
		RandomLocal: func() string { return "x7q2k9" },
	}
}

func (w *world) run(domain string) *Report {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	r, err := w.checker().Domain(ctx, domain)
	if err != nil {
		w.t.Fatalf("Domain(%q): %v", domain, err)
	}
	return r
}
