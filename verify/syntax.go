package verify

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/everify/everify/internal/dnsname"
)

// Length limits, in octets (bytes of UTF-8).
const (
	// maxLocalOctets is the local-part limit of RFC 5321 §4.5.3.1.1.
	maxLocalOctets = 64
	// maxAddressOctets is the path limit of RFC 5321 §4.5.3.1.3 (256 octets) less the
	// angle brackets.
	maxAddressOctets = 254
	// maxInputOctets bounds one input cell before any parsing, so that a pasted
	// paragraph or a 40 KB CSV cell is rejected in constant time. It leaves room for a
	// long display name around a maximal address.
	maxInputOctets = 1024
)

// ParseAddress parses one input cell or argument as an RFC 5321 mailbox, with the
// RFC 6531 (SMTPUTF8) extensions and IDNA domains, and returns its [Syntax]. It never
// panics and never fails: an invalid address gives Valid false and a precise Error,
// with the other fields empty.
//
// Accepted forms are addr, <addr>, Name <addr> and "Quoted Name" <addr>, with
// surrounding white space (and a byte order mark) ignored. RFC 5322 obsolete syntax
// is invalid: comments, folding white space, white space inside the address, a quoted
// string that is only part of the local part, source routes.
//
// The result is normalized so that ParseAddress(s.Email()) gives s again:
//   - the local part keeps its case (RFC 5321 §2.4), is NFC-normalized (RFC 6532 §3.1),
//     and is quoted only when it is not a dot-atom, with quoted pairs only for '"' and
//     '\' ("john"@x becomes john@x);
//   - the domain is lower-cased; Domain is its Unicode form and ASCIIDomain its A-label
//     form (UTS #46 lookup processing, RFC 5891);
//   - an address literal (only with [ParseOptions.AllowIPLiteral]) is written in the
//     canonical text form of its IP address, and Literal holds the address.
//
// Lengths are counted in octets: local part ≤ 64, A-label domain ≤ 253 and its labels
// ≤ 63, local@A-label-domain ≤ 254. A domain must have two labels or more, LDH labels
// without a leading or trailing hyphen or "--" in positions 3 and 4 (except valid
// "xn--" A-labels), and a top-level label that is not all digits. A trailing dot
// (user@example.com.) is invalid rather than stripped: it never appears in a real
// address, so in a list it marks a damaged entry. Reserved names (see
// [IsReservedDomain]) are syntactically valid.
func ParseAddress(input string, opts ParseOptions) Syntax {
	if len(input) > maxInputOctets {
		return invalid(fmt.Sprintf("input is %d octets, limit %d", len(input), maxInputOctets))
	}
	if !utf8.ValidString(input) {
		for i := 0; i < len(input); {
			r, n := utf8.DecodeRuneInString(input[i:])
			if r == utf8.RuneError && n == 1 {
				return invalid(fmt.Sprintf("invalid UTF-8: byte 0x%02X at offset %d", input[i], i))
			}
			i += n
		}
	}
	s := input
	if s != "" && (s[0] <= ' ' || s[0] >= utf8.RuneSelf || s[len(s)-1] <= ' ' || s[len(s)-1] >= utf8.RuneSelf) {
		s = strings.TrimFunc(s, isTrimmable)
	}
	if s == "" {
		return invalid("empty address")
	}
	spec, msg := stripDisplayName(s)
	if msg != "" {
		return invalid(msg)
	}
	return parseAddrSpec(spec, opts)
}

// invalid returns the Syntax of an address rejected for reason msg.
func invalid(msg string) Syntax { return Syntax{Error: msg} }

// isTrimmable reports whether r may surround an address: white space, and the byte
// order mark that spreadsheet exports put before the first cell.
func isTrimmable(r rune) bool { return unicode.IsSpace(r) || r == '\uFEFF' }

