package fakes

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// smtpTimeout bounds every read and write of a [MXFarm.Host] server, so a
// stuck client cannot hold a session forever (cleanup closes them anyway).
const smtpTimeout = 30 * time.Second

// stopTimeout bounds how long cleanup waits for a server's goroutines.
const stopTimeout = 10 * time.Second

// MXFarm runs fake mail servers on several loopback addresses sharing one TCP
// port, because the prober uses one port for all MX hosts (--smtp-port). Its
// methods must be called from the test goroutine.
//
// Addresses other than 127.0.0.1 need an OS that routes all of 127.0.0.0/8 to
// the loopback interface, as Linux does.
type MXFarm struct {
	// Port is the TCP port every host of the farm listens on. It may change
	// while hosts are added (see [MXFarm.Host]), so read it after the last
	// Host or Scripted call.
	Port int

	t testing.TB

	mu      sync.Mutex
	res     net.Listener // holds 127.0.0.1:Port, so that no other farm picks Port
	resUsed bool         // res is the listener of the 127.0.0.1 host
	servers []*Server
}

// NewMXFarm returns an empty farm whose Port is free on 127.0.0.1. The farm
// keeps 127.0.0.1:Port bound until cleanup (it becomes the listener of a host
// on 127.0.0.1, if one is added), so farms of tests running in parallel never
// share a port. It calls t.Fatal if it cannot listen.
func NewMXFarm(t testing.TB) *MXFarm {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("fakes: MX farm: %v", err)
	}
	f := &MXFarm{Port: ln.Addr().(*net.TCPAddr).Port, t: t, res: ln}
	// Registered first, so it runs after every server's cleanup.
	t.Cleanup(func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		if !f.resUsed {
			f.res.Close()
		}
	})
	return f
}

func (f *MXFarm) port() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.Port
}

// errClosed is returned by session methods once this package has closed the
// connection; go-smtp's attempt to send it fails silently.
var errClosed = &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 4, 2}, Message: "connection closed"}

// Server is one fake mail server of an [MXFarm]. Its counters are safe for
// concurrent use and may be read while clients are connected.
type Server struct {
	farm     *MXFarm
	t        testing.TB
	ip       string
	hostname string
	cfg      Config
	isSMTP   bool // a go-smtp server (Host), not a script
	smtp     *smtp.Server

	mailboxes map[string]bool
	catchAll  map[string]bool
	replies   map[string]Reply

	ln        *listener
	done      chan struct{} // closed at cleanup: cuts sleeps short
	serveDone chan struct{} // closed when the accept loop returned
	wg        sync.WaitGroup

	mu         sync.Mutex
	stopping   bool // cleanup started: new connections are closed at once
	stopped    bool // cleanup done: t must not be used any more
	conns      map[*conn]struct{}
	sessions   int
	maxOpen    int
	refused    int // turned away by Config.ConnLimit
	recipients int
	rejected   int
	roundTrips int
	tooMany    int
	slowed     int // replies delayed by SoftErrorLimit
	data       int // DATA/BDAT commands seen
	seen       map[string]int
	firstSeen  map[string]time.Time // for GreylistDelay
}

// Host starts a well-behaved mail server, a github.com/emersion/go-smtp
// server configured by cfg, at ip:Port, and stops it in t.Cleanup. ip must be
// an IPv4 address in 127.0.0.0/8, used by no other host of the farm.
//
// go-smtp's EHLO reply lists PIPELINING (unless cfg.NoPipelining), 8BITMIME,
// ENHANCEDSTATUSCODES, CHUNKING, STARTTLS (if cfg.TLS), SMTPUTF8 (if
// cfg.SMTPUTF8) and SIZE; no AUTH. CHUNKING cannot be turned off, but BDAT,
// like DATA, makes the server call t.Errorf (once per server), whether or
// not a recipient was accepted: a verifier must never send a message. DATA
// gets 354 then 554 5.5.1 if a recipient was accepted, go-smtp's 502
// otherwise. Accepted recipients get "250 2.0.0 I'll make sure <addr> gets
// this"; RSET "250 2.0.0 Session reset"; QUIT "221 2.0.0 Bye".
//
// If ip:Port is taken by some other program, the farm moves all its hosts to
// a new port free on every one of their addresses and updates Port. Host
// calls t.Fatal on a bad ip or cfg, or if it cannot listen.
func (f *MXFarm) Host(ip string, cfg Config) *Server {
	f.t.Helper()
	if cfg.NoPipelining && cfg.TLS != nil {
		f.t.Fatalf("fakes: MX %s: Config.NoPipelining cannot be combined with Config.TLS", ip)
	}
	s := f.newServer(ip, cfg, true)

	srv := smtp.NewServer(smtp.BackendFunc(s.newSession))
	srv.Domain = s.hostname
	srv.ReadTimeout = smtpTimeout
	srv.WriteTimeout = smtpTimeout
	srv.EnableSMTPUTF8 = cfg.SMTPUTF8
	srv.MaxRecipients = cfg.MaxRecipients
	srv.TLSConfig = cfg.TLS
	srv.ErrorLog = serverLog{s}
	srv.Debug = dataScanner{s}
	s.smtp = srv
	go func() {
		defer close(s.serveDone)
		srv.Serve(s.ln)
	}()
	f.t.Cleanup(s.stop)
	return s
}

