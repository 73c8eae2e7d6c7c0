package verify

import (
	"strings"
	"testing"
)

func TestMatcher(t *testing.T) {
	m, err := LoadMatcher(strings.NewReader(`# allow file
Jane.Doe@Example.com
vip@partner.example
blocked.example
@at-form.example
*.star.example
IDN.xn--bcher-kva.example

`))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		local, domain string
		want          bool
	}{
		{"Jane.Doe", "example.com", true},
		{"jane.doe", "EXAMPLE.COM", true}, // whole address lower-cased
		{"john", "example.com", false},    // the address, not its domain
		{"vip", "partner.example", true},
		{"vip", "sub.partner.example", false}, // addresses match exactly
		{"anyone", "blocked.example", true},   // domain entry
		{"anyone", "mx.blocked.example", true},
		{"anyone", "notblocked.example", false}, // label boundary
		{"x", "at-form.example", true},
		{"x", "a.b.at-form.example", true},
		{"x", "star.example", true}, // *.domain also covers the domain
		{"x", "deep.star.example", true},
		{"x", "idn.xn--bcher-kva.example", true},
		{"x", "example", false},
		{"x", "other.test", false},
	}
	for _, tt := range tests {
		if got := m.Match(tt.local, tt.domain); got != tt.want {
			t.Errorf("Match(%q, %q) = %v, want %v", tt.local, tt.domain, got, tt.want)
		}
	}
	var nilM *Matcher
	if nilM.Match("jane", "example.com") {
		t.Error("nil *Matcher matched")
	}

	for _, in := range []string{"ok.example\nbad entry\n", "jane@\n", "*.\n", "@\n", "a..b\n", "x@localhost\n", "a*b.example\n"} {
		if _, err := LoadMatcher(strings.NewReader(in)); err == nil {
			t.Errorf("LoadMatcher(%q) succeeded, want error", in)
		} else if !strings.Contains(err.Error(), "line ") {
			t.Errorf("LoadMatcher(%q) error %q does not name the line", in, err)
		}
	}
}
