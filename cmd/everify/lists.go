package main

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
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/everify/everify/verify"
)

// listFormat is how an upstream file holds its entries.
type listFormat int

const (
	formatLines     listFormat = iota // one entry per line, '#' comments
	formatJSONArray                   // a JSON array of strings
	formatJSArrays                    // quoted strings inside `const NAME = [ … ];` arrays
)

// listOrigin says where one reference list comes from: the upstream of its embedded
// snapshot (mirroring verify/data/SOURCES.md) and, for the lists `everify lists update`
// refreshes, the URL it downloads.
type listOrigin struct {
	Name   string // verify list name, e.g. "disposable_domains"
	Alias  string // short name accepted by `lists update`, e.g. "disposable"
	Repo   string // upstream repository of the embedded snapshot
	Commit string // upstream commit of the embedded snapshot
	URL    string // download URL; "" for lists that are not updated (frozen upstream)
	Pinned bool   // URL names a commit: upstream is frozen or must not be followed
	Format listFormat
	Local  bool // entries are local parts (role accounts), not domains
}

// rawBase starts every download URL; --url-base replaces it (a mirror, or a test server).
const rawBase = "https://raw.githubusercontent.com"

// listOrigins are the lists in verify.ListFiles order. The URLs and the reasons for
// pinning are in SOURCES.md: the allowlist was deleted upstream, and Kikobeats' master
// merged disposable lists into its free list, so both stay at the snapshot's commit.
var listOrigins = []listOrigin{
	{Name: "disposable_domains", Alias: "disposable",
		Repo: "disposable-email-domains/disposable-email-domains", Commit: "a6458931ee3eee7fbacc867bd43133be0bca6c30",
		URL: rawBase + "/disposable-email-domains/disposable-email-domains/main/disposable_email_blocklist.conf"},
	{Name: "disposable_allowlist", Alias: "allowlist",
		Repo: "disposable-email-domains/disposable-email-domains", Commit: "de9d20d740fb58c972e54f0a9fe1f2112a31ac00",
		URL: rawBase + "/disposable-email-domains/disposable-email-domains/de9d20d740fb58c972e54f0a9fe1f2112a31ac00/allowlist.conf", Pinned: true},
	{Name: "free_domains", Alias: "free",
		Repo: "Kikobeats/free-email-domains", Commit: "11583ff904b8761687615d5481df254a7cd3a28c",
		URL: rawBase + "/Kikobeats/free-email-domains/11583ff904b8761687615d5481df254a7cd3a28c/domains.json", Pinned: true, Format: formatJSONArray},
	{Name: "role_localparts", Alias: "role",
		Repo: "mixmaxhq/role-based-email-addresses", Commit: "4ad47311a1b88c47d248433ac5092050bbc12a51",
		URL: rawBase + "/mixmaxhq/role-based-email-addresses/master/src/index.js", Format: formatJSArrays, Local: true},
	{Name: "popular_domains", Repo: "mailcheck/mailcheck", Commit: "cbc33a6f1af79c70f8d4a0dfc0b0140b7cd5f9cf"},
	{Name: "popular_slds", Repo: "mailcheck/mailcheck", Commit: "cbc33a6f1af79c70f8d4a0dfc0b0140b7cd5f9cf"},
	{Name: "popular_tlds", Repo: "mailcheck/mailcheck", Commit: "cbc33a6f1af79c70f8d4a0dfc0b0140b7cd5f9cf"},
}

func originOf(name string) (listOrigin, bool) {
	for _, o := range listOrigins {
		if o.Name == name {
			return o, true
		}
	}
	return listOrigin{}, false
}

// Bounds on a downloaded list. The biggest upstream file is about 150 KB; anything near
// maxListBytes is not a list. A download with fewer than minListFraction of the
// embedded list's entries is taken for a truncated or emptied file and refused, and so
// is one where more than maxBadFraction of the entries are malformed.
const (
	maxListBytes    = 16 << 20
	minListFraction = 0.5
	maxBadFraction  = 0.01
	defaultTimeout  = 60 * time.Second
)

