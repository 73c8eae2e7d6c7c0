package verify

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/idna"
	"golang.org/x/text/secure/bidirule"
	"golang.org/x/text/secure/precis"
	"golang.org/x/text/unicode/bidi"
	"golang.org/x/text/unicode/runenames"

	"github.com/everify/everify/internal/dnsname"
)

// This file decides which non-ASCII code points an address may hold: in a domain, those
// IDNA2008 permits (RFC 5891, RFC 5892); in a local part, those a mailbox name can
// carry (RFC 6531, RFC 6532).

// idna2008 holds the IDNA2008 derived property of a code point as PRECIS computes it.
// PRECIS's IdentifierClass (RFC 8264 §4.2) is derived from RFC 5892's categories:
// letters, digits and marks are PVALID; symbols, punctuation, spaces, controls, default
// ignorables, old Hangul jamo and compatibility characters are DISALLOWED; the
// exceptions of RFC 5892 §2.6 and the context rules of its Appendix A are the same.
// golang.org/x/net/idna alone cannot say it: it validates with the UTS #46 table, which
// marks symbols such as ☃ and emoji valid (its NV8 flag is ignored, "TODO: handle
// V2008" in its source), so xn--n3h.net would pass.
var idna2008 = precis.NewIdentifier()

// idnaRegistration validates a mapped domain as RFC 5891 §4 does for registration:
// NFC, no mapped or ignored code points, STD3 ASCII, CONTEXTJ joiners, the Bidi rule.
// Hyphens are checked by checkULabel instead: x/net/idna counts the "--" of positions
// 3 and 4 in bytes, not code points, and so both refuses ü--x and accepts üb--x.
var idnaRegistration = idna.New(
	idna.ValidateForRegistration(),
	idna.CheckHyphens(false),
)

// joinerProfile checks only the CONTEXTJ rules of RFC 5892 Appendix A.1 and A.2 (ZERO
// WIDTH NON-JOINER after a virama or inside a cursive joining, ZERO WIDTH JOINER after
// a virama); local parts borrow them.
var joinerProfile = idna.New(idna.CheckJoiners(true))

const (
	zwnj = '\u200C'
	zwj  = '\u200D'
)

// checkULabel checks one label of a domain's Unicode form against RFC 5891 §4.2.3:
// hyphens (not at either end, not "--" in the third and fourth code points) and the
// IDNA2008 derived property of each code point (RFC 5892 §3), context rules included.
// It returns an error message, or "" when the label is acceptable. ASCII labels have
// been checked by dnsname.Check on the A-label form.
func checkULabel(label string) string {
	if isASCII(label) {
		return ""
	}
	if label[0] == '-' {
		return fmt.Sprintf("domain label %q starts with a hyphen", dnsname.Truncate(label))
	}
	if label[len(label)-1] == '-' {
		return fmt.Sprintf("domain label %q ends with a hyphen", dnsname.Truncate(label))
	}
	if hyphens34(label) {
		return fmt.Sprintf("domain label %q has \"--\" in positions 3 and 4", dnsname.Truncate(label))
	}
	if r, _ := utf8.DecodeRuneInString(label); unicode.Is(unicode.M, r) {
		return fmt.Sprintf("domain label %q starts with %s, a combining mark", dnsname.Truncate(label), describeRune(r))
	}
	for _, r := range label {
		if r >= utf8.RuneSelf && inIgnorableBlock(r) {
			return fmt.Sprintf("domain contains %s, which IDNA2008 disallows (RFC 5892 §2.4)", describeRune(r))
		}
	}
	if _, err := idna2008.String(label); err == nil {
		return ""
	}
	allowed := idna2008.Allowed()
	for _, r := range label {
		if r >= utf8.RuneSelf && !allowed.Contains(r) && !contextual(r) {
			return fmt.Sprintf("domain contains %s, which IDNA2008 disallows (RFC 5892)", describeRune(r))
		}
	}
	// Every code point is permitted somewhere: one is out of its context.
	for _, r := range label {
		if contextual(r) {
			return fmt.Sprintf("domain label %q has %s where IDNA2008 does not allow it (RFC 5892 Appendix A)", dnsname.Truncate(label), describeRune(r))
		}
	}
	return fmt.Sprintf("domain label %q is not a valid IDNA2008 label", dnsname.Truncate(label))
}

// hyphens34 reports whether the third and fourth code points of label are hyphens.
func hyphens34(label string) bool {
	i := 0
	for _, r := range label {
		i++
		switch {
		case i == 3 && r != '-':
			return false
		case i == 4:
			return r == '-'
		}
	}
	return false
}

// contextual reports whether r is CONTEXTJ or CONTEXTO in RFC 5892 Appendix A: valid
// only next to certain others. Their rules are applied by idna2008 on a whole label.
func contextual(r rune) bool {
	switch {
	case r == zwnj, r == zwj, // A.1, A.2
		r == '\u00B7',                // A.3 MIDDLE DOT, between two l
		r == '\u0375',                // A.4 GREEK LOWER NUMERAL SIGN, before Greek
		r == '\u05F3', r == '\u05F4', // A.5, A.6 HEBREW GERESH, GERSHAYIM, after Hebrew
		r == '\u30FB',                  // A.7 KATAKANA MIDDLE DOT, with Japanese
		'\u0660' <= r && r <= '\u0669', // A.8 ARABIC-INDIC DIGITS, not mixed with A.9
		'\u06F0' <= r && r <= '\u06F9': // A.9 EXTENDED ARABIC-INDIC DIGITS
		return true
	}
	return false
}

