package fakes

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// dnsTTL is the TTL of every answer record.
const dnsTTL = 300

// maxCNAMEHops bounds CNAME chasing; a longer chain (or a loop) answers
// SERVFAIL, as a recursive resolver does.
const maxCNAMEHops = 8

// ednsSize is the UDP payload size the server advertises in its own OPT
// record (the DNS flag day 2020 value).
const ednsSize = 1232

// DNS is an authoritative-style fake DNS server on 127.0.0.1, UDP and TCP on
// the same port, answering from records added at any time (all methods are
// safe for concurrent use).
//
// Names are case-insensitive and may be given with or without the final dot.
// A name never added answers NXDOMAIN; a name with records but none of the
// asked type answers NOERROR with an empty answer (NODATA). Answers have AA
// and RA set and a TTL of 300 s; there is no SOA in negative answers.
//
// CNAMEs are chased like a recursive resolver would: a query for a name that
// has a CNAME (and no records of the asked type) answers the whole chain plus
// the final target's records, with the final target's rcode (NXDOMAIN when it
// was never added); a chain longer than 8 or a loop answers SERVFAIL.
//
// UDP answers are truncated (TC set, records dropped) to 512 bytes, or, when
// the client sent an OPT record, to its EDNS0 payload size capped at the
// 1232 bytes the server advertises, as a real server does; TCP answers are
// never truncated. [DNS.Truncate] forces TC for a name.
type DNS struct {
	t    testing.TB
	addr string
	udp  *dns.Server
	tcp  *dns.Server
	done chan struct{} // closed at cleanup: cuts Latency sleeps short

	mu      sync.Mutex
	names   map[string]*dnsName // key: lower-case FQDN
	latency time.Duration
	queries int
	perType map[dnsQuery]int
}

type dnsName struct {
	rrs      []dns.RR
	rcode    int
	hasRcode bool
	drop     bool
	truncate bool
}

type dnsQuery struct {
	name  string
	qtype uint16
}

// NewDNS starts a DNS server on 127.0.0.1 (UDP and TCP on one port) and stops
// it in t.Cleanup. It calls t.Fatal if it cannot listen.
func NewDNS(t testing.TB) *DNS {
	t.Helper()
	d := &DNS{
		t:       t,
		done:    make(chan struct{}),
		names:   make(map[string]*dnsName),
		perType: make(map[dnsQuery]int),
	}
	pc, ln, err := listenUDPAndTCP()
	if err != nil {
		t.Fatalf("fakes: DNS: %v", err)
	}
	d.addr = pc.LocalAddr().String()
	d.udp = &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(d.serve)}
	d.tcp = &dns.Server{Listener: ln, Handler: dns.HandlerFunc(d.serve)}
	for _, srv := range []*dns.Server{d.udp, d.tcp} {
		// started is buffered so NotifyStartedFunc never blocks if
		// ActivateAndServe fails before we read it.
		started := make(chan struct{}, 1)
		failed := make(chan error, 1)
		srv.NotifyStartedFunc = func() { started <- struct{}{} }
		go func() { failed <- srv.ActivateAndServe() }()
		select {
		case <-started:
		case err := <-failed:
			t.Fatalf("fakes: DNS: serve: %v", err)
		}
	}
	t.Cleanup(func() {
		close(d.done)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		for _, srv := range []*dns.Server{d.udp, d.tcp} {
			if err := srv.ShutdownContext(ctx); err != nil {
				t.Errorf("fakes: DNS: shutdown: %v", err)
			}
		}
	})
	return d
}

// listenUDPAndTCP binds UDP on a free port of 127.0.0.1 and TCP on the same
// port, retrying with another port when TCP's is taken.
func listenUDPAndTCP() (net.PacketConn, net.Listener, error) {
	var err error
	for range 20 {
		var pc net.PacketConn
		pc, err = net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			return nil, nil, err
		}
		var ln net.Listener
		ln, err = net.Listen("tcp", pc.LocalAddr().String())
		if err == nil {
			return pc, ln, nil
		}
		pc.Close()
	}
	return nil, nil, fmt.Errorf("no port free for both UDP and TCP: %w", err)
}

