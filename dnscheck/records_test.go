package dnscheck

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"testing"

	"github.com/miekg/dns"
)

func TestLookupRecords(t *testing.T) {
	t.Parallel()
	f := newFake(t, `
example.org. 300 IN TXT "v=spf1 include:_spf.example.net" " -all"
example.org. 300 IN TXT "google-site-verification=x"
alias.example.org. 300 IN CNAME example.org.
mx.example.org. 300 IN A 192.0.2.1
mx.example.org. 300 IN A 192.0.2.2
mx.example.org. 300 IN AAAA 2001:db8::1
1.2.0.192.in-addr.arpa. 300 IN PTR MX.example.org.
`)
	f.rcode = map[string]int{"broken.example.org.": dns.RcodeServerFailure}
	r := newTestResolver(f.start(t))
	ctx := context.Background()

	txt, err := r.LookupTXT(ctx, "Example.org.")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"v=spf1 include:_spf.example.net -all", "google-site-verification=x"}; !slices.Equal(txt.Values, want) || txt.NXDomain {
		t.Errorf("TXT = %+v, want %q", txt, want)
	}
	if viaCNAME, err := r.LookupTXT(ctx, "alias.example.org"); err != nil || len(viaCNAME.Values) != 2 {
		t.Errorf("TXT through CNAME = %+v, %v", viaCNAME, err)
	}
	if nx, err := r.LookupTXT(ctx, "missing.example.org"); err != nil || !nx.NXDomain || len(nx.Values) != 0 {
		t.Errorf("TXT missing = %+v, %v; want NXDomain", nx, err)
	}
	if nodata, err := r.LookupTXT(ctx, "mx.example.org"); err != nil || nodata.NXDomain || len(nodata.Values) != 0 {
		t.Errorf("TXT nodata = %+v, %v; want empty, not NXDomain", nodata, err)
	}
	var de *Error
	if _, err := r.LookupTXT(ctx, "broken.example.org"); !errors.As(err, &de) || de.Rcode != dns.RcodeServerFailure {
		t.Errorf("TXT SERVFAIL err = %v, want *Error with SERVFAIL", err)
	}

	a, err := r.LookupA(ctx, "mx.example.org")
	if err != nil || !slices.Equal(a.Values, []string{"192.0.2.1", "192.0.2.2"}) {
		t.Errorf("A = %+v, %v", a, err)
	}
	aaaa, err := r.LookupAAAA(ctx, "mx.example.org")
	if err != nil || !slices.Equal(aaaa.Values, []string{"2001:db8::1"}) {
		t.Errorf("AAAA = %+v, %v", aaaa, err)
	}
	ptr, err := r.LookupPTR(ctx, netip.MustParseAddr("192.0.2.1"))
	if err != nil || !slices.Equal(ptr.Values, []string{"mx.example.org"}) {
		t.Errorf("PTR = %+v, %v", ptr, err)
	}
	if ptr, err := r.LookupPTR(ctx, netip.MustParseAddr("192.0.2.9")); err != nil || !ptr.NXDomain {
		t.Errorf("PTR missing = %+v, %v; want NXDomain", ptr, err)
	}

	// Cached: asking again sends nothing.
	n := r.Queries()
	r.LookupTXT(ctx, "example.org")
	r.LookupPTR(ctx, netip.MustParseAddr("192.0.2.1"))
	if r.Queries() != n {
		t.Errorf("repeated lookups sent %d queries, want 0", r.Queries()-n)
	}
}
