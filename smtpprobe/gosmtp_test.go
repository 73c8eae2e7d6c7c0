package smtpprobe

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"log"
	"math/big"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// mx is a well-behaved fake MX: a go-smtp server whose RCPT answers come from a table
// (a missing address is accepted) and whose DATA fails the test.
type mx struct {
	t     *testing.T
	rcpts map[string]*smtp.SMTPError
	mu    sync.Mutex
	log   []string // "MAIL from utf8", "RCPT to", "RSET"
	srv   *smtp.Server
	port  int
}

func startMX(t *testing.T, rcpts map[string]*smtp.SMTPError, configure func(*smtp.Server)) *mx {
	t.Helper()
	m := &mx{t: t, rcpts: rcpts}
	srv := smtp.NewServer(m)
	srv.Domain = "mx.test"
	srv.ReadTimeout = 10 * time.Second
	srv.WriteTimeout = 10 * time.Second
	srv.ErrorLog = log.New(io.Discard, "", 0)
	if configure != nil {
		configure(srv)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	m.srv, m.port = srv, ln.Addr().(*net.TCPAddr).Port
	done := make(chan struct{})
	go func() { defer close(done); srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close(); <-done })
	return m
}

func (m *mx) NewSession(*smtp.Conn) (smtp.Session, error) { return &mxSession{m: m}, nil }

func (m *mx) record(s string) {
	m.mu.Lock()
	m.log = append(m.log, s)
	m.mu.Unlock()
}

func (m *mx) events() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return strings.Join(m.log, "|")
}

type mxSession struct{ m *mx }

func (s *mxSession) Mail(from string, opts *smtp.MailOptions) error {
	e := "MAIL " + from
	if opts != nil && opts.UTF8 {
		e += " SMTPUTF8"
	}
	s.m.record(e)
	return nil
}

func (s *mxSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.m.record("RCPT " + to)
	if e, ok := s.m.rcpts[to]; ok {
		return e
	}
	return nil
}

func (s *mxSession) Data(io.Reader) error {
	s.m.t.Error("DATA sent")
	return errors.New("no")
}

func (s *mxSession) Reset()        { s.m.record("RSET") }
func (s *mxSession) Logout() error { return nil }

var mxTable = map[string]*smtp.SMTPError{
	"nobody@example.com": {Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "User unknown"},
	"full@example.com":   {Code: 452, EnhancedCode: smtp.EnhancedCode{4, 2, 2}, Message: "Mailbox full"},
	"gone@example.com":   {Code: 550, EnhancedCode: smtp.EnhancedCode{5, 2, 1}, Message: "Account disabled\nsince 2020"},
}

