package lists

import (
	"strings"

	"golang.org/x/net/publicsuffix"

	"github.com/everify/everify/internal/dnsname"
)

// Typo suggestion.
//
// Like mailcheck, a domain is first compared with the popular domains, then its first
// label (the "SLD") and the rest (the "TLD") are fixed separately against the popular
// SLDs and TLDs. Unlike mailcheck, distances are Damerau-Levenshtein (optimal string
// alignment, a transposition costs 1), applied per part with thresholds that grow with
// the length of the intended name, so short names never attract unrelated domains
// (abc.com is not aol.com, mall.com is not mail.com), and a TLD is only "fixed" when it
// is not a real TLD (.con, .cmo, .nte) or is one of the ccTLDs that are classic typos of
// .com/.net (.co, .cm, .om, .ne, .cam): yahoo.com.ar and web.dk stay as they are.

// preferredDomains, preferredSLDs and preferredTLDs break ties between equally close
// candidates (the data files are sorted alphabetically, so file order says nothing about
// popularity); candidates not named here come after, in file order.
var (
	preferredDomains = []string{
		"gmail.com", "icloud.com", "aol.com", "googlemail.com", "me.com", "mac.com",
		"msn.com", "comcast.net", "att.net", "verizon.net", "sbcglobal.net", "ymail.com",
	}
	preferredSLDs = []string{"yahoo", "hotmail", "outlook", "gmx", "live", "mail"}
	preferredTLDs = []string{"com", "net", "org", "de", "co.uk", "fr", "it", "es", "ca"}
)

// typoTLDs are real ccTLDs/gTLDs that are, in mail addresses, far more often a slip for
// .com or .net than meant.
var typoTLDs = map[string]bool{"co": true, "cm": true, "om": true, "ne": true, "cam": true}

// knownProviders are real mail domains that are missing from the lists and must never be
// "corrected".
var knownProviders = map[string]bool{
	"tutanota.com": true, "tutanota.de": true, "tuta.io": true, "hey.com": true,
	"duck.com": true, "proton.me": true, "pm.me": true,
}

type domainParts struct {
	name     string // the whole domain
	sld, tld string // first label, rest
}

type suggester struct {
	popular []domainParts
	slds    []string
	tlds    []string
	sldSet  map[string]bool
	tldSet  map[string]bool
	known   func(string) bool
}

func newSuggester(popular, slds, tlds []string, l *Lists) suggester {
	s := suggester{
		slds:   byPreference(slds, preferredSLDs),
		tlds:   byPreference(tlds, preferredTLDs),
		sldSet: make(map[string]bool),
		tldSet: make(map[string]bool),
	}
	popSet := make(map[string]bool)
	for _, d := range byPreference(popular, preferredDomains) {
		if sld, tld, ok := strings.Cut(d, "."); ok {
			s.popular = append(s.popular, domainParts{d, sld, tld})
			popSet[d] = true
		}
	}
	for _, x := range slds {
		s.sldSet[x] = true
	}
	for _, x := range tlds {
		s.tldSet[x] = true
	}
	s.known = func(d string) bool {
		if popSet[d] || knownProviders[d] {
			return true
		}
		if _, ok := l.free[d]; ok {
			return !freeTypos[d]
		}
		_, ok := l.allow[d]
		return ok
	}
	return s
}

// byPreference returns list with the entries of pref first, in pref's order.
func byPreference(list, pref []string) []string {
	in := make(map[string]bool, len(list))
	for _, x := range list {
		in[x] = true
	}
	out := make([]string, 0, len(list))
	first := make(map[string]bool)
	for _, x := range pref {
		if in[x] && !first[x] {
			out = append(out, x)
			first[x] = true
		}
	}
	for _, x := range list {
		if !first[x] {
			out = append(out, x)
		}
	}
	return out
}

// popularSLDMax is how far (OSA) a typed first label may be from a popular domain's:
// nothing for names of up to 3 letters (aol, att, qq: their neighbours are real
// domains), 1 for 4 or 5 letters, 2 beyond (icould → icloud). One less when the first
// letters differ.
func popularSLDMax(n int) int {
	switch {
	case n <= 3:
		return 0
	case n <= 5:
		return 1
	default:
		return 2
	}
}

// genericSLDMax is the same for the generic popular SLDs (yahoo, hotmail, mail, live…),
// which combine with any TLD and so attract more false matches: mail and live (4
// letters) are never targets (mall.com, love.com); longer ones at distance 1 (one less
// when the first letters differ).
func genericSLDMax(n int) int {
	if n <= 4 {
		return 0
	}
	return 1
}

