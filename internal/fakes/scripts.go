package fakes

import (
	"io"
	"net"
	"time"
)

// Scripts for [MXFarm.Scripted]. Each returns once the connection fails, so
// cleanup can close it and wait.

// NoBanner never writes: it reads and discards what the client sends until
// the connection is closed. A client must time out waiting for the banner.
func NoBanner(c net.Conn) {
	io.Copy(io.Discard, c)
}

// Drip returns a script that sends line one byte every interval, over and
// over, until the connection fails; an empty line gives [NoBanner]. A line
// without "\r\n", such as "220 slow.fakes.test ESMTP", is a banner that
// never ends, each byte early enough to defeat a per-read timeout.
func Drip(line string, every time.Duration) func(net.Conn) {
	if line == "" {
		return NoBanner
	}
	return func(c net.Conn) {
		var closed <-chan struct{}
		if fc, ok := c.(*conn); ok {
			closed = fc.closed
		}
		for i := 0; ; i = (i + 1) % len(line) {
			if _, err := c.Write([]byte{line[i]}); err != nil {
				return
			}
			if !sleep(every, nil, closed) {
				return
			}
		}
	}
}

// endlessLine is one line of [Endless]'s banner.
const endlessLine = "220-fakes.test endless banner, continued forever\r\n"

// Endless sends "220-" continuation lines as fast as the client reads them,
// forever: a banner that never ends, to check that a client bounds a reply's
// size or duration.
func Endless(c net.Conn) {
	line := []byte(endlessLine)
	for {
		if _, err := c.Write(line); err != nil {
			return
		}
	}
}

// Garbled sends "hello world\r\n" as its banner, not an SMTP reply, then
// reads and discards what the client sends until the connection is closed.
func Garbled(c net.Conn) {
	if _, err := io.WriteString(c, "hello world\r\n"); err != nil {
		return
	}
	io.Copy(io.Discard, c)
}

// DisconnectAfterBanner sends a 220 banner and closes the connection.
func DisconnectAfterBanner(c net.Conn) {
	io.WriteString(c, "220 fakes.test ESMTP\r\n")
}