// Addr returns the server's address, "127.0.0.1:port", for UDP and TCP.
func (d *DNS) Addr() string { return d.addr }

func dnsKey(name string) string { return strings.ToLower(dns.Fqdn(name)) }

// entry returns the record set of name, creating it; d.mu must be held.
func (d *DNS) entry(name string) *dnsName {
	k := dnsKey(name)
	n := d.names[k]
	if n == nil {
		n = &dnsName{}
		d.names[k] = n
	}
	return n
}

func (d *DNS) add(rr dns.RR) {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := d.entry(rr.Header().Name)
	n.rrs = append(n.rrs, rr)
}

func hdr(name string, rrtype uint16) dns.RR_Header {
	return dns.RR_Header{Name: dns.Fqdn(name), Rrtype: rrtype, Class: dns.ClassINET, Ttl: dnsTTL}
}

// MX adds an MX record for domain. A host of "." makes it a null MX
// (RFC 7505; use pref 0).
func (d *DNS) MX(domain string, pref uint16, host string) {
	d.add(&dns.MX{Hdr: hdr(domain, dns.TypeMX), Preference: pref, Mx: dns.Fqdn(host)})
}

// A adds an A record. It calls t.Fatal if ip is not an IPv4 address, so
// call it from the test goroutine.
func (d *DNS) A(name, ip string) {
	a, err := netip.ParseAddr(ip)
	if err != nil || !a.Is4() {
		d.t.Helper()
		d.t.Fatalf("fakes: DNS.A(%q, %q): not an IPv4 address", name, ip)
	}
	d.add(&dns.A{Hdr: hdr(name, dns.TypeA), A: a.AsSlice()})
}

// AAAA adds an AAAA record. It calls t.Fatal if ip is not an IPv6 address
// (an IPv4-mapped one included), so call it from the test goroutine.
func (d *DNS) AAAA(name, ip string) {
	a, err := netip.ParseAddr(ip)
	if err != nil || !a.Is6() || a.Is4In6() {
		d.t.Helper()
		d.t.Fatalf("fakes: DNS.AAAA(%q, %q): not an IPv6 address", name, ip)
	}
	d.add(&dns.AAAA{Hdr: hdr(name, dns.TypeAAAA), AAAA: a.AsSlice()})
}

// CNAME adds a CNAME record from name to target.
func (d *DNS) CNAME(name, target string) {
	d.add(&dns.CNAME{Hdr: hdr(name, dns.TypeCNAME), Target: dns.Fqdn(target)})
}

// TXT adds a TXT record holding txt. Strings longer than 255 octets are split
// into several character-strings of one record, as zone files do (RFC 7208 §3.3).
func (d *DNS) TXT(name, txt string) {
	var parts []string
	for len(txt) > 255 {
		parts, txt = append(parts, txt[:255]), txt[255:]
	}
	d.add(&dns.TXT{Hdr: hdr(name, dns.TypeTXT), Txt: append(parts, txt)})
}

// PTR adds a reverse-DNS record for ip pointing to host. It calls t.Fatal if ip
// is not an IP address, so call it from the test goroutine.
func (d *DNS) PTR(ip, host string) {
	rev, err := dns.ReverseAddr(ip)
	if err != nil {
		d.t.Helper()
		d.t.Fatalf("fakes: DNS.PTR(%q, %q): %v", ip, host, err)
	}
	d.add(&dns.PTR{Hdr: hdr(rev, dns.TypePTR), Ptr: dns.Fqdn(host)})
}

