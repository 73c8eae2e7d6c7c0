package main

import (
	"context"
	"crypto/x509"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/everify/everify/diag"
	"github.com/everify/everify/internal/fakes"
)

// mailWorld is a fake internet for the domain and doctor commands: ok.zz has nothing
// to fix; nospf.zz lacks SPF and DMARC; gmail.com, outlook.com and yahoo.com exist.
type mailWorld struct {
	dns   *fakes.DNS
	farm  *fakes.MXFarm
	roots *x509.CertPool
}

func newMailWorld(t *testing.T) *mailWorld {
	w := &mailWorld{dns: fakes.NewDNS(t), farm: fakes.NewMXFarm(t), roots: x509.NewCertPool()}
	d := w.dns
	for i, host := range []string{"mx1.ok.zz", "mx2.ok.zz"} {
		ip := "127.0.0." + strconv.Itoa(i+2)
		cfg := fakes.TLSConfig(t, host)
		w.roots.AddCert(cfg.Certificates[0].Leaf)
		d.MX("ok.zz", uint16(10*(i+1)), host)
		d.A(host, ip)
		d.PTR(ip, host)
		w.farm.Host(ip, fakes.Config{TLS: cfg, Hostname: host})
	}
	d.TXT("ok.zz", "v=spf1 mx -all")
	d.TXT("_dmarc.ok.zz", "v=DMARC1; p=reject; rua=mailto:dmarc@ok.zz")
	d.TXT("_smtp._tls.ok.zz", "v=TLSRPTv1; rua=mailto:tls@ok.zz")
	d.TXT("default._bimi.ok.zz", "v=BIMI1; l=https://ok.zz/logo.svg")
	d.MX("nospf.zz", 10, "mx1.ok.zz")
	for _, dom := range []string{"gmail.com", "outlook.com", "yahoo.com"} {
		d.MX(dom, 10, "mx1.ok.zz")
	}
	d.A("prober.ok.zz", "127.0.0.1")
	d.PTR("127.0.0.1", "prober.ok.zz")
	return w
}

func (w *mailWorld) args(cmd string) []string {
	return []string{cmd, "--resolver", w.dns.Addr(), "--smtp-port", strconv.Itoa(w.farm.Port),
		"--smtp-timeout", "2s", "--dns-timeout", "2s", "--helo", "prober.ok.zz", "--dnsbl", "zen.spamhaus.org"}
}

// runDomainCmd runs `everify domain args` with the world's certificates trusted.
func (w *mailWorld) runDomainCmd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	ios, out, errOut := testStreams("")
	cmd := newDomainCmd(ios, func(ctx context.Context, o *DomainOptions) error {
		build := o.Checker
		o.Checker = func() (*diag.Checker, error) {
			c, err := build()
			if err == nil && c.SMTP != nil {
				c.SMTP.TLSConfig.RootCAs = w.roots
				c.RandomLocal = func() string { return "x7q2k9" }
			}
			return c, err
		}
		return runDomain(ctx, o)
	})
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	cmd.SetArgs(append(w.args("domain")[1:], args...))
	cmd.SetOut(out)
	cmd.SetErr(errOut)
	err := cmd.ExecuteContext(context.Background())
	return exitCode(context.Background(), err, ios, "everify domain"), out.String(), errOut.String()
}

func TestDomainCommand(t *testing.T) {
	w := newMailWorld(t)
	tests := []struct {
		name   string
		args   []string
		code   int
		golden string
	}{
		{"healthy text", []string{"--format", "text", "ok.zz"}, 0, "domain-ok.text"},
		{"healthy json", []string{"--format", "json", "ok.zz"}, 0, "domain-ok.json"},
		{"warnings ndjson", []string{"--format", "ndjson", "nospf.zz"}, 3, "domain-nospf.ndjson"},
		{"warnings text", []string{"--format", "text", "--no-smtp", "nospf.zz"}, 3, "domain-nospf-nosmtp.text"},
		{"cannot receive", []string{"--format", "text", "ok.zz", "missing.zz"}, 2, "domain-missing.text"},
		{"cannot receive json", []string{"--format", "json", "--no-smtp", "missing.zz"}, 2, "domain-missing.json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := w.runDomainCmd(t, tt.args...)
			if code != tt.code {
				t.Errorf("exit code = %d, want %d; stderr %s", code, tt.code, errOut)
			}
			golden(t, tt.golden, out)
		})
	}
}

