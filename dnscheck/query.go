package dnscheck

import (
	"context"
	"errors"
	"net"
	"os"
	"strings"

	"github.com/miekg/dns"
)

// follow returns the records of type qtype at the end of name's CNAME chain
// (name is a cache key: lower-case, no trailing dot). nx reports NXDOMAIN, which
// by RFC 6604 §3 is about the last name of the chain. A chain that a server left
// unfinished (an answer holding only CNAMEs) is continued with a query for its
// last target. Records of names off the chain are ignored.
func (r *Resolver) follow(ctx context.Context, name string, qtype uint16) (rrs []dns.RR, nx bool, err error) {
	target := dns.Fqdn(name)
	chain := []string{target} // names seen, for loop detection
	for {
		msg, err := r.query(ctx, name, target, qtype)
		if err != nil {
			return nil, false, err
		}
		cur := target
		for {
			var next string
			for _, rr := range msg.Answer {
				h := rr.Header()
				if h.Class != dns.ClassINET || !strings.EqualFold(h.Name, cur) {
					continue
				}
				switch h.Rrtype {
				case qtype:
					rrs = append(rrs, rr)
				case dns.TypeCNAME:
					if next == "" {
						next = strings.ToLower(dns.Fqdn(rr.(*dns.CNAME).Target))
					}
				}
			}
			if len(rrs) > 0 {
				return rrs, false, nil
			}
			if next == "" {
				break
			}
			for _, seen := range chain {
				if seen == next {
					return nil, false, r.chainError(name, qtype)
				}
			}
			if len(chain) > maxCNAME {
				return nil, false, r.chainError(name, qtype)
			}
			chain = append(chain, next)
			cur = next
		}
		if msg.Rcode == dns.RcodeNameError {
			return nil, true, nil
		}
		if cur == target {
			return nil, false, nil // NODATA
		}
		target = cur // the answer stopped at a CNAME: ask for its target
	}
}

func (r *Resolver) chainError(name string, qtype uint16) *Error {
	return &Error{Name: name, Type: dns.TypeToString[qtype], Rcode: -1, Err: ErrCNAMEChain}
}

// query asks the servers for (qname, qtype) until one gives an answer (NOERROR
// or NXDOMAIN), for Attempts rounds over Servers. name is the name of the
// lookup, reported in errors.
func (r *Resolver) query(ctx context.Context, name, qname string, qtype uint16) (*dns.Msg, error) {
	typ := dns.TypeToString[qtype]
	if len(r.Servers) == 0 {
		return nil, &Error{Name: name, Type: typ, Rcode: -1, Err: ErrNoServers}
	}
	var last *Error
	for range r.attempts() {
		for _, server := range r.Servers {
			if cerr := ctxErr(ctx); cerr != nil {
				return nil, ctxError(name, typ, server, cerr)
			}
			msg, err := r.exchange(ctx, qname, qtype, server)
			if err != nil {
				if cerr := ctxErr(ctx); cerr != nil {
					return nil, ctxError(name, typ, server, cerr)
				}
				last = &Error{Name: name, Type: typ, Server: server, Rcode: -1, Timeout: isTimeout(err), Err: err}
				continue
			}
			switch msg.Rcode {
			case dns.RcodeSuccess, dns.RcodeNameError:
				return msg, nil
			}
			last = &Error{Name: name, Type: typ, Server: server, Rcode: msg.Rcode}
		}
	}
	return nil, last
}

// exchange sends one query to server over UDP, and again over TCP when the
// reply is truncated, and checks that the reply answers it.
func (r *Resolver) exchange(ctx context.Context, qname string, qtype uint16, server string) (*dns.Msg, error) {
	m := new(dns.Msg)
	m.SetQuestion(qname, qtype)
	m.SetEdns0(udpSize, false)
	in, err := r.exchangeNet(ctx, m, server, "udp")
	if err == nil && in.Truncated {
		m.Id = dns.Id()
		in, err = r.exchangeNet(ctx, m, server, "tcp")
		if err == nil && in.Truncated {
			err = errMismatch // a truncated reply over TCP is broken
		}
	}
	if err != nil {
		return nil, err
	}
	if !in.Response || in.Opcode != dns.OpcodeQuery || len(in.Question) != 1 ||
		in.Question[0].Qtype != qtype || in.Question[0].Qclass != dns.ClassINET ||
		!strings.EqualFold(in.Question[0].Name, qname) {
		return nil, errMismatch
	}
	return in, nil
}

func (r *Resolver) exchangeNet(ctx context.Context, m *dns.Msg, server, network string) (*dns.Msg, error) {
	c := &dns.Client{Net: network, Timeout: r.timeout(), UDPSize: udpSize}
	co, err := c.DialContext(ctx, server)
	if err != nil {
		return nil, err
	}
	defer co.Close()
	// miekg/dns takes only the deadline from ctx; closing the connection makes
	// a cancellation abort the read at once.
	stop := context.AfterFunc(ctx, func() { co.Close() })
	defer stop()
	r.queries.Add(1)
	in, _, err := c.ExchangeWithConnContext(ctx, m, co)
	return in, err
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}
