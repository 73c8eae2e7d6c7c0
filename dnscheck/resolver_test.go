package dnscheck

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// host is a compact Host for comparisons: "name pref addr,addr".
func hostString(h Host) string {
	addrs := make([]string, len(h.Addrs))
	for i, a := range h.Addrs {
		addrs[i] = a.String()
	}
	return fmt.Sprintf("%s %d %s", h.Name, h.Pref, strings.Join(addrs, ","))
}

// hostStrings returns mx.Hosts as strings, checking that preferences never
// decrease and sorting hosts of equal preference by name (their order is random).
func hostStrings(t *testing.T, mx *MX) []string {
	t.Helper()
	hosts := slices.Clone(mx.Hosts)
	for i := 1; i < len(hosts); i++ {
		if hosts[i].Pref < hosts[i-1].Pref {
			t.Errorf("hosts not in preference order: %v", mx.Hosts)
		}
	}
	slices.SortStableFunc(hosts, func(a, b Host) int {
		return cmp.Or(cmp.Compare(a.Pref, b.Pref), cmp.Compare(a.Name, b.Name))
	})
	var s []string
	for _, h := range hosts {
		s = append(s, hostString(h))
	}
	return s
}

func newTestResolver(addrs ...string) *Resolver {
	return &Resolver{Servers: addrs, Timeout: 2 * time.Second}
}

