package verify

import (
	"fmt"
	"net/netip"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/everify/everify/internal/dnsname"
	"golang.org/x/net/idna"
	"golang.org/x/text/unicode/norm"
)

// The domain part of an address: address literals, IDNA (UTS #46 mapping, then
// IDNA2008 validation) and the special-use names.

// idnaProfile is the mapping step of UTS #46 lookup processing (RFC 5891 §5): case
// folding, width, NFC, ideographic full stops, and the decoding of A-labels, with
// UTS #46's own validity table. What it lets through is then held to IDNA2008 by
// checkULabel and checkBidi, which say which code point or label is wrong, and by
// idnaRegistration, the backstop: UTS #46 accepts symbols and emoji that IDNA2008
// disallows. DNS lengths are checked by dnsname.Check on the A-label form, for messages
// that say which label is too long and by how much.
var idnaProfile = idna.New(
	idna.MapForLookup(),
	idna.Transitional(false),
	idna.ValidateLabels(true),
	idna.StrictDomainName(true),
	idna.CheckHyphens(false),
	idna.CheckJoiners(false),
)

// ParseOptions tunes [ParseAddress]. The zero value is the default policy (README, Syntax policy).
type ParseOptions struct {
	// AllowIPLiteral accepts address-literal domains, user@[192.0.2.1] and
	// user@[IPv6:2001:db8::1] (RFC 5321 §4.1.3). Default false: they are invalid, since
	// in real lists they are junk.
	AllowIPLiteral bool
}

// parseLiteral parses an RFC 5321 §4.1.3 address literal, "[" IPv4 "]" or
// "[IPv6:" IPv6 "]", and returns its canonical text and address, or an error message.
func parseLiteral(d string) (string, netip.Addr, string) {
	end := strings.IndexByte(d, ']')
	if end < 0 {
		return "", netip.Addr{}, "unterminated address literal: missing ']'"
	}
	if end != len(d)-1 {
		return "", netip.Addr{}, fmt.Sprintf("unexpected text after address literal: %q", dnsname.Truncate(d[end+1:]))
	}
	inner := d[1:end]
	if tag, text, ok := strings.Cut(inner, ":"); ok {
		if !strings.EqualFold(tag, "IPv6") {
			if a, err := netip.ParseAddr(inner); err == nil && a.Is6() {
				return "", netip.Addr{}, "IPv6 address literal needs the IPv6: tag, e.g. [IPv6:2001:db8::1]"
			}
			return "", netip.Addr{}, fmt.Sprintf("general address literal %q is not supported", dnsname.Truncate(d))
		}
		a, err := netip.ParseAddr(text)
		if err != nil || !a.Is6() || a.Zone() != "" {
			return "", netip.Addr{}, fmt.Sprintf("invalid IPv6 address literal %q", dnsname.Truncate(d))
		}
		return "[IPv6:" + a.String() + "]", a, ""
	}
	a, err := netip.ParseAddr(inner)
	if err != nil || !a.Is4() {
		return "", netip.Addr{}, fmt.Sprintf("invalid IPv4 address literal %q", dnsname.Truncate(d))
	}
	if text := a.String(); text != inner {
		return "[" + text + "]", a, ""
	}
	return d, a, ""
}

