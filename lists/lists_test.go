package lists

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// writeLists writes files (name → content) into a fresh temp dir and returns it.
func writeLists(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestDisposable(t *testing.T) {
	l := Embedded()
	tests := []struct {
		domain string
		want   bool
	}{
		{"mailinator.com", true},                   // exact
		{"0-mail.com", true},                       // exact
		{"MAILINATOR.COM", true},                   // case-insensitive
		{"mailinator.com.", true},                  // root dot
		{"inbox.mailinator.com", true},             // subdomain of an entry
		{"a.b.guerrillamail.com", true},            // any parent suffix
		{"0-mailer.dynv6.net", true},               // third-level entry under a public suffix
		{"x.0-mailer.dynv6.net", true},             // and below it
		{"dynv6.net", false},                       // the suffix itself is not listed
		{"xn--yaho-sqa.com", true},                 // punycode entry, matched in A-label form
		{"mozmail.com", false},                     // allowlisted (Firefox Relay)
		{"gmx.com", false},                         // allowlisted
		{"relay.mozmail.com", false},               // allowlist matches parents too
		{"fastmail.com", false},                    // allowlisted
		{"gmail.com", false},                       // webmail, not listed
		{"example-corp.com", false},                // unrelated
		{"com", false},                             // bare TLD
		{"mailinator.com.evil-example.org", false}, // entry as a prefix is no match
		{"", false},
	}
	for _, tt := range tests {
		if got := l.Disposable(tt.domain); got != tt.want {
			t.Errorf("Disposable(%q) = %v, want %v", tt.domain, got, tt.want)
		}
	}
}

// TestDisposableRules checks the matching rules on small lists: the bare TLD is never
// matched even if listed, and the most specific of allowlist and blocklist wins.
func TestDisposableRules(t *testing.T) {
	dir := writeLists(t, map[string]string{
		fileDisposable: "io\nthrowaway.example\nbad.relay.example\n",
		fileAllowlist:  "relay.example\nok.throwaway.example\n",
	})
	l, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		domain string
		want   bool
	}{
		{"io", false},                          // a TLD entry never matches the TLD…
		{"anything.io", false},                 // …nor anything under it
		{"throwaway.example", true},            //
		{"x.throwaway.example", true},          //
		{"ok.throwaway.example", false},        // allowlisted child of a disposable domain
		{"x.ok.throwaway.example", false},      // and below it
		{"relay.example", false},               // allowlisted
		{"bad.relay.example", true},            // a more specific disposable entry wins
		{"a.bad.relay.example", true},          //
		{"other.relay.example", false},         //
		{"mailinator.com", false},              // the override replaced the embedded list
		{"throwaway.example.other", false},     //
		{"notthrowaway.example", false},        // label boundary
		{"THROWAWAY.EXAMPLE.", true},           //
		{"deep.a.b.c.throwaway.example", true}, //
	}
	for _, tt := range tests {
		if got := l.Disposable(tt.domain); got != tt.want {
			t.Errorf("Disposable(%q) = %v, want %v", tt.domain, got, tt.want)
		}
	}
}

func TestFree(t *testing.T) {
	l := Embedded()
	tests := []struct {
		domain string
		want   bool
	}{
		{"gmail.com", true},
		{"GMail.com", true},
		{"gmx.de", true},
		{"gmx.com", true}, // free and allowlisted: not disposable, so free
		{"ymail.com", true},
		{"mail.gmail.com", false},   // exact only: no parent walk
		{"foo.dyndns.org", false},   // dyndns.org is a public suffix on the free list
		{"10minutemail.com", false}, // on the free list but disposable: not free
		{"0-mail.com", false},       // same
		{"example-corp.com", false},
		{"com", false},
	}
	for _, tt := range tests {
		if got := l.Free(tt.domain); got != tt.want {
			t.Errorf("Free(%q) = %v, want %v", tt.domain, got, tt.want)
		}
	}
	if !l.Disposable("10minutemail.com") {
		t.Error(`Disposable("10minutemail.com") = false, want true`)
	}
}

