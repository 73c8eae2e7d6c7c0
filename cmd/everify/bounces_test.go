package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const bounceCorpus = "../../dsn/testdata/bounces"

// fixBouncesClock makes bounces summaries deterministic: every run takes exactly 1 s.
func fixBouncesClock(t *testing.T) {
	t.Helper()
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	calls := 0
	prev := bouncesClock
	bouncesClock = func() time.Time {
		calls++
		return start.Add(time.Duration(1-calls%2) * time.Second)
	}
	t.Cleanup(func() { bouncesClock = prev })
}

// TestBouncesCorpus: the suppression list and summary of the whole corpus of every
// format, against golden files.
func TestBouncesCorpus(t *testing.T) {
	fixBouncesClock(t)
	for _, format := range []string{"csv", "ndjson"} {
		ios, out, errOut := testStreams("")
		if code := run(context.Background(), []string{"bounces", "--format", format, bounceCorpus}, ios); code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		golden(t, "bounces/corpus."+format, out.String())
		if format == "csv" {
			golden(t, "bounces/corpus.summary", errOut.String())
		}
	}
}

// TestBouncesMerge: -o merges; running again over the same logs changes nothing, and
// new logs update the counts.
func TestBouncesMerge(t *testing.T) {
	for _, format := range []string{"csv", "ndjson"} {
		t.Run(format, func(t *testing.T) {
			list := filepath.Join(t.TempDir(), "suppress."+format)
			mbox := filepath.Join(bounceCorpus, "soft.mbox")
			bounces := func(paths ...string) string {
				t.Helper()
				ios, out, errOut := testStreams("")
				args := append([]string{"bounces", "--format", format, "-o", list}, paths...)
				if code := run(context.Background(), args, ios); code != 0 {
					t.Fatalf("exit %d: %s", code, errOut)
				}
				if out.Len() != 0 {
					t.Errorf("stdout %q with -o", out)
				}
				b, err := os.ReadFile(list)
				if err != nil {
					t.Fatal(err)
				}
				return string(b)
			}
			first := bounces(mbox)
			if !strings.Contains(first, "victor@busy.example") {
				t.Fatalf("list lacks victor:\n%s", first)
			}
			if again := bounces(mbox); again != first {
				t.Errorf("merging the same mbox again changed the list:\n%s\nwas:\n%s", again, first)
			}
			// All at once, or the rest merged after: the same list.
			all := bounces(bounceCorpus)
			os.Remove(list)
			if once := bounces(bounceCorpus); once != all {
				t.Errorf("merged list differs from one run over everything:\n%s\nwant:\n%s", all, once)
			}
		})
	}
}

func TestBouncesErrors(t *testing.T) {
	dir := t.TempDir()
	notList := filepath.Join(dir, "notalist.csv")
	os.WriteFile(notList, []byte("name,phone\nx,1\n"), 0o644)
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"bounces", "--format", "text", bounceCorpus}, "invalid --format"},
		{[]string{"bounces", "--soft-limit", "0", bounceCorpus}, "invalid --soft-limit"},
		{[]string{"bounces", "--window", "-1h", bounceCorpus}, "invalid --window"},
		{[]string{"bounces", filepath.Join(dir, "missing")}, "no such file"},
		{[]string{"bounces", "-o", notList, bounceCorpus}, "no \"email\" column"},
		{[]string{"check", "--offline", "--suppress", notList, "a@b.org"}, "no \"email\" column"},
		{[]string{"check", "--offline", "--suppress", filepath.Join(dir, "missing"), "a@b.org"}, "--suppress"},
	} {
		ios, _, errOut := testStreams("")
		if code := run(context.Background(), tt.args, ios); code != exitError || !strings.Contains(errOut.String(), tt.want) {
			t.Errorf("%q: exit %d, stderr %q; want exit 1 and %q", tt.args, code, errOut, tt.want)
		}
	}
	if b, _ := os.ReadFile(notList); string(b) != "name,phone\nx,1\n" {
		t.Errorf("a file that is no list was overwritten: %q", b)
	}
}

// TestBinarySuppress: a list made by the built binary's bounces command, used by check
// and bulk: suppressed addresses are undeliverable (reason suppressed) before any other
// stage (the corpus's domains are reserved ones, which suppression comes before); an
// address with soft bounces below the limit carries soft_bounces.
func TestBinarySuppress(t *testing.T) {
	list := filepath.Join(t.TempDir(), "suppress.csv")
	if _, errOut, code := runBinary(t, "", "bounces", "-o", list, bounceCorpus); code != 0 {
		t.Fatalf("bounces: exit %d\n%s", code, errOut)
	}
	out, errOut, code := runBinary(t, "", "check", "--offline", "--format", "ndjson", "--suppress", list,
		"Jane Doe <jane.doe@example.org>", "ursula@full.example", "amy@example.com", "carol@example.com")
	if code != exitFail {
		t.Errorf("check: exit %d, want %d\n%s", code, exitFail, errOut)
	}
	rs := decodeNDJSON(t, out)
	want := []struct {
		reason string
		soft   int
	}{{"suppressed", 0}, {"suppressed", 0}, {"reserved_domain", 1}, {"reserved_domain", 0}}
	if len(rs) != len(want) {
		t.Fatalf("%d results:\n%s", len(rs), out)
	}
	for i, w := range want {
		if string(rs[i].Reason) != w.reason || rs[i].SoftBounces != w.soft {
			t.Errorf("%s: reason %s soft_bounces %d, want %s %d", rs[i].Input, rs[i].Reason, rs[i].SoftBounces, w.reason, w.soft)
		}
	}
	if !strings.Contains(out, `"soft_bounces":1`) || strings.Count(out, "soft_bounces") != 1 {
		t.Errorf("soft_bounces must appear once, on amy:\n%s", out)
	}

	out, errOut, code = runBinary(t, "email,name\nyvonne@example.com,Y\nnew@gmail.com,N\n", "bulk", "--offline", "--suppress", list, "-")
	if code != 0 || !strings.Contains(out, "yvonne@example.com,Y,undeliverable,suppressed,") ||
		!strings.Contains(out, "new@gmail.com,N,unknown,smtp_skipped,") {
		t.Errorf("bulk: exit %d\n%s\n%s", code, out, errOut)
	}
}

// TestBouncesInterrupted: Ctrl-C writes the list of what was read and exits 130.
func TestBouncesInterrupted(t *testing.T) {
	list := filepath.Join(t.TempDir(), "suppress.csv")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	ios, _, errOut := testStreams("")
	if code := run(ctx, []string{"bounces", "-o", list, bounceCorpus}, ios); code != exitInterrupted {
		t.Fatalf("exit %d, want 130: %s", code, errOut)
	}
	if b, err := os.ReadFile(list); err != nil || !strings.HasPrefix(string(b), "email,state,") {
		t.Errorf("list %q (%v): want the header at least", b, err)
	}
}

// TestCheckTextSoftBounces: text output shows the soft bounces of a listed address.
func TestCheckTextSoftBounces(t *testing.T) {
	list := filepath.Join(t.TempDir(), "suppress.csv")
	os.WriteFile(list, []byte("email,state,soft_count,suppressed\njane@gmail.com,soft,2,false\n"), 0o644)
	ios, out, _ := testStreams("")
	run(context.Background(), []string{"check", "--offline", "--format", "text", "--suppress", list, "jane@gmail.com"}, ios)
	if !strings.Contains(out.String(), "2 soft bounces (--suppress)") {
		t.Errorf("text output %q lacks the soft bounces", out)
	}
}
