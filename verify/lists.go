package verify

import (
	"bufio"
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/publicsuffix"
)

// The reference lists are compiled into the binary; data/SOURCES.md says where each
// comes from and data/LICENSES holds the upstream license texts that must ship with them.
//
//go:embed data/*.txt data/SOURCES.md data/LICENSES/*.txt
var embeddedData embed.FS

// ThirdPartyNotices returns the upstream license texts of the embedded lists
// (data/LICENSES), each under a header naming its file. The MIT licenses among them
// require the notice to accompany copies of the data, the binary included.
func ThirdPartyNotices() string {
	entries, err := embeddedData.ReadDir("data/LICENSES")
	if err != nil {
		return ""
	}
	var b strings.Builder
	for _, e := range entries {
		data, err := embeddedData.ReadFile("data/LICENSES/" + e.Name())
		if err != nil {
			continue
		}
		fmt.Fprintf(&b, "==> %s <==\n%s\n", e.Name(), bytes.TrimSpace(data))
	}
	return b.String()
}

// File names of the reference lists, in embedded data/ and in a [LoadLists] directory.
const (
	fileDisposable = "disposable_domains.txt"
	fileAllowlist  = "disposable_allowlist.txt"
	fileFree       = "free_domains.txt"
	fileRole       = "role_localparts.txt"
	filePopular    = "popular_domains.txt"
	fileSLDs       = "popular_slds.txt"
	fileTLDs       = "popular_tlds.txt"
)

var listFiles = []string{
	fileDisposable, fileAllowlist, fileFree, fileRole, filePopular, fileSLDs, fileTLDs,
}

// domainFiles are the lists whose entries are domains: they must be ASCII (A-labels),
// since every lookup compares against the A-label form of the address's domain.
var domainFiles = map[string]bool{
	fileDisposable: true, fileAllowlist: true, fileFree: true, filePopular: true,
	fileSLDs: true, fileTLDs: true,
}

// ListFiles returns the file names of the reference lists, as read by [LoadLists] and
// shipped in the embedded data directory.
func ListFiles() []string { return append([]string(nil), listFiles...) }

// ListInfo describes one reference list, for `everify version` and `everify lists show`.
type ListInfo struct {
	Name    string    // file name without ".txt", e.g. "disposable_domains"
	Source  string    // "embedded", or the path the list was read from
	Entries int       // entries in the file (before the role exclusions of [Lists.Role])
	Date    time.Time // embedded: upstream snapshot date from SOURCES.md; file: modification time
}

// Lists holds the reference lists: disposable domains (with an allowlist), free
// providers, role local parts and the popular domains used for typo suggestions.
// It is immutable after construction and safe for concurrent use. The zero Lists holds
// empty lists: it matches and suggests nothing.
type Lists struct {
	disposable map[string]struct{}
	allow      map[string]struct{}
	free       map[string]struct{}
	role       map[string]struct{}
	sugg       suggester
	info       []ListInfo
}

// EmbeddedLists returns the lists compiled into the binary. They are parsed once, on
// first use; a parse failure of the embedded data is a build defect and panics.
func EmbeddedLists() *Lists { return embeddedLists() }

var embeddedLists = sync.OnceValue(func() *Lists {
	l, err := loadLists("")
	if err != nil {
		panic("verify: embedded lists: " + err.Error())
	}
	return l
})

// LoadLists returns lists read from dir (e.g. the copies `everify lists update` keeps in
// the user cache directory). Each file of [ListFiles] present in dir replaces the
// embedded list of that name; a missing file falls back to the embedded one. An
// unreadable file, a bad entry (the error names the file and line) or an empty list
// (other than the allowlist, which may legitimately be empty) is an error.
func LoadLists(dir string) (*Lists, error) {
	if dir == "" {
		return nil, errors.New("verify: lists: empty directory name")
	}
	return loadLists(dir)
}

