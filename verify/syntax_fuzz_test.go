package verify

import (
	"strings"
	"testing"
)

// fuzzSeeds is the seed corpus of FuzzParseAddress, in the manner of
// src/net/netip/fuzz_test.go: one of each shape the parser distinguishes.
var fuzzSeeds = []string{
	// Plain, display names, angle brackets.
	"user@example.com",
	"Jane.Doe@Example.COM",
	" Jane Doe <Jane.Doe@Example.COM> ",
	`"Doe, Jane" <jane@example.com>`,
	"<jane@example.com>",
	"Jane <jane@example.com> (home)",
	"<@relay.example:jane@example.com>",
	// Quoted local parts.
	`"john"@example.com`,
	`"john doe"@example.com`,
	`"john\"doe\\"@example.com`,
	`"j\ohn"@example.com`,
	`"a"."b"@example.com`,
	`""@example.com`,
	`"a>b"@example.com`,
	// UTF-8 local parts and NFC.
	"用户@例子.广告",
	"jose\u0301@example.com",
	"a\u037eb@example.com",
	"\u212aelvin@example.com",
	"jo\u200bhn@example.com",
	// IDN and punycode.
	"user@bücher.de",
	"user@xn--bcher-kva.de",
	"user@XN--BCHER-KVA.DE",
	"user@xn--zz.de",
	"user@例え。テスト",
	"user@ｅｘａｍｐｌｅ．ｃｏｍ",
	"user@faß.de",
	"user@ΣΊΣΥΦΟΣ.gr",
	"user@مثال.إختبار",
	"user@bü\u00adcher.de",
	"user@ab--cd.com",
	// 64/65-octet local parts, 254/255-octet addresses, 63/64-octet labels.
	strings.Repeat("a", 64) + "@example.com",
	strings.Repeat("a", 65) + "@example.com",
	strings.Repeat("日", 21) + "@example.com",
	strings.Repeat("日", 22) + "@example.com",
	`"` + strings.Repeat("a", 64) + `"@example.com`,
	strings.Repeat("a", 64) + "@" + strings.Repeat("b", 63) + "." + strings.Repeat("c", 63) + "." + strings.Repeat("d", 57) + ".com",
	"a@" + strings.Repeat("b", 64) + ".com",
	"a@" + strings.Repeat("ü", 59) + ".de",
	// Obsolete forms and junk.
	"a. b@example.com",
	"john(comment)@example.com",
	"a@b@example.com",
	"user@example.com.",
	"user@1.2.3.4",
	"user@localhost",
	"user@[192.0.2.1]",
	"user@[IPv6:2001:DB8::1]",
	"user@[x-tag:stuff]",
	"\xff",
	"a\x00b@example.com",
	"user@example.com\r\nBcc: x@example.com",
	"",
	// A 40 KB cell.
	strings.Repeat("x", 40<<10),
}

// FuzzParseAddress checks the properties every result must have: no panic, a valid
// address respects the RFC 5321 length limits, its domain's wire form is ASCII, and
// its normalized form parses to the same result (normalization is idempotent).
func FuzzParseAddress(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s, false)
	}
	f.Add("user@[192.0.2.1]", true)
	f.Add("user@[IPv6:2001:DB8::1]", true)
	f.Fuzz(func(t *testing.T, in string, allowLiteral bool) {
		opts := ParseOptions{AllowIPLiteral: allowLiteral}
		got := ParseAddress(in, opts)
		if !got.Valid {
			if got.Error == "" {
				t.Fatalf("ParseAddress(%q) = %+v: invalid without an Error", in, got)
			}
			if got.Email() != "" {
				t.Fatalf("ParseAddress(%q) = %+v: invalid with an Email", in, got)
			}
			return
		}
		if got.Error != "" {
			t.Fatalf("ParseAddress(%q) = %+v: valid with an Error", in, got)
		}
		if n := len(got.Local); n == 0 || n > 64 {
			t.Fatalf("ParseAddress(%q) = %+v: local part is %d octets", in, got, n)
		}
		if n := len(got.ASCIIDomain); n == 0 || n > 253 {
			t.Fatalf("ParseAddress(%q) = %+v: domain is %d octets", in, got, n)
		}
		if n := len(got.Local) + 1 + len(got.ASCIIDomain); n > 254 {
			t.Fatalf("ParseAddress(%q) = %+v: address is %d octets", in, got, n)
		}
		if !isASCII(got.ASCIIDomain) {
			t.Fatalf("ParseAddress(%q) = %+v: ASCIIDomain is not ASCII", in, got)
		}
		if !got.Literal.IsValid() && (strings.ToLower(got.ASCIIDomain) != got.ASCIIDomain || strings.ToLower(got.Domain) != got.Domain) {
			t.Fatalf("ParseAddress(%q) = %+v: domain is not lower-case", in, got)
		}
		if got.SMTPUTF8 == isASCII(got.Local) {
			t.Fatalf("ParseAddress(%q) = %+v: SMTPUTF8 disagrees with the local part", in, got)
		}
		if got.Literal.IsValid() != strings.HasPrefix(got.Domain, "[") || (got.Literal.IsValid() && !allowLiteral) {
			t.Fatalf("ParseAddress(%q) = %+v: Literal disagrees with the domain", in, got)
		}
		again := ParseAddress(got.Email(), opts)
		if again != got {
			t.Fatalf("ParseAddress(%q) = %+v, but ParseAddress(%q) = %+v", in, got, got.Email(), again)
		}
		if wrapped := ParseAddress("Name <"+got.Email()+">", opts); wrapped != got {
			t.Fatalf("ParseAddress(%q) = %+v, but in angle brackets %+v", in, got, wrapped)
		}
	})
}

// BenchmarkParseAddress measures the common shapes; plain lower-case ASCII must not
// allocate.
func BenchmarkParseAddress(b *testing.B) {
	for _, bm := range []struct{ name, in string }{
		{"ascii simple", "jane.doe@example.com"},
		{"ascii upper domain", "Jane.Doe@Example.COM"},
		{"display name", ` "Doe, Jane" <jane.doe@example.com> `},
		{"quoted", `"jane \"jd\" doe"@example.com`},
		{"idn", "user@bücher.de"},
		{"punycode", "user@xn--bcher-kva.de"},
		{"utf8 local", "用户@例子.广告"},
		{"invalid long", strings.Repeat("x", 40<<10)},
		{"invalid syntax", "john..doe@example.com"},
	} {
		b.Run(bm.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				ParseAddress(bm.in, ParseOptions{})
			}
		})
	}
}