// listMeta is written next to a downloaded list as NAME.meta.json, for `lists show`.
type listMeta struct {
	Source  string    `json:"source"`  // URL downloaded
	Fetched time.Time `json:"fetched"` // when
	SHA256  string    `json:"sha256"`  // of the list file as written
	Entries int       `json:"entries"`
}

func metaPath(dir, name string) string { return filepath.Join(dir, name+".meta.json") }

func readMeta(dir, name string) (listMeta, bool) {
	var m listMeta
	b, err := os.ReadFile(metaPath(dir, name))
	if err != nil || json.Unmarshal(b, &m) != nil {
		return listMeta{}, false
	}
	return m, true
}

// defaultListsDir is where `lists update` writes and runs look: <user cache dir>/everify
// (~/.cache/everify on Linux, ~/Library/Caches/everify on macOS, %LocalAppData%\everify
// on Windows).
func defaultListsDir() (string, error) {
	d, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(d, "everify"), nil
}

// listsChoice is what a run uses: the directory looked at and whether its lists are used.
type listsChoice struct {
	Dir      string // "" when there is no directory (--no-list-updates, no cache dir)
	Explicit bool   // Dir was given with --lists-dir / EVERIFY_LISTS_DIR
	Use      bool   // the lists in Dir are used (else the embedded ones)
	Why      string // why not, for `lists show`
}

// chooseLists decides which lists a run uses. An explicit directory must exist and is
// always used. The default cache directory is used when it holds a downloaded list
// newer than the embedded snapshot of that list, so upgrading everify never falls back
// to lists older than the ones it ships.
func chooseLists(dir string, embeddedOnly bool) (listsChoice, error) {
	if embeddedOnly {
		return listsChoice{Dir: dir, Explicit: dir != "", Why: "--no-list-updates"}, nil
	}
	if dir != "" {
		st, err := os.Stat(dir)
		if err != nil {
			return listsChoice{}, withHint(fmt.Errorf("--lists-dir: %w", err),
				"create it with 'everify lists update --lists-dir "+dir+"'")
		}
		if !st.IsDir() {
			return listsChoice{}, flagErrorf("--lists-dir %s: not a directory", dir)
		}
		return listsChoice{Dir: dir, Explicit: true, Use: true}, nil
	}
	d, err := defaultListsDir()
	if err != nil {
		return listsChoice{Why: "no user cache directory: " + err.Error()}, nil
	}
	c := listsChoice{Dir: d}
	embedded := verify.EmbeddedLists().Info()
	found := false
	for _, info := range embedded {
		fetched, ok := downloadedAt(d, info.Name)
		if !ok {
			continue
		}
		found = true
		if fetched.After(info.Date) {
			c.Use = true
			return c, nil
		}
	}
	c.Why = "no downloaded lists ('everify lists update' fetches them)"
	if found {
		c.Why = "downloaded lists are older than the embedded ones"
	}
	return c, nil
}

// downloadedAt returns when the list name in dir was fetched: from its metadata, else
// the file's modification time; ok is false when there is no such file.
func downloadedAt(dir, name string) (t time.Time, ok bool) {
	st, err := os.Stat(filepath.Join(dir, name+".txt"))
	if err != nil || !st.Mode().IsRegular() {
		return time.Time{}, false
	}
	if m, ok := readMeta(dir, name); ok && !m.Fetched.IsZero() {
		return m.Fetched, true
	}
	return st.ModTime(), true
}