// loadLists builds Lists from dir, or from the embedded data alone when dir is "".
func loadLists(dir string) (*Lists, error) {
	dates := embeddedDates()
	parsed := make(map[string][]string, len(listFiles))
	l := &Lists{}
	for _, name := range listFiles {
		info := ListInfo{Name: strings.TrimSuffix(name, ".txt"), Source: "embedded", Date: dates[name]}
		var data []byte
		var err error
		if dir != "" {
			path := filepath.Join(dir, name)
			data, err = os.ReadFile(path)
			switch {
			case err == nil:
				info.Source = path
				if st, serr := os.Stat(path); serr == nil {
					info.Date = st.ModTime()
				}
			case errors.Is(err, fs.ErrNotExist):
				data = nil
			default:
				return nil, fmt.Errorf("verify: lists: %w", err)
			}
		}
		if data == nil {
			if data, err = embeddedData.ReadFile("data/" + name); err != nil {
				return nil, fmt.Errorf("verify: lists: embedded %s: %w", name, err)
			}
		}
		entries, err := ParseList(bytes.NewReader(data))
		if err == nil && domainFiles[name] {
			err = checkASCII(entries)
		}
		if err == nil && len(entries) == 0 && name != fileAllowlist {
			err = errors.New("no entries")
		}
		if err != nil {
			return nil, fmt.Errorf("verify: lists: %s: %w", info.Source+sourceSuffix(info.Source, name), err)
		}
		info.Entries = len(entries)
		parsed[name] = entries
		l.info = append(l.info, info)
	}
	l.disposable = toSet(parsed[fileDisposable])
	l.allow = toSet(parsed[fileAllowlist])
	l.free = toSet(parsed[fileFree])
	l.role = toSet(parsed[fileRole])
	for r := range roleExclusions {
		delete(l.role, r)
	}
	l.sugg = newSuggester(parsed[filePopular], parsed[fileSLDs], parsed[fileTLDs], l)
	return l, nil
}

// sourceSuffix names the file in an error about an embedded list ("embedded" alone would
// not say which).
func sourceSuffix(source, name string) string {
	if source == "embedded" {
		return " " + name
	}
	return ""
}

// checkASCII rejects non-ASCII domain entries: lookups use the A-label form, so a U-label
// entry could never match.
func checkASCII(entries []string) error {
	for _, e := range entries {
		for i := 0; i < len(e); i++ {
			if e[i] >= utf8.RuneSelf {
				return fmt.Errorf("entry %q is not ASCII: write IDN domains in A-label (xn--) form", e)
			}
		}
	}
	return nil
}

func toSet(entries []string) map[string]struct{} {
	m := make(map[string]struct{}, len(entries))
	for _, e := range entries {
		m[e] = struct{}{}
	}
	return m
}

// Info describes each list: name, where it came from, entry count and date, in
// [ListFiles] order.
func (l *Lists) Info() []ListInfo { return append([]ListInfo(nil), l.info...) }

// sourcesRow matches a row of the table in SOURCES.md: "| `name.txt` | … |".
var sourcesRow = regexp.MustCompile("^\\|\\s*`([a-z_]+\\.txt)`\\s*\\|")

// sourcesDate is the upstream commit date written in a row, "(2026-08-21)".
var sourcesDate = regexp.MustCompile(`\((\d{4}-\d{2}-\d{2})\b`)

// embeddedDates reads the snapshot date of each list from the table in SOURCES.md. A row
// without a date ("same as above") takes the date of the row before it.
func embeddedDates() map[string]time.Time {
	dates := make(map[string]time.Time)
	src, err := embeddedData.ReadFile("data/SOURCES.md")
	if err != nil {
		return dates
	}
	var last time.Time
	for _, line := range strings.Split(string(src), "\n") {
		m := sourcesRow.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		if d := sourcesDate.FindStringSubmatch(line); d != nil {
			if t, err := time.Parse(time.DateOnly, d[1]); err == nil {
				last = t
			}
		}
		dates[m[1]] = last
	}
	return dates
}

// ParseError reports a bad entry in a list file.
type ParseError struct {
	Line  int    // 1-based line number
	Entry string // the offending entry, trimmed
	Msg   string // what is wrong with it
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("line %d: entry %q %s", e.Line, e.Entry, e.Msg)
}

// maxListLine bounds one line of a list file; no legitimate entry comes close.
const maxListLine = 4096