// Rcode makes every query for name, of any type, answer rcode with no
// records, e.g. dns.RcodeServerFailure or dns.RcodeRefused; it also applies
// when name is reached through a CNAME.
func (d *DNS) Rcode(name string, rcode int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := d.entry(name)
	n.rcode, n.hasRcode = rcode, true
}

// Drop makes the server never answer queries for name (or for a name whose
// CNAME chain reaches it), so clients time out. Queries are still counted.
func (d *DNS) Drop(name string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.entry(name).drop = true
}

// Truncate makes UDP answers to queries for name carry TC and no records, so
// clients must retry over TCP, which answers normally.
func (d *DNS) Truncate(name string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.entry(name).truncate = true
}

// Latency delays every answer by l from now on (0 turns it off).
func (d *DNS) Latency(l time.Duration) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.latency = l
}

// Queries returns the number of queries received so far, UDP and TCP,
// answered or not.
func (d *DNS) Queries() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.queries
}

// QueriesFor returns the number of queries received so far for name (any
// case, with or without the final dot) and qtype, e.g. dns.TypeMX.
func (d *DNS) QueriesFor(name string, qtype uint16) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.perType[dnsQuery{dnsKey(name), qtype}]
}

func (d *DNS) serve(w dns.ResponseWriter, req *dns.Msg) {
	// dns.DefaultMsgAcceptFunc has already answered FORMERR to anything
	// but a query with exactly one question.
	q := req.Question[0]
	_, udp := w.RemoteAddr().(*net.UDPAddr)

	resp, latency, ok := d.answer(req, q, udp)
	if !ok {
		return // dropped
	}
	if latency > 0 {
		t := time.NewTimer(latency)
		select {
		case <-t.C:
		case <-d.done:
			t.Stop()
			return
		}
	}
	if opt := req.IsEdns0(); opt != nil {
		resp.SetEdns0(ednsSize, false)
	}
	if udp {
		size := dns.MinMsgSize
		if opt := req.IsEdns0(); opt != nil {
			size = min(max(size, int(opt.UDPSize())), ednsSize)
		}
		resp.Truncate(size)
	}
	resp.Compress = true
	w.WriteMsg(resp)
}

// answer builds the reply to q; ok is false when the query must be dropped.
func (d *DNS) answer(req *dns.Msg, q dns.Question, udp bool) (resp *dns.Msg, latency time.Duration, ok bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.queries++
	key := dnsKey(q.Name)
	d.perType[dnsQuery{key, q.Qtype}]++

	resp = new(dns.Msg)
	resp.SetReply(req)
	resp.Authoritative = true
	resp.RecursionAvailable = true
	if q.Qclass != dns.ClassINET {
		resp.Rcode = dns.RcodeRefused
		return resp, d.latency, true
	}
	if n := d.names[key]; n != nil && n.truncate && udp {
		if n.drop {
			return nil, 0, false
		}
		resp.Truncated = true
		return resp, d.latency, true
	}

	name := key
	for hops := 0; ; hops++ {
		n := d.names[name]
		if n == nil {
			resp.Rcode = dns.RcodeNameError
			break
		}
		if n.drop {
			return nil, 0, false
		}
		if n.hasRcode {
			resp.Rcode = n.rcode
			resp.Answer = nil
			break
		}
		var cname *dns.CNAME
		found := false
		for _, rr := range n.rrs {
			if rr.Header().Rrtype == q.Qtype || q.Qtype == dns.TypeANY {
				resp.Answer = append(resp.Answer, dns.Copy(rr))
				found = true
			}
			if c, ok := rr.(*dns.CNAME); ok {
				cname = c
			}
		}
		if found || cname == nil {
			break // answer, or NODATA
		}
		if hops == maxCNAMEHops {
			resp.Rcode = dns.RcodeServerFailure
			resp.Answer = nil
			break
		}
		resp.Answer = append(resp.Answer, dns.Copy(cname))
		name = dnsKey(cname.Target)
	}
	return resp, d.latency, true
}