// Scripted starts a raw server at ip:Port whose every connection is handled
// by fn, for misbehaviour (no banner, dripping bytes, endless replies,
// garbled lines, disconnects; see [NoBanner] and the other scripts). The
// connection is closed when fn returns, and at cleanup, which waits for fn
// to return: fn must return once reads or writes on c fail. ip is as for
// [MXFarm.Host]. The server counts Sessions, MaxOpen and RoundTrips; its
// other counters stay 0. Unlike a Host server it does not watch for DATA:
// that is up to fn.
func (f *MXFarm) Scripted(ip string, fn func(c net.Conn)) *Server {
	f.t.Helper()
	s := f.newServer(ip, Config{}, false)
	go func() {
		defer close(s.serveDone)
		for {
			c, err := s.ln.Accept()
			if err != nil {
				if errors.Is(err, net.ErrClosed) {
					return
				}
				// Most likely EMFILE under load: wait and retry.
				if !sleep(5*time.Millisecond, s.done, nil) {
					return
				}
				continue
			}
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				defer c.Close()
				fn(c)
			}()
		}
	}()
	f.t.Cleanup(s.stop)
	return s
}

func (f *MXFarm) newServer(ip string, cfg Config, isSMTP bool) *Server {
	f.t.Helper()
	a, err := netip.ParseAddr(ip)
	if err != nil || !a.Is4() || !a.IsLoopback() {
		f.t.Fatalf("fakes: MX host %q: want an IPv4 address in 127.0.0.0/8", ip)
	}
	ip = a.String()
	s := &Server{
		farm:      f,
		t:         f.t,
		ip:        ip,
		hostname:  cfg.Hostname,
		cfg:       cfg,
		isSMTP:    isSMTP,
		mailboxes: make(map[string]bool),
		catchAll:  make(map[string]bool),
		replies:   make(map[string]Reply),
		done:      make(chan struct{}),
		serveDone: make(chan struct{}),
		conns:     make(map[*conn]struct{}),
		seen:      make(map[string]int),
		firstSeen: make(map[string]time.Time),
	}
	if s.hostname == "" {
		s.hostname = "mx-" + strings.ReplaceAll(ip, ".", "-") + ".fakes.test"
	}
	for _, m := range cfg.Mailboxes {
		s.mailboxes[strings.ToLower(m)] = true
	}
	for _, d := range cfg.CatchAll {
		s.catchAll[strings.ToLower(strings.TrimPrefix(d, "@"))] = true
	}
	for addr, r := range cfg.Replies {
		if err := r.check(); err != nil {
			f.t.Fatalf("fakes: MX %s: Replies[%q]: %v", ip, addr, err)
		}
		s.replies[strings.ToLower(addr)] = r
	}
	for name, r := range map[string]*Reply{"Unknown": cfg.Unknown, "Banner": cfg.Banner, "MailReply": cfg.MailReply} {
		if r == nil {
			continue
		}
		if err := r.check(); err != nil {
			f.t.Fatalf("fakes: MX %s: %s: %v", ip, name, err)
		}
	}
	if cfg.SoftErrorLimit > 0 && cfg.ErrorSleep == 0 {
		s.cfg.ErrorSleep = time.Second
	}

	f.mu.Lock()
	defer f.mu.Unlock()
	for _, o := range f.servers {
		if o.ip == ip {
			f.t.Fatalf("fakes: MX farm already has a host on %s", ip)
		}
	}
	l, err := f.listenLocked(ip)
	if err != nil {
		f.t.Fatalf("fakes: MX %s: %v", ip, err)
	}
	s.ln = &listener{s: s, cur: l}
	f.servers = append(f.servers, s)
	return s
}

// listenLocked returns a listener on ip:Port, moving the farm to another port
// if ip:Port is taken; f.mu must be held.
func (f *MXFarm) listenLocked(ip string) (net.Listener, error) {
	if ip == "127.0.0.1" {
		f.resUsed = true
		return f.res, nil
	}
	l, err := net.Listen("tcp", net.JoinHostPort(ip, strconv.Itoa(f.Port)))
	if err == nil || !errors.Is(err, syscall.EADDRINUSE) {
		return l, err
	}
	for range 20 {
		res, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		port := res.Addr().(*net.TCPAddr).Port
		ips := []string{ip}
		for _, s := range f.servers {
			ips = append(ips, s.ip)
		}
		var ls []net.Listener // ls[0] for ip, ls[i+1] for f.servers[i]
		for _, a := range ips {
			if a == "127.0.0.1" {
				ls = append(ls, res)
				continue
			}
			l, err := net.Listen("tcp", net.JoinHostPort(a, strconv.Itoa(port)))
			if err != nil {
				break
			}
			ls = append(ls, l)
		}
		if len(ls) < len(ips) {
			for _, l := range ls {
				if l != res {
					l.Close()
				}
			}
			res.Close()
			continue
		}
		if !f.resUsed {
			f.res.Close() // else the 127.0.0.1 host's swap closes it
		}
		for i, s := range f.servers {
			s.ln.swap(ls[i+1])
		}
		f.res, f.Port = res, port
		return ls[0], nil
	}
	return nil, fmt.Errorf("no port free on all of the farm's addresses: %w", err)
}