// stripDisplayName returns the addr-spec of s, which is either an addr-spec or a
// name-addr ([display-name] "<" addr-spec ">", RFC 5322 §3.4), or an error message.
func stripDisplayName(s string) (spec, msg string) {
	lt := -1
	if strings.IndexByte(s, '<') >= 0 {
		lt = indexUnquoted(s, '<')
	}
	if lt < 0 {
		// An addr-spec; a stray '>' is reported by the addr-spec scanner.
		return s, ""
	}
	if msg := checkDisplayName(s[:lt]); msg != "" {
		return "", msg
	}
	rest := s[lt+1:]
	gt := indexUnquoted(rest, '>')
	if gt < 0 {
		return "", "missing closing '>'"
	}
	if after := strings.TrimLeftFunc(rest[gt+1:], isTrimmable); after != "" {
		if after[0] == '(' {
			return "", "comments are not allowed"
		}
		return "", fmt.Sprintf("unexpected text after '>': %q", dnsname.Truncate(after))
	}
	spec = rest[:gt]
	switch {
	case spec == "":
		return "", "empty address in angle brackets"
	case spec[0] == ' ' || spec[0] == '\t' || spec[len(spec)-1] == ' ' || spec[len(spec)-1] == '\t':
		// RFC 5321 §4.1.2 Path has no white space inside the brackets.
		return "", "white space inside angle brackets"
	case spec[0] == '@':
		return "", "source routes are not allowed"
	}
	return spec, ""
}

// indexUnquoted returns the index of the first c in s outside double quotes, or -1.
// Inside quotes a backslash escapes the next byte. c must be ASCII.
func indexUnquoted(s string, c byte) int {
	quoted := false
	for i := 0; i < len(s); i++ {
		switch b := s[i]; {
		case quoted && b == '\\':
			i++
		case b == '"':
			quoted = !quoted
		case b == c && !quoted:
			return i
		}
	}
	return -1
}

// checkDisplayName checks a display name (RFC 5322 §3.4 phrase, plus the '.' of
// obs-phrase that real names such as "John Q. Public" use) and returns an error
// message, or "" when it is acceptable. The name itself is discarded.
func checkDisplayName(name string) string {
	for i := 0; i < len(name); {
		c := name[i]
		switch {
		case c == ' ' || c == '\t' || c == '.' || isAtext(c):
			i++
		case c == '"':
			j, msg := skipQuotedName(name, i)
			if msg != "" {
				return msg
			}
			i = j
		case c == '(':
			return "comments are not allowed"
		case c < ' ' || c == 0x7f:
			return fmt.Sprintf("invalid character %s in display name", runeName(rune(c)))
		case c < utf8.RuneSelf:
			return fmt.Sprintf("invalid character %s in display name (quote the name)", runeName(rune(c)))
		default:
			r, n := utf8.DecodeRuneInString(name[i:])
			if unicode.IsControl(r) {
				return fmt.Sprintf("invalid character %s in display name", runeName(r))
			}
			i += n
		}
	}
	return ""
}

// skipQuotedName skips the quoted string that starts at name[i] and returns the index
// after its closing quote, or an error message.
func skipQuotedName(name string, i int) (int, string) {
	for i++; i < len(name); {
		c := name[i]
		switch {
		case c == '"':
			return i + 1, ""
		case c == '\\' && i+1 < len(name) && name[i+1] >= ' ' && name[i+1] != 0x7f:
			_, n := utf8.DecodeRuneInString(name[i+1:])
			i += 1 + n
		case c == '\t' || (c >= ' ' && c < 0x7f && c != '\\'):
			i++
		case c < utf8.RuneSelf:
			return 0, fmt.Sprintf("invalid character %s in display name", runeName(rune(c)))
		default:
			r, n := utf8.DecodeRuneInString(name[i:])
			if unicode.IsControl(r) {
				return 0, fmt.Sprintf("invalid character %s in display name", runeName(r))
			}
			i += n
		}
	}
	return 0, "unterminated quoted string in display name"
}