func TestLookupMX(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		zone       string
		noChase    bool
		junk       string
		maxAddrs   int
		domain     string
		wantDomain string // default: domain
		want       []string
		nullMX     bool
		implicit   bool
		nx         bool
		unresolved []string
		queries    map[string]int // "name TYPE" → queries expected at the fake
	}{
		{
			name: "two preferences in order",
			zone: `
				d.test. MX 20 b.d.test.
				d.test. MX 10 a.d.test.
				a.d.test. A 127.0.0.1
				b.d.test. A 127.0.0.2`,
			domain: "d.test",
			want:   []string{"a.d.test 10 127.0.0.1", "b.d.test 20 127.0.0.2"},
		},
		{
			name: "equal preferences both present",
			zone: `
				d.test. MX 10 a.d.test.
				d.test. MX 10 b.d.test.
				a.d.test. A 127.0.0.1
				b.d.test. A 127.0.0.2`,
			domain: "d.test",
			want:   []string{"a.d.test 10 127.0.0.1", "b.d.test 10 127.0.0.2"},
		},
		{
			name:    "null MX",
			zone:    `d.test. MX 0 .`,
			domain:  "d.test",
			nullMX:  true,
			queries: map[string]int{"d.test. MX": 1, "d.test. A": 0},
		},
		{
			name: "null MX beside other MX records",
			zone: `
				d.test. MX 0 .
				d.test. MX 10 a.d.test.
				a.d.test. A 127.0.0.1`,
			domain:  "d.test",
			nullMX:  true,
			queries: map[string]int{"a.d.test. A": 0},
		},
		{
			name:   "root MX target at another preference is null MX",
			zone:   `d.test. MX 10 .`,
			domain: "d.test",
			nullMX: true,
		},
		{
			name: "domain CNAME to a missing name is NXDOMAIN",
			zone: `
				d.test. CNAME gone.test.`,
			domain: "d.test",
			nx:     true,
		},
		{
			name:    "NXDOMAIN",
			zone:    `other.test. A 127.0.0.1`,
			domain:  "gone.test",
			nx:      true,
			queries: map[string]int{"gone.test. MX": 1, "gone.test. A": 0},
		},
		{
			name:     "NODATA with A is implicit MX",
			zone:     `d.test. A 127.0.0.9`,
			domain:   "d.test",
			implicit: true,
			want:     []string{"d.test 0 127.0.0.9"},
		},
		{
			name:     "NODATA with AAAA only is implicit MX",
			zone:     `d.test. AAAA ::1`,
			domain:   "d.test",
			implicit: true,
			want:     []string{"d.test 0 ::1"},
		},
		{
			name:   "NODATA and no address",
			zone:   `d.test. TXT "v=spf1 -all"`,
			domain: "d.test",
		},
		{
			name: "MX host NXDOMAIN is skipped",
			zone: `
				d.test. MX 10 gone.d.test.
				d.test. MX 20 b.d.test.
				b.d.test. A 127.0.0.2`,
			domain:     "d.test",
			want:       []string{"b.d.test 20 127.0.0.2"},
			unresolved: []string{"gone.d.test"},
		},
		{
			name: "every MX host unresolvable",
			zone: `
				d.test. MX 10 gone.d.test.
				d.test. MX 20 b.d.test.
				b.d.test. TXT "no address"`,
			domain:     "d.test",
			unresolved: []string{"b.d.test", "gone.d.test"},
		},
		{
			name: "MX host CNAME chain in the answer",
			zone: `
				d.test. MX 10 mx.d.test.
				mx.d.test. CNAME c1.d.test.
				c1.d.test. CNAME real.d.test.
				real.d.test. A 127.0.0.3`,
			domain:  "d.test",
			want:    []string{"mx.d.test 10 127.0.0.3"},
			queries: map[string]int{"mx.d.test. A": 1, "real.d.test. A": 0},
		},
		{
			name: "MX host CNAME needing a second query",
			zone: `
				d.test. MX 10 mx.d.test.
				mx.d.test. CNAME real.d.test.
				real.d.test. A 127.0.0.3`,
			noChase: true,
			domain:  "d.test",
			want:    []string{"mx.d.test 10 127.0.0.3"},
			queries: map[string]int{"mx.d.test. A": 1, "real.d.test. A": 1},
		},
		{
			name: "MX host CNAME to a missing name",
			zone: `
				d.test. MX 10 mx.d.test.
				mx.d.test. CNAME gone.d.test.
				d.test. MX 20 b.d.test.
				b.d.test. A 127.0.0.2`,
			domain:     "d.test",
			want:       []string{"b.d.test 20 127.0.0.2"},
			unresolved: []string{"mx.d.test"},
		},
		{
			name: "domain CNAME followed for MX",
			zone: `
				d.test. CNAME e.test.
				e.test. MX 10 mx.e.test.
				mx.e.test. A 127.0.0.4`,
			domain: "d.test",
			want:   []string{"mx.e.test 10 127.0.0.4"},
		},
		{
			name: "domain CNAME followed by a second query",
			zone: `
				d.test. CNAME e.test.
				e.test. MX 10 mx.e.test.
				mx.e.test. A 127.0.0.4`,
			noChase: true,
			domain:  "d.test",
			want:    []string{"mx.e.test 10 127.0.0.4"},
			queries: map[string]int{"d.test. MX": 1, "e.test. MX": 1},
		},
		{
			name: "AAAA-only MX host",
			zone: `
				d.test. MX 10 mx.d.test.
				mx.d.test. AAAA 2001:db8::25`,
			domain: "d.test",
			want:   []string{"mx.d.test 10 2001:db8::25"},
		},
		{
			name: "IPv4 only when the host has A records (no AAAA query)",
			zone: `
				d.test. MX 10 mx.d.test.
				mx.d.test. AAAA 2001:db8::25
				mx.d.test. A 127.0.0.5`,
			domain: "d.test",
			want:   []string{"mx.d.test 10 127.0.0.5"},
		},
		{
			name: "MaxAddrs bounds addresses, IPv4 first",
			zone: `
				d.test. MX 10 mx.d.test.
				mx.d.test. A 127.0.0.1
				mx.d.test. A 127.0.0.2
				mx.d.test. A 127.0.0.1
				mx.d.test. A 127.0.0.3
				mx.d.test. AAAA ::1`,
			maxAddrs: 3,
			domain:   "d.test",
			want:     []string{"mx.d.test 10 127.0.0.1,127.0.0.2,127.0.0.3"},
		},
		{
			name: "duplicate MX names merged at the lowest preference",
			zone: `
				d.test. MX 30 mx.d.test.
				d.test. MX 10 MX.d.test.
				mx.d.test. A 127.0.0.1`,
			domain:  "d.test",
			want:    []string{"mx.d.test 10 127.0.0.1"},
			queries: map[string]int{"mx.d.test. A": 1},
		},
		{
			name:    "IP literal MX target used as its address",
			zone:    `d.test. MX 10 192.0.2.7.`,
			domain:  "d.test",
			want:    []string{"192.0.2.7 10 192.0.2.7"},
			queries: map[string]int{"192.0.2.7. A": 0},
		},
		{
			name: "IDN A-label queried as given",
			zone: `
				xn--bcher-kva.de. MX 10 mx.xn--bcher-kva.de.
				mx.xn--bcher-kva.de. A 127.0.0.6`,
			domain:  "xn--bcher-kva.de",
			want:    []string{"mx.xn--bcher-kva.de 10 127.0.0.6"},
			queries: map[string]int{"xn--bcher-kva.de. MX": 1},
		},
		{
			name: "case and trailing dot normalized",
			zone: `
				D.Test. MX 10 MX.D.TEST.
				mx.d.test. A 127.0.0.7`,
			domain:     "D.test.",
			wantDomain: "d.test",
			want:       []string{"mx.d.test 10 127.0.0.7"},
			queries:    map[string]int{"d.test. MX": 1},
		},
		{
			name: "records of other names ignored",
			zone: `
				d.test. MX 10 mx.d.test.
				mx.d.test. A 127.0.0.1`,
			junk: `
				evil.test. MX 0 mx.evil.test.
				evil.test. A 192.0.2.66`,
			domain: "d.test",
			want:   []string{"mx.d.test 10 127.0.0.1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t, tt.zone)
			f.noChase = tt.noChase
			if tt.junk != "" {
				f.junk = newFake(t, tt.junk).rrs
			}
			r := newTestResolver(f.start(t))
			r.MaxAddrs = tt.maxAddrs
			mx, err := r.LookupMX(context.Background(), tt.domain)
			if err != nil {
				t.Fatalf("LookupMX(%q): %v", tt.domain, err)
			}
			wantDomain := cmp.Or(tt.wantDomain, tt.domain)
			if mx.Domain != wantDomain {
				t.Errorf("Domain = %q, want %q", mx.Domain, wantDomain)
			}
			if got := hostStrings(t, mx); !slices.Equal(got, tt.want) {
				t.Errorf("Hosts = %q, want %q", got, tt.want)
			}
			if mx.NullMX != tt.nullMX || mx.ImplicitMX != tt.implicit || mx.NXDomain != tt.nx {
				t.Errorf("NullMX, ImplicitMX, NXDomain = %v, %v, %v, want %v, %v, %v",
					mx.NullMX, mx.ImplicitMX, mx.NXDomain, tt.nullMX, tt.implicit, tt.nx)
			}
			unresolved := slices.Sorted(slices.Values(hostNames(mx.Unresolved)))
			if !slices.Equal(unresolved, tt.unresolved) {
				t.Errorf("Unresolved = %q, want %q", unresolved, tt.unresolved)
			}
			for k, want := range tt.queries {
				name, typ, _ := strings.Cut(k, " ")
				if got := f.count(name, typ); got != want {
					t.Errorf("queries for %s = %d, want %d", k, got, want)
				}
			}
			if all, _ := f.total(); r.Queries() != int64(all) {
				t.Errorf("Queries() = %d, fake received %d", r.Queries(), all)
			}
		})
	}
}

func TestLookupMXErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		zone      string
		rcode     map[string]int
		wrongQ    bool
		domain    string
		wantName  string // Error.Name
		wantType  string
		wantRcode int
		wantErr   error // errors.Is, if set
		temporary bool
		queries   map[string]int
	}{
		{
			name:      "SERVFAIL",
			rcode:     map[string]int{"*": dns.RcodeServerFailure},
			domain:    "d.test",
			wantName:  "d.test",
			wantType:  "MX",
			wantRcode: dns.RcodeServerFailure,
			temporary: true,
			queries:   map[string]int{"d.test. MX": DefaultAttempts},
		},
		{
			name:      "REFUSED",
			rcode:     map[string]int{"*": dns.RcodeRefused},
			domain:    "d.test",
			wantName:  "d.test",
			wantType:  "MX",
			wantRcode: dns.RcodeRefused,
			queries:   map[string]int{"d.test. MX": DefaultAttempts},
		},
		{
			name:      "NOTIMP",
			rcode:     map[string]int{"*": dns.RcodeNotImplemented},
			domain:    "d.test",
			wantName:  "d.test",
			wantType:  "MX",
			wantRcode: dns.RcodeNotImplemented,
		},
		{
			name:      "FORMERR",
			rcode:     map[string]int{"*": dns.RcodeFormatError},
			domain:    "d.test",
			wantName:  "d.test",
			wantType:  "MX",
			wantRcode: dns.RcodeFormatError,
		},
		{
			name:      "reply to another question",
			zone:      `d.test. MX 10 mx.d.test.`,
			wrongQ:    true,
			domain:    "d.test",
			wantName:  "d.test",
			wantType:  "MX",
			wantRcode: -1,
			wantErr:   errMismatch,
		},
		{
			name: "only MX host SERVFAIL",
			zone: `
				d.test. MX 10 mx.d.test.
				d.test. MX 20 gone.d.test.`,
			rcode:     map[string]int{"mx.d.test.": dns.RcodeServerFailure},
			domain:    "d.test",
			wantName:  "mx.d.test",
			wantType:  "A",
			wantRcode: dns.RcodeServerFailure,
			temporary: true,
		},
		{
			name: "implicit MX address lookup SERVFAIL",
			zone: `
				d.test. TXT "x"`,
			rcode:     map[string]int{"d.test.": dns.RcodeServerFailure},
			domain:    "d.test",
			wantName:  "d.test",
			wantType:  "MX",
			wantRcode: dns.RcodeServerFailure,
			temporary: true,
		},
		{
			name: "CNAME loop",
			zone: `
				d.test. MX 10 a.d.test.
				a.d.test. CNAME b.d.test.
				b.d.test. CNAME a.d.test.`,
			domain:    "d.test",
			wantName:  "a.d.test",
			wantType:  "A",
			wantRcode: -1,
			wantErr:   ErrCNAMEChain,
		},
		{
			name: "CNAME chain over 8 links",
			zone: `
				d.test. MX 10 c0.d.test.
				c0.d.test. CNAME c1.d.test.
				c1.d.test. CNAME c2.d.test.
				c2.d.test. CNAME c3.d.test.
				c3.d.test. CNAME c4.d.test.
				c4.d.test. CNAME c5.d.test.
				c5.d.test. CNAME c6.d.test.
				c6.d.test. CNAME c7.d.test.
				c7.d.test. CNAME c8.d.test.
				c8.d.test. CNAME c9.d.test.
				c9.d.test. A 127.0.0.1`,
			domain:    "d.test",
			wantName:  "c0.d.test",
			wantType:  "A",
			wantRcode: -1,
			wantErr:   ErrCNAMEChain,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t, tt.zone)
			f.rcode = tt.rcode
			f.wrongQ = tt.wrongQ
			addr := f.start(t)
			r := newTestResolver(addr)
			mx, err := r.LookupMX(context.Background(), tt.domain)
			var de *Error
			if !errors.As(err, &de) {
				t.Fatalf("LookupMX(%q) = %+v, %v; want *Error", tt.domain, mx, err)
			}
			if mx != nil {
				t.Errorf("LookupMX(%q) returned MX %+v with error", tt.domain, mx)
			}
			if de.Name != tt.wantName || de.Type != tt.wantType || de.Rcode != tt.wantRcode {
				t.Errorf("Error{Name, Type, Rcode} = %q, %q, %d; want %q, %q, %d",
					de.Name, de.Type, de.Rcode, tt.wantName, tt.wantType, tt.wantRcode)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("error %v is not %v", err, tt.wantErr)
			}
			if de.Temporary() != tt.temporary {
				t.Errorf("Temporary() = %v, want %v", de.Temporary(), tt.temporary)
			}
			if de.IsTimeout() {
				t.Errorf("IsTimeout() = true for %v", err)
			}
			for k, want := range tt.queries {
				name, typ, _ := strings.Cut(k, " ")
				if got := f.count(name, typ); got != want {
					t.Errorf("queries for %s = %d, want %d", k, got, want)
				}
			}
		})
	}
}

