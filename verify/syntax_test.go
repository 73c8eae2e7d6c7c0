package verify

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"unicode/utf8"
)

// Long inputs of the length tests.
var (
	local64   = strings.Repeat("a", 64)
	local65   = strings.Repeat("a", 65)
	label63   = strings.Repeat("a", 63)
	label64   = strings.Repeat("a", 64)
	domain189 = strings.Repeat("a", 63) + "." + strings.Repeat("b", 63) + "." + strings.Repeat("c", 57) + ".com" // 189 octets
	domain190 = strings.Repeat("a", 63) + "." + strings.Repeat("b", 63) + "." + strings.Repeat("c", 58) + ".com" // 190 octets
	domain253 = label63 + "." + label63 + "." + label63 + "." + strings.Repeat("d", 57) + ".com"                 // 253 octets
	domain254 = label63 + "." + label63 + "." + label63 + "." + strings.Repeat("d", 58) + ".com"                 // 254 octets
	cell40K   = strings.Repeat("x", 40<<10)
)

type parseTest struct {
	name  string
	in    string
	lit   bool   // ParseOptions.AllowIPLiteral
	email string // want Email(); "" when err is set
	ascii string // want ASCIIDomain; "" means the same as the Domain of email
	utf8  bool   // want SMTPUTF8
	err   string // want a substring of Error; "" for a valid address
}