// loadLists returns the lists a run uses: those in dir (--lists-dir), else those in the
// user cache directory written by `everify lists update` when newer than the embedded
// ones, else the embedded ones. embeddedOnly (--no-list-updates) forces the embedded
// lists. A downloaded list that does not parse is an error, not a silent fallback.
func loadLists(dir string, embeddedOnly bool) (*verify.Lists, error) {
	c, err := chooseLists(dir, embeddedOnly)
	if err != nil {
		return nil, err
	}
	if !c.Use {
		return verify.EmbeddedLists(), nil
	}
	l, err := verify.LoadLists(c.Dir)
	if err != nil {
		return nil, withHint(err, "download fresh copies with 'everify lists update', or use --no-list-updates")
	}
	return l, nil
}

func newListsCmd(ios *IOStreams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "lists",
		Short: "Refresh or inspect the disposable, allowlist, free and role lists",
		Long: `everify ships snapshots of its reference lists (disposable domains, the disposable
allowlist, free providers, role local parts, popular domains for typo suggestions).
'everify lists update' downloads newer copies into the user cache directory; later
runs use them in preference to the embedded ones.`,
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(newListsUpdateCmd(ios, nil), newListsShowCmd(ios))
	documentEnv(cmd)
	return cmd
}

// ListsUpdateOptions are the inputs of `everify lists update`.
type ListsUpdateOptions struct {
	IO      *IOStreams
	Dir     string        // target directory; "" is the user cache directory
	Names   []string      // lists to update; empty: all that have an upstream
	URLBase string        // replaces https://raw.githubusercontent.com in every URL
	Timeout time.Duration // whole download of one list
	Client  *http.Client  // nil: a client with Timeout and the environment's proxy
	Now     func() time.Time

	maxBytes int64 // tests lower it; 0 is maxListBytes
}

