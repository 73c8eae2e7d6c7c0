package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/everify/everify/csvio"
	"github.com/everify/everify/internal/fakes"
	"github.com/everify/everify/shard"
	"github.com/everify/everify/verify"
)

// genList returns a CSV of n rows over a few hundred domains with what real lists hold:
// upper-case and IDN domains, display names, invalid addresses, duplicates, quoted
// notes spanning lines, a stray quote, empty lines.
func genList(n int) []byte {
	rng := rand.New(rand.NewPCG(14, 14))
	var b bytes.Buffer
	b.WriteString("id,name,email,note\n")
	var seen []string
	for i := range n {
		if i%1000 == 999 {
			b.WriteString("\n") // an empty row
			continue
		}
		d := rng.IntN(400)
		var email string
		switch r := rng.IntN(100); {
		case r < 3:
			email = fmt.Sprintf("broken%d@@d%d.zz", i, d)
		case r < 5:
			email = fmt.Sprintf("üser%d@bücher%d.de", i, d%7)
		case r < 7:
			email = fmt.Sprintf("Name %d <U%d@D%d.ZZ>", i, i, d)
		case r < 10 && len(seen) > 0:
			email = seen[rng.IntN(len(seen))]
		default:
			email = fmt.Sprintf("u%d@d%d.zz", i, d)
		}
		seen = append(seen, email)
		note := "plain"
		switch {
		case i%11 == 0:
			note = "\"two\nlines, \"\"quoted\"\"\""
		case i%97 == 0:
			note = `stray"quote`
		}
		fmt.Fprintf(&b, "%d,Name %d,%s,%s\n", i, i, email, note)
	}
	return b.Bytes()
}

// runOK runs everify in-process and returns stdout and stderr; it fails the test
// unless everify exits 0.
func runOK(t *testing.T, args ...string) (string, string) {
	t.Helper()
	ios, out, errOut := testStreams("")
	if code := run(context.Background(), args, ios); code != 0 {
		t.Fatalf("everify %s: exit %d\n%s", strings.Join(args, " "), code, errOut)
	}
	return out.String(), errOut.String()
}

// firstDiff describes where got and want first differ.
func firstDiff(got, want string) string {
	g, w := strings.SplitAfter(got, "\n"), strings.SplitAfter(want, "\n")
	for i := range min(len(g), len(w)) {
		if g[i] != w[i] {
			return fmt.Sprintf("line %d:\n got %q\nwant %q", i+1, g[i], w[i])
		}
	}
	return fmt.Sprintf("%d lines, want %d", len(g), len(w))
}

// runShards runs n shards of `bulk args... -o DIR/out.K.EXT` and returns the outputs.
func runShards(t *testing.T, dir string, n int, ext string, args ...string) []string {
	t.Helper()
	var outs []string
	for k := 1; k <= n; k++ {
		out := filepath.Join(dir, fmt.Sprintf("out.%d.%s", k, ext))
		runOK(t, append([]string{"bulk", "--progress", "never", "--shard", fmt.Sprintf("%d/%d", k, n), "-o", out}, args...)...)
		outs = append(outs, out)
	}
	return outs
}

// mergeShards merges outs and returns the merged output and the summary.
func mergeShards(t *testing.T, outs []string, extra ...string) ([]byte, string) {
	t.Helper()
	merged := filepath.Join(filepath.Dir(outs[0]), "merged")
	_, summary := runOK(t, append(append([]string{"merge", "-o", merged}, extra...), outs...)...)
	b, err := os.ReadFile(merged)
	if err != nil {
		t.Fatal(err)
	}
	return b, summary
}

// checkShardRows checks that every row of a CSV shard output hashes to its shard: the
// domain of email_normalized, or shard 1 for a row without one.
func checkShardRows(t *testing.T, out string, spec shard.Spec) int {
	t.Helper()
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rd, err := csvio.NewReader(f, csvio.Options{Column: "email_normalized", SniffLines: 1, AllowBinary: true, Delimiter: ','})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for ; ; n++ {
		rec, err := rd.Read()
		if err == io.EOF {
			return n
		}
		if err != nil {
			t.Fatal(err)
		}
		domain := ""
		if rec.Problem == "" {
			domain = verify.ParseAddress(rec.Address, verify.ParseOptions{}).ASCIIDomain
		}
		if got := shard.Of(domain, spec.N); got != spec.K {
			t.Fatalf("%s line %d: %q (domain %q) is in shard %s, hashes to %d", out, rec.Line, rec.Address, domain, spec, got)
		}
	}
}