var parseTests = []parseTest{
	// Plain dot-atoms.
	{name: "simple", in: "user@example.com", email: "user@example.com"},
	{name: "dots", in: "john.q.doe@example.com", email: "john.q.doe@example.com"},
	{name: "digits", in: "1234567890@example.com", email: "1234567890@example.com"},
	{name: "single char local", in: "a@example.com", email: "a@example.com"},
	{name: "short domain", in: "a@b.co", email: "a@b.co"},
	{name: "subdomains", in: "x@mail.eu.example.org", email: "x@mail.eu.example.org"},
	{name: "local case kept", in: "John.DOE@example.com", email: "John.DOE@example.com"},
	{name: "domain lower-cased", in: "user@EXAMPLE.Com", email: "user@example.com"},
	{name: "both cases", in: "Jane.Doe@Example.COM", email: "Jane.Doe@example.com"},
	{name: "plus tag", in: "user+tag@example.com", email: "user+tag@example.com"},
	{name: "hyphen local", in: "first-last@example.com", email: "first-last@example.com"},
	{name: "underscore local", in: "first_last@example.com", email: "first_last@example.com"},
	{name: "all atext specials", in: "!#$%&'*+-/=?^_`{|}~@example.com", email: "!#$%&'*+-/=?^_`{|}~@example.com"},
	{name: "specials with dots", in: "a.!.#.$@example.com", email: "a.!.#.$@example.com"},
	{name: "hyphen only local", in: "-@example.com", email: "-@example.com"},
	{name: "digit labels", in: "user@123.example.com", email: "user@123.example.com"},
	{name: "numeric second level", in: "user@123.com", email: "user@123.com"},
	{name: "alnum tld", in: "user@example.c0m", email: "user@example.c0m"},
	{name: "hyphen in label", in: "user@ex-ample.com", email: "user@ex-ample.com"},
	{name: "double hyphen later", in: "user@exa--mple.com", email: "user@exa--mple.com"},
	{name: "one-letter labels", in: "user@a.b", email: "user@a.b"},
	{name: "reserved is syntactically fine", in: "user@example.test", email: "user@example.test"},
	{name: "localhost subdomain", in: "user@foo.localhost", email: "user@foo.localhost"},

	// Surrounding white space.
	{name: "spaces", in: "  user@example.com  ", email: "user@example.com"},
	{name: "tab and crlf", in: "\tuser@example.com\r\n", email: "user@example.com"},
	{name: "nbsp", in: "\u00a0user@example.com\u00a0", email: "user@example.com"},
	{name: "ideographic space", in: "\u3000user@example.com", email: "user@example.com"},
	{name: "byte order mark", in: "\ufeffuser@example.com", email: "user@example.com"},
	{name: "empty", in: "", err: "empty address"},
	{name: "only spaces", in: "   \t ", err: "empty address"},
	{name: "only bom", in: "\ufeff", err: "empty address"},

	// Display names and angle brackets.
	{name: "display name", in: "Jane Doe <jane@example.com>", email: "jane@example.com"},
	{name: "spec example", in: " Jane Doe <Jane.Doe@Example.COM> ", email: "Jane.Doe@example.com"},
	{name: "quoted display name", in: `"Doe, Jane" <jane@example.com>`, email: "jane@example.com"},
	{name: "quoted name with escapes", in: `"Jane \"JD\" Doe" <jd@example.com>`, email: "jd@example.com"},
	{name: "quoted name with angle", in: `"Jane <boss>" <jane@example.com>`, email: "jane@example.com"},
	{name: "angle only", in: "<jane@example.com>", email: "jane@example.com"},
	{name: "angle with spaces around", in: "  <jane@example.com>  ", email: "jane@example.com"},
	{name: "no space before angle", in: "Jane<jane@example.com>", email: "jane@example.com"},
	{name: "dotted display name", in: "John Q. Public <jqp@example.com>", email: "jqp@example.com"},
	{name: "utf8 display name", in: "Jürgen Müller <j@example.de>", email: "j@example.de"},
	{name: "atext display name", in: "O'Brien & Co <ob@example.com>", email: "ob@example.com"},
	{name: "quoted local in angle", in: `Jane <"jane doe"@example.com>`, email: `"jane doe"@example.com`},
	{name: "angle in quoted local", in: `<"a>b"@example.com>`, email: `"a>b"@example.com`},
	{name: "tab in display name", in: "Jane\tDoe <jane@example.com>", email: "jane@example.com"},
	{name: "comma in display name", in: "Doe, Jane <jane@example.com>", err: "invalid character U+002C ',' in display name"},
	{name: "at in display name", in: "jane@example.com <jane@example.com>", err: "invalid character U+0040 '@' in display name"},
	{name: "comment in display name", in: "Jane (work) <jane@example.com>", err: "comments are not allowed"},
	{name: "folded display name", in: "Jane\r\n Doe <jane@example.com>", err: "invalid character U+000D in display name"},
	{name: "control in quoted name", in: "\"Jane\x01\" <jane@example.com>", err: "invalid character U+0001 in display name"},
	{name: "c1 control in name", in: "Jane\u0085Doe <jane@example.com>", err: "invalid character U+0085 in display name"},
	{name: "unterminated quoted name", in: `"Jane <jane@example.com>`, err: "unterminated quoted string"},
	{name: "missing closing angle", in: "Jane <jane@example.com", err: "missing closing '>'"},
	{name: "text after angle", in: "Jane <jane@example.com> extra", err: `unexpected text after '>': "extra"`},
	{name: "comment after angle", in: "<jane@example.com> (home)", err: "comments are not allowed"},
	{name: "two angle addresses", in: "<a@example.com> <b@example.com>", err: "unexpected text after '>'"},
	{name: "nested angles", in: "<<a@example.com>>", err: `unexpected text after '>': ">"`},
	{name: "angle inside angle", in: "<a<b@example.com>", err: "invalid character U+003C '<' in local part"},
	{name: "empty angles", in: "Jane <>", err: "empty address in angle brackets"},
	{name: "space inside angles", in: "< jane@example.com>", err: "white space inside angle brackets"},
	{name: "space before closing angle", in: "<jane@example.com >", err: "white space inside angle brackets"},
	{name: "source route", in: "<@relay.example.com:jane@example.com>", err: "source routes are not allowed"},
	{name: "stray closing angle", in: "jane@example.com>", err: "invalid character U+003E '>' in domain"},
	{name: "unquoted angle in local", in: "ja<ne@example.com", err: "missing closing '>'"},
	{name: "display name without address", in: "Jane Doe", err: "missing @"},

	// Quoted local parts.
	{name: "quoted dot-atom unquoted", in: `"john"@example.com`, email: "john@example.com"},
	{name: "quoted dotted unquoted", in: `"john.doe"@example.com`, email: "john.doe@example.com"},
	{name: "quoted specials unquoted", in: `"a+b!c"@example.com`, email: "a+b!c@example.com"},
	{name: "needless escape removed", in: `"j\ohn"@example.com`, email: "john@example.com"},
	{name: "quoted space kept", in: `"john doe"@example.com`, email: `"john doe"@example.com`},
	{name: "escaped space unescaped", in: `"john\ doe"@example.com`, email: `"john doe"@example.com`},
	{name: "escaped quote kept", in: `"john\"doe"@example.com`, email: `"john\"doe"@example.com`},
	{name: "escaped backslash kept", in: `"john\\doe"@example.com`, email: `"john\\doe"@example.com`},
	{name: "quoted double dot", in: `"john..doe"@example.com`, email: `"john..doe"@example.com`},
	{name: "quoted leading dot", in: `".john"@example.com`, email: `".john"@example.com`},
	{name: "quoted trailing dot", in: `"john."@example.com`, email: `"john."@example.com`},
	{name: "quoted at", in: `"a@b"@example.com`, email: `"a@b"@example.com`},
	{name: "quoted comma", in: `"a,b"@example.com`, email: `"a,b"@example.com`},
	{name: "quoted parens", in: `"(x)"@example.com`, email: `"(x)"@example.com`},
	{name: "quoted brackets", in: `"[a]"@example.com`, email: `"[a]"@example.com`},
	{name: "quoted only space", in: `" "@example.com`, email: `" "@example.com`},
	{name: "quoted only quote", in: `"\""@example.com`, email: `"\""@example.com`},
	{name: "quoted dot", in: `"."@example.com`, email: `"."@example.com`},
	{name: "quoted utf8 unquoted", in: `"üser"@example.com`, email: "üser@example.com", utf8: true},
	{name: "quoted utf8 with space", in: `"ü b"@example.com`, email: `"ü b"@example.com`, utf8: true},
	{name: "quoted upper domain", in: `"a b"@EXAMPLE.COM`, email: `"a b"@example.com`},
	{name: "empty quoted", in: `""@example.com`, err: "empty local part"},
	{name: "quoted then dot", in: `"a"."b"@example.com`, err: "quoted string must be the whole local part"},
	{name: "atom then quoted", in: `a."b"@example.com`, err: "quoted string must be the whole local part"},
	{name: "quoted then atom", in: `"a"b@example.com`, err: "invalid character U+0062 'b' after quoted local part"},
	{name: "quoted then space", in: `"a" @example.com`, err: "invalid character U+0020 after quoted local part"},
	{name: "quoted then comment", in: `"a"(x)@example.com`, err: "comments are not allowed"},
	{name: "quoted tab", in: "\"a\tb\"@example.com", err: "invalid character U+0009 in quoted local part"},
	{name: "quoted nul", in: "\"a\x00b\"@example.com", err: "invalid character U+0000 in quoted local part"},
	{name: "quoted crlf", in: "\"a\r\nb\"@example.com", err: "invalid character U+000D in quoted local part"},
	{name: "quoted del", in: "\"a\x7fb\"@example.com", err: "invalid character U+007F in quoted local part"},
	{name: "quoted pair of control", in: "\"a\\\x01\"@example.com", err: "invalid quoted pair \\U+0001 in local part"},
	{name: "quoted pair of utf8", in: `"a\ü"@example.com`, err: "invalid quoted pair \\U+00FC 'ü' in local part"},
	{name: "quoted nbsp", in: "\"a\u00a0b\"@example.com", err: "local part contains U+00A0 NO-BREAK SPACE, a space character"},
	{name: "unterminated quoted", in: `"abc@example.com`, err: "unterminated quoted string"},
	{name: "unterminated by escape", in: `"abc@example.com\`, err: "unterminated quoted string"},
	{name: "quoted without at", in: `"abc"`, err: "missing @"},
	{name: "quoted at only inside", in: `"a@b"`, err: "missing @"},
	{name: "quoted in middle", in: `a"b"c@example.com`, err: "invalid character U+0022 '\"' in local part"},

	// Local part errors.
	{name: "leading dot", in: ".john@example.com", err: "local part starts with a dot"},
	{name: "trailing dot", in: "john.@example.com", err: "local part ends with a dot"},
	{name: "double dot", in: "jo..hn@example.com", err: "consecutive dots in local part"},
	{name: "only dot", in: ".@example.com", err: "local part starts with a dot"},
	{name: "space in local", in: "john doe@example.com", err: "invalid character U+0020 in local part"},
	{name: "obs dot space", in: "a. b@example.com", err: "invalid character U+0020 in local part"},
	{name: "obs space dot", in: "a .b@example.com", err: "invalid character U+0020 in local part"},
	{name: "space before at", in: "a @example.com", err: "invalid character U+0020 in local part"},
	{name: "space after at", in: "a@ example.com", err: "invalid character U+0020 in domain"},
	{name: "spaces around at", in: "a @ example.com", err: "invalid character U+0020 in local part"},
	{name: "comment in local", in: "john(comment)@example.com", err: "comments are not allowed"},
	{name: "leading comment", in: "(comment)john@example.com", err: "comments are not allowed"},
	{name: "comment in domain", in: "john@example.com(comment)", err: "comments are not allowed"},
	{name: "comment before domain", in: "john@(comment)example.com", err: "comments are not allowed"},
	{name: "nul in local", in: "jo\x00hn@example.com", err: "invalid character U+0000 in local part"},
	{name: "tab in local", in: "jo\thn@example.com", err: "invalid character U+0009 in local part"},
	{name: "lf in local", in: "jo\nhn@example.com", err: "invalid character U+000A in local part"},
	{name: "del in local", in: "jo\x7fhn@example.com", err: "invalid character U+007F in local part"},
	{name: "c1 control in local", in: "jo\u0085hn@example.com", err: "local part contains U+0085, a control character"},
	{name: "nbsp in local", in: "jo\u00a0hn@example.com", err: "local part contains U+00A0 NO-BREAK SPACE, a space character"},
	{name: "zero width space", in: "jo\u200bhn@example.com", err: "local part contains U+200B ZERO WIDTH SPACE, an invisible format character"},
	{name: "bidi override", in: "jo\u202ehn@example.com", err: "local part contains U+202E RIGHT-TO-LEFT OVERRIDE, an invisible format character"},
	{name: "bom inside", in: "jo\ufeffhn@example.com", err: "local part contains U+FEFF ZERO WIDTH NO-BREAK SPACE, an invisible format character"},
	{name: "replacement char", in: "jo\ufffdhn@example.com", err: "local part contains U+FFFD '�' REPLACEMENT CHARACTER"},
	{name: "line separator", in: "jo\u2028hn@example.com", err: "local part contains U+2028 LINE SEPARATOR, a line or paragraph separator"},
	{name: "backslash in atom", in: `a\b@example.com`, err: "invalid character U+005C '\\\\' in local part"},
	{name: "bracket in local", in: "a[b]@example.com", err: "invalid character U+005B '[' in local part"},
	{name: "colon in local", in: "a:b@example.com", err: "invalid character U+003A ':' in local part"},
	{name: "semicolon in local", in: "a;b@example.com", err: "invalid character U+003B ';' in local part"},
	{name: "comma in local", in: "a,b@example.com", err: "invalid character U+002C ',' in local part"},
	{name: "list of two", in: "a@example.com, b@example.com", err: "invalid character U+002C ',' in domain"},
	{name: "missing at", in: "example.com", err: "missing @"},
	{name: "empty local", in: "@example.com", err: "empty local part"},
	{name: "only at", in: "@", err: "empty local part"},
	{name: "two ats", in: "john@doe@example.com", err: "more than one @"},
	{name: "double at", in: "john@@example.com", err: "more than one @"},
	{name: "mailto", in: "mailto:john@example.com", err: "invalid character U+003A ':' in local part"},

	// RFC 6531 UTF-8 local parts.
	{name: "utf8 local", in: "用户@example.com", email: "用户@example.com", utf8: true},
	{name: "utf8 local and idn", in: "用户@例子.广告", email: "用户@例子.广告", ascii: "xn--fsqu00a.xn--4rr70v", utf8: true},
	{name: "accented local", in: "josé@example.com", email: "josé@example.com", utf8: true},
	{name: "nfd local composed", in: "jose\u0301@example.com", email: "josé@example.com", utf8: true},
	{name: "cyrillic local", in: "почта@пример.рф", email: "почта@пример.рф", ascii: "xn--e1afmkfd.xn--p1ai", utf8: true},
	{name: "devanagari local", in: "राम@example.com", email: "राम@example.com", utf8: true},
	{name: "zwnj between latin letters", in: "a\u200cb@example.com", err: "local part contains U+200C ZERO WIDTH NON-JOINER where no joiner is needed"},
	{name: "utf8 local case kept", in: "JÖRG@example.com", email: "JÖRG@example.com", utf8: true},
	{name: "nfc to ascii special is quoted", in: "a\u037eb@example.com", email: `"a;b"@example.com`},
	{name: "nfc to ascii letter", in: "\u212aelvin@example.com", email: "Kelvin@example.com"},
	{name: "emoji local", in: "😀@example.com", email: "😀@example.com", utf8: true},
	{name: "invalid utf8 local", in: "a\xffb@example.com", err: "invalid UTF-8: byte 0xFF at offset 1"},
	{name: "invalid utf8 alone", in: "\xff", err: "invalid UTF-8: byte 0xFF at offset 0"},
	{name: "truncated utf8 domain", in: "a@exa\xc3mple.com", err: "invalid UTF-8: byte 0xC3 at offset 5"},
	{name: "overlong utf8", in: "a\xc0\xafb@example.com", err: "invalid UTF-8"},
	{name: "surrogate utf8", in: "a\xed\xa0\x80@example.com", err: "invalid UTF-8"},

	// Lengths (RFC 5321 §4.5.3.1), in octets.
	{name: "local 64", in: local64 + "@example.com", email: local64 + "@example.com"},
	{name: "local 65", in: local65 + "@example.com", err: "local part is 65 octets, limit 64"},
	{name: "local 70", in: strings.Repeat("b", 70) + "@example.com", err: "local part is 70 octets, limit 64"},
	{name: "utf8 local 63 octets", in: strings.Repeat("日", 21) + "@example.com", email: strings.Repeat("日", 21) + "@example.com", utf8: true},
	{name: "utf8 local 22 chars 66 octets", in: strings.Repeat("日", 22) + "@example.com", err: "local part is 66 octets, limit 64"},
	{name: "utf8 local 64 octets", in: strings.Repeat("é", 32) + "@example.com", email: strings.Repeat("é", 32) + "@example.com", utf8: true},
	{name: "utf8 local 66 octets", in: strings.Repeat("é", 33) + "@example.com", err: "local part is 66 octets, limit 64"},
	{name: "quoted local 64 with quotes", in: `"a b` + strings.Repeat("c", 59) + `"@example.com`, email: `"a b` + strings.Repeat("c", 59) + `"@example.com`},
	{name: "quoted local 65 with quotes", in: `"a b` + strings.Repeat("c", 60) + `"@example.com`, err: "local part is 65 octets, limit 64"},
	{name: "quoted 64 letters is 66 octets", in: `"` + local64 + `"@example.com`, err: "local part is 66 octets, limit 64"},
	{name: "address 254", in: local64 + "@" + domain189, email: local64 + "@" + domain189},
	{name: "address 255", in: local64 + "@" + domain190, err: "address is 255 octets, limit 254"},
	{name: "domain 253 address 255", in: "a@" + domain253, err: "address is 255 octets, limit 254"},
	{name: "domain 254", in: "a@" + domain254, err: "domain is 254 octets, limit 253"},
	{name: "label 63", in: "a@" + label63 + ".com", email: "a@" + label63 + ".com"},
	{name: "label 64", in: "a@" + label64 + ".com", err: `domain label "aaaaaaaaaaaaaaaaaaaa…" is 64 octets, limit 63`},
	{name: "tld 64", in: "a@example." + label64, err: "is 64 octets, limit 63"},
	{name: "idn label fits", in: "a@" + strings.Repeat("ü", 30) + ".de", email: "a@" + strings.Repeat("ü", 30) + ".de", ascii: "xn--tda" + strings.Repeat("a", 29) + ".de"},
	{name: "idn a-label too long", in: "a@" + strings.Repeat("ü", 59) + ".de", err: "is 65 octets, limit 63"},
	{name: "input 40K", in: cell40K, err: "input is 40960 octets, limit 1024"},
	{name: "input 1025", in: strings.Repeat(" ", 1000) + "a@example.com" + strings.Repeat(" ", 12), err: "input is 1025 octets, limit 1024"},
	{name: "long display name fits", in: strings.Repeat("N", 900) + " <a@example.com>", email: "a@example.com"},

	// Domains.
	{name: "single label", in: "user@localhost", err: `domain "localhost" has a single label`},
	{name: "single label tld", in: "user@com", err: "has a single label"},
	{name: "trailing dot", in: "user@example.com.", err: "domain ends with a dot"},
	{name: "leading dot domain", in: "user@.example.com", err: "domain starts with a dot"},
	{name: "double dot domain", in: "user@example..com", err: "consecutive dots in domain"},
	{name: "only dot domain", in: "user@.", err: "domain starts with a dot"},
	{name: "empty domain", in: "user@", err: "empty domain"},
	{name: "leading hyphen", in: "user@-example.com", err: `domain label "-example" starts with a hyphen`},
	{name: "trailing hyphen", in: "user@example-.com", err: `domain label "example-" ends with a hyphen`},
	{name: "hyphen tld", in: "user@example.com-", err: "ends with a hyphen"},
	{name: "double hyphen 3-4", in: "user@ab--cd.com", err: `domain label "ab--cd" has "--" in positions 3 and 4`},
	{name: "double hyphen 3-4 upper", in: "user@AB--CD.com", err: `domain label "ab--cd" has "--" in positions 3 and 4`},
	{name: "underscore domain", in: "user@exa_mple.com", err: "invalid character U+005F '_' in domain"},
	{name: "space domain", in: "user@exa mple.com", err: "invalid character U+0020 in domain"},
	{name: "trailing garbage", in: "user@example.com x", err: "invalid character U+0020 in domain"},
	{name: "trailing semicolon", in: "user@example.com;", err: "invalid character U+003B ';' in domain"},
	{name: "header injection", in: "user@example.com\r\nBcc: x@example.com", err: "invalid character U+000D in domain"},
	{name: "nul in domain", in: "user@exa\x00mple.com", err: "invalid character U+0000 in domain"},
	{name: "slash in domain", in: "user@example.com/path", err: "invalid character U+002F '/' in domain"},
	{name: "port in domain", in: "user@example.com:25", err: "invalid character U+003A ':' in domain"},
	{name: "ip without brackets", in: "user@1.2.3.4", err: "domain is an IP address; address literals are written in brackets, e.g. [1.2.3.4]"},
	{name: "numeric tld", in: "user@example.123", err: `top-level domain "123" is all-numeric`},
	{name: "numeric labels", in: "user@1.2.3", err: `top-level domain "3" is all-numeric`},

	// IDNA (UTS #46 lookup, RFC 5891).
	{name: "idn bücher", in: "user@bücher.de", email: "user@bücher.de", ascii: "xn--bcher-kva.de"},
	{name: "idn münchen", in: "user@münchen.de", email: "user@münchen.de", ascii: "xn--mnchen-3ya.de"},
	{name: "idn upper", in: "user@MÜNCHEN.DE", email: "user@münchen.de", ascii: "xn--mnchen-3ya.de"},
	{name: "idn nfd", in: "user@bu\u0308cher.de", email: "user@bücher.de", ascii: "xn--bcher-kva.de"},
	{name: "a-label round trip", in: "user@xn--bcher-kva.de", email: "user@bücher.de", ascii: "xn--bcher-kva.de"},
	{name: "a-label upper", in: "user@XN--BCHER-KVA.DE", email: "user@bücher.de", ascii: "xn--bcher-kva.de"},
	{name: "japanese reserved-only", in: "user@例え.テスト", email: "user@例え.テスト", ascii: "xn--r8jz45g.xn--zckzah"},
	{name: "ideographic full stop", in: "user@例え。テスト", email: "user@例え.テスト", ascii: "xn--r8jz45g.xn--zckzah"},
	{name: "fullwidth domain", in: "user@ｅｘａｍｐｌｅ．ｃｏｍ", email: "user@example.com"},
	{name: "fullwidth stop only", in: "user@bücher．de", email: "user@bücher.de", ascii: "xn--bcher-kva.de"},
	{name: "halfwidth ideographic stop", in: "user@bücher｡de", email: "user@bücher.de", ascii: "xn--bcher-kva.de"},
	{name: "circled letter mapped", in: "user@ⓔxample.com", email: "user@example.com"},
	{name: "sharp s nontransitional", in: "user@faß.de", email: "user@faß.de", ascii: "xn--fa-hia.de"},
	{name: "sharp s a-label", in: "user@xn--fa-hia.de", email: "user@faß.de", ascii: "xn--fa-hia.de"},
	{name: "greek final sigma", in: "user@ΣΊΣΥΦΟΣ.gr", email: "user@σίσυφοσ.gr", ascii: "xn--kxa6akbbkh.gr"},
	{name: "soft hyphen ignored", in: "user@bü\u00adcher.de", email: "user@bücher.de", ascii: "xn--bcher-kva.de"},
	{name: "arabic rtl", in: "user@مثال.إختبار", email: "user@مثال.إختبار", ascii: "xn--mgbh0fb.xn--kgbechtv"},
	{name: "cyrillic tld", in: "user@пример.рф", email: "user@пример.рф", ascii: "xn--e1afmkfd.xn--p1ai"},
	{name: "symbol domain", in: "user@☃.net", err: "domain contains U+2603 '☃' SNOWMAN, which IDNA2008 disallows"},
	{name: "idn with ascii tld upper", in: "user@Bücher.DE", email: "user@bücher.de", ascii: "xn--bcher-kva.de"},
	{name: "idn trailing dot", in: "user@bücher.de.", err: "domain ends with a dot"},
	{name: "idn double dot", in: "user@bücher..de", err: "consecutive dots in domain"},
	{name: "idn single label", in: "user@bücher", err: "has a single label"},
	{name: "invalid punycode", in: "user@xn--zz.de", err: "invalid domain name: idna:"},
	{name: "punycode of ascii", in: "user@xn--abc-.de", err: `domain label "xn--abc-" ends with a hyphen`},
	{name: "punycode garbage", in: "user@xn--abc.de", err: "invalid domain name: idna:"},
	{name: "punycode disallowed", in: "user@xn--1ch.com", err: "invalid domain name: idna:"},
	{name: "bare ace prefix", in: "user@xn--.com", err: `domain label "xn--" ends with a hyphen`},
	{name: "idn leading hyphen", in: "user@-bücher.de", err: `domain label "-bücher" starts with a hyphen`},
	{name: "joiner in domain", in: "user@a\u200d.com", err: `domain label "a\u200d" has U+200D ZERO WIDTH JOINER where IDNA2008 does not allow it`},
	{name: "leading combining mark", in: "user@\u0301a.com", err: "starts with U+0301 COMBINING ACUTE ACCENT, a combining mark"},
	{name: "bidi rule", in: "user@a١.com", err: `domain label "a١" breaks the Bidi rule of RFC 5893`},
	{name: "fullwidth at", in: "user@a＠b.com", err: "invalid domain name: idna: disallowed rune U+FF20"},
	{name: "nbsp in domain", in: "user@exa\u00a0mple.com", err: "invalid domain name: idna:"},
	{name: "idn underscore", in: "user@bü_cher.de", err: "invalid character U+005F '_' in domain"},

	// IDNA2008 (RFC 5891, RFC 5892) after UTS #46 mapping: symbols, emoji and other
	// DISALLOWED code points are refused, in U-labels and in the A-labels that decode
	// to them; hyphens count in code points; context rules apply.
	{name: "emoji domain", in: "user@😀.net", err: "domain contains U+1F600 '😀' GRINNING FACE, which IDNA2008 disallows"},
	{name: "symbol in label", in: "user@i❤.ws", err: "domain contains U+2764 '❤' HEAVY BLACK HEART, which IDNA2008 disallows"},
	{name: "symbol a-label", in: "user@xn--n3h.net", err: "domain contains U+2603 '☃' SNOWMAN, which IDNA2008 disallows"},
	{name: "emoji a-label", in: "user@xn--ls8h.la", err: "domain contains U+1F4A9 '💩' PILE OF POO, which IDNA2008 disallows"},
	{name: "symbol a-label upper", in: "user@XN--I-7IQ.WS", err: "domain contains U+2764 '❤' HEAVY BLACK HEART"},
	{name: "currency symbol domain", in: "user@€.com", err: "domain contains U+20AC '€' EURO SIGN, which IDNA2008 disallows"},
	{name: "ignorable block mark", in: "user@a\u20d0.com", err: "domain contains U+20D0 COMBINING LEFT HARPOON ABOVE, which IDNA2008 disallows (RFC 5892 §2.4)"},
	{name: "musical symbol mark", in: "user@a\U0001d165.com", err: "domain contains U+1D165 MUSICAL SYMBOL COMBINING STEM"},
	{name: "u-label hyphens 3-4", in: "user@üb--x.com", err: `domain label "üb--x" has "--" in positions 3 and 4`},
	{name: "a-label to hyphens 3-4", in: "user@xn--b--x-zra.com", err: `domain label "üb--x" has "--" in positions 3 and 4`},
	{name: "u-label hyphens 2-3", in: "user@ü--x.com", email: "user@ü--x.com", ascii: "xn----x-goa.com"},
	{name: "u-label trailing hyphen", in: "user@bücher-.de", err: `domain label "bücher-" ends with a hyphen`},
	{name: "middle dot between l", in: "user@l·l.cat", email: "user@l·l.cat", ascii: "xn--ll-0ea.cat"},
	{name: "middle dot out of context", in: "user@a·b.cat", err: `domain label "a·b" has U+00B7 '·' MIDDLE DOT where IDNA2008 does not allow it`},
	{name: "katakana middle dot", in: "user@ア・ア.jp", email: "user@ア・ア.jp", ascii: "xn--ccka0y.jp"},
	{name: "katakana middle dot alone", in: "user@a・b.jp", err: "U+30FB '・' KATAKANA MIDDLE DOT where IDNA2008 does not allow it"},
	{name: "greek numeral sign", in: "user@ex\u0375α.gr", email: "user@ex\u0375α.gr", ascii: "xn--ex-73b4v.gr"},
	{name: "greek numeral sign at end", in: "user@ex\u0375.gr", err: "U+0375 '͵' GREEK LOWER NUMERAL SIGN where IDNA2008 does not allow it"},
	{name: "hebrew geresh", in: "user@א\u05f3.il", email: "user@א\u05f3.il", ascii: "xn--4db4e.il"},
	{name: "joiner after virama", in: "user@क्\u200dष.com", email: "user@क्\u200dष.com", ascii: "xn--11b2ezcw70k.com"},
	{name: "joiner between letters", in: "user@ab\u200dc.com", err: "U+200D ZERO WIDTH JOINER where IDNA2008 does not allow it"},

	// Lengths as on the wire: the local part as written, quotes and backslashes
	// included.
	{name: "quoted 62 letters is 64 octets", in: `"` + strings.Repeat("a", 62) + `"@example.com`, email: strings.Repeat("a", 62) + "@example.com"},
	{name: "quoted 63 letters is 65 octets", in: `"` + strings.Repeat("a", 63) + `"@example.com`, err: "local part is 65 octets, limit 64"},
	{name: "quoted pair counts", in: `"\a` + strings.Repeat("a", 61) + `"@example.com`, err: "local part is 65 octets, limit 64"},
	{name: "quoted pair fits", in: `"\a` + strings.Repeat("a", 60) + `"@example.com`, email: strings.Repeat("a", 61) + "@example.com"},
	{name: "nfd local as written", in: strings.Repeat("e\u0301", 22) + "@example.com", err: "local part is 66 octets, limit 64"},
	{name: "nfd local fits as written", in: strings.Repeat("e\u0301", 21) + "@example.com", email: strings.Repeat("é", 21) + "@example.com", utf8: true},
	{name: "quoted address 254 as written", in: `"` + strings.Repeat("a", 62) + `"@` + domain189, email: strings.Repeat("a", 62) + "@" + domain189},
	{name: "quoted address 255 as written", in: `"` + strings.Repeat("a", 62) + `"@` + domain190, err: "address is 255 octets, limit 254"},

	// Code points no mailbox name carries (RFC 6531, RFC 6532).
	{name: "zwj between latin letters", in: "a\u200db@example.com", err: "local part contains U+200D ZERO WIDTH JOINER where no joiner is needed"},
	{name: "zwj in quoted local", in: "\"a\u200db\"@example.com", err: "local part contains U+200D ZERO WIDTH JOINER"},
	{name: "zwnj after dot", in: "a.\u200cb@example.com", err: "local part contains U+200C ZERO WIDTH NON-JOINER"},
	{name: "zwj emoji sequence", in: "👨\u200d👩@example.com", err: "local part contains U+200D ZERO WIDTH JOINER"},
	{name: "zwnj persian", in: "می\u200cخواهم@example.com", email: "می\u200cخواهم@example.com", utf8: true},
	{name: "zwj after virama", in: "क्\u200dष@example.com", email: "क्\u200dष@example.com", utf8: true},
	{name: "private use", in: "a\ue000b@example.com", err: "local part contains U+E000, a private-use code point"},
	{name: "private use plane 15", in: "a\U000f0000b@example.com", err: "local part contains U+F0000, a private-use code point"},
	{name: "noncharacter fffe", in: "a\ufffeb@example.com", err: "local part contains U+FFFE, a noncharacter"},
	{name: "noncharacter fdd0", in: "a\ufdd0b@example.com", err: "local part contains U+FDD0, a noncharacter"},
	{name: "noncharacter plane 1", in: "a\U0001ffffb@example.com", err: "local part contains U+1FFFF, a noncharacter"},
	{name: "unassigned", in: "a\u0378b@example.com", err: "local part contains U+0378, unassigned in Unicode"},
	{name: "unassigned quoted", in: "\"a\u0378 b\"@example.com", err: "local part contains U+0378, unassigned in Unicode"},
	{name: "leading combining mark local", in: "\u0301a@example.com", err: "local part starts with U+0301 COMBINING ACUTE ACCENT, a combining mark"},
	{name: "leading combining mark quoted", in: "\"\u0301 a\"@example.com", err: "local part starts with U+0301 COMBINING ACUTE ACCENT, a combining mark"},
	{name: "combining mark inside kept", in: "e\u0301\u0323@example.com", email: "ẹ\u0301@example.com", utf8: true},
	{name: "left-to-right mark", in: "a\u200eb@example.com", err: "local part contains U+200E LEFT-TO-RIGHT MARK, an invisible format character"},
	{name: "bidi isolate", in: "a\u2066b@example.com", err: "local part contains U+2066 LEFT-TO-RIGHT ISOLATE, an invisible format character"},
	{name: "soft hyphen local", in: "a\u00adb@example.com", err: "local part contains U+00AD SOFT HYPHEN, an invisible format character"},
	{name: "tag character", in: "a\U000e0041b@example.com", err: "local part contains U+E0041 TAG LATIN CAPITAL LETTER A"},

	// Address literals (RFC 5321 §4.1.3).
	{name: "ipv4 literal default", in: "user@[192.0.2.1]", err: "address literals are not allowed (use --allow-ip-literal)"},
	{name: "ipv6 literal default", in: "user@[IPv6:2001:db8::1]", err: "address literals are not allowed (use --allow-ip-literal)"},
	{name: "ipv4 literal allowed", in: "user@[192.0.2.1]", lit: true, email: "user@[192.0.2.1]"},
	{name: "ipv6 literal allowed", in: "user@[IPv6:2001:db8::1]", lit: true, email: "user@[IPv6:2001:db8::1]"},
	{name: "ipv6 literal canonical", in: "user@[IPv6:2001:DB8:0:0:0:0:0:1]", lit: true, email: "user@[IPv6:2001:db8::1]"},
	{name: "ipv6 tag lower-case", in: "user@[ipv6:2001:db8::1]", lit: true, email: "user@[IPv6:2001:db8::1]"},
	{name: "ipv6 with ipv4 tail", in: "user@[IPv6:::ffff:192.0.2.1]", lit: true, email: "user@[IPv6:::ffff:192.0.2.1]"},
	{name: "literal in angle", in: "Jane <jane@[192.0.2.1]>", lit: true, email: "jane@[192.0.2.1]"},
	{name: "ipv6 without tag", in: "user@[2001:db8::1]", lit: true, err: "IPv6 address literal needs the IPv6: tag"},
	{name: "general literal", in: "user@[x-tag:stuff]", lit: true, err: `general address literal "[x-tag:stuff]" is not supported`},
	{name: "bad ipv4 literal", in: "user@[300.1.1.1]", lit: true, err: `invalid IPv4 address literal "[300.1.1.1]"`},
	{name: "bad literal reported before policy", in: "user@[300.1.1.1]", err: "invalid IPv4 address literal"},
	{name: "leading zero ipv4", in: "user@[010.0.0.1]", lit: true, err: "invalid IPv4 address literal"},
	{name: "empty literal", in: "user@[]", lit: true, err: "invalid IPv4 address literal"},
	{name: "name in literal", in: "user@[example.com]", lit: true, err: "invalid IPv4 address literal"},
	{name: "ipv6 zone", in: "user@[IPv6:fe80::1%eth0]", lit: true, err: "invalid IPv6 address literal"},
	{name: "ipv4 as ipv6", in: "user@[IPv6:192.0.2.1]", lit: true, err: "invalid IPv6 address literal"},
	{name: "unterminated literal", in: "user@[192.0.2.1", lit: true, err: "unterminated address literal"},
	{name: "text after literal", in: "user@[192.0.2.1]x", lit: true, err: `unexpected text after address literal: "x"`},
	{name: "space in literal", in: "user@[ 192.0.2.1]", lit: true, err: "invalid IPv4 address literal"},
}

func TestParseAddress(t *testing.T) {
	for _, tt := range parseTests {
		t.Run(tt.name, func(t *testing.T) {
			got := ParseAddress(tt.in, ParseOptions{AllowIPLiteral: tt.lit})
			if tt.err != "" {
				if got.Valid || !strings.Contains(got.Error, tt.err) {
					t.Fatalf("ParseAddress(%q) = %+v, want error containing %q", tt.in, got, tt.err)
				}
				if got != (Syntax{Error: got.Error}) {
					t.Errorf("ParseAddress(%q) = %+v: invalid result has fields besides Error", tt.in, got)
				}
				return
			}
			if !got.Valid || got.Error != "" {
				t.Fatalf("ParseAddress(%q) = %+v, want valid %q", tt.in, got, tt.email)
			}
			at := strings.LastIndexByte(tt.email, '@')
			wantLocal, wantDomain := tt.email[:at], tt.email[at+1:]
			wantASCII := tt.ascii
			if wantASCII == "" {
				wantASCII = wantDomain
			}
			if got.Email() != tt.email || got.Local != wantLocal || got.Domain != wantDomain ||
				got.ASCIIDomain != wantASCII || got.SMTPUTF8 != tt.utf8 {
				t.Errorf("ParseAddress(%q) = %+v, want Email %q, ASCIIDomain %q, SMTPUTF8 %v",
					tt.in, got, tt.email, wantASCII, tt.utf8)
			}
			if wantLit := strings.HasPrefix(wantDomain, "["); got.Literal.IsValid() != wantLit {
				t.Errorf("ParseAddress(%q).Literal = %v, want set: %v", tt.in, got.Literal, wantLit)
			}
			checkIdempotent(t, tt.in, got, ParseOptions{AllowIPLiteral: tt.lit})
		})
	}
}

// checkIdempotent checks that the normalized form of a valid result parses to itself.
func checkIdempotent(t *testing.T, in string, got Syntax, opts ParseOptions) {
	t.Helper()
	again := ParseAddress(got.Email(), opts)
	if again != got {
		t.Errorf("ParseAddress(%q) = %+v, but ParseAddress(%q) = %+v", in, got, got.Email(), again)
	}
}

// TestParseAddressAtext checks each atext special alone, between letters and quoted.
func TestParseAddressAtext(t *testing.T) {
	for _, c := range "!#$%&'*+-/=?^_`{|}~" {
		for _, local := range []string{string(c), "a" + string(c) + "b", "a." + string(c)} {
			in := local + "@example.com"
			if got := ParseAddress(in, ParseOptions{}); !got.Valid || got.Local != local {
				t.Errorf("ParseAddress(%q) = %+v, want valid with Local %q", in, got, local)
			}
			if got := ParseAddress(`"`+local+`"@example.com`, ParseOptions{}); got.Local != local {
				t.Errorf("ParseAddress(%q) = %+v, want unquoted Local %q", `"`+local+`"@example.com`, got, local)
			}
		}
	}
	// Every other printable ASCII character needs quoting and survives it.
	for c := byte(' '); c <= '~'; c++ {
		if isAtext(c) || c == '.' {
			continue
		}
		in := "a" + string(c) + "b@example.com"
		if got := ParseAddress(in, ParseOptions{}); got.Valid {
			t.Errorf("ParseAddress(%q) = %+v, want invalid", in, got)
		}
		local := `"a` + string(c) + `b"`
		if c == '"' || c == '\\' {
			local = `"a\` + string(c) + `b"`
		}
		if got := ParseAddress(local+"@example.com", ParseOptions{}); !got.Valid || got.Local != local {
			t.Errorf("ParseAddress(%q) = %+v, want valid with Local %q", local+"@example.com", got, local)
		}
	}
}

