package lists

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/everify/everify/internal/atomicfile"
	"github.com/everify/everify/internal/dnsname"
)

// Bounds on a downloaded list. The biggest upstream file is about 150 KB; anything near
// maxListBytes is not a list. A download with fewer than minListFraction of the
// embedded list's entries is taken for a truncated or emptied file and refused, and so
// is one where more than maxBadFraction of the entries are malformed.
const (
	// DefaultTimeout bounds the download of one list.
	DefaultTimeout = 60 * time.Second

	maxListBytes    = 16 << 20
	minListFraction = 0.5
	maxBadFraction  = 0.01
)

// Result is the outcome of updating one list.
type Result struct {
	Origin  Origin
	Entries int
	Skipped int // malformed upstream entries left out
	Path    string
	Err     error
}

// Updater downloads lists from upstream, checks them (size bounds, no HTML, at least
// half the entries of the embedded list, at most 1% malformed entries, accepted by
// [ParseList]) and writes them atomically into Dir with their [Meta].
type Updater struct {
	Dir       string        // where the lists are written; must exist
	URLBase   string        // replaces [RawBase] in every URL; "" keeps it
	Timeout   time.Duration // whole download of one list, with the default Client
	Client    *http.Client  // nil: a client with Timeout and the environment's proxy
	Now       func() time.Time
	UserAgent string
	MaxBytes  int64 // bound on one download; 0 is 16 MiB
}

// UpdateAll updates the lists of todo at once, so the whole update takes about as long
// as the slowest one, not the sum; results are in todo's order.
func (u *Updater) UpdateAll(ctx context.Context, todo []Origin) []Result {
	client := u.Client
	if client == nil {
		// http.DefaultTransport honours HTTPS_PROXY/NO_PROXY.
		client = &http.Client{Timeout: u.Timeout}
	}
	results := make([]Result, len(todo))
	var wg sync.WaitGroup
	for i, o := range todo {
		wg.Go(func() { results[i] = u.update(ctx, client, o) })
	}
	wg.Wait()
	return results
}

func (u *Updater) url(o Origin) string {
	if u.URLBase == "" {
		return o.URL
	}
	return strings.TrimSuffix(u.URLBase, "/") + strings.TrimPrefix(o.URL, RawBase)
}

func (u *Updater) now() time.Time {
	if u.Now != nil {
		return u.Now()
	}
	return time.Now()
}

func (u *Updater) maxBytes() int64 {
	if u.MaxBytes > 0 {
		return u.MaxBytes
	}
	return maxListBytes
}

func (u *Updater) update(ctx context.Context, client *http.Client, o Origin) Result {
	r := Result{Origin: o}
	url := u.url(o)
	body, err := u.fetch(ctx, client, url)
	if err != nil {
		r.Err = err
		return r
	}
	entries, skipped, err := parseUpstream(o, body)
	if err != nil {
		r.Err = fmt.Errorf("%s: %w", url, err)
		return r
	}
	embedded := embeddedEntries(o.Name)
	if need := max(int(float64(embedded)*minListFraction), 1); len(entries) < need {
		r.Err = fmt.Errorf("%s: only %d entries, fewer than half the %d of the embedded list: truncated or emptied download refused",
			url, len(entries), embedded)
		return r
	}
	r.Entries, r.Skipped = len(entries), skipped
	data := []byte(strings.Join(entries, "\n") + "\n")
	// The loader must accept what we write, or every later run would fail.
	if _, err := ParseList(bytes.NewReader(data)); err != nil {
		r.Err = fmt.Errorf("%s: %w", url, err)
		return r
	}
	r.Path = filepath.Join(u.Dir, o.Name+".txt")
	sum := sha256.Sum256(data)
	meta := Meta{Source: url, Fetched: u.now().UTC(), SHA256: hex.EncodeToString(sum[:]), Entries: len(entries)}
	mb, _ := json.MarshalIndent(meta, "", "  ")
	if err := atomicfile.WriteBytes(r.Path, data); err != nil {
		r.Err = err
		return r
	}
	if err := atomicfile.WriteBytes(MetaPath(u.Dir, o.Name), append(mb, '\n')); err != nil {
		r.Err = err
	}
	return r
}

// errHTML is returned for an error page served where a list was expected.
var errHTML = errors.New("got an HTML page, not a list")

