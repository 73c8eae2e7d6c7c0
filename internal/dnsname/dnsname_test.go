package dnsname

import (
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	for _, tt := range []struct {
		d          string
		idn, valid bool
		lookup     bool // CheckLookup accepts it
	}{
		{"example.com", false, true, true},
		{"a.b.c.example.co.uk", false, true, true},
		{"xn--bcher-kva.de", true, true, true},
		{"1e100.net", false, true, true},
		{"com", false, false, true},
		{"_dmarc.example.com", false, false, true},
		{"-a.com", false, false, true},
		{"a-.com", false, false, true},
		{"ab--cd.com", false, false, true},
		{"a..com", false, false, false},
		{".a.com", false, false, false},
		{"a.com.", false, false, false},
		{"", false, false, false},
		{"a b.com", false, false, false},
		{`a\.com`, false, false, false},
		{"bücher.de", false, false, false},
		{"example.123", false, false, true},
		{"192.0.2.1", false, false, true},
		{strings.Repeat("a", 64) + ".com", false, false, false},
		{strings.Repeat("a.", 126) + "com", false, false, false}, // 255 octets
	} {
		idn, msg := Check(tt.d)
		if (msg == "") != tt.valid || idn != tt.idn {
			t.Errorf("Check(%q) = %v, %q; want idn %v, valid %v", tt.d, idn, msg, tt.idn, tt.valid)
		}
		if Valid(tt.d) != tt.valid || Plain(tt.d) != (tt.valid && !tt.idn) {
			t.Errorf("Valid/Plain(%q) disagree with Check", tt.d)
		}
		if got := CheckLookup(tt.d); (got == "") != tt.lookup {
			t.Errorf("CheckLookup(%q) = %q, want ok %v", tt.d, got, tt.lookup)
		}
	}
}

func TestCheckMessages(t *testing.T) {
	for d, want := range map[string]string{
		"192.0.2.1":                       "domain is an IP address; address literals are written in brackets, e.g. [192.0.2.1]",
		"a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p": "",
		"x.123":                           `top-level domain "123" is all-numeric`,
		"localhost":                       `domain "localhost" has a single label`,
	} {
		if _, got := Check(d); got != want {
			t.Errorf("Check(%q) = %q, want %q", d, got, want)
		}
	}
	if got := Truncate(strings.Repeat("é", 20)); got != strings.Repeat("é", 10)+"…" {
		t.Errorf("Truncate cut a rune: %q", got)
	}
}