func TestErrorString(t *testing.T) {
	t.Parallel()
	f := newFake(t, "")
	f.rcode = map[string]int{"*": dns.RcodeServerFailure}
	addr := f.start(t)
	_, err := newTestResolver(addr).LookupMX(context.Background(), "Example.COM")
	want := "dnscheck: MX example.com via " + addr + ": server failure"
	if err == nil || err.Error() != want {
		t.Errorf("LookupMX error = %v, want %q", err, want)
	}
}

func TestMXHostFailureBesideUsableHost(t *testing.T) {
	t.Parallel()
	f := newFake(t, `
		d.test. MX 10 broken.d.test.
		d.test. MX 20 ok.d.test.
		ok.d.test. A 127.0.0.1`)
	f.rcode = map[string]int{"broken.d.test.": dns.RcodeServerFailure}
	r := newTestResolver(f.start(t))
	mx, err := r.LookupMX(context.Background(), "d.test")
	if err != nil {
		t.Fatalf("LookupMX: %v", err)
	}
	if got, want := hostStrings(t, mx), []string{"ok.d.test 20 127.0.0.1"}; !slices.Equal(got, want) {
		t.Errorf("Hosts = %q, want %q", got, want)
	}
	if !slices.Equal(hostNames(mx.Unresolved), []string{"broken.d.test"}) {
		t.Errorf("Unresolved = %q, want [broken.d.test]", hostNames(mx.Unresolved))
	}
}