// stop closes the server and waits for its goroutines; run by t.Cleanup.
func (s *Server) stop() {
	s.mu.Lock()
	s.stopping = true
	s.mu.Unlock()
	close(s.done)
	s.ln.Close()
	<-s.serveDone // the accept loop returns once the listener is closed
	s.mu.Lock()
	conns := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		c.Close()
	}
	if s.smtp != nil {
		ctx, cancel := context.WithTimeout(context.Background(), stopTimeout)
		// Shutdown waits for go-smtp's connection goroutines; it also
		// reports closing our already closed listener, which is fine.
		if err := s.smtp.Shutdown(ctx); errors.Is(err, context.DeadlineExceeded) {
			s.t.Errorf("fakes: MX %s: sessions did not end within %v of cleanup", s.ip, stopTimeout)
		}
		cancel()
	}
	if !waitTimeout(&s.wg, stopTimeout) {
		s.t.Errorf("fakes: MX %s: scripts did not return within %v of cleanup", s.ip, stopTimeout)
	}
	s.mu.Lock()
	s.stopped = true
	s.mu.Unlock()
}

func waitTimeout(wg *sync.WaitGroup, d time.Duration) bool {
	ch := make(chan struct{})
	go func() {
		wg.Wait()
		close(ch)
	}()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ch:
		return true
	case <-t.C:
		return false
	}
}

// errorf reports a test failure from a server goroutine, unless cleanup has
// finished (t must not be used after the test ends).
func (s *Server) errorf(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.stopped {
		s.t.Errorf(format, args...)
	}
}

// reportData fails the test, once per server, for a DATA or BDAT command.
func (s *Server) reportData() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.data++
	if s.data == 1 && !s.stopped {
		s.t.Errorf("fakes: MX %s: client sent DATA or BDAT; a verifier must never send a message", s.ip)
	}
}

// dataScanner is go-smtp's Debug writer, which gets a copy of everything each
// connection reads and writes, in clear text even after STARTTLS, from many
// goroutines at once. It spots DATA and BDAT commands, including those go-smtp
// rejects itself (no accepted recipient) without calling Session.Data. Server
// replies start with digits, so only client commands can match.
type dataScanner struct{ s *Server }

func (d dataScanner) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		line, rest, complete := bytes.Cut(p, []byte("\n"))
		line = bytes.TrimRight(line, "\r ")
		if complete && bytes.EqualFold(line, []byte("DATA")) ||
			len(line) > 5 && bytes.EqualFold(line[:5], []byte("BDAT ")) {
			d.s.reportData()
		}
		p = rest
	}
	return n, nil
}

// serverLog sends go-smtp's internal error log to t.Logf.
type serverLog struct{ s *Server }

func (l serverLog) Printf(format string, v ...any) {
	l.log(fmt.Sprintf(format, v...))
}

func (l serverLog) Println(v ...any) {
	l.log(fmt.Sprintln(v...))
}

func (l serverLog) log(msg string) {
	l.s.mu.Lock()
	defer l.s.mu.Unlock()
	if !l.s.stopped {
		l.s.t.Logf("fakes: MX %s: go-smtp: %s", l.s.ip, strings.TrimSpace(msg))
	}
}

// Addr returns the server's address, "ip:port", with the farm's current Port.
func (s *Server) Addr() string {
	return net.JoinHostPort(s.ip, strconv.Itoa(s.farm.port()))
}

// track registers a freshly accepted connection; it returns nil (and closes
// nc) once cleanup has started.
func (s *Server) track(nc net.Conn) *conn {
	c := &conn{Conn: nc, s: s, closed: make(chan struct{}), read: true, wrote: true}
	c.top = c
	s.mu.Lock()
	if s.stopping {
		s.mu.Unlock()
		nc.Close()
		return nil
	}
	s.conns[c] = struct{}{}
	s.sessions++
	open := 0
	for o := range s.conns {
		if o == c || !peerClosed(o.Conn) {
			open++
		}
	}
	s.maxOpen = max(s.maxOpen, open)
	c.openAtAccept = open
	s.mu.Unlock()
	if limit := s.cfg.MaxSessions; limit > 0 && open > limit {
		s.errorf("fakes: MX %s: %d sessions open at once, want at most %d (Config.MaxSessions)", s.ip, open, limit)
	}
	return c
}

func (s *Server) untrack(c *conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.conns, c)
}

// rejectBanner sends banner instead of a greeting and closes c.
func (s *Server) rejectBanner(c *conn, banner *Reply) {
	defer s.wg.Done()
	defer c.Close()
	c.Write([]byte(banner.String()))
}