// parseAddrSpec parses local-part "@" domain (RFC 5321 §4.1.2 Mailbox).
func parseAddrSpec(s string, opts ParseOptions) Syntax {
	if strings.IndexByte(s, '@') < 0 {
		return invalid("missing @")
	}
	var (
		content string // the local part's value, unquoted and unescaped
		rest    string // "@" domain
		msg     string
	)
	if s[0] == '"' {
		var n int
		content, n, msg = scanQuotedLocal(s)
		if msg != "" {
			return invalid(msg)
		}
		rest = s[n:]
		switch {
		case rest == "":
			return invalid("missing @")
		case rest[0] == '@':
		case rest[0] == '.':
			// obs-local-part ("a".b), RFC 5322 §4.4.
			return invalid("quoted string must be the whole local part")
		case rest[0] == '(':
			return invalid("comments are not allowed")
		default:
			r, _ := utf8.DecodeRuneInString(rest)
			return invalid(fmt.Sprintf("invalid character %s after quoted local part", runeName(r)))
		}
	} else {
		var at int
		at, msg = scanDotString(s)
		if msg != "" {
			return invalid(msg)
		}
		content, rest = s[:at], s[at:]
	}
	if content == "" {
		return invalid("empty local part")
	}

	given := s[:len(s)-len(rest)]
	local, msg := canonicalLocal(content, given)
	if msg != "" {
		return invalid(msg)
	}
	// The limit counts the local part as written, quotes and backslashes included (a
	// quoted string of 63 letters is 65 octets), or as normalized when that is longer.
	localOctets := max(len(given), len(local))
	if localOctets > maxLocalOctets {
		return invalid(fmt.Sprintf("local part is %d octets, limit %d", localOctets, maxLocalOctets))
	}

	syn := Syntax{Local: local, SMTPUTF8: !isASCII(local)}
	domain := rest[1:]
	if domain != "" && domain[0] == '[' {
		syn.Domain, syn.Literal, msg = parseLiteral(domain)
		if msg == "" && !opts.AllowIPLiteral {
			msg = "address literals are not allowed (use --allow-ip-literal)"
		}
		syn.ASCIIDomain = syn.Domain
	} else {
		syn.Domain, syn.ASCIIDomain, msg = parseDomain(domain)
	}
	if msg != "" {
		return invalid(msg)
	}
	if n := localOctets + 1 + len(syn.ASCIIDomain); n > maxAddressOctets {
		return invalid(fmt.Sprintf("address is %d octets, limit %d", n, maxAddressOctets))
	}
	syn.Valid = true
	return syn
}

// scanDotString scans an RFC 5321 Dot-string local part (atoms of atext, RFC 6531
// extended with UTF8-non-ascii, joined by single dots) at the start of s and returns
// the index of the '@' that ends it, or an error message.
func scanDotString(s string) (int, string) {
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case isAtext(c):
			i++
		case c == '@':
			if i == 0 {
				return 0, "empty local part"
			}
			if s[i-1] == '.' {
				return 0, "local part ends with a dot"
			}
			return i, ""
		case c == '.':
			if i == 0 {
				return 0, "local part starts with a dot"
			}
			if s[i-1] == '.' {
				return 0, "consecutive dots in local part"
			}
			i++
		case c == '(':
			return 0, "comments are not allowed"
		case c == '"' && i > 0 && s[i-1] == '.':
			return 0, "quoted string must be the whole local part"
		case c < utf8.RuneSelf:
			return 0, fmt.Sprintf("invalid character %s in local part", runeName(rune(c)))
		default:
			r, n := utf8.DecodeRuneInString(s[i:])
			if p := localRuneProblem(r); p != "" {
				return 0, localRuneError(r, p)
			}
			i += n
		}
	}
	return 0, "missing @" // not reached: parseAddrSpec checked for '@'
}