func (s *suggester) suggest(domain string) string {
	if s.known == nil {
		return "" // zero Lists
	}
	d := lowerDomain(domain)
	if s.known(d) || !dnsname.Plain(d) {
		return ""
	}
	sld, tld, ok := strings.Cut(d, ".")
	if !ok || sld == "" || tld == "" {
		return ""
	}
	if s.sldSet[sld] && s.tldSet[tld] {
		return "" // e.g. mail.com, live.com, gmx.at: both parts known, the domain is real
	}
	// A TLD on the popular list is real and stays; another may be corrected if fixableTLD.
	tldFixable := !s.tldSet[tld] && fixableTLD(tld)
	maxTotal := 2
	if len(d) < 6 {
		maxTotal = 1
	}

	// 1. The whole domain against the popular domains.
	best, bestDist := "", maxTotal+1
	for _, c := range s.popular {
		dt := 0
		if tld != c.tld {
			if !tldFixable {
				continue
			}
			if dt = osa(tld, c.tld, 1); dt > 1 {
				continue
			}
		}
		if sld != c.sld && s.sldSet[sld] {
			continue // a known SLD (mail, live) is not a typo of another name: mail.co → mail.com
		}
		maxS := popularSLDMax(len(c.sld))
		if sld[0] != c.sld[0] {
			maxS-- // first letters are rarely mistyped: email.com, wahoo.com are not typos
		}
		if maxS < 0 {
			continue
		}
		ds := osa(sld, c.sld, maxS)
		if ds > maxS || ds+dt > maxTotal {
			continue
		}
		if ds+dt < bestDist {
			best, bestDist = c.name, ds+dt
		}
	}
	if best != "" {
		return best
	}

	// 2. First label and TLD fixed separately.
	fixSLD := sld
	if !s.sldSet[sld] {
		fixSLD = ""
		for _, c := range s.slds {
			m := genericSLDMax(len(c))
			if sld[0] != c[0] {
				m--
			}
			if m >= 0 && osa(sld, c, m) <= m {
				fixSLD = c
				break // s.slds is in preference order; all matches are at distance 1
			}
		}
	}
	fixTLD := tld
	if !s.tldSet[tld] {
		if !tldFixable {
			fixTLD = tld // a real TLD we do not know: keep it (yahooo.com.ar → yahoo.com.ar)
		} else {
			fixTLD = ""
			for _, c := range s.tlds {
				if osa(tld, c, 1) <= 1 {
					fixTLD = c
					break
				}
			}
		}
	}
	if fixSLD == "" || fixTLD == "" {
		return ""
	}
	got := fixSLD + "." + fixTLD
	if got == d || osa(d, got, maxTotal) > maxTotal {
		return ""
	}
	return got
}

// fixableTLD reports whether tld may be corrected: it is not a real public suffix (.con,
// .cmo), or it is a real one that is a classic typo (typoTLDs).
func fixableTLD(tld string) bool {
	if typoTLDs[tld] {
		return true
	}
	// The probe label must not itself be a suffix (the PSL lists x.bg, 0.bg, …).
	ps, icann := publicsuffix.PublicSuffix("everify-probe." + tld)
	under := ps == tld || strings.HasSuffix(ps, "."+tld) // wildcard rules: *.ck
	// An unlisted TLD comes back from the PSL's default rule as a single non-ICANN
	// label; private suffixes (com.ru, blogspot.com) have a dot and are real.
	real := under && (icann || strings.Contains(ps, "."))
	return !real
}

// osa returns the optimal-string-alignment distance (Damerau-Levenshtein where an
// adjacent transposition costs 1 and no substring is edited twice) between a and b, or
// some value > max as soon as the distance is known to exceed max. It does not allocate
// for strings of up to 63 bytes.
func osa(a, b string, max int) int {
	if a == b {
		return 0
	}
	la, lb := len(a), len(b)
	if la-lb > max || lb-la > max {
		return max + 1
	}
	if lb > la {
		a, b, la, lb = b, a, lb, la
	}
	var buf [3 * 64]int
	var rows []int
	if lb < 64 {
		rows = buf[:3*(lb+1)]
	} else {
		rows = make([]int, 3*(lb+1))
	}
	prev2, prev, cur := rows[:lb+1], rows[lb+1:2*(lb+1)], rows[2*(lb+1):]
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= la; i++ {
		cur[0] = i
		rowMin := cur[0]
		for j := 1; j <= lb; j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			v := min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				v = min(v, prev2[j-2]+1)
			}
			cur[j] = v
			rowMin = min(rowMin, v)
		}
		if rowMin > max {
			return max + 1
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[lb]
}

// freeTypos are entries of free_domains.txt that are typos of popular providers rather
// than providers (the HubSpot-derived list records what people type, not what exists);
// being on the free list must not shield them from a suggestion.
// Real providers that merely look like typos (earthling.net, y7mail.com, email.com) are
// not listed, nor are doubtful ones (hotmail.co, yahoo.co, which therefore stay as typed).
var freeTypos = map[string]bool{
	"yaho.com": true, "hitmail.com": true, "sbcglbal.net": true,
}
