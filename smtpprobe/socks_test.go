package smtpprobe

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// socksServer is a minimal SOCKS5 server (RFC 1928 CONNECT, RFC 1929 user/password when
// user is set) that forwards only to loopback addresses.
type socksServer struct {
	ln         net.Listener
	user, pass string
	mu         sync.Mutex
	targets    []string
}

func startSOCKS(t *testing.T, user, pass string) *socksServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &socksServer{ln: ln, user: user, pass: pass}
	var wg sync.WaitGroup
	var conns []net.Conn
	var cmu sync.Mutex
	track := func(c net.Conn) { cmu.Lock(); conns = append(conns, c); cmu.Unlock() }
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			track(c)
			wg.Add(1)
			go func() { defer wg.Done(); s.handle(c, track) }()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		cmu.Lock()
		for _, c := range conns {
			c.Close()
		}
		cmu.Unlock()
		wg.Wait()
	})
	return s
}

func (s *socksServer) handle(c net.Conn, track func(net.Conn)) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	var hdr [2]byte
	if _, err := io.ReadFull(c, hdr[:]); err != nil || hdr[0] != 5 {
		return
	}
	methods := make([]byte, hdr[1])
	io.ReadFull(c, methods)
	want := byte(0)
	if s.user != "" {
		want = 2
	}
	if !bytes.Contains(methods, []byte{want}) {
		c.Write([]byte{5, 0xff})
		return
	}
	c.Write([]byte{5, want})
	if want == 2 { // RFC 1929: VER ULEN UNAME PLEN PASSWD
		b := make([]byte, 2)
		io.ReadFull(c, b)
		u := make([]byte, b[1])
		io.ReadFull(c, u)
		io.ReadFull(c, b[:1])
		p := make([]byte, b[0])
		io.ReadFull(c, p)
		if string(u) != s.user || string(p) != s.pass {
			c.Write([]byte{1, 1})
			return
		}
		c.Write([]byte{1, 0})
	}
	var req [4]byte // VER CMD RSV ATYP
	if _, err := io.ReadFull(c, req[:]); err != nil || req[1] != 1 {
		return
	}
	var host string
	switch req[3] {
	case 1, 4:
		ip := make([]byte, map[byte]int{1: 4, 4: 16}[req[3]])
		io.ReadFull(c, ip)
		a, _ := netip.AddrFromSlice(ip)
		host = a.String()
	case 3:
		var n [1]byte
		io.ReadFull(c, n[:])
		name := make([]byte, n[0])
		io.ReadFull(c, name)
		host = string(name)
	}
	var port [2]byte
	io.ReadFull(c, port[:])
	target := net.JoinHostPort(host, strconv.Itoa(int(binary.BigEndian.Uint16(port[:]))))
	s.mu.Lock()
	s.targets = append(s.targets, target)
	s.mu.Unlock()
	if a, err := netip.ParseAddr(host); err != nil || !a.IsLoopback() {
		c.Write([]byte{5, 2, 0, 1, 0, 0, 0, 0, 0, 0}) // not allowed: tests stay on loopback
		return
	}
	up, err := net.Dial("tcp", target)
	if err != nil {
		c.Write([]byte{5, 5, 0, 1, 0, 0, 0, 0, 0, 0})
		return
	}
	track(up)
	defer up.Close()
	c.Write([]byte{5, 0, 0, 1, 0, 0, 0, 0, 0, 0})
	c.SetDeadline(time.Time{})
	go func() { io.Copy(up, c); up.Close() }()
	io.Copy(c, up)
}

func TestSOCKS5Dialer(t *testing.T) {
	m := startMX(t, mxTable, nil)
	tests := []struct {
		name, user, pass, url string
		ok                    bool
	}{
		{"no auth", "", "", "socks5://%s", true},
		{"user and password", "probe", "s3cret", "socks5://probe:s3cret@%s", true},
		{"socks5h", "", "", "socks5h://%s", true},
		{"wrong password", "probe", "s3cret", "socks5://probe:nope@%s", false},
		{"auth required, none given", "probe", "s3cret", "socks5://%s", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ps := startSOCKS(t, tt.user, tt.pass)
			dial, err := SOCKS5Dialer(fmtURL(tt.url, ps.ln.Addr().String()), 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			p := testProber(m.port)
			p.Dial = dial
			s, err := p.Open(t.Context(), "mx.test", loopback)
			if !tt.ok {
				if e := asError(t, err); e.Step != StepConnect {
					t.Errorf("Open error %v, want a connect error", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			s.Mail(t.Context(), false)
			if r, err := s.Rcpt(t.Context(), "nobody@example.com"); err != nil || r.Code != 550 {
				t.Errorf("Rcpt through proxy = %v, %v", r, err)
			}
			s.Quit()
			ps.mu.Lock()
			defer ps.mu.Unlock()
			if want := "127.0.0.1:" + strconv.Itoa(m.port); len(ps.targets) != 1 || ps.targets[0] != want {
				t.Errorf("proxy targets %q, want [%s]", ps.targets, want)
			}
		})
	}
}

func TestSOCKS5DialerBadURL(t *testing.T) {
	for _, u := range []string{"http://127.0.0.1:8080", "socks4://127.0.0.1:1080", "127.0.0.1:1080", "socks5://", "socks5://[::1"} {
		if _, err := SOCKS5Dialer(u, time.Second); err == nil {
			t.Errorf("SOCKS5Dialer(%q): no error", u)
		}
	}
}

func TestSOCKS5DialerTimeout(t *testing.T) {
	// A proxy that accepts and never answers the greeting.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var held []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			held = append(held, c)
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		for _, c := range held {
			c.Close()
		}
	})
	dial, err := SOCKS5Dialer("socks5://"+ln.Addr().String(), 200*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	p := testProber(25)
	p.Dial = dial
	_, err = p.Open(t.Context(), "mx.test", loopback)
	var e *Error
	if !errors.As(err, &e) || e.Step != StepConnect || !e.Timeout() {
		t.Errorf("Open through a silent proxy: %v, want a connect timeout", err)
	}
}

func fmtURL(pattern, addr string) string {
	return strings.Replace(pattern, "%s", addr, 1)
}