func TestRole(t *testing.T) {
	l := Embedded()
	tests := []struct {
		local string
		want  bool
	}{
		{"info", true},
		{"Info", true},
		{"INFO+newsletter", true}, // +tag stripped
		{"postmaster", true},      // RFC 2142
		{"abuse", true},           // RFC 2142
		{"hostmaster", true},
		{"webmaster", true},
		{"noreply", true},
		{"no-reply", true}, // listed as such
		{"no_reply", true},
		{"noreply+bounces", true},
		{"mailer-daemon", true},
		{"support", true},
		{"hello", true}, // kept: the modern info@
		{"test", true},  // kept: a test mailbox is not a person
		{"jane.doe", false},
		{"jane", false},
		{"info.sales", false}, // exact match only
		{"infos", false},
		{"no.reply.x", false},
		{"+info", false}, // a leading + is not a tag
		{"", false},
		// Exclusions (SOURCES.md quality notes): not role accounts.
		{"123", false},
		{"2020", false},
		{"asdf", false},
		{"abc", false},
		{"namecheap", false},
		{"plex.tv", false},
		{"family", false},
		{"home", false},
		{"alexa", false},
	}
	for _, tt := range tests {
		if got := l.Role(tt.local); got != tt.want {
			t.Errorf("Role(%q) = %v, want %v", tt.local, got, tt.want)
		}
	}
	for r := range roleExclusions {
		if _, ok := toSet(mustParseEmbedded(t, fileRole))[r]; !ok {
			t.Errorf("role exclusion %q is not in %s: stale exclusion", r, fileRole)
		}
	}
}

func mustParseEmbedded(t *testing.T, name string) []string {
	t.Helper()
	data, err := embeddedData.ReadFile("data/" + name)
	if err != nil {
		t.Fatal(err)
	}
	entries, err := ParseList(strings.NewReader(string(data)))
	if err != nil {
		t.Fatal(err)
	}
	return entries
}

