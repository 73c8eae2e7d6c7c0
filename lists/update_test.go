package lists

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/everify/everify/internal/atomicfile"
	"github.com/everify/everify/internal/dnsname"
)

func TestParseUpstream(t *testing.T) {
	dom := Origin{Name: "d"}
	js := Origin{Name: "r", Format: FormatJSArrays, Local: true}
	tests := []struct {
		name    string
		o       Origin
		body    string
		want    []string
		skipped int
		err     string
	}{
		{"lines", dom, "# c\n\nB.example.com\r\na.example.com\n  a.example.com \nxn--yaho-sqa.com", []string{"a.example.com", "b.example.com", "xn--yaho-sqa.com"}, 0, ""},
		{"one bad in many", dom, strings.Repeat("ok.example.com\n", 1) + genDomains(200) + "bad_domain.com\n", nil, 1, ""},
		{"many bad", dom, "ok.example.com\nbad domain\n", nil, 0, "1 of 2 entries are malformed"},
		{"json", Origin{Format: FormatJSONArray}, `["B.com", "a.com", "a.com"]`, []string{"a.com", "b.com"}, 0, ""},
		{"json objects", Origin{Format: FormatJSONArray}, `[{"d": "a.com"}]`, nil, 0, "not a JSON array of strings"},
		{"js", js, "const A = [\n  'Info', // comment 'x'\n  \"sales\",\n  // 'commented'\n];\nconst B=['no.reply'];\nfoo(['notme']);\n",
			[]string{"info", "no.reply", "sales"}, 0, ""},
		{"js none", js, "export default ['info'];", nil, 0, "no `const NAME"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, skipped, err := parseUpstream(tt.o, []byte(tt.body))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if skipped != tt.skipped {
				t.Errorf("skipped %d, want %d", skipped, tt.skipped)
			}
			if tt.want != nil && !slices.Equal(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func genDomains(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "d%d.example.org\n", i)
	}
	return b.String()
}

func TestValidEntries(t *testing.T) {
	domains := map[string]bool{
		"example.com": true, "a.b.c.example.co.uk": true, "xn--yaho-sqa.com": true, "0-mail.com": true,
		"1.2.3.4": false, "com": false, "-a.com": false, "a-.com": false, "a..com": false, ".a.com": false,
		"a.com.": false, "a_b.com": false, "A.com": false, "a b.com": false, "ä.com": false, "<html>": false,
		strings.Repeat("a", 64) + ".com": false, strings.Repeat("a.", 127) + "com": false,
	}
	for d, want := range domains {
		if got := dnsname.Valid(d); got != want {
			t.Errorf("dnsname.Valid(%q) = %v, want %v", d, got, want)
		}
	}
	locals := map[string]bool{
		"info": true, "no-reply": true, "do_not_reply": true, "sales.team": true, "123": true, "a+b": true,
		"": false, ".info": false, "info.": false, "a..b": false, "a b": false, "a@b": false, "Info": false,
		"<div": false, strings.Repeat("a", 65): false,
	}
	for s, want := range locals {
		if got := validLocalPart(s); got != want {
			t.Errorf("validLocalPart(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.txt")
	for _, content := range []string{"one\n", "two\n"} {
		if err := atomicfile.WriteBytes(path, []byte(content)); err != nil {
			t.Fatal(err)
		}
		if b, _ := os.ReadFile(path); string(b) != content {
			t.Errorf("content %q, want %q", b, content)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("dir holds %d files, want 1", len(entries))
	}
	if err := atomicfile.WriteBytes(filepath.Join(dir, "missing", "x.txt"), nil); err == nil {
		t.Errorf("write into a missing directory: no error")
	}
}

// TestListOriginsMatchSources guards against drift between Origins and the data's
// SOURCES.md: every list has a row naming our commit, and every download URL is there.
func TestListOriginsMatchSources(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("data", "SOURCES.md"))
	if err != nil {
		t.Fatalf("SOURCES.md: %v", err)
	}
	rows := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(src))
	last := ""
	for sc.Scan() {
		line := sc.Text()
		if m := regexp.MustCompile("^\\|\\s*`([a-z_]+)\\.txt`").FindStringSubmatch(line); m != nil {
			if strings.Contains(line, "same as above") {
				line = last
			}
			rows[m[1]] = line
			last = line
		}
	}
	files := ListFiles()
	if len(origins) != len(files) {
		t.Fatalf("%d origins for %d list files", len(origins), len(files))
	}
	for i, o := range origins {
		if o.Name+".txt" != files[i] {
			t.Errorf("origin %d is %s, list file %s", i, o.Name, files[i])
		}
		row := rows[o.Name]
		if !strings.Contains(row, o.Repo+" @ `"+o.Commit+"`") {
			t.Errorf("%s: SOURCES.md row %q does not name %s @ %s", o.Name, row, o.Repo, o.Commit)
		}
		if date := "(" + o.Date.Format(time.DateOnly); !strings.Contains(row, date) {
			t.Errorf("%s: SOURCES.md row %q does not give the date %s", o.Name, row, o.Date.Format(time.DateOnly))
		}
		if o.URL != "" && !bytes.Contains(src, []byte(o.URL)) {
			t.Errorf("%s: URL %s not in SOURCES.md", o.Name, o.URL)
		}
		if o.Pinned != strings.Contains(o.URL, o.Commit) {
			t.Errorf("%s: Pinned %v but URL %s", o.Name, o.Pinned, o.URL)
		}
	}
}
