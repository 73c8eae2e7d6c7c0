package shard

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeShard is a shard output written by hand, with its manifest.
type fakeShard struct {
	name, body string
	edit       func(m *Manifest)
}

// writeShards writes shards of an R-row CSV run into dir and returns their paths.
func writeShards(t *testing.T, format string, rows int, shards ...fakeShard) []string {
	t.Helper()
	dir := t.TempDir()
	var paths []string
	for i, s := range shards {
		p := filepath.Join(dir, s.name)
		if err := os.WriteFile(p, []byte(s.body), 0o644); err != nil {
			t.Fatal(err)
		}
		m := &Manifest{Shard: fmt.Sprintf("%d/%d", i+1, len(shards)), Format: format,
			InputSHA256: "abc", InputRows: rows, OutputBytes: int64(len(s.body)),
			Settings: map[string]string{"offline": "true"},
			Summary:  Summary{Rows: 1, Statuses: map[string]int{"risky": 1}, Reasons: map[string]int{"disposable": 1}, ElapsedMS: int64(100 * (i + 1))}}
		if format == "csv" {
			m.Delimiter, m.RowColumn, m.EOL = ",", "row", "\n"
		}
		m.Rows = strings.Count(s.body, "\n") - 1
		if format == "ndjson" {
			m.Rows++
		}
		if s.edit != nil {
			s.edit(m)
		}
		if err := WriteManifest(p, m); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	return paths
}

const hdr = "email,status,row\n"

func TestMergeCSV(t *testing.T) {
	paths := writeShards(t, "csv", 5,
		fakeShard{name: "a.csv", body: hdr + "a@x.zz,risky,1\n\"q,\"\"r\n\"\"\",risky,4\n", edit: func(m *Manifest) { m.Rows = 2 }},
		fakeShard{name: "b.csv", body: hdr + "b@y.zz,risky,2\nc@y.zz,risky,3\ne@y.zz,risky,5\n"})
	var out bytes.Buffer
	sum, err := Merge(context.Background(), &out, paths, MergeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := "email,status\na@x.zz,risky\nb@y.zz,risky\nc@y.zz,risky\n\"q,\"\"r\n\"\"\",risky\ne@y.zz,risky\n"
	if out.String() != want {
		t.Errorf("merged:\n%s\nwant:\n%s", out.String(), want)
	}
	if sum.Rows != 2 || sum.Statuses["risky"] != 2 || sum.Reasons["disposable"] != 2 || sum.ElapsedMS != 200 {
		t.Errorf("summary = %+v: want the shards' counts summed, the longest elapsed time", sum)
	}
	out.Reset()
	// A manifest path stands for its output; given both, each shard counts once.
	if _, err := Merge(context.Background(), &out, append(paths, ManifestPath(paths[0])), MergeOptions{KeepRow: true}); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), hdr+"a@x.zz,risky,1\nb@y.zz,risky,2\n") {
		t.Errorf("--keep-row output:\n%s", out.String())
	}
}

func TestMergeJSONFormats(t *testing.T) {
	for _, tt := range []struct {
		format, a, b, want string
	}{
		{"ndjson", "{\"row\":2,\"input\":\"b\"}\n", "{\"row\":1,\"input\":\"a\"}\n{\"row\":3,\"input\":\"c\"}\n",
			"{\"input\":\"a\"}\n{\"input\":\"b\"}\n{\"input\":\"c\"}\n"},
		{"json", "[\n{\"row\":2,\"input\":\"b\"}\n]\n", "[\n{\"row\":1,\"input\":\"a\"},\n{\"row\":3,\"input\":\"c\"}\n]\n",
			"[\n{\"input\":\"a\"},\n{\"input\":\"b\"},\n{\"input\":\"c\"}\n]\n"},
		{"json", "[\n]\n", "[\n]\n", "[\n]\n"},
	} {
		rows := strings.Count(tt.want, "input")
		edit := func(n int) func(m *Manifest) { return func(m *Manifest) { m.Rows = n } }
		paths := writeShards(t, tt.format, rows,
			fakeShard{name: "a", body: tt.a, edit: edit(strings.Count(tt.a, "row"))},
			fakeShard{name: "b", body: tt.b, edit: edit(strings.Count(tt.b, "row"))})
		var out bytes.Buffer
		if _, err := Merge(context.Background(), &out, paths, MergeOptions{}); err != nil {
			t.Fatalf("%s: %v", tt.format, err)
		}
		if out.String() != tt.want {
			t.Errorf("%s merged:\n%q\nwant:\n%q", tt.format, out.String(), tt.want)
		}
	}
}

