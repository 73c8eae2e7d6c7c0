package lists

import (
	"encoding/json"
	"os"
	"path/filepath"
	"time"
)

// Meta is written next to a downloaded list as NAME.meta.json, for `lists show`.
type Meta struct {
	Source  string    `json:"source"`  // URL downloaded
	Fetched time.Time `json:"fetched"` // when
	SHA256  string    `json:"sha256"`  // of the list file as written
	Entries int       `json:"entries"`
}

// MetaPath is where the metadata of the list name in dir is written.
func MetaPath(dir, name string) string { return filepath.Join(dir, name+".meta.json") }

// ReadMeta reads the metadata of the list name in dir; ok is false without any.
func ReadMeta(dir, name string) (Meta, bool) {
	var m Meta
	b, err := os.ReadFile(MetaPath(dir, name))
	if err != nil || json.Unmarshal(b, &m) != nil {
		return Meta{}, false
	}
	return m, true
}

// DefaultDir is where `lists update` writes and runs look: <user cache dir>/everify
// (~/.cache/everify on Linux, ~/Library/Caches/everify on macOS, %LocalAppData%\everify
// on Windows).
func DefaultDir() (string, error) {
	d, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(d, "everify"), nil
}

// Choice is what a run uses: the directory looked at and whether its lists are used.
type Choice struct {
	Dir      string // "" when there is no directory (--no-list-updates, no cache dir)
	Explicit bool   // Dir was given with --lists-dir / EVERIFY_LISTS_DIR
	Use      bool   // the lists in Dir are used (else the embedded ones)
	Why      string // why not, for `lists show`
}

// Choose decides which lists a run uses. An explicit directory (which the caller has
// checked exists) is always used. The default cache directory is used when it holds a downloaded list
// newer than the embedded snapshot of that list, so upgrading everify never falls back
// to lists older than the ones it ships.
func Choose(dir string, embeddedOnly bool) Choice {
	if embeddedOnly {
		return Choice{Dir: dir, Explicit: dir != "", Why: "--no-list-updates"}
	}
	if dir != "" {
		return Choice{Dir: dir, Explicit: true, Use: true}
	}
	d, err := DefaultDir()
	if err != nil {
		return Choice{Why: "no user cache directory: " + err.Error()}
	}
	c := Choice{Dir: d}
	embedded := Embedded().Info()
	found := false
	for _, info := range embedded {
		fetched, ok := DownloadedAt(d, info.Name)
		if !ok {
			continue
		}
		found = true
		if fetched.After(info.Date) {
			c.Use = true
			return c
		}
	}
	c.Why = "no downloaded lists ('everify lists update' fetches them)"
	if found {
		c.Why = "downloaded lists are older than the embedded ones"
	}
	return c
}

// DownloadedAt returns when the list name in dir was fetched: from its metadata, else
// the file's modification time; ok is false when there is no such file.
func DownloadedAt(dir, name string) (t time.Time, ok bool) {
	st, err := os.Stat(filepath.Join(dir, name+".txt"))
	if err != nil || !st.Mode().IsRegular() {
		return time.Time{}, false
	}
	if m, ok := ReadMeta(dir, name); ok && !m.Fetched.IsZero() {
		return m.Fetched, true
	}
	return st.ModTime(), true
}

// Report describes one list in use, for `lists show` and `version`.
type Report struct {
	Name     string    `json:"name"`
	Entries  int       `json:"entries"`
	Embedded bool      `json:"embedded"`
	Path     string    `json:"path,omitempty"`   // downloaded copy
	Source   string    `json:"source"`           // URL downloaded, or repo@commit of the snapshot
	Date     time.Time `json:"date"`             // fetched, or snapshot commit date
	SHA256   string    `json:"sha256,omitempty"` // of the downloaded copy, from its metadata
}

// Reports describes each list of l: its origin, or the metadata of its downloaded copy.
func Reports(l *Lists) []Report {
	var out []Report
	for _, info := range l.Info() {
		r := Report{Name: info.Name, Entries: info.Entries, Date: info.Date}
		o, _ := OriginOf(info.Name)
		if info.Source == "embedded" {
			r.Embedded = true
			r.Source = o.Repo + "@" + shortCommit(o.Commit)
		} else {
			r.Path = info.Source
			r.Source = "unknown (no metadata)"
			if m, ok := ReadMeta(filepath.Dir(info.Source), info.Name); ok {
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
