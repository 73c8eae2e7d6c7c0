package verify_test

import (
	"context"
	"testing"
	"time"

	"github.com/everify/everify/dnscheck"
	"github.com/everify/everify/internal/fakes"
	"github.com/everify/everify/verify"
)

// TestDisallowedDomainNoDNS: an address whose domain IDNA2008 disallows is
// invalid_syntax, with a message naming the code point, and costs no DNS query, though
// the name (as UTS #46 alone would encode it) has records.
func TestDisallowedDomainNoDNS(t *testing.T) {
	d := fakes.NewDNS(t)
	for _, name := range []string{"xn--n3h.net", "xn--ls8h.la", "xn--bcher-kva.zz"} {
		d.MX(name, 10, "mx."+name)
		d.A("mx."+name, "127.0.0.250")
	}
	v := &verify.Verifier{DNS: &dnscheck.Resolver{Servers: []string{d.Addr()}, Timeout: time.Second, Attempts: 1}}
	defer v.Close()
	for _, tt := range []struct{ addr, msg string }{
		{"user@☃.net", "domain contains U+2603 '☃' SNOWMAN, which IDNA2008 disallows (RFC 5892)"},
		{"user@xn--ls8h.la", "domain contains U+1F4A9 '💩' PILE OF POO, which IDNA2008 disallows (RFC 5892)"},
	} {
		r, err := v.Verify(context.Background(), tt.addr)
		if err != nil {
			t.Fatal(err)
		}
		if r.Reason != verify.ReasonInvalidSyntax || r.Syntax.Error != tt.msg {
			t.Errorf("Verify(%q) = %s %q, want invalid_syntax %q", tt.addr, r.Reason, r.Syntax.Error, tt.msg)
		}
	}
	if n := d.Queries(); n != 0 {
		t.Errorf("%d DNS queries for disallowed domains, want 0", n)
	}
	// The same server does see a permitted IDN domain.
	if r, _ := v.Verify(context.Background(), "user@bücher.zz"); r.Reason != verify.ReasonSMTPSkipped || d.Queries() == 0 {
		t.Errorf("Verify(user@bücher.zz) = %s after %d queries, want smtp_skipped after some", r.Reason, d.Queries())
	}
}
