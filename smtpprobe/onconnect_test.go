package smtpprobe

import (
	"context"
	"net"
	"net/netip"
	"testing"
	"time"
)

// TestOnConnect: the hook sees the established connection before the greeting is
// read, and the original Prober is left as it was.
func TestOnConnect(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		time.Sleep(100 * time.Millisecond) // no banner yet when the hook runs
		c.Write([]byte("220 ok\r\n"))
		buf := make([]byte, 512)
		c.Read(buf)
		c.Write([]byte("250 ok\r\n"))
		c.Read(buf)
	}()
	port := ln.Addr().(*net.TCPAddr).Port
	p := &Prober{Port: port, HELO: "prober.test", Timeout: time.Second}
	var seen net.Conn
	var at time.Time
	start := time.Now()
	q := p.OnConnect(func(c net.Conn) { seen, at = c, time.Now() })
	s, err := q.Open(context.Background(), "mx.test", netip.MustParseAddr("127.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if seen == nil || seen.RemoteAddr().String() != ln.Addr().String() {
		t.Fatalf("hook saw %v, want the connection to %v", seen, ln.Addr())
	}
	if at.Sub(start) >= 100*time.Millisecond {
		t.Errorf("hook ran %v after the dial, want before the banner (100 ms)", at.Sub(start))
	}
	if p.Dial != nil {
		t.Error("OnConnect changed the original Prober")
	}
}