// TestShardMergeOffline100k: for N = 1, 2, 3, 7, the merge of N shards of a 100,000-row
// list is byte for byte the unsharded output, and every row of a shard hashes to it.
func TestShardMergeOffline100k(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "list.csv")
	if err := os.WriteFile(in, genList(100_000), 0o644); err != nil {
		t.Fatal(err)
	}
	wantOut, want := runOK(t, "bulk", "--offline", "--progress", "never", in)
	want = want[strings.LastIndex(want, "everify: "):] // the summary, after the malformed rows
	for _, n := range []int{1, 2, 3, 7} {
		sub := filepath.Join(dir, strconv.Itoa(n))
		os.Mkdir(sub, 0o755)
		outs := runShards(t, sub, n, "csv", "--offline", in)
		rows := 0
		for k, out := range outs {
			rows += checkShardRows(t, out, shard.Spec{K: k + 1, N: n})
		}
		if rows != 100_000 {
			t.Errorf("N=%d: the shards hold %d rows, want 100000", n, rows)
		}
		got, summary := mergeShards(t, outs)
		if string(got) != wantOut {
			t.Errorf("N=%d: merged output differs from the unsharded one: %s", n, firstDiff(string(got), wantOut))
		}
		if !strings.HasPrefix(summary, "everify: 100000 rows in ") || !strings.Contains(summary, " duplicates, ") {
			t.Errorf("N=%d: summary %q", n, summary)
		}
		// The counts by status and reason are the unsharded run's.
		if cut := func(s string) string { return s[strings.Index(s, "\n"):] }; cut(summary) != cut(want) {
			t.Errorf("N=%d: merged summary\n%s\nunsharded\n%s", n, summary, want)
		}
	}
}

// TestShardMergeShapes: inputs of every shape and each output format merge back to the
// unsharded output.
func TestShardMergeShapes(t *testing.T) {
	list := string(genList(600))
	for _, tt := range []struct {
		name, in string
		args     []string
	}{
		{"bom crlf semicolon", "\uFEFF" + strings.ReplaceAll(strings.ReplaceAll(list, ",", ";"), "\n", "\r\n"), nil},
		{"plain list", "a@x.zz\nJane Doe <jane@y.zz>\nDoe, Jane <jd@y.zz>\n\"q\"@z.zz\nbad@\n\nb@X.ZZ\nc@x.zz", nil},
		{"headerless csv", "1,a@x.zz\n2,b@y.zz\n3,bad\n4,c@x.zz,extra\n5,d@w.zz\n", nil},
		{"bare cr", strings.ReplaceAll("email,n\na@x.zz,1\nb@y.zz,2\n\"c\"@z.zz,3\nd@w.zz,4\n", "\n", "\r"), nil},
		{"row column in input", "row,email\n1,a@x.zz\n2,b@y.zz\n3,c@z.zz\n4,d@w.zz\n", nil},
		{"no final newline", "email\na@x.zz\nb@y.zz\n\"open", nil},
		// gmail.com is in shard 2/3 and 7/7: the NUL row, malformed, is early in shard 1's output.
		{"nul byte after the look-ahead", "email\n" + strings.Repeat("pad@gmail.com\n", 30000) + "n\x00l@y.zz\n" + "z@q.zz\n", nil},
		{"bare cr, LF after the look-ahead", "email\r" + strings.Repeat("pad@gmail.com\r", 30000) + "\"a\nb\"@y.zz\r" + "z@q.zz\r", nil},
		{"header only", "email,name\n", nil},
		{"empty", "", nil},
		{"ndjson", list, []string{"--format", "ndjson"}},
		{"json", list, []string{"--format", "json"}},
		{"json empty", "email\n", []string{"--format", "json"}},
		{"keep", list, []string{"--keep", "undeliverable"}},
		{"column", list, []string{"--column", "email", "--format", "ndjson"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			in := filepath.Join(dir, "in")
			os.WriteFile(in, []byte(tt.in), 0o644)
			args := append([]string{"--offline", in}, tt.args...)
			wantOut, _ := runOK(t, append([]string{"bulk", "--progress", "never"}, args...)...)
			for _, n := range []int{3, 7} {
				sub := filepath.Join(dir, strconv.Itoa(n))
				os.Mkdir(sub, 0o755)
				got, _ := mergeShards(t, runShards(t, sub, n, "out", args...))
				if stable(string(got)) != stable(wantOut) {
					t.Errorf("N=%d: merged output differs from the unsharded one: %s", n, firstDiff(stable(string(got)), stable(wantOut)))
				}
			}
		})
	}
}

