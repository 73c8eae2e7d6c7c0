package verify

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/everify/everify/lists"
)

// Lists are the reference lists a [Verifier] consults (package lists); Config.Lists
// names them here so that callers of verify need not import lists for the default.
type Lists = lists.Lists

// EmbeddedLists returns the lists compiled into the binary ([lists.Embedded]).
func EmbeddedLists() *Lists { return lists.Embedded() }

// maxListLine bounds one line of an --allow/--deny file; no legitimate entry comes close.
const maxListLine = 4096

// lowerDomain lower-cases d and drops a trailing root dot.
func lowerDomain(d string) string {
	return strings.ToLower(strings.TrimSuffix(d, "."))
}

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
