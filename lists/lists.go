// Package lists holds everify's reference lists: disposable domains with their
// allowlist, free providers, role local parts and the popular domains of typo
// suggestions. It embeds their snapshots and attribution files, says where each comes
// from ([Origins]), loads them (embedded, or the copies in a directory), chooses which
// copy a run uses ([Choose]), and refreshes them from upstream with validation and
// atomic writes ([Updater]).
package lists

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
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"
)

// The reference lists are compiled into the binary; data/SOURCES.md says where each
// comes from and data/LICENSES holds the upstream license texts that must ship with them.
//
//go:embed data/*.txt data/LICENSES/*.txt
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

// File names of the reference lists, in embedded data/ and in a [Load] directory.
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

// ListFiles returns the file names of the reference lists, as read by [Load] and
// shipped in the embedded data directory.
func ListFiles() []string { return append([]string(nil), listFiles...) }

// ListInfo describes one reference list, for `everify version` and `everify lists show`.
type ListInfo struct {
	Name    string    // file name without ".txt", e.g. "disposable_domains"
	Source  string    // "embedded", or the path the list was read from
	Entries int       // entries in the file (before the role exclusions of [Lists.Role])
	Date    time.Time // embedded: upstream snapshot date from [Origins]; file: modification time
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

// Embedded returns the lists compiled into the binary. They are parsed once, on first
// use; a parse failure of the embedded data is a build defect and panics.
func Embedded() *Lists { return embedded() }

var embedded = sync.OnceValue(func() *Lists {
	l, err := load("")
	if err != nil {
		panic("lists: embedded lists: " + err.Error())
	}
	return l
})

// Load returns lists read from dir (e.g. the copies `everify lists update` keeps in
// the user cache directory). Each file of [ListFiles] present in dir replaces the
// embedded list of that name; a missing file falls back to the embedded one. An
// unreadable file, a bad entry (the error names the file and line) or an empty list
// (other than the allowlist, which may legitimately be empty) is an error.
func Load(dir string) (*Lists, error) {
	if dir == "" {
		return nil, errors.New("lists: empty directory name")
	}
	return load(dir)
}

// load builds Lists from dir, or from the embedded data alone when dir is "".
func load(dir string) (*Lists, error) {
	parsed := make(map[string][]string, len(listFiles))
	l := &Lists{}
	for _, name := range listFiles {
		info := ListInfo{Name: strings.TrimSuffix(name, ".txt"), Source: "embedded", Date: originDate(name)}
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
				return nil, fmt.Errorf("lists: %w", err)
			}
		}
		if data == nil {
			if data, err = embeddedData.ReadFile("data/" + name); err != nil {
				return nil, fmt.Errorf("lists: embedded %s: %w", name, err)
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
			return nil, fmt.Errorf("lists: %s: %w", info.Source+sourceSuffix(info.Source, name), err)
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