func TestParseAddressLiteral(t *testing.T) {
	tests := []struct {
		in   string
		want netip.Addr
	}{
		{"a@[192.0.2.1]", netip.MustParseAddr("192.0.2.1")},
		{"a@[IPv6:2001:db8::1]", netip.MustParseAddr("2001:db8::1")},
		{"a@[IPv6:::ffff:192.0.2.1]", netip.MustParseAddr("::ffff:192.0.2.1")},
	}
	for _, tt := range tests {
		got := ParseAddress(tt.in, ParseOptions{AllowIPLiteral: true})
		if got.Literal != tt.want || got.ASCIIDomain != got.Domain {
			t.Errorf("ParseAddress(%q) = %+v, want Literal %v", tt.in, got, tt.want)
		}
		if got := ParseAddress(tt.in, ParseOptions{}); got.Literal.IsValid() {
			t.Errorf("ParseAddress(%q) without AllowIPLiteral = %+v, want no Literal", tt.in, got)
		}
	}
	if got := ParseAddress("a@example.com", ParseOptions{AllowIPLiteral: true}); got.Literal.IsValid() {
		t.Errorf("ParseAddress(%q) = %+v, want no Literal", "a@example.com", got)
	}
}

// TestParseAddressLongInput checks that the size guard comes before any scanning: each
// input is refused for its length, not for what a scan would find (invalid UTF-8, an
// unterminated quote, a bad label).
func TestParseAddressLongInput(t *testing.T) {
	for _, in := range []string{
		cell40K,
		strings.Repeat("a", 40<<10) + "@example.com",
		strings.Repeat(`"`, 40<<10),
		strings.Repeat("\xff", 40<<10),
		strings.Repeat("ü.", 20<<10) + "@x.com",
	} {
		got := ParseAddress(in, ParseOptions{})
		if got.Valid || !strings.HasPrefix(got.Error, "input is ") {
			t.Errorf("ParseAddress(%d octets) = %+v, want input-size error", len(in), got)
		}
	}
}