func TestSuggest(t *testing.T) {
	l := Embedded()
	tests := []struct {
		domain, want string
	}{
		// Typos of popular domains (whole-domain match).
		{"gmial.com", "gmail.com"}, // transposition
		{"gamil.com", "gmail.com"},
		{"gmai.com", "gmail.com"},
		{"gnail.com", "gmail.com"},
		{"gmal.com", "gmail.com"},
		{"gmaill.com", "gmail.com"},
		{"ggmail.com", "gmail.com"},
		{"gmsil.com", "gmail.com"},
		{"GMial.COM", "gmail.com"},
		{"gmail.con", "gmail.com"},
		{"gmail.cmo", "gmail.com"},
		{"gmail.comm", "gmail.com"},
		{"gmail.xom", "gmail.com"},
		{"gmail.co", "gmail.com"}, // .co is a real ccTLD but a classic .com slip
		{"gmail.cm", "gmail.com"},
		{"gmail.om", "gmail.com"},
		{"gnail.con", "gmail.com"}, // one slip in each part
		{"gmai.con", "gmail.com"},
		{"icould.com", "icloud.com"},
		{"iclod.com", "icloud.com"},
		{"icloud.co", "icloud.com"},
		{"aol.co", "aol.com"},
		{"comcast.nte", "comcast.net"},
		{"verizon.ne", "verizon.net"},
		{"sbcgloabl.net", "sbcglobal.net"},
		{"googlemail.co", "googlemail.com"},
		{"goggle.com", "google.com"},
		{"web.dd", "web.de"},
		// First label and TLD fixed separately.
		{"yahoo.cmo", "yahoo.com"},
		{"yahooo.com", "yahoo.com"},
		{"yaoo.com", "yahoo.com"},
		{"hotmial.com", "hotmail.com"},
		{"hotmai.com", "hotmail.com"}, // a disposable typo-squatter: still suggested
		{"hotmail.con", "hotmail.com"},
		{"hotmal.fr", "hotmail.fr"},
		{"hotmial.co.uk", "hotmail.co.uk"},
		{"outlok.com", "outlook.com"},
		{"outlook.cmo", "outlook.com"},
		{"gmx.con", "gmx.com"},
		{"mail.co", "mail.com"}, // a known SLD keeps its name: not gmail.com
		{"yahooo.com.ar", "yahoo.com.ar"},
		{"yaho.com", "yahoo.com"}, // on the free list as a typo (freeTypos)
		// Real domains: never "corrected".
		{"gmail.com", ""},
		{"ymail.com", ""}, // distance 1 from gmail.com, but real (free list)
		{"gmx.de", ""},
		{"live.com", ""},
		{"me.com", ""},
		{"mail.com", ""},
		{"email.com", ""},
		{"outlook.de", ""}, // both parts known
		{"yahoo.co.uk", ""},
		{"yahoo.com.ar", ""},
		{"hotmail.co", ""}, // on the free list: left alone
		{"yahoo.co", ""},   // same
		{"y7mail.com", ""}, // Yahoo7, real
		{"tutanota.com", ""},
		{"hey.com", ""},
		{"mozmail.com", ""},
		// Unrelated domains.
		{"example-corp.com", ""},
		{"university.edu", ""},
		{"mycompany.io", ""},
		{"abc.com", ""},  // 2 from aol.com: short names attract nothing
		{"acl.com", ""},  // 1 from aol.com
		{"ana.com", ""},  //
		{"mall.com", ""}, // 1 from mail.com
		{"love.com", ""}, // 1 from live.com
		{"wahoo.com", ""},
		{"hotmart.com", ""}, // 2 from hotmail.com
		{"web.dk", ""},      // a real TLD on the popular list
		{"web.com", ""},
		{"gmail.de", ""}, // a real TLD: not ours to change
		{"gmail.org", ""},
		{"optonline.com", ""},
		{"gmail.co.uk", ""}, // gmail → mail is not a fix
		{"mail.yahoo.com", ""},
		// Not applicable.
		{"xn--gmil-6na.com", ""}, // IDN
		{"gmäil.com", ""},        // U-label
		{"gmail", ""},            // single label
		{"", ""},
		{".com", ""},
		{strings.Repeat("a", 300) + ".com", ""},
	}
	for _, tt := range tests {
		if got := l.Suggest(tt.domain); got != tt.want {
			t.Errorf("Suggest(%q) = %q, want %q", tt.domain, got, tt.want)
		}
	}
}

// TestSuggestKnownDomains: no domain of the lists that define "real" gets a suggestion.
func TestSuggestKnownDomains(t *testing.T) {
	l := Embedded()
	for _, name := range []string{filePopular, fileFree, fileAllowlist} {
		for _, d := range mustParseEmbedded(t, name) {
			if freeTypos[d] {
				continue
			}
			if got := l.Suggest(d); got != "" {
				t.Errorf("Suggest(%q) = %q, want \"\" (%s)", d, got, name)
			}
		}
	}
	for d := range freeTypos {
		if got := l.Suggest(d); got == "" {
			t.Errorf("Suggest(%q) = \"\", want a suggestion (freeTypos)", d)
		}
	}
}

func TestOSA(t *testing.T) {
	tests := []struct {
		a, b string
		max  int
		want int
	}{
		{"", "", 2, 0},
		{"gmail", "gmail", 2, 0},
		{"gmial", "gmail", 2, 1}, // transposition
		{"gmai", "gmail", 2, 1},
		{"gmaill", "gmail", 2, 1},
		{"gnail", "gmail", 2, 1},
		{"ca", "abc", 3, 3}, // OSA, not unrestricted Damerau (which gives 2)
		{"abc", "xyz", 5, 3},
		{"abcdef", "a", 2, 3}, // cut off: > max
		{"kitten", "sitting", 5, 3},
		{strings.Repeat("a", 70), strings.Repeat("a", 69) + "b", 2, 1}, // long strings
	}
	for _, tt := range tests {
		got := osa(tt.a, tt.b, tt.max)
		if tt.want > tt.max {
			if got <= tt.max {
				t.Errorf("osa(%q, %q, %d) = %d, want > %d", tt.a, tt.b, tt.max, got, tt.max)
			}
			continue
		}
		if got != tt.want {
			t.Errorf("osa(%q, %q, %d) = %d, want %d", tt.a, tt.b, tt.max, got, tt.want)
		}
		if rev := osa(tt.b, tt.a, tt.max); rev != got {
			t.Errorf("osa(%q, %q) = %d, reversed %d", tt.a, tt.b, got, rev)
		}
	}
}