// TestShardMergeOnline: against fake DNS and SMTP servers, for N = 1, 2, 3, 7, the
// merge of the shards is the unsharded output.
func TestShardMergeOnline(t *testing.T) {
	w := fakes.NewBulkWorld(t, fakes.BulkSpec{Rows: 300, Domains: 30, MXHosts: 6, CatchAllEvery: 5,
		UnknownPercent: 30, DuplicatePercent: 5, Seed: 14})
	dir := t.TempDir()
	in := filepath.Join(dir, "list.csv")
	os.WriteFile(in, w.CSV, 0o644)
	args := append([]string{in}, bulkWorldArgs(w)...)
	for _, format := range []string{"csv", "ndjson"} {
		wantOut, _ := runOK(t, append([]string{"bulk", "--progress", "never", "--format", format}, args...)...)
		if format == "csv" && !strings.Contains(wantOut, ",risky,catch_all,") || !strings.Contains(wantOut, "mailbox_not_found") {
			t.Fatalf("the world's verdicts are missing from the output: %.500s", wantOut)
		}
		for _, n := range []int{1, 2, 3, 7} {
			sub := filepath.Join(dir, format+strconv.Itoa(n))
			os.Mkdir(sub, 0o755)
			got, summary := mergeShards(t, runShards(t, sub, n, format, append([]string{"--format", format}, args...)...))
			if stable(string(got)) != stable(wantOut) {
				t.Errorf("%s N=%d: merged output differs from the unsharded one: %s", format, n, firstDiff(stable(string(got)), stable(wantOut)))
			}
			if !strings.Contains(summary, "smtp sessions") {
				t.Errorf("%s N=%d: summary lacks the SMTP counts: %s", format, n, summary)
			}
		}
	}
}

// TestMergeRefusesMismatch: shards of different settings or inputs are refused, naming
// the file and the difference.
func TestMergeRefusesMismatch(t *testing.T) {
	dir := t.TempDir()
	in, other := filepath.Join(dir, "a.csv"), filepath.Join(dir, "b.csv")
	os.WriteFile(in, genList(50), 0o644)
	os.WriteFile(other, genList(51), 0o644)
	shardOut := func(name, spec string, args ...string) string {
		out := filepath.Join(dir, name)
		runOK(t, append([]string{"bulk", "--offline", "--shard", spec, "-o", out}, args...)...)
		return out
	}
	s1 := shardOut("s1.csv", "1/2", in)
	for _, tt := range []struct {
		name   string
		second string
		want   string
	}{
		{"settings", shardOut("s2a.csv", "2/2", "--no-catch-all", in), "s2a.csv was made with other settings: no-catch-all is true, not false"},
		{"input", shardOut("s2b.csv", "2/2", other), "s2b.csv comes from another input"},
		{"format", shardOut("s2c.csv", "2/2", "--format", "ndjson", in), "s2c.csv is ndjson, not csv"},
		{"shard count", shardOut("s2d.csv", "2/3", in), "s2d.csv is shard 2/3, not of 2 shards"},
		{"missing", "", "shard 2/2 missing"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			args := []string{"merge", "-o", filepath.Join(dir, "m.csv"), s1}
			if tt.second != "" {
				args = append(args, tt.second)
			}
			ios, _, errOut := testStreams("")
			if code := run(context.Background(), args, ios); code != exitError || !strings.Contains(errOut.String(), tt.want) {
				t.Errorf("exit %d, stderr %q; want 1 and %q", code, errOut, tt.want)
			}
		})
	}
	// Per-machine flags may differ; --shard-index I/N is shard I+1.
	s2 := filepath.Join(dir, "s2.csv")
	runOK(t, "bulk", "--offline", "--shard-index", "1/2", "-o", s2, "--helo", "other.example", "--workers", "3", in)
	runOK(t, "merge", "-o", filepath.Join(dir, "m.csv"), s1, s2)
}

func TestShardFlagErrors(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"bulk", "--offline", "--shard", "2/3", "x.csv"}, "--shard needs -o FILE"},
		{[]string{"bulk", "--offline", "--shard", "2/3", "-o", "-", "x.csv"}, "--shard needs -o FILE"},
		{[]string{"bulk", "--offline", "--shard", "4/3", "-o", "o.csv", "x.csv"}, "invalid --shard: shard \"4/3\": K must be 1 to N (3)"},
		{[]string{"bulk", "--offline", "--shard", "two", "-o", "o.csv", "x.csv"}, "want K/N"},
		{[]string{"bulk", "--offline", "--shard-index", "3/3", "-o", "o.csv", "x.csv"}, "invalid --shard-index: shard index \"3/3\": want I/N with 0 ≤ I < N"},
		{[]string{"bulk", "--offline", "--shard-index", "0/3", "--shard", "1/3", "-o", "o.csv", "x.csv"}, "none of the others can be"},
		{[]string{"merge"}, "requires at least 1 arg"},
		{[]string{"merge", "--fail-on", "bogus", "x.csv"}, "invalid --fail-on value"},
	} {
		ios, _, errOut := testStreams("")
		if code := run(context.Background(), tt.args, ios); code != exitError || !strings.Contains(errOut.String(), tt.want) {
			t.Errorf("%q: exit %d, stderr %q; want 1 and %q", tt.args, code, errOut, tt.want)
		}
	}
}