func TestParseAddressAllocs(t *testing.T) {
	for _, in := range []string{"jane.doe@example.com", " Jane Doe <jane.doe@example.com> ", `"jane doe"@example.com`} {
		if n := testing.AllocsPerRun(100, func() { ParseAddress(in, ParseOptions{}) }); n != 0 {
			t.Errorf("ParseAddress(%q) allocates %v times, want 0", in, n)
		}
	}
}

func TestParseAddressCount(t *testing.T) {
	if len(parseTests) < 200 {
		t.Errorf("parseTests has %d cases, want ≥ 200", len(parseTests))
	}
}

func TestIsReservedDomain(t *testing.T) {
	tests := []struct {
		domain string
		want   bool
	}{
		{"test", true},
		{"foo.test", true},
		{"a.b.test", true},
		{"example", true},
		{"mail.example", true},
		{"invalid", true},
		{"x.invalid", true},
		{"localhost", true},
		{"foo.localhost", true},
		{"example.com", true},
		{"mail.example.com", true},
		{"example.net", true},
		{"www.example.net", true},
		{"example.org", true},
		{"a.example.org", true},
		{"printer.local", true},
		{"abcdefghijklmnop.onion", true},
		{"home.arpa", true},
		{"router.home.arpa", true},
		{"service.alt", true},
		{"xn--r8jz45g.xn--zckzah", true}, // 例え.テスト
		{"xn--zckzah", true},
		{"xn--mgbh0fb.xn--kgbechtv", true}, // مثال.إختبار
		{"xn--0zwm56d", true},
		{"xn--g6w251d", true},
		{"xn--80akhbyknj4f", true},
		{"xn--11b5bs3a9aj6g", true},
		{"xn--jxalpdlp", true},
		{"xn--9t4b11yi5a", true},
		{"xn--deba0ad", true},
		{"xn--hgbk6aj7f53bba", true},
		{"xn--hlcj6aya9esc7a", true},
		{"Example.COM", true},
		{"foo.test.", true},
		{"example.com", true},

		{"", false},
		{"com", false},
		{"example.co", false},
		{"example.com.au", false},
		{"myexample.com", false},
		{"notexample.org", false},
		{"example.community", false},
		{"test.com", false},
		{"testing", false},
		{"contest", false},
		{"mytest", false},
		{"test.de", false},
		{"localhost.com", false},
		{"local.example.de", false},
		{"onion.com", false},
		{"arpa", false},
		{"in-addr.arpa", false},
		{"xarpa.home", false},
		{"bücher.de", false},
		{"xn--bcher-kva.de", false},
		{"gmail.com", false},
		{"[192.0.2.1]", false},
	}
	for _, tt := range tests {
		if got := IsReservedDomain(tt.domain); got != tt.want {
			t.Errorf("IsReservedDomain(%q) = %v, want %v", tt.domain, got, tt.want)
		}
	}
}