func TestEmbeddedListsInfo(t *testing.T) {
	l := Embedded()
	if l != Embedded() {
		t.Error("EmbeddedLists returned different values: not parsed once")
	}
	day := func(s string) time.Time {
		d, err := time.Parse(time.DateOnly, s)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	want := []ListInfo{
		{"disposable_domains", "embedded", 8335, day("2026-08-21")},
		{"disposable_allowlist", "embedded", 189, day("2026-04-12")},
		{"free_domains", "embedded", 4865, day("2026-05-11")},
		{"role_localparts", "embedded", 1018, day("2025-03-26")},
		{"popular_domains", "embedded", 30, day("2016-12-07")},
		{"popular_slds", "embedded", 6, day("2016-12-07")}, // "same as above"
		{"popular_tlds", "embedded", 40, day("2016-12-07")},
	}
	got := l.Info()
	if len(got) != len(want) {
		t.Fatalf("Info() has %d lists, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("Info()[%d] = %+v, want %+v", i, got[i], want[i])
		}
	}
	got[0].Name = "mutated"
	if l.Info()[0].Name != "disposable_domains" {
		t.Error("Info() returned the internal slice")
	}
	if n := len(ListFiles()); n != len(want) {
		t.Errorf("ListFiles() has %d names, want %d", n, len(want))
	}
}

func TestZeroLists(t *testing.T) {
	var l Lists
	if l.Disposable("mailinator.com") || l.Free("gmail.com") || l.Role("info") || l.Suggest("gmial.com") != "" || l.Info() != nil {
		t.Error("zero Lists matched something")
	}
}

func TestThirdPartyNotices(t *testing.T) {
	n := ThirdPartyNotices()
	for _, want := range []string{"Kiko Beats", "Mixmax, Inc", "Received Inc", "CC0", "Permission is hereby granted"} {
		if !strings.Contains(n, want) {
			t.Errorf("ThirdPartyNotices() lacks %q", want)
		}
	}
}

func TestEmbeddedListsConcurrent(t *testing.T) {
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l := Embedded()
			_ = l.Disposable("mailinator.com")
			_ = l.Suggest("gmial.com")
			_ = l.Role("info")
			_ = l.Free("gmail.com")
		}()
	}
	wg.Wait()
}

func TestLoadListsOverride(t *testing.T) {
	dir := writeLists(t, map[string]string{
		fileFree: "# refreshed copy\nexample-free.test\nGMAIL.com\n",
	})
	mtime := time.Date(2026, 9, 1, 12, 0, 0, 0, time.UTC)
	if err := os.Chtimes(filepath.Join(dir, fileFree), mtime, mtime); err != nil {
		t.Fatal(err)
	}
	l, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !l.Free("example-free.test") || !l.Free("gmail.com") || l.Free("gmx.de") {
		t.Errorf("Free: override not applied (example-free.test %v, gmail.com %v, gmx.de %v)",
			l.Free("example-free.test"), l.Free("gmail.com"), l.Free("gmx.de"))
	}
	if !l.Disposable("mailinator.com") || !l.Role("postmaster") {
		t.Error("lists missing from dir did not fall back to the embedded ones")
	}
	for _, info := range l.Info() {
		switch info.Name {
		case "free_domains":
			if want := filepath.Join(dir, fileFree); info.Source != want || info.Entries != 2 || !info.Date.Equal(mtime) {
				t.Errorf("Info free_domains = %+v, want source %s, 2 entries, date %v", info, want, mtime)
			}
		default:
			if info.Source != "embedded" {
				t.Errorf("Info %s source = %q, want embedded", info.Name, info.Source)
			}
		}
	}

	// A directory that does not exist yet (no `lists update` run): all embedded.
	l, err = Load(filepath.Join(t.TempDir(), "absent"))
	if err != nil {
		t.Fatalf("Load(absent dir) error %v", err)
	}
	if !l.Free("gmx.de") {
		t.Error("Load(absent dir) did not use the embedded lists")
	}
}