func TestGoSMTPSession(t *testing.T) {
	m := startMX(t, mxTable, nil)
	ctx := t.Context()
	s, err := testProber(m.port).Open(ctx, "mx.test", loopback)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Banner().Code != 220 || s.TLS() || s.Host() != "mx.test" {
		t.Errorf("banner %+v TLS %v host %q", s.Banner(), s.TLS(), s.Host())
	}
	if ok, _ := s.Extension("PIPELINING"); !ok {
		t.Fatal("go-smtp did not offer PIPELINING")
	}
	if r, err := s.Mail(ctx, false); err != nil || r.Code != 250 {
		t.Fatalf("Mail = %v, %v", r, err)
	}
	rcpts := []struct {
		addr string
		want Reply
	}{
		{"jane@example.com", Reply{250, "2.0.0", "I'll make sure <jane@example.com> gets this"}},
		{"nobody@example.com", Reply{550, "5.1.1", "User unknown"}},
		{"gone@example.com", Reply{550, "5.2.1", "Account disabled since 2020"}},
	}
	for _, tt := range rcpts {
		if r, err := s.Rcpt(ctx, tt.addr); err != nil || r != tt.want {
			t.Errorf("Rcpt(%q) = %+v, %v, want %+v", tt.addr, r, err, tt.want)
		}
	}
	before := s.RoundTrips()
	got, err := s.RcptBatch(ctx, []string{"a@example.com", "nobody@example.com", "full@example.com", "b@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	codes := []int{}
	for _, r := range got {
		codes = append(codes, r.Code)
	}
	if len(codes) != 4 || codes[0] != 250 || codes[1] != 550 || codes[2] != 452 || codes[3] != 250 || got[2].Enhanced != "4.2.2" {
		t.Errorf("RcptBatch = %+v", got)
	}
	if n := s.RoundTrips() - before; n != 1 {
		t.Errorf("RcptBatch took %d round trips, want 1", n)
	}
	if r, err := s.Reset(ctx); err != nil || r.Code != 250 {
		t.Errorf("Reset = %v, %v", r, err)
	}
	if r, err := s.Mail(ctx, false); err != nil || r.Code != 250 {
		t.Errorf("second Mail = %v, %v", r, err)
	}
	if r, err := s.Rcpt(ctx, "c@example.com"); err != nil || r.Code != 250 {
		t.Errorf("Rcpt after RSET = %v, %v", r, err)
	}
	if err := s.Quit(); err != nil {
		t.Errorf("Quit: %v", err)
	}
	want := "MAIL verify@probe.test|RCPT jane@example.com|RCPT nobody@example.com|RCPT gone@example.com|" +
		"RCPT a@example.com|RCPT nobody@example.com|RCPT full@example.com|RCPT b@example.com|RSET|" +
		"MAIL verify@probe.test|RCPT c@example.com"
	if ev := m.events(); !strings.HasPrefix(ev, want) {
		t.Errorf("server saw %q, want %q", ev, want)
	}
}

func TestGoSMTPUTF8(t *testing.T) {
	tests := []struct {
		name    string
		enable  bool
		wantErr error
		wantLog string
	}{
		{"offered", true, nil, "MAIL verify@probe.test SMTPUTF8|RCPT jörg@example.com"},
		{"not offered", false, ErrSMTPUTF8Unsupported, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := startMX(t, nil, func(s *smtp.Server) { s.EnableSMTPUTF8 = tt.enable })
			s, err := testProber(m.port).Open(t.Context(), "mx.test", loopback)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if s.SMTPUTF8() != tt.enable {
				t.Errorf("SMTPUTF8() = %v", s.SMTPUTF8())
			}
			_, err = s.Mail(t.Context(), true)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("Mail error %v, want %v", err, tt.wantErr)
			}
			if err == nil {
				if r, err := s.Rcpt(t.Context(), "jörg@example.com"); err != nil || r.Code != 250 {
					t.Errorf("Rcpt = %v, %v", r, err)
				}
			}
			s.Quit()
			if ev := m.events(); !strings.HasPrefix(ev, tt.wantLog) || (tt.wantLog == "" && ev != "") {
				t.Errorf("server saw %q, want %q", ev, tt.wantLog)
			}
		})
	}
}

// selfSigned returns a certificate for mx.test and 127.0.0.1 and a pool trusting it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "mx.test"},
		DNSNames:              []string{"mx.test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}, pool
}

func TestGoSMTPSTARTTLS(t *testing.T) {
	cert, pool := selfSigned(t)
	tests := []struct {
		name         string
		host         string
		conf         *tls.Config
		noTLS        bool
		wantTLS      bool
		wantVerified bool
		wantFallback bool
	}{
		{"opportunistic, self-signed", "mx.test", nil, false, true, false, false},
		{"opportunistic, trusted insecure config", "mx.test", &tls.Config{RootCAs: pool, InsecureSkipVerify: true}, false, true, true, false},
		{"verifying config, trusted", "mx.test", &tls.Config{RootCAs: pool}, false, true, true, false},
		{"verifying config, wrong name: plain-text fallback", "other.test", &tls.Config{RootCAs: pool}, false, false, false, true},
		{"NoTLS", "mx.test", nil, true, false, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := startMX(t, mxTable, func(s *smtp.Server) {
				s.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}}
			})
			p := testProber(m.port)
			p.TLSConfig, p.NoTLS = tt.conf, tt.noTLS
			s, err := p.Open(t.Context(), tt.host, loopback)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if s.TLS() != tt.wantTLS || s.TLSVerified() != tt.wantVerified || (s.TLSError() != nil) != tt.wantFallback {
				t.Errorf("TLS %v verified %v fallback %v, want %v %v %v",
					s.TLS(), s.TLSVerified(), s.TLSError(), tt.wantTLS, tt.wantVerified, tt.wantFallback)
			}
			if st, ok := s.ConnectionState(); ok != tt.wantTLS || (ok && st.ServerName != tt.host) {
				t.Errorf("ConnectionState = %v, %v", st.ServerName, ok)
			}
			// The second EHLO's extensions replace the first's.
			if ok, _ := s.Extension("STARTTLS"); ok == tt.wantTLS {
				t.Errorf("STARTTLS offered = %v with TLS %v", ok, tt.wantTLS)
			}
			s.Mail(t.Context(), false)
			if r, err := s.Rcpt(t.Context(), "nobody@example.com"); err != nil || r.Code != 550 {
				t.Errorf("Rcpt over TLS = %v, %v", r, err)
			}
			if err := s.Quit(); err != nil {
				t.Errorf("Quit: %v", err)
			}
		})
	}
}