// TestReservedIDNTestTLDs checks the A-labels of the IDN test TLDs against their
// Unicode names, so that a typo in the list cannot hide.
func TestReservedIDNTestTLDs(t *testing.T) {
	for _, u := range []string{"إختبار", "آزمایشی", "测试", "測試", "испытание", "परीक्षा", "δοκιμή", "테스트", "טעסט", "テスト", "பரிட்சை"} {
		got := ParseAddress("a@example."+u, ParseOptions{})
		if !got.Valid || !IsReservedDomain(got.ASCIIDomain) {
			t.Errorf("ParseAddress(%q) = %+v, want valid and reserved", "a@example."+u, got)
		}
	}
}

// Guard against the test table itself: an invalid-UTF-8 want would hide a bug.
func TestParseTestsWellFormed(t *testing.T) {
	for _, tt := range parseTests {
		if (tt.err == "") == (tt.email == "") {
			t.Errorf("%s: exactly one of email and err must be set", tt.name)
		}
		if !utf8.ValidString(tt.email) {
			t.Errorf("%s: email is not UTF-8", tt.name)
		}
	}
}

func ExampleParseAddress() {
	s := ParseAddress(` "Doe, Jane" <Jane.Doe@Bücher.DE> `, ParseOptions{})
	fmt.Println(s.Valid, s.Email(), s.ASCIIDomain, s.SMTPUTF8)
	s = ParseAddress("jane..doe@example.com", ParseOptions{})
	fmt.Println(s.Valid, s.Error)
	// Output:
	// true Jane.Doe@bücher.de xn--bcher-kva.de false
	// false consecutive dots in local part
}

func ExampleIsReservedDomain() {
	fmt.Println(IsReservedDomain("mail.example.com"), IsReservedDomain("xn--r8jz45g.xn--zckzah"), IsReservedDomain("gmail.com"))
	// Output: true true false
}
