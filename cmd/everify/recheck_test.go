package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/everify/everify/internal/fakes"
)

// greyWorld: grey.zz greylists each address for delay; plain.zz answers at once.
func greyWorld(t *testing.T, delay time.Duration) []string {
	dns, farm := fakes.NewDNS(t), fakes.NewMXFarm(t)
	dns.MX("grey.zz", 10, "mx.grey.zz")
	dns.A("mx.grey.zz", "127.0.3.1")
	dns.MX("plain.zz", 10, "mx.plain.zz")
	dns.A("mx.plain.zz", "127.0.3.2")
	farm.Host("127.0.3.1", fakes.Config{Mailboxes: []string{"a@grey.zz", "b@grey.zz"}, Greylist: true, GreylistDelay: delay})
	farm.Host("127.0.3.2", fakes.Config{Mailboxes: []string{"c@plain.zz"}})
	return []string{"--resolver", dns.Addr(), "--smtp-port", strconv.Itoa(farm.Port), "--helo", "prober.everify.zz",
		"--smtp-timeout", "5s", "--store", filepath.Join(t.TempDir(), "s.db")}
}

// TestRecheckGreylisted: a recheck before the greylisting delay finds the rows still
// unknown; one with --after late enough finds them deliverable; the other rows are
// copied byte for byte, in CSV and in NDJSON.
func TestRecheckGreylisted(t *testing.T) {
	const delay = 1200 * time.Millisecond
	for _, format := range []string{"csv", "ndjson"} {
		t.Run(format, func(t *testing.T) {
			args := greyWorld(t, delay)
			dir := t.TempDir()
			in := filepath.Join(dir, "list.csv")
			os.WriteFile(in, []byte("name;email\nA;a@grey.zz\r\nC;\"Cee <c@plain.zz>\"\r\nX;x@plain.zz\r\nB;b@grey.zz\r\n"), 0o644)
			first := filepath.Join(dir, "first."+format)
			ios, _, errOut := testStreams("")
			if code := run(t.Context(), append([]string{"bulk", in, "--format", format, "-o", first}, args...), ios); code != 0 {
				t.Fatalf("bulk: exit %d %s", code, errOut)
			}
			before, _ := os.ReadFile(first)
			if n := strings.Count(string(before), "smtp_temp_failure"); n != 2 {
				t.Fatalf("%d greylisted rows in\n%s", n, before)
			}
			recheck := func(out string, extra ...string) string {
				t.Helper()
				ios, _, errOut := testStreams("")
				if code := run(t.Context(), append(append([]string{"recheck", first, "-o", out}, args...), extra...), ios); code != 0 {
					t.Fatalf("recheck %v: exit %d %s", extra, code, errOut)
				}
				b, _ := os.ReadFile(out)
				return string(b)
			}
			// Too early: still greylisted, same verdicts.
			early := recheck(filepath.Join(dir, "early."+format))
			if strings.Count(early, "smtp_temp_failure") != 2 {
				t.Errorf("early recheck:\n%s", early)
			}
			start := time.Now()
			late := recheck(filepath.Join(dir, "late."+format), "--after", delay.String())
			if time.Since(start) > 10*time.Second {
				t.Errorf("recheck --after %v took %v", delay, time.Since(start))
			}
			if strings.Contains(late, "smtp_temp_failure") || strings.Count(late, "accepted") != 3 {
				t.Errorf("late recheck:\n%s", late)
			}
			// Rows not rechecked come out as they were.
			bl, ll := strings.SplitAfter(string(before), "\n"), strings.SplitAfter(late, "\n")
			if len(bl) != len(ll) {
				t.Fatalf("%d lines before, %d after", len(bl), len(ll))
			}
			for i := range bl {
				grey := strings.Contains(bl[i], "grey.zz")
				if !grey && bl[i] != ll[i] {
					t.Errorf("line %d changed:\n%q\n%q", i+1, bl[i], ll[i])
				}
				if grey && format == "csv" && !strings.HasPrefix(ll[i], strings.SplitN(bl[i], ";", 3)[0]+";"+strings.SplitN(bl[i], ";", 3)[1]+";deliverable;accepted;") {
					t.Errorf("line %d: input columns not kept: %q → %q", i+1, bl[i], ll[i])
				}
			}
		})
	}
}

func TestRecheckErrors(t *testing.T) {
	dir := t.TempDir()
	notBulk := filepath.Join(dir, "list.csv")
	os.WriteFile(notBulk, []byte("email\na@b.zz\n"), 0o644)
	arr := filepath.Join(dir, "out.json")
	os.WriteFile(arr, []byte("[\n{\"input\":\"a\"}\n]\n"), 0o644)
	bad := filepath.Join(dir, "bad.ndjson")
	os.WriteFile(bad, []byte("{\"input\":\"a@b.zz\",\"status\":\"unknown\"}\nnot json\n"), 0o644)
	for _, tt := range []struct{ file, want string }{
		{notBulk, "not an everify bulk output"}, {arr, "a JSON array"}, {bad, "line 2: not an everify JSON record"},
		{filepath.Join(dir, "nope.csv"), "no such file"},
	} {
		ios, _, errOut := testStreams("")
		if code := run(t.Context(), []string{"recheck", "--offline", tt.file}, ios); code != exitError || !strings.Contains(errOut.String(), tt.want) {
			t.Errorf("recheck %s: exit %d %q, want %q", filepath.Base(tt.file), code, errOut, tt.want)
		}
	}
	ios, _, errOut := testStreams("")
	if code := run(t.Context(), []string{"recheck", "--only", "maybe", notBulk}, ios); code != exitError || !strings.Contains(errOut.String(), "invalid --only") {
		t.Errorf("bad --only: exit %d %q", code, errOut)
	}
}