// inIgnorableBlock reports whether r is in one of the blocks RFC 5892 §2.4 disallows
// whole (IgnorableBlocks), a rule PRECIS does not have: Combining Diacritical Marks for
// Symbols, Musical Symbols and Ancient Greek Musical Notation.
func inIgnorableBlock(r rune) bool {
	return 0x20D0 <= r && r <= 0x20FF || 0x1D100 <= r && r <= 0x1D1FF || 0x1D200 <= r && r <= 0x1D24F
}

// localRuneProblem says why the non-ASCII code point r can be in no mailbox name, or
// returns "" when it can. RFC 6531 allows any UTF8-non-ascii in a local part; no real
// mailbox holds these, and the invisible ones make one address look like another.
// The joiners are left to checkLocalRunes, which knows their neighbours.
func localRuneProblem(r rune) string {
	switch {
	case r == zwnj, r == zwj:
		return ""
	case r == utf8.RuneError:
		return "the trace of a failed decoding"
	case unicode.Is(unicode.Noncharacter_Code_Point, r):
		return "a noncharacter"
	case unicode.Is(unicode.Co, r):
		return "a private-use code point"
	case unicode.Is(unicode.Cc, r):
		return "a control character"
	case unicode.Is(unicode.Zs, r):
		return "a space character"
	case unicode.In(r, unicode.Zl, unicode.Zp):
		return "a line or paragraph separator"
	case unicode.Is(unicode.Cf, r):
		return "an invisible format character"
	// Go's unicode.C holds the unassigned code points too (there is no Cn table).
	case !unicode.In(r, unicode.L, unicode.M, unicode.N, unicode.P, unicode.S, unicode.Cs):
		return "unassigned in Unicode " + unicode.Version
	}
	return ""
}

// localRuneError is the message for a code point that localRuneProblem refuses.
func localRuneError(r rune, problem string) string {
	return fmt.Sprintf("local part contains %s, %s", describeRune(r), problem)
}

// checkLocalRunes checks the code points of a local part's NFC content: each one
// (localRuneProblem), a combining mark at the start (it would combine with nothing, or
// with the quote before it), and the joiners in their context (RFC 5892 CONTEXTJ: a
// ZERO WIDTH JOINER only after a virama, a NON-JOINER after a virama or between
// cursively joining letters). It returns an error message or "".
func checkLocalRunes(content string) string {
	joiner := rune(0)
	for i, r := range content {
		if r < utf8.RuneSelf {
			if r < ' ' || r == 0x7f {
				return fmt.Sprintf("invalid character %s in local part", runeName(r))
			}
			continue
		}
		if p := localRuneProblem(r); p != "" {
			return localRuneError(r, p)
		}
		if i == 0 && unicode.Is(unicode.M, r) {
			return fmt.Sprintf("local part starts with %s, a combining mark", describeRune(r))
		}
		if joiner == 0 && (r == zwj || r == zwnj) {
			joiner = r
		}
	}
	if joiner == 0 {
		return ""
	}
	// The leading "a" keeps the check away from the label rules that joinerProfile
	// also applies (no xn-- decoding, no leading combining mark); dots are no joining
	// context either way.
	if _, err := joinerProfile.ToUnicode("a" + strings.ReplaceAll(content, ".", " ")); err != nil {
		return fmt.Sprintf("local part contains %s where no joiner is needed (RFC 5892 CONTEXTJ)", describeRune(joiner))
	}
	return ""
}

// describeRune names a code point for an error message: U+2603 '☃' SNOWMAN for a
// visible one, U+200D ZERO WIDTH JOINER for an invisible one or a combining mark, and
// the bare number when Unicode gives it no name.
func describeRune(r rune) string {
	name := runenames.Name(r)
	if name == "" || name[0] == '<' { // unassigned, or "<Private Use>", "<control>"
		return fmt.Sprintf("%U", r)
	}
	if unicode.IsGraphic(r) && !unicode.Is(unicode.M, r) && !unicode.Is(unicode.Zs, r) {
		return fmt.Sprintf("%U %q %s", r, r, name)
	}
	return fmt.Sprintf("%U %s", r, name)
}

// checkBidi applies the Bidi rule of RFC 5893 to a domain's Unicode form: when a label
// holds a right-to-left character, every label must satisfy the rule.
func checkBidi(domain string) string {
	if bidirule.DirectionString(domain) == bidi.LeftToRight {
		return ""
	}
	for rest := domain; rest != ""; {
		var label string
		label, rest, _ = strings.Cut(rest, ".")
		if !bidirule.ValidString(label) {
			return fmt.Sprintf("domain label %q breaks the Bidi rule of RFC 5893 (right-to-left and left-to-right text mixed)", dnsname.Truncate(label))
		}
	}
	return ""
}