// fetch GETs url and returns its body, refusing error statuses, HTML, a body larger
// than the size bound and a body cut short of its Content-Length.
func (u *Updater) fetch(ctx context.Context, client *http.Client, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	if u.UserAgent != "" {
		req.Header.Set("User-Agent", u.UserAgent)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: %s", url, resp.Status)
	}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt == "text/html" || mt == "application/xhtml+xml" {
		return nil, fmt.Errorf("%s: %w (Content-Type %s)", url, errHTML, mt)
	}
	if resp.ContentLength > u.maxBytes() {
		return nil, fmt.Errorf("%s: %d bytes, more than the %d a list may have", url, resp.ContentLength, u.maxBytes())
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, u.maxBytes()+1))
	if err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("%s: download truncated: %w", url, err)
		}
		return nil, fmt.Errorf("%s: %w", url, err)
	}
	if int64(len(body)) > u.maxBytes() {
		return nil, fmt.Errorf("%s: more than the %d bytes a list may have", url, u.maxBytes())
	}
	if t := bytes.TrimLeft(bytes.TrimPrefix(body, []byte("\ufeff")), " \t\r\n"); len(t) > 0 && t[0] == '<' {
		return nil, fmt.Errorf("%s: %w", url, errHTML)
	}
	return body, nil
}

// parseUpstream extracts, normalizes (trimmed, lower-cased, deduplicated, sorted) and
// checks the entries of an upstream file. Malformed entries are left out and counted;
// more than maxBadFraction of them means the file is not what we expect, an error.
func parseUpstream(o Origin, body []byte) (entries []string, skipped int, err error) {
	var raw []string
	switch o.Format {
	case FormatLines:
		for _, line := range strings.Split(string(body), "\n") {
			line = strings.TrimSpace(line)
			if line != "" && line[0] != '#' {
				raw = append(raw, line)
			}
		}
	case FormatJSONArray:
		if err := json.Unmarshal(body, &raw); err != nil {
			return nil, 0, fmt.Errorf("not a JSON array of strings: %w", err)
		}
	case FormatJSArrays:
		if raw, err = jsArrayStrings(string(body)); err != nil {
			return nil, 0, err
		}
	}
	valid := dnsname.Valid
	if o.Local {
		valid = validLocalPart
	}
	seen := make(map[string]bool, len(raw))
	var bad []string
	for _, e := range raw {
		e = strings.ToLower(strings.TrimSpace(e))
		if e == "" || seen[e] {
			continue
		}
		if !valid(e) {
			bad = append(bad, e)
			continue
		}
		seen[e] = true
		entries = append(entries, e)
	}
	if len(bad) > 0 && float64(len(bad)) > maxBadFraction*float64(len(bad)+len(entries)) {
		return nil, 0, fmt.Errorf("%d of %d entries are malformed (e.g. %q): not a list of %s",
			len(bad), len(bad)+len(entries), bad[0], map[bool]string{false: "domains", true: "local parts"}[o.Local])
	}
	slices.Sort(entries)
	return entries, len(bad), nil
}

var (
	jsArray  = regexp.MustCompile(`(?s)const\s+[A-Za-z_$][\w$]*\s*=\s*\[(.*?)\]\s*;`)
	jsString = regexp.MustCompile(`'([^'\\\n]*)'|"([^"\\\n]*)"`)
)

// jsArrayStrings returns the quoted strings inside the `const NAME = [ … ];` arrays of
// a JavaScript source (mixmaxhq/role-based-email-addresses src/index.js). Line
// comments inside the arrays are ignored.
func jsArrayStrings(src string) ([]string, error) {
	arrays := jsArray.FindAllStringSubmatch(src, -1)
	if len(arrays) == 0 {
		return nil, errors.New("no `const NAME = [ … ];` array found: not the expected JavaScript source")
	}
	var out []string
	for _, a := range arrays {
		for _, line := range strings.Split(a[1], "\n") {
			for _, m := range jsString.FindAllStringSubmatch(stripJSComment(line), -1) {
				out = append(out, m[1]+m[2])
			}
		}
	}
	return out, nil
}

// stripJSComment cuts a `//` line comment, outside quotes, off line.
func stripJSComment(line string) string {
	var quote byte
	for i := 0; i < len(line); i++ {
		switch c := line[i]; {
		case quote != 0:
			if c == '\\' {
				i++
			} else if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '/' && i+1 < len(line) && line[i+1] == '/':
			return line[:i]
		}
	}
	return line
}

// validLocalPart reports whether s is a lower-case ASCII dot-atom local part (RFC 5321
// §4.1.2) of at most 64 octets.
func validLocalPart(s string) bool {
	if s == "" || len(s) > 64 || s[0] == '.' || s[len(s)-1] == '.' || strings.Contains(s, "..") {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-/=?^_`{|}~.", c) >= 0) {
			return false
		}
	}
	return true
}

// embeddedEntries is the entry count of the embedded list name.
func embeddedEntries(name string) int {
	for _, info := range Embedded().Info() {
		if info.Name == name {
			return info.Entries
		}
	}
	return 0
}