// ParseList reads a list: one entry per line, trimmed and lower-cased; blank lines and
// lines starting with '#' are skipped, and duplicates are dropped (first occurrence
// kept). An entry with white space, an '@', invalid UTF-8 or a non-printable character
// is rejected with a [*ParseError] giving its line number.
func ParseList(r io.Reader) ([]string, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1024), maxListLine)
	var out []string
	seen := make(map[string]struct{})
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if n == 1 {
			line = strings.TrimPrefix(line, "\ufeff") // BOM
		}
		e := strings.TrimSpace(line)
		if e == "" || e[0] == '#' {
			continue
		}
		if msg := badEntry(e); msg != "" {
			return nil, &ParseError{Line: n, Entry: e, Msg: msg}
		}
		e = strings.ToLower(e)
		if _, dup := seen[e]; dup {
			continue
		}
		seen[e] = struct{}{}
		out = append(out, e)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("line longer than %d bytes: %w", maxListLine, err)
		}
		return nil, err
	}
	return out, nil
}

func badEntry(e string) string {
	if !utf8.ValidString(e) {
		return "is not valid UTF-8"
	}
	for _, c := range e {
		switch {
		case unicode.IsSpace(c):
			return "contains white space"
		case c == '@':
			return "contains '@'"
		case !unicode.IsPrint(c):
			return "contains a non-printable character"
		}
	}
	return ""
}

// lowerDomain lower-cases d and drops a trailing root dot. It allocates only when d has
// upper-case letters.
func lowerDomain(d string) string {
	d = strings.TrimSuffix(d, ".")
	return strings.ToLower(d)
}

// Disposable reports whether asciiDomain (the A-label form) belongs to a disposable
// (throwaway) mail service. As the upstream list prescribes, the domain and each parent
// suffix are looked up (a.b.example.com, b.example.com, example.com) but never the bare
// TLD. The allowlist is an exclusion matched the same way; the most specific match
// wins, and on the same name the allowlist wins.
func (l *Lists) Disposable(asciiDomain string) bool {
	d := lowerDomain(asciiDomain)
	for {
		dot := strings.IndexByte(d, '.')
		if dot < 0 {
			return false // bare TLD: never matched
		}
		if _, ok := l.allow[d]; ok {
			return false
		}
		if _, ok := l.disposable[d]; ok {
			return true
		}
		d = d[dot+1:]
	}
}

// Free reports whether asciiDomain is a free mail provider (gmail.com, gmx.de, …). The
// match is exact, because the list holds public suffixes (dyndns.org, za.com) under
// which parent matching would be wrong. A disposable domain is never free: the
// upstream list mixes in throwaway services such as 10minutemail.com.
func (l *Lists) Free(asciiDomain string) bool {
	d := lowerDomain(asciiDomain)
	if _, ok := l.free[d]; !ok {
		return false
	}
	return !l.Disposable(d)
}

// roleExclusions are entries of role_localparts.txt that are not role accounts (see the
// quality notes in data/SOURCES.md): numbers and keyboard-test strings, which are junk
// rather than roles; single-company names; personal and family words; and first or
// last names. Shared-inbox words such as hello, hi, mail and email stay: hello@ is the
// modern info@; test@ stays too, a test mailbox is not a person.
var roleExclusions = setOf(
	"123", "2015", "2016", "2017", "2018", "2019", "2020", "2021", "2022", "2023", "2024",
	"2025", "2026", "2027", "2028", "2029", "2030", // numbers
	"aaa", "abc", "asd", "asdf", "asdasd", // keyboard tests
	"plex", "plex.tv", "myplex", "namecheap", "lifesum", "caltrain", "digsitesvalue", // companies
	"home", "family", "friends", // personal
	"alexa", "gardner", // names
)

func setOf(xs ...string) map[string]struct{} { return toSet(xs) }

// Role reports whether local is a role account (info, postmaster, noreply, …) rather
// than a person's mailbox. The match is exact and case-insensitive after removing a
// "+tag" (Info+news → info); no '-', '_' or '.' variants are derived, so "no-reply" is a
// role only because the list has it. A few list entries that are not roles are excluded
// (see roleExclusions).
func (l *Lists) Role(local string) bool {
	if i := strings.IndexByte(local, '+'); i > 0 {
		local = local[:i]
	}
	_, ok := l.role[strings.ToLower(local)]
	return ok
}