func newListsUpdateCmd(ios *IOStreams, runF func(context.Context, *ListsUpdateOptions) error) *cobra.Command {
	opts := &ListsUpdateOptions{IO: ios}
	var aliases []string
	for _, o := range listOrigins {
		if o.URL != "" {
			aliases = append(aliases, o.Alias)
		}
	}
	cmd := &cobra.Command{
		Use:   "update [LIST...]",
		Short: "Download newer lists from upstream into the user cache directory",
		Long: `Download the reference lists from their upstream repositories, check them (one
domain or local part per line, size bounds, at least half as many entries as the
embedded list, so a truncated download or an error page is refused) and write them
atomically into the user cache directory, or --lists-dir. Later runs use them instead
of the embedded lists; --no-list-updates goes back to the embedded ones.

LIST is one of: ` + strings.Join(aliases, ", ") + ` (default: all).
The allowlist and the free list are pinned to the snapshot's commit (see SOURCES.md:
the allowlist is frozen upstream, and newer versions of the free list mix in
disposable domains).`,
		Example: `  everify lists update
  everify lists update disposable
  everify lists update --lists-dir /srv/everify/lists`,
		ValidArgs: aliases,
		Args:      cobra.OnlyValidArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Names = args
			if opts.Timeout <= 0 {
				return flagErrorf("invalid --timeout %v: must be positive", opts.Timeout)
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runListsUpdate(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Dir, "lists-dir", "", "`dir` to write the lists to (default: the user cache dir)")
	f.DurationVar(&opts.Timeout, "timeout", defaultTimeout, "time limit for downloading one list")
	f.StringVar(&opts.URLBase, "url-base", "", "download from this `URL` instead of "+rawBase+" (a mirror)")
	_ = f.MarkHidden("url-base")
	return cmd
}

// updateResult is the outcome of updating one list.
type updateResult struct {
	Origin  listOrigin
	Entries int
	Before  int // entries of the list in use before (downloaded or embedded)
	Skipped int // malformed upstream entries left out
	Path    string
	Err     error
}

func runListsUpdate(ctx context.Context, opts *ListsUpdateOptions) error {
	dir := opts.Dir
	if dir == "" {
		d, err := defaultListsDir()
		if err != nil {
			return withHint(fmt.Errorf("no user cache directory: %w", err), "name a directory with --lists-dir")
		}
		dir = d
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	u := &updater{opts: opts, dir: dir}
	u.init()
	before := map[string]int{}
	for _, info := range verify.EmbeddedLists().Info() {
		u.embedded[info.Name] = info.Entries
		before[info.Name] = info.Entries
	}
	if l, err := verify.LoadLists(dir); err == nil {
		for _, info := range l.Info() {
			before[info.Name] = info.Entries
		}
	}
	var failed []string
	tw := tabwriter.NewWriter(opts.IO.Out, 0, 4, 2, ' ', 0)
	// The lists are fetched at once, so the whole update takes about as long as the
	// slowest one (each bounded by --timeout), not the sum; results print in order.
	var todo []listOrigin
	for _, o := range listOrigins {
		if o.URL == "" || len(opts.Names) > 0 && !slices.Contains(opts.Names, o.Alias) {
			continue
		}
		todo = append(todo, o)
	}
	results := make([]updateResult, len(todo))
	var wg sync.WaitGroup
	for i, o := range todo {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = u.update(ctx, o)
		}()
	}
	wg.Wait()
	for _, r := range results {
		o := r.Origin
		if r.Err != nil {
			if ctx.Err() != nil {
				tw.Flush()
				return ctx.Err()
			}
			failed = append(failed, o.Alias)
			tw.Flush()
			fmt.Fprintf(opts.IO.ErrOut, "everify: %s: not updated: %v\n", o.Name, r.Err)
			continue
		}
		note := ""
		if r.Skipped > 0 {
			note = fmt.Sprintf(" (%d malformed upstream entries left out)", r.Skipped)
		}
		fmt.Fprintf(tw, "%s\t%7s entries\t(was %s)\t%s%s\n", o.Name, thousands(r.Entries),
			thousands(before[o.Name]), r.Path, note)
	}
	tw.Flush()
	if len(failed) > 0 {
		return withHint(fmt.Errorf("%d list(s) not updated: %s", len(failed), strings.Join(failed, ", ")),
			"the previous copies are kept and still used; try again later")
	}
	return nil
}

// updater downloads, checks and writes lists.
type updater struct {
	opts     *ListsUpdateOptions
	dir      string
	client   *http.Client
	maxBytes int64
	now      func() time.Time
	embedded map[string]int // entry counts of the embedded lists
}

func (u *updater) init() {
	u.client = u.opts.Client
	if u.client == nil {
		// http.DefaultTransport honours HTTPS_PROXY/NO_PROXY.
		u.client = &http.Client{Timeout: u.opts.Timeout}
	}
	u.maxBytes = u.opts.maxBytes
	if u.maxBytes <= 0 {
		u.maxBytes = maxListBytes
	}
	u.now = u.opts.Now
	if u.now == nil {
		u.now = time.Now
	}
	u.embedded = map[string]int{}
}

func (u *updater) url(o listOrigin) string {
	if u.opts.URLBase == "" {
		return o.URL
	}
	return strings.TrimSuffix(u.opts.URLBase, "/") + strings.TrimPrefix(o.URL, rawBase)
}

func (u *updater) update(ctx context.Context, o listOrigin) updateResult {
	r := updateResult{Origin: o}
	url := u.url(o)
	body, err := u.fetch(ctx, url)
	if err != nil {
		r.Err = err
		return r
	}
	entries, skipped, err := parseUpstream(o, body)
	if err != nil {
		r.Err = fmt.Errorf("%s: %w", url, err)
		return r
	}
	if need := max(int(float64(u.embedded[o.Name])*minListFraction), 1); len(entries) < need {
		r.Err = fmt.Errorf("%s: only %d entries, fewer than half the %d of the embedded list: truncated or emptied download refused",
			url, len(entries), u.embedded[o.Name])
		return r
	}
	r.Entries, r.Skipped = len(entries), skipped
	data := []byte(strings.Join(entries, "\n") + "\n")
	// The loader must accept what we write, or every later run would fail.
	if _, err := verify.ParseList(bytes.NewReader(data)); err != nil {
		r.Err = fmt.Errorf("%s: %w", url, err)
		return r
	}
	r.Path = filepath.Join(u.dir, o.Name+".txt")
	sum := sha256.Sum256(data)
	meta := listMeta{Source: url, Fetched: u.now().UTC(), SHA256: hex.EncodeToString(sum[:]), Entries: len(entries)}
	mb, _ := json.MarshalIndent(meta, "", "  ")
	if err := writeFileAtomic(r.Path, data); err != nil {
		r.Err = err
		return r
	}
	if err := writeFileAtomic(metaPath(u.dir, o.Name), append(mb, '\n')); err != nil {
		r.Err = err
	}
	return r
}

// errHTML is returned for an error page served where a list was expected.
var errHTML = errors.New("got an HTML page, not a list")

// fetch GETs url and returns its body, refusing error statuses, HTML, a body larger
// than the size bound and a body cut short of its Content-Length.
func (u *updater) fetch(ctx context.Context, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", "everify/"+strings.TrimPrefix(version, "v")+" (lists update)")
	resp, err := u.client.Do(req)
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
	if resp.ContentLength > u.maxBytes {
		return nil, fmt.Errorf("%s: %d bytes, more than the %d a list may have", url, resp.ContentLength, u.maxBytes)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, u.maxBytes+1))
	if err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("%s: download truncated: %w", url, err)
		}
		return nil, fmt.Errorf("%s: %w", url, err)
	}
	if int64(len(body)) > u.maxBytes {
		return nil, fmt.Errorf("%s: more than the %d bytes a list may have", url, u.maxBytes)
	}
	if t := bytes.TrimLeft(bytes.TrimPrefix(body, []byte("\ufeff")), " \t\r\n"); len(t) > 0 && t[0] == '<' {
		return nil, fmt.Errorf("%s: %w", url, errHTML)
	}
	return body, nil
}

