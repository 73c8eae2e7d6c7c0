package fakes

import "strings"

// What a Server counts, for tests and benchmarks to assert on.

func (s *Server) count(p *int) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return *p
}

// Sessions returns the number of connections accepted so far, including
// those turned away by Config.Banner.
func (s *Server) Sessions() int { return s.count(&s.sessions) }

// MaxOpen returns the largest number of sessions seen open at once, counted
// at each accept as for Config.MaxSessions.
func (s *Server) MaxOpen() int { return s.count(&s.maxOpen) }

// Refused returns the number of connections turned away by Config.ConnLimit.
func (s *Server) Refused() int { return s.count(&s.refused) }

// Recipients returns the number of RCPT commands handled, that is, those
// go-smtp passed on (well-formed, after MAIL).
func (s *Server) Recipients() int { return s.count(&s.recipients) }

// Rejected returns the number of RCPT commands answered 4xx or 5xx by this
// package (Replies, Unknown, greylisting).
func (s *Server) Rejected() int { return s.count(&s.rejected) }

// RoundTrips returns the number of times the server waited for a client:
// each read that returned data from a connection on which the server had
// written since its previous such read, or that was the first one. Since the
// banner is a write, a client's first command counts one; a pipelined group
// of commands counts once if it arrives before the server writes again (send
// it in one write). Counted on the TCP stream, so a STARTTLS handshake adds
// its own (two with TLS 1.3).
func (s *Server) RoundTrips() int { return s.count(&s.roundTrips) }

// TooManyErrors returns the number of "421 4.7.0 ... Error: too many errors"
// replies sent (see Config.HardErrorLimit).
func (s *Server) TooManyErrors() int { return s.count(&s.tooMany) }

// Slowed returns the number of replies delayed by Config.SoftErrorLimit.
func (s *Server) Slowed() int { return s.count(&s.slowed) }

// Seen returns the number of RCPT commands for addr (any case).
func (s *Server) Seen(addr string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.seen[strings.ToLower(addr)]
}