// One of A and AAAA failing does not hide the other's answer; NXDOMAIN for
// one says the name has no address at all.
func TestLookupHostPartialFailure(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		zone    string
		rcode   map[string]int
		want    []netip.Addr
		wantErr bool
	}{
		{
			name:  "A SERVFAIL, AAAA answers",
			zone:  `h.test. AAAA ::1`,
			rcode: map[string]int{"h.test. A": dns.RcodeServerFailure},
			want:  []netip.Addr{netip.MustParseAddr("::1")},
		},
		{
			name:  "A answers, AAAA SERVFAIL",
			zone:  `h.test. A 127.0.0.1`,
			rcode: map[string]int{"h.test. AAAA": dns.RcodeServerFailure},
			want:  []netip.Addr{netip.MustParseAddr("127.0.0.1")},
		},
		{
			name:  "A NXDOMAIN, AAAA SERVFAIL",
			rcode: map[string]int{"h.test. AAAA": dns.RcodeServerFailure},
		},
		{
			name:    "A NODATA, AAAA SERVFAIL",
			zone:    `h.test. TXT "x"`,
			rcode:   map[string]int{"h.test. AAAA": dns.RcodeServerFailure},
			wantErr: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t, tt.zone)
			f.rcode = tt.rcode
			r := newTestResolver(f.start(t))
			got, err := r.LookupHost(context.Background(), "h.test")
			if (err != nil) != tt.wantErr || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("LookupHost = %v, %v; want %v, error %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestAttempts(t *testing.T) {
	t.Parallel()
	for _, attempts := range []int{1, 3} {
		t.Run(fmt.Sprint(attempts), func(t *testing.T) {
			t.Parallel()
			f := newFake(t, "")
			f.rcode = map[string]int{"*": dns.RcodeServerFailure}
			r := newTestResolver(f.start(t))
			r.Attempts = attempts
			if _, err := r.LookupMX(context.Background(), "d.test"); err == nil {
				t.Fatal("LookupMX succeeded against SERVFAIL")
			}
			if got := f.count("d.test.", "MX"); got != attempts {
				t.Errorf("MX queries = %d, want %d", got, attempts)
			}
		})
	}
}

// A failing first server is skipped for the next one, which answers.
func TestFailover(t *testing.T) {
	t.Parallel()
	const zone = `
		d.test. MX 10 mx.d.test.
		mx.d.test. A 127.0.0.1`
	tests := []struct {
		name  string
		setup func(*fakeDNS)
	}{
		{"SERVFAIL", func(f *fakeDNS) { f.rcode = map[string]int{"*": dns.RcodeServerFailure} }},
		{"REFUSED", func(f *fakeDNS) { f.rcode = map[string]int{"*": dns.RcodeRefused} }},
		{"wrong question", func(f *fakeDNS) { f.wrongQ = true }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			bad, good := newFake(t, zone), newFake(t, zone)
			tt.setup(bad)
			r := newTestResolver(bad.start(t), good.start(t))
			mx, err := r.LookupMX(context.Background(), "d.test")
			if err != nil {
				t.Fatalf("LookupMX: %v", err)
			}
			if mx.NXDomain || len(mx.Hosts) != 1 {
				t.Errorf("LookupMX = %+v, want one host", mx)
			}
			if got := bad.count("d.test.", "MX"); got != 1 {
				t.Errorf("failing server got %d MX queries, want 1", got)
			}
			if got := good.count("d.test.", "MX"); got != 1 {
				t.Errorf("good server got %d MX queries, want 1", got)
			}
		})
	}
}

func TestTimeout(t *testing.T) {
	t.Parallel()
	f := newFake(t, `d.test. MX 10 mx.d.test.`)
	f.setDrop(true)
	r := newTestResolver(f.start(t))
	r.Timeout = 200 * time.Millisecond
	_, err := r.LookupMX(context.Background(), "d.test")
	var de *Error
	if !errors.As(err, &de) {
		t.Fatalf("LookupMX error = %v, want *Error", err)
	}
	if !de.IsTimeout() || !de.Temporary() || de.Rcode != -1 {
		t.Errorf("IsTimeout, Temporary, Rcode = %v, %v, %d; want true, true, -1", de.IsTimeout(), de.Temporary(), de.Rcode)
	}
	if !strings.HasSuffix(err.Error(), ": timeout") {
		t.Errorf("Error() = %q, want ...: timeout", err)
	}
	if got := f.count("d.test.", "MX"); got != DefaultAttempts {
		t.Errorf("MX queries = %d, want %d", got, DefaultAttempts)
	}
}

func TestTruncatedRetriesOverTCP(t *testing.T) {
	t.Parallel()
	f := newFake(t, `
		d.test. MX 10 mx.d.test.
		mx.d.test. A 127.0.0.1`)
	f.forceTC = true
	r := newTestResolver(f.start(t))
	mx, err := r.LookupMX(context.Background(), "d.test")
	if err != nil {
		t.Fatalf("LookupMX: %v", err)
	}
	if got, want := hostStrings(t, mx), []string{"mx.d.test 10 127.0.0.1"}; !slices.Equal(got, want) {
		t.Errorf("Hosts = %q, want %q", got, want)
	}
	// MX and A each went UDP then TCP (no AAAA: the host has an A record).
	if all, tcp := f.total(); all != 4 || tcp != 2 {
		t.Errorf("queries = %d (%d over TCP), want 4 (2)", all, tcp)
	}
	if r.Queries() != 4 {
		t.Errorf("Queries() = %d, want 4", r.Queries())
	}
}

func TestEDNS0(t *testing.T) {
	t.Parallel()
	var size uint16
	var mu sync.Mutex
	addr := startDNS(t, dns.HandlerFunc(func(w dns.ResponseWriter, req *dns.Msg) {
		mu.Lock()
		if opt := req.IsEdns0(); opt != nil {
			size = opt.UDPSize()
		}
		mu.Unlock()
		resp := new(dns.Msg)
		resp.SetRcode(req, dns.RcodeNameError)
		w.WriteMsg(resp)
	}))
	if _, err := newTestResolver(addr).LookupMX(context.Background(), "d.test"); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if size != 1232 {
		t.Errorf("EDNS0 UDP size = %d, want 1232", size)
	}
}