func TestLoadListsErrors(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  []string // substrings of the error
	}{
		{"bad entry", map[string]string{fileDisposable: "ok.example\n\nbad entry.example\n"},
			[]string{fileDisposable, "line 3", "bad entry.example"}},
		{"html page", map[string]string{fileFree: "<!DOCTYPE html>\n"},
			[]string{fileFree, "line 1"}},
		{"address", map[string]string{fileRole: "info\njane@example.com\n"},
			[]string{fileRole, "line 2", "'@'"}},
		{"empty", map[string]string{fileDisposable: "# nothing\n"},
			[]string{fileDisposable, "no entries"}},
		{"U-label", map[string]string{filePopular: "gmäil.com\n"},
			[]string{filePopular, "A-label"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(writeLists(t, tt.files))
			if err == nil {
				t.Fatal("LoadLists succeeded, want error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("LoadLists error %q does not mention %q", err, w)
				}
			}
		})
	}
	// An empty allowlist is legitimate.
	if _, err := Load(writeLists(t, map[string]string{fileAllowlist: ""})); err != nil {
		t.Errorf("Load(empty allowlist) error %v", err)
	}
	// A directory where a list should be is a read error, not a fallback.
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, fileRole), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(dir); err == nil {
		t.Error("LoadLists with an unreadable list succeeded, want error")
	}
	if _, err := Load(""); err == nil {
		t.Error(`Load("") succeeded, want error`)
	}
}

func TestParseList(t *testing.T) {
	got, err := ParseList(strings.NewReader("\ufeff# header\n\nExample.COM\r\n  spaced.example  \n#x\nexample.com\nxn--yaho-sqa.com\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"example.com", "spaced.example", "xn--yaho-sqa.com"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("ParseList = %q, want %q", got, want)
	}

	bad := []struct {
		in   string
		line int
	}{
		{"a.example\nb example\n", 2},
		{"a.example\n\n\nb\texample\n", 4},
		{"info\njane@example.com\n", 2},
		{"ctrl\x01char\n", 1},
		{"ok\n# c\ndel\x7f\n", 3},
		{"ok\n\xff\xfe\n", 2},
		{"a\u00a0b\n", 1}, // no-break space
	}
	for _, tt := range bad {
		_, err := ParseList(strings.NewReader(tt.in))
		var pe *ParseError
		if !errors.As(err, &pe) {
			t.Errorf("ParseList(%q) error = %v, want *ParseError", tt.in, err)
			continue
		}
		if pe.Line != tt.line {
			t.Errorf("ParseList(%q) error line %d, want %d (%v)", tt.in, pe.Line, tt.line, err)
		}
	}
	if _, err := ParseList(strings.NewReader(strings.Repeat("a", maxListLine+1))); err == nil {
		t.Error("ParseList(over-long line) succeeded, want error")
	}
}

func BenchmarkDisposable(b *testing.B) {
	l := Embedded()
	for _, bb := range []struct{ name, domain string }{
		{"exact", "mailinator.com"},
		{"subdomain", "a.b.c.mailinator.com"},
		{"miss", "mail.example-corp.com"},
	} {
		b.Run(bb.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				l.Disposable(bb.domain)
			}
		})
	}
}

func BenchmarkSuggest(b *testing.B) {
	l := Embedded()
	for _, bb := range []struct{ name, domain string }{
		{"known", "gmail.com"},
		{"typo", "gmial.com"},
		{"sld-tld", "hotmial.con"},
		{"unrelated", "example-corp.com"},
	} {
		b.Run(bb.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				l.Suggest(bb.domain)
			}
		})
	}
}
