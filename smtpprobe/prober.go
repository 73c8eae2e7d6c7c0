package smtpprobe

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/everify/everify/internal/defaults"
)

// Prober opens probe sessions. The zero value is usable once HELO is set. A Prober is
// safe for concurrent use as long as its fields are not changed.
type Prober struct {
	// Port is the server's TCP port; 0 means 25.
	Port int
	// HELO is the name sent with EHLO (and HELO): the host's own FQDN. Required.
	HELO string
	// From is the MAIL FROM address; "" means the null reverse-path <>.
	From string
	// Timeout bounds each command, from writing it to the end of its reply, as well as
	// the connect and the TLS handshake; 0 means 15 s. A context deadline that is earlier
	// wins.
	Timeout time.Duration
	// Dial opens the TCP connection (a SOCKS5 dialer from [SOCKS5Dialer], a fake in
	// tests); nil means a [net.Dialer]. It must honour ctx's deadline.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// TLSConfig configures STARTTLS. nil means opportunistic TLS: certificates are not
	// verified during the handshake (a bad certificate never stops a probe) and
	// [Session.TLSVerified] records whether they would have been. ServerName is set to
	// the MX host when empty.
	TLSConfig *tls.Config
	// NoTLS disables STARTTLS.
	NoTLS bool
	// MaxLineLen bounds a reply line in octets, CRLF included; 0 means 2048 (RFC 5321
	// §4.5.3.1.5 says 512, which real servers exceed).
	MaxLineLen int
	// MaxReplySize bounds one (multi-line) reply in octets; 0 means 64 KiB.
	MaxReplySize int
}

const (
	defaultTimeout = defaults.SMTPTimeout
	maxQuitWait    = 2 * time.Second
)