// parseUpstream extracts, normalizes (trimmed, lower-cased, deduplicated, sorted) and
// checks the entries of an upstream file. Malformed entries are left out and counted;
// more than maxBadFraction of them means the file is not what we expect, an error.
func parseUpstream(o listOrigin, body []byte) (entries []string, skipped int, err error) {
	var raw []string
	switch o.Format {
	case formatLines:
		for _, line := range strings.Split(string(body), "\n") {
			line = strings.TrimSpace(line)
			if line != "" && line[0] != '#' {
				raw = append(raw, line)
			}
		}
	case formatJSONArray:
		if err := json.Unmarshal(body, &raw); err != nil {
			return nil, 0, fmt.Errorf("not a JSON array of strings: %w", err)
		}
	case formatJSArrays:
		if raw, err = jsArrayStrings(string(body)); err != nil {
			return nil, 0, err
		}
	}
	valid := validDomain
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

// validDomain reports whether d is a lower-case ASCII domain of at least two LDH labels
// (RFC 1035 §2.3.1, A-labels allowed) with a TLD that is not all-numeric.
func validDomain(d string) bool {
	if len(d) > 253 || !strings.Contains(d, ".") {
		return false
	}
	labels := strings.Split(d, ".")
	for _, l := range labels {
		if len(l) == 0 || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return strings.Trim(labels[len(labels)-1], "0123456789") != ""
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

// writeFileAtomic writes data to path through a temporary file in the same directory
// and a rename, so a reader never sees a half-written list and a failure leaves the
// previous file in place.
func writeFileAtomic(path string, data []byte) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Chmod(f.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// ListsShowOptions are the inputs of `everify lists show`.
type ListsShowOptions struct {
	IO            *IOStreams
	Dir           string
	NoListUpdates bool
	JSON          bool
	Now           func() time.Time
}

func newListsShowCmd(ios *IOStreams) *cobra.Command {
	opts := &ListsShowOptions{IO: ios}
	cmd := &cobra.Command{
		Use:   "show",
		Short: "Show where each list in use comes from, its entry count and age",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runListsShow(opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Dir, "lists-dir", "", "`dir` of updated lists (default: the user cache dir)")
	f.BoolVar(&opts.NoListUpdates, "no-list-updates", false, "show the lists embedded in the binary only")
	f.BoolVar(&opts.JSON, "json", false, "print JSON")
	return cmd
}

// listReport describes one list in use, for `lists show` and `version`.
type listReport struct {
	Name     string    `json:"name"`
	Entries  int       `json:"entries"`
	Embedded bool      `json:"embedded"`
	Path     string    `json:"path,omitempty"`   // downloaded copy
	Source   string    `json:"source"`           // URL downloaded, or repo@commit of the snapshot
	Date     time.Time `json:"date"`             // fetched, or snapshot commit date
	SHA256   string    `json:"sha256,omitempty"` // of the downloaded copy, from its metadata
}

func listReports(l *verify.Lists) []listReport {
	var out []listReport
	for _, info := range l.Info() {
		r := listReport{Name: info.Name, Entries: info.Entries, Date: info.Date}
		o, _ := originOf(info.Name)
		if info.Source == "embedded" {
			r.Embedded = true
			r.Source = o.Repo + "@" + shortCommit(o.Commit)
		} else {
			r.Path = info.Source
			r.Source = "unknown (no metadata)"
			if m, ok := readMeta(filepath.Dir(info.Source), info.Name); ok {
				r.Source, r.Date, r.SHA256 = m.Source, m.Fetched, m.SHA256
			}
		}
		out = append(out, r)
	}
	return out
}

func shortCommit(c string) string {
	if len(c) > 8 {
		return c[:8]
	}
	return c
}

func runListsShow(opts *ListsShowOptions) error {
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	c, err := chooseLists(opts.Dir, opts.NoListUpdates)
	if err != nil {
		return err
	}
	l, err := loadLists(opts.Dir, opts.NoListUpdates)
	if err != nil {
		return err
	}
	reports := listReports(l)
	out := opts.IO.Out
	if opts.JSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			Dir   string       `json:"dir"`
			InUse bool         `json:"in_use"`
			Lists []listReport `json:"lists"`
		}{c.Dir, c.Use, reports})
	}
	switch {
	case c.Dir == "":
		fmt.Fprintf(out, "lists dir: none (%s): using the embedded lists\n", c.Why)
	case c.Use:
		fmt.Fprintf(out, "lists dir: %s (in use)\n", c.Dir)
	default:
		fmt.Fprintf(out, "lists dir: %s (not used: %s)\n", c.Dir, c.Why)
	}
	countW := len("ENTRIES")
	for _, r := range reports {
		countW = max(countW, len(thousands(r.Entries)))
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "LIST\tENTRIES\tDATE\tAGE\tSOURCE")
	for _, r := range reports {
		src := "embedded " + r.Source
		if !r.Embedded {
			src = r.Path + " (from " + r.Source + ")"
		}
		fmt.Fprintf(tw, "%s\t%*s\t%s\t%s\t%s\n", r.Name, countW, thousands(r.Entries),
			r.Date.UTC().Format(time.DateOnly), age(now().Sub(r.Date)), src)
	}
	return tw.Flush()
}

// age renders a duration the way a person says how old something is.
func age(d time.Duration) string {
	plural := func(n int, unit string) string {
		if n == 1 {
			return "1 " + unit
		}
		return fmt.Sprintf("%d %ss", n, unit)
	}
	switch day := 24 * time.Hour; {
	case d < time.Hour:
		return "<1 hour"
	case d < 2*day:
		return plural(int(d/time.Hour), "hour")
	case d < 60*day:
		return plural(int(d/day), "day")
	case d < 730*day:
		return plural(int(d/(30*day)), "month")
	default:
		return plural(int(d/(365*day)), "year")
	}
}

// thousands formats n with commas: 8335 → 8,335.
func thousands(n int) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return "-" + thousands(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