// parseDomain checks a domain name and returns its Unicode and A-label forms, both
// lower-case, or an error message. Plain lower-case LDH names skip IDNA processing and
// allocate nothing.
func parseDomain(d string) (unicodeForm, asciiForm, msg string) {
	if d == "" {
		return "", "", "empty domain"
	}
	ascii, upper := true, false
	for i := 0; i < len(d); i++ {
		switch c := d[i]; {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '.':
		case 'A' <= c && c <= 'Z':
			upper = true
		case c >= utf8.RuneSelf:
			ascii = false
		case c == '@':
			return "", "", "more than one @ (an @ in the local part must be quoted)"
		case c == '(':
			return "", "", "comments are not allowed"
		default:
			return "", "", fmt.Sprintf("invalid character %s in domain", runeName(rune(c)))
		}
	}
	if ascii {
		if upper {
			d = strings.ToLower(d)
		}
		needIDNA, msg := dnsname.Check(d)
		if msg != "" {
			return "", "", msg
		}
		if !needIDNA {
			return d, d, ""
		}
	}
	// UTS #46 processing maps (case folding, NFC, full-width and ideographic full stops
	// to '.'), validates U-labels and decodes xn-- labels.
	a, err := idnaProfile.ToASCII(d)
	if err != nil {
		return "", "", "invalid domain name: " + err.Error()
	}
	if _, msg := dnsname.Check(a); msg != "" {
		return "", "", msg
	}
	u, err := idnaProfile.ToUnicode(a)
	if err != nil {
		return "", "", "invalid domain name: " + err.Error()
	}
	// Both forms are normally NFC and lower-case already; this keeps the promise
	// explicit, and the round trip below catches anything the conversion would undo.
	u = strings.ToLower(norm.NFC.String(u))
	for rest := u; rest != ""; {
		var label string
		label, rest, _ = strings.Cut(rest, ".")
		if msg := checkULabel(label); msg != "" {
			return "", "", msg
		}
	}
	if msg := checkBidi(u); msg != "" {
		return "", "", msg
	}
	back, err := idnaRegistration.ToASCII(u)
	if err != nil {
		return "", "", "invalid domain name: " + err.Error()
	}
	if back != a {
		return "", "", fmt.Sprintf("invalid domain name: %q does not survive IDNA round trip", dnsname.Truncate(u))
	}
	return u, a, ""
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// runeName formats r for an error message: U+002C ',' for visible characters, U+0020
// for the rest, so that invisible ones are not lost.
func runeName(r rune) string {
	if r > ' ' && unicode.IsPrint(r) {
		return fmt.Sprintf("%U %q", r, r)
	}
	return fmt.Sprintf("%U", r)
}

// reservedNames are special-use domain names; they and their subdomains never receive
// mail. RFC 2606 and RFC 6761: test, example, invalid, localhost, and example.com,
// example.net, example.org; RFC 6762: local; RFC 7686: onion; RFC 8375: home.arpa;
// RFC 9476: alt. The last group are the IDN test top-level domains ("test" in eleven
// scripts; IANA's 2007 IDN evaluation, removed from the root in 2013 and not
// delegatable), such as テスト in 例え.テスト.
var reservedNames = []string{
	"test", "example", "invalid", "localhost",
	"example.com", "example.net", "example.org",
	"local", "onion", "home.arpa", "alt",
	"xn--kgbechtv",       // إختبار
	"xn--hgbk6aj7f53bba", // آزمایشی
	"xn--0zwm56d",        // 测试
	"xn--g6w251d",        // 測試
	"xn--80akhbyknj4f",   // испытание
	"xn--11b5bs3a9aj6g",  // परीक्षा
	"xn--jxalpdlp",       // δοκιμή
	"xn--9t4b11yi5a",     // 테스트
	"xn--deba0ad",        // טעסט
	"xn--zckzah",         // テスト
	"xn--hlcj6aya9esc7a", // பரிட்சை
}

// IsReservedDomain reports whether asciiDomain, a domain in A-label form such as
// [Syntax.ASCIIDomain], is or is under a special-use name that never receives mail:
// RFC 2606 and RFC 6761 (.test, .example, .invalid, .localhost, example.com, example.net,
// example.org), RFC 6762 (.local), RFC 7686 (.onion), RFC 8375 (home.arpa), RFC 9476
// (.alt) and the IDN test top-level domains such as テスト (xn--zckzah). Case and one
// trailing dot are ignored. Unicode (U-label) names are not recognized.
func IsReservedDomain(asciiDomain string) bool {
	d := strings.TrimSuffix(asciiDomain, ".")
	for i := 0; i < len(d); i++ {
		if 'A' <= d[i] && d[i] <= 'Z' {
			d = strings.ToLower(d)
			break
		}
	}
	for _, name := range reservedNames {
		if len(d) == len(name) && d == name {
			return true
		}
		if len(d) > len(name) && d[len(d)-len(name)-1] == '.' && strings.HasSuffix(d, name) {
			return true
		}
	}
	return false
}