func TestCacheAndSingleflight(t *testing.T) {
	t.Parallel()
	f := newFake(t, `
		d.test. MX 10 mx.shared.test.
		e.test. MX 10 mx.shared.test.
		mx.shared.test. A 127.0.0.1`)
	gate := make(chan struct{})
	f.gate = gate
	r := newTestResolver(f.start(t))
	r.Timeout = 10 * time.Second

	const n = 100
	var started, done sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		started.Add(1)
		done.Go(func() {
			started.Done()
			mx, err := r.LookupMX(context.Background(), "d.test")
			if err == nil && len(mx.Hosts) != 1 {
				err = fmt.Errorf("got %+v", mx)
			}
			errs <- err
		})
	}
	started.Wait()
	close(gate)
	done.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := f.count("d.test.", "MX"); got != 1 {
		t.Errorf("MX queries after %d concurrent lookups = %d, want 1", n, got)
	}
	before := r.Queries()
	if _, err := r.LookupMX(context.Background(), "D.TEST."); err != nil {
		t.Fatal(err)
	}
	if r.Queries() != before {
		t.Errorf("cached LookupMX sent %d queries", r.Queries()-before)
	}
	// Another domain with the same MX host: the host is not resolved again.
	if _, err := r.LookupMX(context.Background(), "e.test"); err != nil {
		t.Fatal(err)
	}
	if got := f.count("mx.shared.test.", "A"); got != 1 {
		t.Errorf("A queries for the shared MX host = %d, want 1", got)
	}
	if _, err := r.LookupHost(context.Background(), "mx.shared.test"); err != nil {
		t.Fatal(err)
	}
	if got := f.count("mx.shared.test.", "A"); got != 1 {
		t.Errorf("A queries after LookupHost = %d, want 1", got)
	}
}