// Suggest returns the domain the user probably meant when domain looks like a typo of a
// popular mail domain (gmial.com → gmail.com, yahoo.cmo → yahoo.com), or "" when it
// does not, when domain is itself a known provider (popular, free or allowlisted) and
// for IDN domains. domain is compared in its A-label form; the caller builds the full
// suggested address.
func (l *Lists) Suggest(domain string) string { return l.sugg.suggest(domain) }

// Matcher matches addresses against an --allow or --deny file. A nil *Matcher matches
// nothing.
type Matcher struct {
	addrs   map[string]struct{} // lower-cased local@domain
	domains map[string]struct{} // domains that match themselves and their subdomains
}

// LoadMatcher reads an --allow/--deny file: one entry per line, blank lines and '#'
// comment lines skipped. An entry with an '@' after its first byte is a full address,
// matched case-insensitively as a whole (local parts are case-sensitive by RFC 5321,
// but list owners do not expect Jane@ and jane@ to differ). Any other entry is a
// domain, written "example.com", "@example.com" or "*.example.com", which matches that
// domain and all its subdomains. Domains must be in A-label form. A malformed entry is
// an error naming its line.
func LoadMatcher(r io.Reader) (*Matcher, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1024), maxListLine)
	m := &Matcher{addrs: make(map[string]struct{}), domains: make(map[string]struct{})}
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if n == 1 {
			line = strings.TrimPrefix(line, "\ufeff")
		}
		e := strings.TrimSpace(line)
		if e == "" || e[0] == '#' {
			continue
		}
		if !utf8.ValidString(e) || strings.ContainsFunc(e, func(c rune) bool { return unicode.IsSpace(c) || !unicode.IsPrint(c) }) {
			return nil, fmt.Errorf("verify: matcher: line %d: %q: white space or non-printable character", n, e)
		}
		e = strings.ToLower(e)
		switch at := strings.LastIndexByte(e, '@'); {
		case at > 0:
			if at == len(e)-1 || strings.IndexByte(e[at+1:], '.') < 0 && !strings.HasPrefix(e[at+1:], "[") {
				return nil, fmt.Errorf("verify: matcher: line %d: %q: address without a domain", n, e)
			}
			m.addrs[strings.TrimSuffix(e, ".")] = struct{}{}
		default:
			d := strings.TrimPrefix(e, "@")
			d = strings.TrimPrefix(d, "*.")
			d = strings.TrimSuffix(d, ".")
			if d == "" || strings.ContainsAny(d, "@*") || strings.HasPrefix(d, ".") || strings.Contains(d, "..") {
				return nil, fmt.Errorf("verify: matcher: line %d: %q: not a domain or address", n, e)
			}
			m.domains[d] = struct{}{}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("verify: matcher: %w", err)
	}
	return m, nil
}

// Match reports whether local@asciiDomain is listed, as a whole address or through its
// domain or a parent domain. A nil m matches nothing.
func (m *Matcher) Match(local, asciiDomain string) bool {
	if m == nil {
		return false
	}
	d := lowerDomain(asciiDomain)
	if len(m.addrs) > 0 {
		if _, ok := m.addrs[strings.ToLower(local)+"@"+d]; ok {
			return true
		}
	}
	for d != "" {
		if _, ok := m.domains[d]; ok {
			return true
		}
		dot := strings.IndexByte(d, '.')
		if dot < 0 {
			break
		}
		d = d[dot+1:]
	}
	return false
}

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
	if len(d) > 253 || !plainASCIIDomain(d) || s.known(d) {
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

// plainASCIIDomain reports whether d is made of LDH labels with no A-label (IDN) among
// them: suggestions are for ASCII typos only.
func plainASCIIDomain(d string) bool {
	if d == "" {
		return false
	}
	for i := 0; i < len(d); i++ {
		c := d[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			return false
		}
	}
	if strings.HasPrefix(d, "xn--") || strings.Contains(d, ".xn--") {
		return false
	}
	return true
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
