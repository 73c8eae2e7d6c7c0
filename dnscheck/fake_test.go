package dnscheck

import (
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/miekg/dns"
)

// fakeDNS is an in-process recursive resolver answering from a zone of records.
// Its behaviour knobs must be set before start and not changed after, except
// those behind mu.
type fakeDNS struct {
	rrs     []dns.RR
	rcode   map[string]int // "name TYPE" or name (fqdn) → forced response code; "*" matches every name
	noChase bool           // answer a CNAME without following it, as some servers do
	forceTC bool           // truncate every UDP reply (no records), forcing TCP
	wrongQ  bool           // reply with another question
	junk    []dns.RR       // records of other names appended to every answer
	gate    chan struct{}  // if non-nil, every query waits for it to be closed

	mu       sync.Mutex
	drop     bool            // never answer (timeout)
	counts   map[string]int  // "name TYPE" → queries received
	tcp      int             // queries received over TCP
	received chan<- struct{} // if non-nil, signalled (non-blocking) for every query
}

// newFake returns a fake serving zone, one record per line (full names).
func newFake(t testing.TB, zone string) *fakeDNS {
	t.Helper()
	f := &fakeDNS{counts: map[string]int{}}
	for line := range strings.SplitSeq(zone, "\n") {
		if line = strings.TrimSpace(line); line == "" {
			continue
		}
		rr, err := dns.NewRR(line)
		if err != nil {
			t.Fatalf("bad zone line %q: %v", line, err)
		}
		f.rrs = append(f.rrs, rr)
	}
	return f
}

// start serves f on UDP and TCP loopback and returns its address.
func (f *fakeDNS) start(t testing.TB) string {
	t.Helper()
	return startDNS(t, dns.HandlerFunc(f.serve))
}

// startDNS serves h on UDP and TCP on the same loopback port, as
// miekg/dns:server_test.go does, and returns the address. The servers stop in
// t.Cleanup.
func startDNS(t testing.TB, h dns.Handler) string {
	t.Helper()
	var (
		pc  net.PacketConn
		l   net.Listener
		err error
	)
	for range 20 { // the TCP port may be taken; pick another UDP one
		pc, err = net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		l, err = net.Listen("tcp", pc.LocalAddr().String())
		if err == nil {
			break
		}
		pc.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	for _, srv := range []*dns.Server{
		{PacketConn: pc, Handler: h},
		{Listener: l, Handler: h},
	} {
		started := make(chan struct{})
		srv.NotifyStartedFunc = func() { close(started) }
		go srv.ActivateAndServe()
		<-started
		t.Cleanup(func() { srv.Shutdown() })
	}
	return pc.LocalAddr().String()
}

func (f *fakeDNS) setDrop(drop bool) {
	f.mu.Lock()
	f.drop = drop
	f.mu.Unlock()
}

// count returns the queries received for name (fqdn) and type ("MX", "A", ...).
func (f *fakeDNS) count(name, typ string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.counts[name+" "+typ]
}

// total returns all queries received, and those of them over TCP.
func (f *fakeDNS) total() (all, tcp int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, n := range f.counts {
		all += n
	}
	return all, f.tcp
}

func (f *fakeDNS) serve(w dns.ResponseWriter, req *dns.Msg) {
	_, udp := w.RemoteAddr().(*net.UDPAddr)
	if len(req.Question) != 1 {
		return
	}
	q := req.Question[0]
	name := strings.ToLower(q.Name)
	f.mu.Lock()
	f.counts[name+" "+dns.TypeToString[q.Qtype]]++
	if !udp {
		f.tcp++
	}
	drop := f.drop
	if f.received != nil {
		select {
		case f.received <- struct{}{}:
		default:
		}
	}
	f.mu.Unlock()
	if f.gate != nil {
		<-f.gate
	}
	if drop {
		return
	}

	resp := new(dns.Msg)
	resp.SetReply(req)
	resp.RecursionAvailable = true
	if rc, ok := f.rcode[name+" "+dns.TypeToString[q.Qtype]]; ok {
		resp.Rcode = rc
	} else if rc, ok := f.rcode[name]; ok {
		resp.Rcode = rc
	} else if rc, ok := f.rcode["*"]; ok {
		resp.Rcode = rc
	} else {
		f.answer(resp, name, q.Qtype)
	}
	if f.wrongQ {
		resp.Question[0].Name = "wrong.test."
	}
	if udp {
		if f.forceTC {
			resp.Answer = nil
			resp.Truncated = true
		} else {
			size := dns.MinMsgSize
			if opt := req.IsEdns0(); opt != nil {
				size = int(opt.UDPSize())
			}
			resp.Truncate(size)
		}
	}
	w.WriteMsg(resp)
}

// answer fills resp as a recursive resolver would: the records of qtype at the
// end of name's CNAME chain, the chain itself, and NXDOMAIN when the last name
// does not exist.
func (f *fakeDNS) answer(resp *dns.Msg, name string, qtype uint16) {
	cur := name
	for range 20 { // bounds the fake's own walk of a CNAME loop
		var next string
		found := false
		for _, rr := range f.rrs {
			h := rr.Header()
			if !strings.EqualFold(h.Name, cur) {
				continue
			}
			switch h.Rrtype {
			case qtype:
				resp.Answer = append(resp.Answer, rr)
				found = true
			case dns.TypeCNAME:
				resp.Answer = append(resp.Answer, rr)
				next = strings.ToLower(rr.(*dns.CNAME).Target)
			}
		}
		if found || next == "" || f.noChase {
			break
		}
		cur = next
	}
	exists := false
	for _, rr := range f.rrs {
		if strings.EqualFold(rr.Header().Name, cur) {
			exists = true
			break
		}
	}
	if !exists {
		resp.Rcode = dns.RcodeNameError
	}
	resp.Answer = append(resp.Answer, f.junk...)
}