func TestSTARTTLSFailures(t *testing.T) {
	ehloTLS := exch{cmds: []string{"EHLO probe.test"}, reply: "250-mx.test\r\n250-PIPELINING\r\n250 STARTTLS\r\n"}
	garbage := func(c net.Conn) {
		io.WriteString(c, "220 2.0.0 Ready to start TLS\r\n")
		time.Sleep(10 * time.Millisecond)
		io.WriteString(c, "this is not a TLS server hello\r\n")
		hang(c)
	}
	tests := []struct {
		name         string
		first        []exch
		second       []exch // nil: no reconnect
		wantFallback bool
	}{
		{"garbage after 220", script(banner, ehloTLS, exch{cmds: []string{"STARTTLS"}, act: garbage}),
			script(banner, ehloTLS, mailOK, rcpt("jane@example.com", "250 ok\r\n")), true},
		{"plain data in the 220 write", script(banner, ehloTLS,
			exch{cmds: []string{"STARTTLS"}, reply: "220 go ahead\r\n250 injected\r\n"}),
			script(banner, ehloTLS, mailOK, rcpt("jane@example.com", "250 ok\r\n")), true},
		{"454 to STARTTLS", script(banner, ehloTLS, exch{cmds: []string{"STARTTLS"}, reply: "454 4.7.0 TLS not available\r\n"},
			mailOK, rcpt("jane@example.com", "250 ok\r\n")), nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			scripts := [][]exch{tt.first}
			if tt.second != nil {
				scripts = append(scripts, tt.second)
			}
			srv := startScripted(t, scripts...)
			s, err := testProber(srv.port()).Open(t.Context(), "mx.test", loopback)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if s.TLS() || (s.TLSError() != nil) != tt.wantFallback {
				t.Errorf("TLS %v, TLSError %v, want plain text, fallback %v", s.TLS(), s.TLSError(), tt.wantFallback)
			}
			s.Mail(t.Context(), false)
			if r, err := s.Rcpt(t.Context(), "jane@example.com"); err != nil || r.Code != 250 {
				t.Errorf("Rcpt after fallback = %v, %v", r, err)
			}
			s.Quit()
			got := srv.transcript()
			if n := strings.Count(strings.Join(got, "\n"), "STARTTLS"); n != 1 {
				t.Errorf("STARTTLS sent %d times, want 1: %q", n, got)
			}
			if got[len(got)-1] != "QUIT" {
				t.Errorf("transcript %q does not end in QUIT", got)
			}
			checkNoData(t, got)
		})
	}

	// Over a connection it did not dial, a session cannot reconnect.
	srv := startScripted(t, script(banner, ehloTLS, exch{cmds: []string{"STARTTLS"}, act: garbage}))
	conn, err := net.Dial("tcp", srv.ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	_, err = testProber(0).NewSession(t.Context(), conn, "mx.test")
	if e := asError(t, err); e.Step != StepSTARTTLS || e.Timeout() {
		t.Errorf("NewSession error %v, want a starttls handshake error", err)
	}
	if got := srv.transcript(); len(got) != 2 {
		t.Errorf("transcript %q, want EHLO, STARTTLS", got)
	}
}
