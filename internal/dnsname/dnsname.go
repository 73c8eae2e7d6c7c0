// Package dnsname is everify's one checker of domain-name labels: the rules a mail
// domain must follow (verify's syntax stage, the reference lists, typo suggestions) and
// the looser ones of a name that may be looked up in DNS (dnscheck, where _dmarc and
// single-label names are fine).
package dnsname

import (
	"fmt"
	"net/netip"
	"strings"
	"unicode/utf8"
)

// Limits of RFC 1035 §2.3.4, the name limit as narrowed by RFC 5321 §4.5.3.1.2 to what
// fits a path.
const (
	MaxName  = 253
	MaxLabel = 63
)

// Check reports what is wrong with d, a lower-case ASCII domain name, as the domain of
// a mail address, or "" when nothing is: no empty labels, no leading or trailing dot,
// labels of 1 to 63 octets in LDH form (RFC 1035 §2.3.1) without "--" in positions 3
// and 4 unless they are "xn--" A-labels (RFC 5891 §4.2.3.1), at least two labels, a
// top-level label not all digits, 253 octets at most. idn reports an xn-- label, which
// the caller must validate as an A-label.
func Check(d string) (idn bool, msg string) { return check(d, false) }

// Valid reports whether [Check] finds nothing wrong with d.
func Valid(d string) bool {
	_, msg := check(d, false)
	return msg == ""
}

// Plain reports whether d is [Valid] and has no A-label (IDN) among its labels.
func Plain(d string) bool {
	idn, msg := check(d, false)
	return msg == "" && !idn
}

// CheckLookup reports what is wrong with name (lower-case, without trailing dot) as a
// name to send to a DNS server, or "" when nothing is: labels of 1 to 63 octets of
// printable ASCII other than '\' (so service labels such as _dmarc pass, and so does a
// single label), 253 octets at most.
func CheckLookup(name string) string {
	_, msg := check(name, true)
	return msg
}

func check(d string, lookup bool) (idn bool, msg string) {
	switch {
	case d == "":
		return false, "empty domain"
	case d[0] == '.':
		return false, "domain starts with a dot"
	case d[len(d)-1] == '.':
		return false, "domain ends with a dot"
	case len(d) > MaxName:
		return false, fmt.Sprintf("domain is %d octets, limit %d", len(d), MaxName)
	}
	labels := 0
	var label string
	for rest := d; rest != ""; {
		label, rest, _ = strings.Cut(rest, ".")
		labels++
		switch {
		case label == "":
			return false, "consecutive dots in domain"
		case len(label) > MaxLabel:
			return false, fmt.Sprintf("domain label %q is %d octets, limit %d", Truncate(label), len(label), MaxLabel)
		case lookup:
			if i := strings.IndexFunc(label, func(c rune) bool { return c <= ' ' || c > '~' || c == '\\' }); i >= 0 {
				return false, fmt.Sprintf("domain label %q has character %q", Truncate(label), label[i])
			}
			continue
		case label[0] == '-':
			return false, fmt.Sprintf("domain label %q starts with a hyphen", Truncate(label))
		case label[len(label)-1] == '-':
			return false, fmt.Sprintf("domain label %q ends with a hyphen", Truncate(label))
		case len(label) >= 4 && label[2] == '-' && label[3] == '-':
			if !strings.HasPrefix(label, "xn--") {
				return false, fmt.Sprintf("domain label %q has \"--\" in positions 3 and 4", Truncate(label))
			}
			idn = true
		}
		for i := 0; i < len(label); i++ {
			if c := label[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return false, fmt.Sprintf("domain label %q has character %q", Truncate(label), c)
			}
		}
	}
	if lookup {
		return false, ""
	}
	if labels < 2 {
		return false, fmt.Sprintf("domain %q has a single label", Truncate(d))
	}
	if strings.Trim(label, "0123456789") == "" {
		if a, err := netip.ParseAddr(d); err == nil && a.Is4() {
			return false, fmt.Sprintf("domain is an IP address; address literals are written in brackets, e.g. [%s]", d)
		}
		return false, fmt.Sprintf("top-level domain %q is all-numeric", label)
	}
	return idn, ""
}

// Truncate shortens s for an error message, on a rune boundary.
func Truncate(s string) string {
	const max = 24
	if len(s) <= max {
		return s
	}
	i := max - 4
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "…"
}