// TestMergeRefuses: every way shard outputs can fail to be one run's is refused with a
// message naming the file, the shard or the row.
func TestMergeRefuses(t *testing.T) {
	ok1 := hdr + "a@x.zz,risky,1\nc@x.zz,risky,3\n"
	ok2 := hdr + "b@y.zz,risky,2\n"
	set := func(f func(m *Manifest)) func(m *Manifest) { return f }
	for _, tt := range []struct {
		name   string
		rows   int
		shards []fakeShard
		want   string
	}{
		{"missing shard", 3, []fakeShard{{name: "a", body: ok1, edit: set(func(m *Manifest) { m.Shard = "1/3" })}, {name: "b", body: ok2, edit: set(func(m *Manifest) { m.Shard = "3/3" })}},
			"shard 2/3 missing: 2 of 3 shard outputs given"},
		{"shard twice", 3, []fakeShard{{name: "a", body: ok1}, {name: "b", body: ok2, edit: set(func(m *Manifest) { m.Shard = "1/2" })}},
			"a and "},
		{"other N", 3, []fakeShard{{name: "a", body: ok1}, {name: "b", body: ok2, edit: set(func(m *Manifest) { m.Shard = "2/3" })}},
			"b is shard 2/3, not of 2 shards"},
		{"other input", 3, []fakeShard{{name: "a", body: ok1}, {name: "b", body: ok2, edit: set(func(m *Manifest) { m.InputSHA256 = "def" })}},
			"b comes from another input"},
		{"other settings", 3, []fakeShard{{name: "a", body: ok1}, {name: "b", body: ok2, edit: set(func(m *Manifest) {
			m.Settings = maps.Clone(m.Settings)
			m.Settings["offline"] = "false"
		})}}, "b was made with other settings: offline is false, not true"},
		{"setting only in one", 3, []fakeShard{{name: "a", body: ok1}, {name: "b", body: ok2, edit: set(func(m *Manifest) {
			m.Settings = map[string]string{"offline": "true", "no-catch-all": "true"}
		})}}, "no-catch-all is true, not absent"},
		{"other format", 3, []fakeShard{{name: "a", body: ok1}, {name: "b", body: ok2, edit: set(func(m *Manifest) { m.Format = "ndjson" })}},
			"b is ndjson, not csv"},
		{"other header", 3, []fakeShard{{name: "a", body: ok1}, {name: "b", body: "mail,status,row\nb@y.zz,risky,2\n"}},
			"b has a different header from"},
		{"edited file", 3, []fakeShard{{name: "a", body: ok1}, {name: "b", body: ok2, edit: set(func(m *Manifest) { m.OutputBytes++ })}},
			"b is 32 bytes, its manifest says 33: the file changed"},
		{"fewer rows than manifest", 3, []fakeShard{{name: "a", body: ok1}, {name: "b", body: ok2, edit: set(func(m *Manifest) { m.Rows = 2 })}},
			"b holds 1 rows, its manifest 2"},
		{"row twice", 3, []fakeShard{{name: "a", body: ok1}, {name: "b", body: ok2 + "b@y.zz,risky,3\n"}},
			"row 3 appears twice: in "},
		{"row twice in one file", 3, []fakeShard{{name: "a", body: hdr + "a@x.zz,risky,1\na@x.zz,risky,1\n"}, {name: "b", body: ok2}},
			"row 1 appears twice in "},
		{"row missing", 4, []fakeShard{{name: "a", body: ok1}, {name: "b", body: hdr + "b@y.zz,risky,4\n"}},
			"row 2 is missing: no shard output holds it (the next row, 3, is in "},
		{"last rows missing", 5, []fakeShard{{name: "a", body: ok1}, {name: "b", body: ok2}},
			"row 4 is missing: no shard output holds it (the input has 5 rows)"},
		{"row beyond input", 2, []fakeShard{{name: "a", body: ok1}, {name: "b", body: ok2}},
			"row 3, but the input has 2 rows"},
		{"out of order", 3, []fakeShard{{name: "a", body: hdr + "a@x.zz,risky,1\nc@x.zz,risky,2\na@x.zz,risky,1\n"}, {name: "b", body: hdr + "b@y.zz,risky,3\n"}},
			"row 1 comes after row 2: rows out of order"},
		{"no row column", 3, []fakeShard{{name: "a", body: ok1}, {name: "b", body: hdr + "b@y.zz,risky,x2\n"}},
			"line 2: no row number in the last column"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			paths := writeShards(t, "csv", tt.rows, tt.shards...)
			_, err := Merge(context.Background(), &bytes.Buffer{}, paths, MergeOptions{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Merge error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestMergeNoManifest(t *testing.T) {
	paths := writeShards(t, "csv", 3, fakeShard{name: "a", body: hdr})
	os.Remove(ManifestPath(paths[0]))
	_, err := Merge(context.Background(), &bytes.Buffer{}, paths, MergeOptions{})
	if err == nil || !strings.Contains(err.Error(), "no manifest") || !strings.Contains(err.Error(), "did not finish") {
		t.Errorf("err = %v", err)
	}
}

// TestMergeKept: with --keep, rows have gaps, but each still comes at most once.
func TestMergeKept(t *testing.T) {
	kept := func(m *Manifest) { m.Kept = true }
	paths := writeShards(t, "csv", 9,
		fakeShard{name: "a", body: hdr + "a@x.zz,risky,2\n", edit: kept},
		fakeShard{name: "b", body: hdr + "b@y.zz,risky,7\n", edit: kept})
	var out bytes.Buffer
	if _, err := Merge(context.Background(), &out, paths, MergeOptions{}); err != nil {
		t.Fatal(err)
	}
	if out.String() != "email,status\na@x.zz,risky\nb@y.zz,risky\n" {
		t.Errorf("merged %q", out.String())
	}
	paths = writeShards(t, "csv", 9,
		fakeShard{name: "a", body: hdr + "a@x.zz,risky,2\n", edit: kept},
		fakeShard{name: "b", body: ok2Kept, edit: kept})
	if _, err := Merge(context.Background(), &out, paths, MergeOptions{}); err == nil || !strings.Contains(err.Error(), "row 2 appears twice") {
		t.Errorf("err = %v", err)
	}
}

const ok2Kept = hdr + "b@y.zz,risky,2\n"

// TestMergeFileAtomic: a failed merge leaves no output (and no temporary file); a
// successful one replaces the output.
func TestMergeFileAtomic(t *testing.T) {
	paths := writeShards(t, "csv", 3,
		fakeShard{name: "a", body: hdr + "a@x.zz,risky,1\nc@x.zz,risky,2\n"},
		fakeShard{name: "b", body: hdr + "b@y.zz,risky,2\n"})
	dir := t.TempDir()
	out := filepath.Join(dir, "merged.csv")
	os.WriteFile(out, []byte("old"), 0o644)
	if _, err := MergeFile(context.Background(), out, paths, MergeOptions{}); err == nil {
		t.Fatal("merge of a duplicated row succeeded")
	}
	if b, _ := os.ReadFile(out); string(b) != "old" {
		t.Errorf("failed merge changed the output: %q", b)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("files left in the output directory: %v", ents)
	}
	if _, err := MergeFile(context.Background(), paths[0], paths, MergeOptions{}); err == nil || !strings.Contains(err.Error(), "is one of the shard outputs") {
		t.Errorf("merge onto a shard output: err = %v", err)
	}
}