// scanQuotedLocal scans an RFC 5321 Quoted-string (qtextSMTP, quoted-pairSMTP, and
// RFC 6531 UTF8-non-ascii) at the start of s. It returns the unescaped content, the
// index after the closing quote, or an error message.
func scanQuotedLocal(s string) (content string, end int, msg string) {
	var buf []byte // unescaped content, built only once a quoted pair is seen
	for i := 1; i < len(s); {
		c := s[i]
		switch {
		case c == '"':
			if buf == nil {
				return s[1:i], i + 1, ""
			}
			return string(buf), i + 1, ""
		case c == '\\':
			if i+1 == len(s) {
				return "", 0, "unterminated quoted string"
			}
			d := s[i+1]
			if d < ' ' || d > '~' {
				// quoted-pairSMTP = %d92 %d32-126.
				r, _ := utf8.DecodeRuneInString(s[i+1:])
				return "", 0, fmt.Sprintf("invalid quoted pair \\%s in local part", runeName(r))
			}
			if buf == nil {
				buf = append(make([]byte, 0, len(s)), s[1:i]...)
			}
			buf = append(buf, d)
			i += 2
		case c >= ' ' && c <= '~':
			if buf != nil {
				buf = append(buf, c)
			}
			i++
		case c < utf8.RuneSelf:
			return "", 0, fmt.Sprintf("invalid character %s in quoted local part", runeName(rune(c)))
		default:
			r, n := utf8.DecodeRuneInString(s[i:])
			if p := localRuneProblem(r); p != "" {
				return "", 0, localRuneError(r, p)
			}
			if buf != nil {
				buf = append(buf, s[i:i+n]...)
			}
			i += n
		}
	}
	return "", 0, "unterminated quoted string"
}

// canonicalLocal returns the canonical form of a local part whose value is content and
// whose input text was given: NFC, then the bare dot-atom when content is one, else a
// quoted string with only '"' and '\' escaped. It returns given itself when that is
// already canonical, to avoid an allocation.
func canonicalLocal(content, given string) (string, string) {
	if !isASCII(content) {
		// NFC may change which characters are present (U+037E GREEK QUESTION MARK
		// becomes ';', U+212A KELVIN SIGN 'K'), so classification happens afterwards.
		content = norm.NFC.String(content)
		if msg := checkLocalRunes(content); msg != "" {
			return "", msg
		}
	}
	if content == given && given[0] != '"' && isASCII(given) {
		return given, "" // a Dot-string as scanned: already canonical
	}
	if isDotAtom(content) {
		if content == given {
			return given, ""
		}
		return content, ""
	}
	quotes := 0
	for i := 0; i < len(content); i++ {
		if content[i] == '"' || content[i] == '\\' {
			quotes++
		}
	}
	if quotes == 0 && len(given) == len(content)+2 && given[0] == '"' && given[1:len(given)-1] == content {
		return given, ""
	}
	var b strings.Builder
	b.Grow(len(content) + 2 + quotes)
	b.WriteByte('"')
	for i := 0; i < len(content); i++ {
		if c := content[i]; c == '"' || c == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(content[i])
	}
	b.WriteByte('"')
	return b.String(), ""
}

// isDotAtom reports whether s is an RFC 5321 Dot-string: atext (RFC 6531: and
// non-ASCII) atoms joined by single dots.
func isDotAtom(s string) bool {
	if s == "" || s[0] == '.' || s[len(s)-1] == '.' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= utf8.RuneSelf || isAtext(c):
		case c == '.':
			if s[i-1] == '.' {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// isAtext reports whether c is RFC 5322 §3.2.3 atext (ALPHA DIGIT and
// !#$%&'*+-/=?^_`{|}~), which RFC 5321 §4.1.2 uses for atoms.
func isAtext(c byte) bool {
	return atextTable[c]
}

var atextTable = func() (t [256]bool) {
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
		t[c-'a'+'A'] = true
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for _, c := range "!#$%&'*+-/=?^_`{|}~" {
		t[c] = true
	}
	return t
}()
