package fakes

import (
	"net"
	"sync"
	"time"
)

// listener is the net.Listener of one Server: it registers each accepted
// connection with the server, turns clients away when Config.Banner is set,
// and lets the farm swap the socket underneath when it moves to a new port.
type listener struct {
	s *Server

	mu     sync.Mutex
	cur    net.Listener
	closed bool
}

func (l *listener) Accept() (net.Conn, error) {
	for {
		l.mu.Lock()
		cur, closed := l.cur, l.closed
		l.mu.Unlock()
		if closed {
			return nil, &net.OpError{Op: "accept", Net: "tcp", Err: net.ErrClosed}
		}
		nc, err := cur.Accept()
		if err != nil {
			l.mu.Lock()
			swapped := l.cur != cur && !l.closed
			l.mu.Unlock()
			if swapped {
				continue
			}
			return nil, err
		}
		c := l.s.track(nc)
		if c == nil {
			continue // cleanup started; the next Accept fails
		}
		banner := l.s.cfg.Banner
		if limit := l.s.cfg.ConnLimit; limit > 0 && c.openAtAccept > limit {
			banner = &Reply{421, "4.7.0", "Too many connections from your host"}
			l.s.mu.Lock()
			l.s.refused++
			l.s.mu.Unlock()
		}
		if l.s.isSMTP && banner != nil {
			// Not go-smtp's business: it would greet with 220 first.
			l.s.wg.Add(1)
			go l.s.rejectBanner(c, banner)
			continue
		}
		return c, nil
	}
}

func (l *listener) Close() error {
	l.mu.Lock()
	l.closed = true
	cur := l.cur
	l.mu.Unlock()
	return cur.Close()
}

func (l *listener) Addr() net.Addr {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.cur.Addr()
}

// swap replaces the socket; a blocked Accept on the old one fails and loops.
func (l *listener) swap(n net.Listener) {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		n.Close()
		return
	}
	old := l.cur
	l.cur = n
	l.mu.Unlock()
	old.Close()
}

// conn wraps each accepted TCP connection: it counts round trips, applies
// Config.Latency, hides PIPELINING, and carries the per-session error count
// and the pending 421 of Config.HardErrorLimit. Read and Write are only
// called from the connection's own goroutine; Close from any.
type conn struct {
	net.Conn
	s         *Server
	closeOnce sync.Once
	closed    chan struct{}

	mu      sync.Mutex
	read    bool     // a read brought data since the last write (or nothing was written yet)
	wrote   bool     // the server wrote since the last read that brought data (or nothing was read yet)
	greeted bool     // the banner was written
	tls     bool     // STARTTLS accepted: the bytes are TLS records from here on
	top     net.Conn // where the session writes: this conn, or the *tls.Conn over it
	errors  int      // errors in this session (see Config)

	openAtAccept int  // sessions open, this one included, when it was accepted
	hangup       bool // HardErrorLimit reached: 421 and close before anything else
}

func (c *conn) Read(p []byte) (int, error) {
	if c.takeHangup() {
		c.sendTooManyErrors()
		return 0, net.ErrClosed
	}
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.mu.Lock()
		waited := c.wrote
		c.wrote, c.read = false, true
		c.mu.Unlock()
		if waited {
			c.s.mu.Lock()
			c.s.roundTrips++
			c.s.mu.Unlock()
		}
	}
	return n, err
}

// pipeliningLine is the EHLO line that Config.NoPipelining drops. go-smtp
// never lists PIPELINING last, and its textproto writer flushes each line in
// one Write, so the line is always a whole Write of its own.
const pipeliningLine = "250-PIPELINING\r\n"

func (c *conn) Write(p []byte) (int, error) {
	c.mu.Lock()
	delay := c.read
	c.read, c.wrote = false, true
	plain := c.s.isSMTP && !c.tls
	if plain {
		if c.greeted && len(p) >= 4 && string(p[:4]) == "220 " {
			c.tls = true // go-smtp's "220 Ready to start TLS": a handshake follows
		}
		c.greeted = true
	}
	c.mu.Unlock()
	if delay && c.s.cfg.Latency > 0 && !sleep(c.s.cfg.Latency, c.s.done, c.closed) {
		return 0, net.ErrClosed
	}
	if plain && c.s.cfg.NoPipelining && string(p) == pipeliningLine {
		return len(p), nil
	}
	return c.Conn.Write(p)
}

// Close closes the connection once; later calls return nil.
func (c *conn) Close() error {
	var err error
	c.closeOnce.Do(func() {
		// Untrack first: Server.track asks the kernel about every tracked
		// connection, and could not tell a closed one from an open one.
		c.s.untrack(c)
		close(c.closed)
		err = c.Conn.Close()
	})
	return err
}

func (c *conn) isClosed() bool {
	select {
	case <-c.closed:
		return true
	default:
		return false
	}
}

func (c *conn) takeHangup() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	h := c.hangup
	c.hangup = false
	return h
}

// noteError counts one session error and arms the 421 at HardErrorLimit.
func (c *conn) noteError() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.errors++
	if limit := c.s.cfg.HardErrorLimit; limit > 0 && c.errors >= limit {
		c.hangup = true
	}
}

// softSleep waits Config.ErrorSleep once the session has made
// SoftErrorLimit errors.
func (c *conn) softSleep() {
	c.mu.Lock()
	n := c.errors
	c.mu.Unlock()
	if limit := c.s.cfg.SoftErrorLimit; limit > 0 && n >= limit {
		c.s.mu.Lock()
		c.s.slowed++
		c.s.mu.Unlock()
		sleep(c.s.cfg.ErrorSleep, c.s.done, c.closed)
	}
}

// beforeReply runs before the session answers a command: it sends the
// pending 421 (and reports false) or applies the soft-error delay.
func (c *conn) beforeReply() bool {
	if c.takeHangup() {
		c.sendTooManyErrors()
		return false
	}
	c.softSleep()
	return !c.isClosed()
}

// sendTooManyErrors sends Postfix's 421 through the session's writer (so it
// is encrypted after STARTTLS) and closes the connection.
func (c *conn) sendTooManyErrors() {
	c.softSleep()
	c.mu.Lock()
	top := c.top
	c.mu.Unlock()
	if _, err := top.Write([]byte("421 4.7.0 " + c.s.hostname + " Error: too many errors\r\n")); err == nil {
		c.s.mu.Lock()
		c.s.tooMany++
		c.s.mu.Unlock()
	}
	c.Close()
}

// unwrap finds the *conn under nc, which is one or a *tls.Conn over one.
func unwrap(nc net.Conn) *conn {
	for {
		switch v := nc.(type) {
		case *conn:
			return v
		case interface{ NetConn() net.Conn }:
			nc = v.NetConn()
		default:
			return nil
		}
	}
}

// sleep waits d; it reports false if done or closed (either may be nil) was
// closed first.
func sleep(d time.Duration, done, closed <-chan struct{}) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-done:
		return false
	case <-closed:
		return false
	}
}