// TestShardStaleManifest: a shard run that does not finish leaves no manifest, not even
// an older run's, so merge cannot take its partial output for a finished one.
func TestShardStaleManifest(t *testing.T) {
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.csv"), filepath.Join(dir, "out.csv")
	os.WriteFile(in, genList(100), 0o644)
	runOK(t, "bulk", "--offline", "--shard", "1/2", "-o", out, in)
	if _, err := os.Stat(shard.ManifestPath(out)); err != nil {
		t.Fatalf("finished run wrote no manifest: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	ios, _, _ := testStreams("")
	if code := run(ctx, []string{"bulk", "--offline", "--shard", "1/2", "-o", out, in}, ios); code != exitInterrupted {
		t.Fatalf("exit %d, want %d", code, exitInterrupted)
	}
	if _, err := os.Stat(shard.ManifestPath(out)); err == nil {
		t.Error("an interrupted run left a manifest")
	}
}

// TestMergeFailOn: merge --fail-on exits 2 when a merged row matches, from the shards'
// counts; --keep-row keeps the row column.
func TestMergeFailOn(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.csv")
	os.WriteFile(in, []byte("email\na@x.zz\nbroken@@x.zz\n"), 0o644)
	outs := runShards(t, dir, 2, "csv", "--offline", in)
	m := filepath.Join(dir, "m.csv")
	ios, _, errOut := testStreams("")
	if code := run(context.Background(), append([]string{"merge", "--keep-row", "--fail-on", "invalid_syntax", "-o", m}, outs...), ios); code != exitFail {
		t.Errorf("exit %d, want 2; %s", code, errOut)
	}
	if b, _ := os.ReadFile(m); !strings.HasPrefix(string(b), "email,status,reason,email_normalized,disposable,role,free,catch_all,suggestion,mx,smtp_code,provider,row\n") ||
		!strings.HasSuffix(string(b), ",2\n") {
		t.Errorf("--keep-row output:\n%s", b)
	}
	ios, _, _ = testStreams("")
	if code := run(context.Background(), append([]string{"merge", "--fail-on", "deliverable", "-o", m}, outs...), ios); code != 0 {
		t.Errorf("exit %d with nothing matching --fail-on", code)
	}
}

// FuzzShardMerge: whatever the input, the merge of 3 shards is the unsharded output.
func FuzzShardMerge(f *testing.F) {
	for _, s := range []string{
		string(genList(40)),
		"email;n\r\n\"a;b\"@x.zz;1\r\nb@y.zz;\"2\r\n3\"\r\nc@z.zz;\"open\r\n",
		"a@x.zz\r\"b\"@y.zz\rc\"@z.zz\r",
		"\uFEFFid,email\n1,\"x\"y@z.zz\n2,\"unterminated\n3,c@d.zz\n",
		"a@x.zz\nDoe, Jane <j@y.zz>\n\"q\"\"\"@z.zz\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		dir := t.TempDir()
		path := filepath.Join(dir, "in")
		os.WriteFile(path, in, 0o644)
		ios, out, _ := testStreams("")
		if run(context.Background(), []string{"bulk", "--offline", "--progress", "never", path}, ios) != 0 {
			return // not a list (binary, no address column): refused alike, sharded or not
		}
		var outs []string
		for k := 1; k <= 3; k++ {
			o := filepath.Join(dir, fmt.Sprintf("out.%d", k))
			ios, _, errOut := testStreams("")
			if code := run(context.Background(), []string{"bulk", "--offline", "--progress", "never", "--shard", fmt.Sprintf("%d/3", k), "-o", o, path}, ios); code != 0 {
				t.Fatalf("shard %d/3: exit %d: %s", k, code, errOut)
			}
			outs = append(outs, o)
		}
		merged := filepath.Join(dir, "merged")
		ios, _, errOut := testStreams("")
		if code := run(context.Background(), append([]string{"merge", "-o", merged}, outs...), ios); code != 0 {
			t.Fatalf("merge: exit %d: %s", code, errOut)
		}
		got, _ := os.ReadFile(merged)
		if string(got) != out.String() {
			t.Fatalf("merged output differs from the unsharded one: %s", firstDiff(string(got), out.String()))
		}
	})
}