func TestNegativeCache(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		rcode   map[string]int
		wantErr bool
		want    int // MX queries at the fake after two lookups
	}{
		{"NXDOMAIN", nil, false, 1},
		{"SERVFAIL", map[string]int{"*": dns.RcodeServerFailure}, true, DefaultAttempts},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t, "")
			f.rcode = tt.rcode
			r := newTestResolver(f.start(t))
			for range 2 {
				if _, err := r.LookupMX(context.Background(), "gone.test"); (err != nil) != tt.wantErr {
					t.Fatalf("LookupMX error = %v, want error %v", err, tt.wantErr)
				}
			}
			if got := f.count("gone.test.", "MX"); got != tt.want {
				t.Errorf("MX queries = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestMaxMXHosts(t *testing.T) {
	t.Parallel()
	var zone strings.Builder
	for i := range 500 {
		fmt.Fprintf(&zone, "big.test. MX %d mx%d.big.test.\nmx%d.big.test. A 127.0.%d.%d\n", 1000-i, i, i, i/256, i%256)
	}
	f := newFake(t, zone.String())
	r := newTestResolver(f.start(t))
	mx, err := r.LookupMX(context.Background(), "big.test")
	if err != nil {
		t.Fatalf("LookupMX: %v", err)
	}
	if len(mx.Hosts) != DefaultMaxMXHosts {
		t.Fatalf("len(Hosts) = %d, want %d", len(mx.Hosts), DefaultMaxMXHosts)
	}
	// The lowest preferences are those of the last hosts listed.
	if h := mx.Hosts[0]; h.Name != "mx499.big.test" || h.Pref != 501 {
		t.Errorf("Hosts[0] = %s, want mx499.big.test 501", hostString(h))
	}
	if _, tcp := f.total(); tcp != 1 {
		t.Errorf("TCP queries = %d, want 1 (the MX answer does not fit in UDP)", tcp)
	}
	if all, _ := f.total(); all != 1+1+DefaultMaxMXHosts {
		t.Errorf("queries = %d, want %d (MX over UDP and TCP, A of %d hosts)", all, 2+DefaultMaxMXHosts, DefaultMaxMXHosts)
	}
}

func TestShuffleEqualPreferences(t *testing.T) {
	t.Parallel()
	f := newFake(t, `
		d.test. MX 10 a.d.test.
		d.test. MX 10 b.d.test.
		d.test. MX 5 first.d.test.
		a.d.test. A 127.0.0.1
		b.d.test. A 127.0.0.2
		first.d.test. A 127.0.0.3`)
	addr := f.start(t)
	seen := map[string]bool{}
	for range 64 {
		mx, err := newTestResolver(addr).LookupMX(context.Background(), "d.test")
		if err != nil {
			t.Fatal(err)
		}
		if len(mx.Hosts) != 3 || mx.Hosts[0].Name != "first.d.test" {
			t.Fatalf("Hosts = %v", mx.Hosts)
		}
		seen[mx.Hosts[1].Name] = true
	}
	if len(seen) != 2 {
		t.Errorf("hosts of equal preference always in the same order: %v", seen)
	}
}

func TestCancel(t *testing.T) {
	t.Parallel()
	f := newFake(t, `
		d.test. MX 10 mx.d.test.
		mx.d.test. A 127.0.0.1`)
	f.setDrop(true)
	received := make(chan struct{}, 1)
	f.received = received
	r := newTestResolver(f.start(t))
	r.Timeout = time.Hour // only cancellation can end the lookup

	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := r.LookupMX(ctx, "d.test")
		errc <- err
	}()
	<-received
	cancel()
	select {
	case err := <-errc:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("LookupMX error = %v, want context.Canceled", err)
		}
		var de *Error
		if !errors.As(err, &de) || de.Name != "d.test" {
			t.Errorf("LookupMX error = %#v, want *Error for d.test", err)
		}
	case <-time.After(10 * time.Second): // a watchdog, not a measurement
		t.Fatal("LookupMX did not return after cancel")
	}

	// The cancellation was not cached, and the abandoned query is not in flight.
	f.setDrop(false)
	go func() {
		mx, err := r.LookupMX(context.Background(), "d.test")
		if err == nil && len(mx.Hosts) != 1 {
			err = fmt.Errorf("got %+v", mx)
		}
		errc <- err
	}()
	select {
	case err := <-errc:
		if err != nil {
			t.Errorf("LookupMX after cancel: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("LookupMX after cancel did not return: the cancelled query is still running")
	}
}

func TestContextDeadline(t *testing.T) {
	t.Parallel()
	f := newFake(t, `d.test. MX 0 .`)
	f.setDrop(true)
	r := newTestResolver(f.start(t))
	r.Timeout = time.Hour // ctx's earlier deadline wins
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := r.LookupMX(ctx, "d.test")
	var de *Error
	if !errors.Is(err, context.DeadlineExceeded) || !errors.As(err, &de) || !de.IsTimeout() {
		t.Fatalf("LookupMX error = %v, want a timeout wrapping context.DeadlineExceeded", err)
	}
	f.setDrop(false)
	if mx, err := r.LookupMX(context.Background(), "d.test"); err != nil || !mx.NullMX {
		t.Errorf("LookupMX after deadline = %+v, %v; want null MX (deadline not cached)", mx, err)
	}
}

// A follower sharing a flight whose leader is cancelled still gets an answer.
func TestLeaderCancelled(t *testing.T) {
	t.Parallel()
	f := newFake(t, `d.test. MX 0 .`)
	f.setDrop(true)
	r := newTestResolver(f.start(t))
	r.Timeout = time.Hour
	flights := make(chan struct{}, 2) // leader and follower; later calls are dropped
	r.testHookFlight = func() {
		select {
		case flights <- struct{}{}:
		default: // the follower's retry
		}
	}

	ctx, cancel := context.WithCancel(context.Background())
	leader := make(chan error, 1)
	go func() {
		_, err := r.LookupMX(ctx, "d.test")
		leader <- err
	}()
	<-flights
	follower := make(chan error, 1)
	go func() {
		mx, err := r.LookupMX(context.Background(), "d.test")
		if err == nil && !mx.NullMX {
			err = fmt.Errorf("got %+v", mx)
		}
		follower <- err
	}()
	<-flights // the follower waits on the leader's flight
	f.setDrop(false)
	cancel()
	if err := <-leader; !errors.Is(err, context.Canceled) {
		t.Errorf("leader error = %v, want context.Canceled", err)
	}
	select {
	case err := <-follower:
		if err != nil {
			t.Errorf("follower: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("follower did not return")
	}
}

func TestLookupHost(t *testing.T) {
	t.Parallel()
	f := newFake(t, `
		h.test. A 127.0.0.1
		h.test. AAAA ::1
		v6.test. AAAA 2001:db8::1
		none.test. TXT "x"`)
	addr := f.start(t)
	tests := []struct {
		host string
		want []netip.Addr
	}{
		{"h.test", []netip.Addr{netip.MustParseAddr("127.0.0.1")}},
		{"H.TEST.", []netip.Addr{netip.MustParseAddr("127.0.0.1")}},
		{"v6.test", []netip.Addr{netip.MustParseAddr("2001:db8::1")}},
		{"none.test", nil},
		{"gone.test", nil},
		{"192.0.2.1", []netip.Addr{netip.MustParseAddr("192.0.2.1")}},
	}
	r := newTestResolver(addr)
	for _, tt := range tests {
		got, err := r.LookupHost(context.Background(), tt.host)
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("LookupHost(%q) = %v, %v; want %v", tt.host, got, err, tt.want)
		}
	}
	if got := f.count("192.0.2.1.", "A"); got != 0 {
		t.Errorf("IP literal queried %d times", got)
	}
}

func TestInvalidInput(t *testing.T) {
	t.Parallel()
	f := newFake(t, "")
	addr := f.start(t)
	for _, name := range []string{"", ".", strings.Repeat("a", 64) + ".test", "a..test", "a b.test"} {
		if _, err := newTestResolver(addr).LookupMX(context.Background(), name); !errors.Is(err, ErrInvalidName) {
			t.Errorf("LookupMX(%q) error = %v, want ErrInvalidName", name, err)
		}
	}
	if all, _ := f.total(); all != 0 {
		t.Errorf("invalid names sent %d queries", all)
	}
	if _, err := (&Resolver{}).LookupMX(context.Background(), "d.test"); !errors.Is(err, ErrNoServers) {
		t.Errorf("LookupMX without servers: error = %v, want ErrNoServers", err)
	}
}

func TestNewResolver(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want string // "" means an error
	}{
		{"127.0.0.1", "127.0.0.1:53"},
		{"127.0.0.1:5353", "127.0.0.1:5353"},
		{" 192.0.2.1 ", "192.0.2.1:53"},
		{"::1", "[::1]:53"},
		{"[::1]", "[::1]:53"},
		{"[2001:db8::1]:5353", "[2001:db8::1]:5353"},
		{"dns.example", "dns.example:53"},
		{"dns.example:853", "dns.example:853"},
		{"", ""},
		{"127.0.0.1:0", ""},
		{"127.0.0.1:99999", ""},
		{"127.0.0.1:dns", ""},
		{"[nope]", ""},
		{":53", ""},
	}
	for _, tt := range tests {
		r, err := NewResolver([]string{tt.in}, 0)
		if tt.want == "" {
			if err == nil {
				t.Errorf("NewResolver(%q) = %v, want error", tt.in, r.Servers)
			}
			continue
		}
		if err != nil || !slices.Equal(r.Servers, []string{tt.want}) {
			t.Errorf("NewResolver(%q) = %v, %v; want [%s]", tt.in, r, err, tt.want)
			continue
		}
		if r.timeout() != DefaultTimeout || r.attempts() != DefaultAttempts {
			t.Errorf("NewResolver(%q): timeout %v, attempts %d; want defaults", tt.in, r.timeout(), r.attempts())
		}
	}
	r, err := NewResolver([]string{"127.0.0.1", "[::1]:54"}, 3*time.Second)
	if err != nil || !slices.Equal(r.Servers, []string{"127.0.0.1:53", "[::1]:54"}) || r.Timeout != 3*time.Second {
		t.Errorf("NewResolver(two servers, 3s) = %+v, %v", r, err)
	}
}

func TestNewResolverFromConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		conf         string
		timeout      time.Duration
		wantServers  []string
		wantTimeout  time.Duration
		wantAttempts int
		wantErr      error
	}{
		{
			name: "servers and options",
			conf: `# generated
search example.org
nameserver 192.0.2.53
nameserver 2001:db8::53
nameserver fe80::1%eth0
nameserver 192.0.2.54
options ndots:2 timeout:3 attempts:4 rotate
`,
			wantServers:  []string{"192.0.2.53:53", "[2001:db8::53]:53", "[fe80::1%eth0]:53"},
			wantTimeout:  3 * time.Second,
			wantAttempts: 4,
		},
		{
			name:         "explicit timeout wins",
			conf:         "nameserver 127.0.0.53\noptions timeout:9\n",
			timeout:      time.Second,
			wantServers:  []string{"127.0.0.53:53"},
			wantTimeout:  time.Second,
			wantAttempts: 2,
		},
		{
			name:         "resolv.conf defaults",
			conf:         "nameserver 127.0.0.53\n",
			wantServers:  []string{"127.0.0.53:53"},
			wantTimeout:  5 * time.Second,
			wantAttempts: 2,
		},
		{
			name:    "no nameserver",
			conf:    "search example.org\n",
			wantErr: ErrNoServers,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "resolv.conf")
			if err := os.WriteFile(path, []byte(tt.conf), 0o644); err != nil {
				t.Fatal(err)
			}
			r, err := NewResolverFromConfig(path, tt.timeout)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) || !strings.Contains(err.Error(), "--resolver") {
					t.Errorf("NewResolverFromConfig error = %v, want %v with a --resolver hint", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(r.Servers, tt.wantServers) || r.timeout() != tt.wantTimeout || r.attempts() != tt.wantAttempts {
				t.Errorf("NewResolverFromConfig = %q, %v, %d; want %q, %v, %d",
					r.Servers, r.timeout(), r.attempts(), tt.wantServers, tt.wantTimeout, tt.wantAttempts)
			}
		})
	}
	_, err := NewResolverFromConfig(filepath.Join(t.TempDir(), "missing"), 0)
	if err == nil || !strings.Contains(err.Error(), "--resolver") {
		t.Errorf("NewResolverFromConfig(missing file) error = %v, want an error with a --resolver hint", err)
	}
}

func BenchmarkLookupMXCached(b *testing.B) {
	f := newFake(b, `
		d.test. MX 10 mx.d.test.
		mx.d.test. A 127.0.0.1`)
	r := newTestResolver(f.start(b))
	ctx := context.Background()
	if _, err := r.LookupMX(ctx, "d.test"); err != nil {
		b.Fatal(err)
	}
	for _, name := range []string{"d.test", "D.Test."} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := r.LookupMX(ctx, name); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func hostNames(hs []Host) []string {
	var names []string
	for _, h := range hs {
		names = append(names, h.Name)
	}
	return names
}