func TestDomainCommandFlags(t *testing.T) {
	ios, _, errOut := testStreams("")
	if code := run(context.Background(), []string{"domain", "--format", "csv", "ok.zz"}, ios); code != exitError || !strings.Contains(errOut.String(), "invalid --format") {
		t.Errorf("--format csv: exit %d, stderr %q", code, errOut)
	}
	var got *DomainOptions
	cmd := newDomainCmd(ios, func(_ context.Context, o *DomainOptions) error { got = o; return nil })
	cmd.SetArgs([]string{"--dnsbl", "a.zz,b.zz", "--no-smtp", "x.zz", "y.zz"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if strings.Join(got.DNSBL, " ") != "a.zz b.zz" || !got.Probe.NoSMTP || len(got.Domains) != 2 || got.Format != formatNDJSON {
		t.Errorf("options = %+v", got)
	}
}

var portRE = regexp.MustCompile(`:\d{2,5}\b`)

func TestDoctorCommand(t *testing.T) {
	w := newMailWorld(t)
	tests := []struct {
		name   string
		args   []string
		setup  func()
		code   int
		golden string
	}{
		{"can probe", []string{"--egress-ip", "127.0.0.1"}, nil, 0, "doctor-ok.text"},
		{"json", []string{"--format", "json", "--egress-ip", "127.0.0.1"}, nil, 0, "doctor-ok.json"},
		{"behind NAT", nil, nil, 0, "doctor-nat.text"},
		{"port 25 refused", []string{"--mx", "127.0.0.250"}, nil, 2, "doctor-blocked.text"},
		{"lying resolver", []string{"--mx", "mx1.ok.zz", "--egress-ip", "127.0.0.1"}, func() { w.dns.Rcode("yahoo.com", 3) }, 2, "doctor-lying.text"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.setup != nil {
				tt.setup()
			}
			ios, out, errOut := testStreams("")
			code := run(context.Background(), append(w.args("doctor"), tt.args...), ios)
			if code != tt.code {
				t.Errorf("exit code = %d, want %d; stderr %s", code, tt.code, errOut)
			}
			golden(t, tt.golden, portRE.ReplaceAllString(out.String(), ":PORT"))
		})
	}
}

// TestLyingResolverWarning: check and bulk warn once when the resolver says a popular
// domain does not exist, and not for an unknown one.
func TestLyingResolverWarning(t *testing.T) {
	d := fakes.NewDNS(t) // knows nothing: gmail.com and outlook.com are NXDOMAIN
	const warning = "the resolver says gmail.com does not exist: it filters or is broken, and these results cannot be trusted"
	for _, tt := range []struct {
		name  string
		args  []string
		in    string
		warns int
	}{
		{"check", []string{"check", "a@gmail.com", "b@gmail.com", "c@outlook.com"}, "", 1},
		{"bulk", []string{"bulk", "-"}, "a@gmail.com\nb@gmail.com\nc@outlook.com\n", 1},
		{"unknown domain", []string{"check", "a@nowhere.zz"}, "", 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ios, _, errOut := testStreams(tt.in)
			args := append(tt.args, "--no-smtp", "--resolver", d.Addr())
			if code := run(context.Background(), args, ios); code == exitError {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			if got := strings.Count(errOut.String(), "the resolver says"); got != tt.warns {
				t.Errorf("%d warnings, want %d; stderr:\n%s", got, tt.warns, errOut)
			}
			if tt.warns > 0 && !strings.Contains(errOut.String(), warning) {
				t.Errorf("stderr = %q, want %q", errOut, warning)
			}
		})
	}
}