// Open connects to addr, an address of the MX host named host, and runs the greeting:
// banner, EHLO (HELO if EHLO gets a 5xx), and STARTTLS followed by a second EHLO when the
// server offers it. host names the server in TLS (SNI) and in errors.
//
// If the TLS handshake fails, the connection is unusable; Open closes it and connects
// once more without STARTTLS, so the session works in plain text ([Session.TLS] false,
// [Session.TLSError] the handshake error).
//
// On failure Open returns an [*Error] with the step and, if the server replied, the
// Reply: a 554 banner at [StepBanner], a rejected EHLO and HELO at [StepEHLO], a dial
// error at [StepConnect]. A Prober with no HELO is a plain error.
func (p *Prober) Open(ctx context.Context, host string, addr netip.Addr) (*Session, error) {
	if err := p.check(); err != nil {
		return nil, err
	}
	s := p.newSession(host)
	if !addr.IsValid() {
		return nil, s.errf(StepConnect, nil, errors.New("smtpprobe: invalid IP address"))
	}
	port := p.Port
	if port == 0 {
		port = 25
	}
	s.dialAddr = net.JoinHostPort(addr.Unmap().String(), strconv.Itoa(port))
	if err := s.dial(ctx); err != nil {
		return nil, err
	}
	if err := s.greet(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// NewSession runs the same greeting as [Prober.Open] over conn, which the session then
// owns (it is closed on failure). Since it cannot reconnect, a failed TLS handshake is

// OnConnect returns a copy of p that passes each connection it establishes to f, before
// the greeting is read: for callers that must know when the TCP connection is up, or
// which local address it uses.
func (p *Prober) OnConnect(f func(net.Conn)) *Prober {
	q := *p
	dial := p.Dial
	if dial == nil {
		var d net.Dialer
		dial = d.DialContext
	}
	q.Dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dial(ctx, network, addr)
		if err == nil {
			f(c)
		}
		return c, err
	}
	return &q
}

// an [*Error] at [StepSTARTTLS].
func (p *Prober) NewSession(ctx context.Context, conn net.Conn, host string) (*Session, error) {
	if err := p.check(); err != nil {
		conn.Close()
		return nil, err
	}
	s := p.newSession(host)
	s.setConn(conn)
	if err := s.greet(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func (p *Prober) check() error {
	switch {
	case p.HELO == "":
		return errors.New("smtpprobe: Prober.HELO is empty")
	case strings.ContainsAny(p.HELO, " \t\r\n\x00"):
		return fmt.Errorf("smtpprobe: Prober.HELO %q contains white space or control characters", p.HELO)
	}
	return nil
}

func (p *Prober) newSession(host string) *Session {
	s := &Session{
		host:     host,
		helo:     p.HELO,
		from:     p.From,
		timeout:  p.Timeout,
		maxLine:  p.MaxLineLen,
		maxSize:  p.MaxReplySize,
		dialFn:   p.Dial,
		tlsConf:  p.TLSConfig,
		noTLS:    p.NoTLS,
		extNames: map[string]string{},
	}
	if s.timeout <= 0 {
		s.timeout = defaultTimeout
	}
	if s.maxLine <= 0 {
		s.maxLine = defaultMaxLineLen
	}
	if s.maxSize <= 0 {
		s.maxSize = defaultMaxReplySize
	}
	if s.dialFn == nil {
		var d net.Dialer
		s.dialFn = d.DialContext
	}
	return s
}

// dial connects to s.dialAddr within one command timeout.
func (s *Session) dial(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return s.errf(StepConnect, nil, err)
	}
	dctx, cancel := context.WithDeadline(ctx, s.deadline(ctx))
	defer cancel()
	conn, err := s.dialFn(dctx, "tcp", s.dialAddr)
	if err != nil {
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return s.errf(StepConnect, nil, err)
	}
	s.setConn(conn)
	return nil
}

func (s *Session) setConn(conn net.Conn) {
	s.raw, s.conn = conn, conn
	if s.br == nil {
		s.br = bufio.NewReader(conn)
	} else {
		s.br.Reset(conn)
	}
	s.closed.Store(false)
	s.alive.Store(true)
}

// greet runs banner, EHLO and STARTTLS on a fresh connection.
func (s *Session) greet(ctx context.Context) error {
	if err := s.hello(ctx); err != nil {
		return err
	}
	if s.noTLS {
		return nil
	}
	if ok, _ := s.Extension("STARTTLS"); !ok {
		return nil
	}
	r, err := s.command(ctx, StepSTARTTLS, "STARTTLS")
	if err != nil {
		return err
	}
	if r.Code != 220 {
		return nil // e.g. 454 TLS not available: carry on in plain text
	}
	herr := s.handshake(ctx)
	if herr == nil {
		return s.ehlo(ctx)
	}
	if s.dialAddr == "" || ctx.Err() != nil {
		s.kill()
		return herr
	}
	// The connection is in an unknown TLS state: start again in plain text.
	s.tlsErr = herr
	s.closeRaw()
	s.extNames = map[string]string{}
	if err := s.dial(ctx); err != nil {
		return err
	}
	return s.hello(ctx)
}

// hello reads the banner and runs EHLO.
func (s *Session) hello(ctx context.Context) error {
	r, err := s.banner1(ctx)
	if err != nil {
		return err
	}
	switch {
	case r.Code == 220:
		s.banner = r
	case r.Code/100 == 4 || r.Code/100 == 5:
		s.kill()
		return s.errf(StepBanner, &r, nil)
	default:
		s.kill()
		return s.errf(StepBanner, &r, fmt.Errorf("%w: banner is not 220", ErrProtocol))
	}
	return s.ehlo(ctx)
}

func (s *Session) banner1(ctx context.Context) (Reply, error) {
	stop := context.AfterFunc(ctx, s.abort)
	defer stop()
	s.raw.SetDeadline(s.deadline(ctx))
	s.rt++
	r, err := readReply(s.br, s.maxLine, s.maxSize, nil)
	if err != nil {
		return Reply{}, s.fail(ctx, StepBanner, err)
	}
	if !stop() {
		return Reply{}, s.fail(ctx, StepBanner, ctx.Err())
	}
	return r, nil
}

// ehlo sends EHLO, falling back to HELO on a 5xx, and records the extensions.
func (s *Session) ehlo(ctx context.Context) error {
	var lines []string
	r, err := s.exchange(ctx, StepEHLO, "EHLO "+s.helo, &lines)
	if err != nil {
		return err
	}
	if r.Code == 250 {
		ext := make(map[string]string, len(lines))
		for _, l := range lines[1:] {
			k, v, _ := strings.Cut(l, " ")
			if k != "" {
				ext[strings.ToUpper(k)] = strings.TrimSpace(v)
			}
		}
		s.extNames = ext
		return nil
	}
	if r.Permanent() {
		s.extNames = map[string]string{}
		r, err = s.command(ctx, StepEHLO, "HELO "+s.helo)
		if err != nil {
			return err
		}
		if r.Code == 250 {
			return nil
		}
	}
	s.kill()
	return s.errf(StepEHLO, &r, nil)
}

// handshake upgrades the connection after a 220 to STARTTLS.
func (s *Session) handshake(ctx context.Context) error {
	if s.br.Buffered() > 0 {
		// Plain-text bytes after the 220 would be read as if they came over TLS
		// (response injection); the stream cannot be trusted.
		return s.errf(StepSTARTTLS, nil, fmt.Errorf("%w: data after 220 to STARTTLS", ErrProtocol))
	}
	cfg := s.tlsConf
	verify := false
	if cfg == nil {
		cfg = &tls.Config{InsecureSkipVerify: true}
		verify = true
	} else {
		cfg = cfg.Clone()
		verify = cfg.InsecureSkipVerify
	}
	if cfg.ServerName == "" {
		cfg.ServerName = strings.TrimSuffix(s.host, ".")
	}
	stop := context.AfterFunc(ctx, s.abort)
	defer stop()
	s.raw.SetDeadline(s.deadline(ctx))
	tc := tls.Client(s.raw, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return s.errf(StepSTARTTLS, nil, err)
	}
	state := tc.ConnectionState()
	s.conn, s.tls, s.tlsState = tc, true, state
	s.br.Reset(tc)
	if verify {
		s.tlsVerified = verifyChain(state, cfg.ServerName, cfg.RootCAs)
	} else {
		s.tlsVerified = true // the handshake verified it
	}
	return nil
}

// verifyChain reports whether the peer's chain verifies for name against roots (nil:
// the system pool), the check a validating client would have made.
func verifyChain(state tls.ConnectionState, name string, roots *x509.CertPool) bool {
	certs := state.PeerCertificates
	if len(certs) == 0 || name == "" {
		return false
	}
	opts := x509.VerifyOptions{DNSName: name, Roots: roots, Intermediates: x509.NewCertPool()}
	for _, c := range certs[1:] {
		opts.Intermediates.AddCert(c)
	}
	_, err := certs[0].Verify(opts)
	return err == nil
}
