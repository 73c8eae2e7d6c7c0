package main

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/everify/everify/internal/fakes"
)

// runBinaryEnv runs the built everify with args, stdin and extra environment
// variables, returning stdout, stderr and the exit code.
func runBinaryEnv(t *testing.T, env []string, stdin string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(binPath(t), args...)
	cmd.Stdin = strings.NewReader(stdin)
	cmd.Env = append(append(os.Environ(), "NO_COLOR=1"), env...)
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errOut.String(), code
}

// TestBinaryUsageErrors: absurd or malformed settings are usage errors (exit 1) that
// name where the value came from, before any work; a generous --workers is fine and
// costs nothing on a short input.
func TestBinaryUsageErrors(t *testing.T) {
	for _, tt := range []struct {
		name string
		env  []string
		args []string
		want string
	}{
		{"workers too many", nil, []string{"check", "--offline", "--workers", "1000000", "a@b.com"}, "invalid --workers 1000000: at most 100000"},
		{"workers billion", nil, []string{"check", "--offline", "--workers", "1000000000", "a@b.com"}, "invalid --workers 1000000000"},
		{"workers env", []string{"EVERIFY_WORKERS=10000000"}, []string{"bulk", "--offline", "-"}, `invalid EVERIFY_WORKERS="10000000"`},
		{"per-mx env", []string{"EVERIFY_PER_MX=0"}, []string{"check", "--offline", "a@b.com"}, `invalid EVERIFY_PER_MX="0": must be at least 1`},
		{"format env", []string{"EVERIFY_FORMAT=xml"}, []string{"check", "--offline", "a@b.com"}, `invalid EVERIFY_FORMAT="xml"`},
		{"bulk format env", []string{"EVERIFY_FORMAT=text"}, []string{"bulk", "--offline", "-"}, `invalid EVERIFY_FORMAT="text"`},
		{"keep env", []string{"EVERIFY_KEEP=good"}, []string{"bulk", "--offline", "-"}, `invalid EVERIFY_KEEP value "good"`},
		{"format flag", nil, []string{"check", "--offline", "--format", "xml", "a@b.com"}, `invalid --format "xml"`},
		{"helo with space", nil, []string{"check", "--no-smtp", "--helo", "bad name", "a@b.com"}, `invalid --helo "bad name"`},
		{"helo env", []string{"EVERIFY_HELO=bad_name.example"}, []string{"check", "a@b.com"}, `invalid EVERIFY_HELO="bad_name.example"`},
		{"helo literal", nil, []string{"check", "--helo", "[300.1.1.1]", "a@b.com"}, "not an address literal"},
		{"from malformed", nil, []string{"check", "--from", "verify@", "a@b.com"}, `invalid --from "verify@"`},
		{"from display name", nil, []string{"check", "--from", "Verify <v@example.org>", "a@b.com"}, "want a bare address"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, errOut, code := runBinaryEnv(t, tt.env, "", tt.args...)
			if code != exitError || !strings.Contains(errOut, tt.want) {
				t.Errorf("exit %d, stderr %q; want exit 1 and %q", code, errOut, tt.want)
			}
		})
	}
	for _, args := range [][]string{
		{"check", "--offline", "--workers", "100000", "a@gmail.com"},
		{"check", "--no-smtp", "--offline", "--helo", "[IPv6:2001:db8::1]", "--from", "<>", "a@gmail.com"},
		{"check", "--offline", "--helo", "Mail-1.Example.org.", "--from", "probe+x@example.org", "a@gmail.com"},
	} {
		if _, errOut, code := runBinary(t, "", args...); code != exitRisky {
			t.Errorf("%v: exit %d, want %d; stderr %q", args, code, exitRisky, errOut)
		}
	}
}

// TestHELOWarning: a name that is not fully qualified draws one warning with a hint;
// a fully-qualified one or an address literal draws none.
func TestHELOWarning(t *testing.T) {
	for _, tt := range []struct {
		helo, from string
		warn       bool
	}{{"vm", "", true}, {"vm", "<>", true}, {"mail.example.org", "", false}, {"[192.0.2.1]", "", false}} {
		var errOut strings.Builder
		o := &verifyOptions{HELO: tt.helo, From: tt.from, errOut: &errOut}
		o.warnHELO(tt.helo)
		got := errOut.String()
		if tt.warn != (strings.Count(got, "not fully qualified") == 1) || tt.warn != strings.Contains(got, "--helo") {
			t.Errorf("helo %q: warning %q", tt.helo, got)
		}
		if tt.warn && !strings.Contains(got, `"EHLO vm"`) {
			t.Errorf("warning does not show what is sent: %q", got)
		}
	}
	// Through the binary, once per run however many addresses.
	z := fakes.NewZoo(t)
	args := append(append([]string{"check"}, zooArgs(t, z)...), "--helo", "vm", "jane@corp.zz", "x@catchall.zz")
	_, errOut, _ := runBinary(t, "", args...)
	if strings.Count(errOut, "not fully qualified") != 1 || !strings.Contains(errOut, "MAIL FROM:<verify@vm>") {
		t.Errorf("stderr %q: want one warning", errOut)
	}
}

// TestBinaryEmptyRows: blank lines and ",,," rows keep their output row, never trip
// --fail-on or check's exit code, and the summary counts them apart.
func TestBinaryEmptyRows(t *testing.T) {
	dir := t.TempDir()
	list := filepath.Join(dir, "list.txt")
	os.WriteFile(list, []byte("a@gmail.com\n\n  \nb@gmail.com\n\n"), 0o644)
	out, errOut, code := runBinary(t, "", "bulk", "--offline", "--fail-on", "undeliverable", list)
	if code != 0 {
		t.Errorf("exit %d, want 0: empty rows tripped --fail-on; stderr:\n%s", code, errOut)
	}
	if _, rows := readCSV(t, out); len(rows) != 5 {
		t.Errorf("%d output rows, want 5 (one per input line)", len(rows))
	}
	if !strings.Contains(errOut, "5 rows in") || !strings.Contains(errOut, "3 empty rows") || strings.Contains(errOut, "line 2") {
		t.Errorf("summary:\n%s", errOut)
	}
	csvIn := filepath.Join(dir, "list.csv")
	os.WriteFile(csvIn, []byte("name,email\nA,a@gmail.com\n,\n"), 0o644)
	if _, errOut, code := runBinary(t, "", "bulk", "--offline", "--fail-on", "invalid_syntax", csvIn); code != 0 || !strings.Contains(errOut, "1 empty row") {
		t.Errorf("',' row: exit %d; stderr:\n%s", code, errOut)
	}
	// A real bad address still trips it.
	os.WriteFile(list, []byte("a@gmail.com\nbad@\n\n"), 0o644)
	if _, _, code := runBinary(t, "", "bulk", "--offline", "--fail-on", "undeliverable", list); code != exitFail {
		t.Errorf("bad address: exit %d, want %d", code, exitFail)
	}
}

// TestBinaryCheckStdinLines: `check -` answers every line, blank ones with an
// invalid_syntax "empty address" record that does not count towards the exit code; a
// line over 1 MiB is reported invalid with its line number and the lines after it are
// still checked; a bare CR ending the input is not part of the address.
func TestBinaryCheckStdinLines(t *testing.T) {
	out, errOut, code := runBinary(t, "a@gmail.com\n\n   \nb@gmail.com\r", "check", "--offline", "--format", "ndjson", "-")
	rs := decodeNDJSON(t, out)
	if len(rs) != 4 || rs[1].Syntax.Error != "empty address" || rs[2].Syntax.Error != "empty address" || rs[3].Email != "b@gmail.com" {
		t.Fatalf("results %+v; stderr %s", rs, errOut)
	}
	if code != exitRisky {
		t.Errorf("exit %d, want %d: blank lines counted as undeliverable", code, exitRisky)
	}
	long := "a@gmail.com\n" + strings.Repeat("x", 1<<20+10) + "@gmail.com\nc@gmail.com\n"
	out, errOut, code = runBinary(t, long, "check", "--offline", "--format", "ndjson", "-")
	rs = decodeNDJSON(t, out)
	if len(rs) != 3 || rs[1].Reason != "invalid_syntax" || rs[1].Syntax.Error != "line 2: line exceeds 1048576 octets" || rs[2].Email != "c@gmail.com" {
		t.Fatalf("%d results %+v; stderr %s", len(rs), rs, errOut)
	}
	if code != exitFail || len(rs[1].Input) > 300 {
		t.Errorf("exit %d (want %d), input of %d bytes", code, exitFail, len(rs[1].Input))
	}
}

// TestBinaryValidCSV: malformed rows (a bare quote, a row over 1 MiB cut inside a quoted
// field) come out as RFC 4180 that reads back the same values; the long row's address
// is verified, not reported invalid; the rows after it are intact.
func TestBinaryValidCSV(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.csv")
	big := strings.Repeat("note ", 250000) // 1.25 MB
	os.WriteFile(in, []byte("id,name,email,note\n7,Jane \"JJ\" Jones,jj@gmail.com,x\n8,Big,big@gmail.com,\""+big+"\"\n9,Last,last@gmail.com,y\n"), 0o644)
	out, errOut, code := runBinary(t, "", "bulk", "--offline", in)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	_, rows := readCSV(t, out)
	if len(rows) != 3 {
		t.Fatalf("%d rows, want 3", len(rows))
	}
	if rows[0]["name"] != `Jane "JJ" Jones` || rows[0]["email"] != "jj@gmail.com" {
		t.Errorf("row 1 read back as %v", rows[0])
	}
	if rows[1]["email"] != "big@gmail.com" || rows[1]["reason"] != "smtp_skipped" || len(rows[1]["note"]) > 1<<20 {
		t.Errorf("long row: email %q reason %q note of %d bytes", rows[1]["email"], rows[1]["reason"], len(rows[1]["note"]))
	}
	if rows[2]["email"] != "last@gmail.com" || rows[2]["note"] != "y" {
		t.Errorf("row after the long one: %v", rows[2])
	}
	if !strings.Contains(errOut, "line 3: record exceeds 1048576 octets; written cut") || !strings.Contains(errOut, "line 2: bare quote") {
		t.Errorf("stderr:\n%s", errOut)
	}
}

// TestBinaryCSVSafe: --csv-safe neutralises formulas in input and result cells, for
// bulk and check; without it the input comes out byte for byte.
func TestBinaryCSVSafe(t *testing.T) {
	in := filepath.Join(t.TempDir(), "in.csv")
	os.WriteFile(in, []byte("note,email\n\"=HYPERLINK(\"\"http://x\"\")\",-a@gmail.com\n@SUM(A1),b@gmail.com\n"), 0o644)
	out, _, _ := runBinary(t, "", "bulk", "--offline", "--csv-safe", in)
	_, rows := readCSV(t, out)
	if len(rows) != 2 || rows[0]["note"] != `'=HYPERLINK("http://x")` || rows[0]["email"] != "'-a@gmail.com" ||
		rows[0]["email_normalized"] != "'-a@gmail.com" || rows[1]["note"] != "'@SUM(A1)" {
		t.Errorf("rows %v", rows)
	}
	out, _, _ = runBinary(t, "", "bulk", "--offline", in)
	if !strings.Contains(out, "\n\"=HYPERLINK(\"\"http://x\"\")\",-a@gmail.com,") {
		t.Errorf("without --csv-safe the input changed:\n%s", out)
	}
	out, _, _ = runBinary(t, "", "check", "--offline", "--format", "csv", "--csv-safe", "+x@gmail.com")
	if !strings.Contains(out, "\n'+x@gmail.com,unknown,smtp_skipped,'+x@gmail.com,") {
		t.Errorf("check --csv-safe:\n%s", out)
	}
}

// TestBinaryCSVTimedFlush: CSV rows reach the output file while the run goes on (here
// the whole output is far below the 64 KiB buffer), so a kill -9 keeps the rows done
// up to the last second, whole.
func TestBinaryCSVTimedFlush(t *testing.T) {
	spec := fakes.BulkSpec{Rows: 200, Domains: 5, MXHosts: 5, Latency: 50 * time.Millisecond, Seed: 4}
	w := fakes.NewBulkWorld(t, spec)
	dir := t.TempDir()
	in, outPath := filepath.Join(dir, "list.csv"), filepath.Join(dir, "out.csv")
	os.WriteFile(in, w.CSV, 0o644)
	cmd := exec.Command(binPath(t), append([]string{"bulk", "--workers", "1", "--per-mx", "1", "-o", outPath, in}, bulkWorldArgs(w)...)...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	defer cmd.Process.Kill()
	deadline := time.Now().Add(5 * time.Second) // failsafe; flushes come every second
	for {
		b, _ := os.ReadFile(outPath)
		if bytes.Count(b, []byte("\n")) >= 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 5 s the output holds %q", b)
		}
		time.Sleep(50 * time.Millisecond)
	}
	cmd.Process.Kill() // kill -9: no chance to flush
	cmd.Wait()
	b, _ := os.ReadFile(outPath)
	_, rows := readCSV(t, string(b))
	if !bytes.HasSuffix(b, []byte("\n")) || len(rows) < 2 || len(rows) >= spec.Rows {
		t.Errorf("%d rows after kill -9, output ends %q", len(rows), b[max(0, len(b)-40):])
	}
}

// TestBinaryContainerHints: compressed and office files get the step that makes them
// a CSV, not "binary data".
func TestBinaryContainerHints(t *testing.T) {
	dir := t.TempDir()
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte("email\na@gmail.com\n"))
	zw.Close()
	var xlsx bytes.Buffer
	z := zip.NewWriter(&xlsx)
	for _, name := range []string{"[Content_Types].xml", "xl/workbook.xml"} {
		f, _ := z.Create(name)
		f.Write([]byte("<x/>"))
	}
	z.Close()
	for name, tt := range map[string]struct {
		data []byte
		want string
	}{
		"list.csv.gz": {gz.Bytes(), "decompress it first"},
		"list.xlsx":   {xlsx.Bytes(), "export the sheet as CSV"},
	} {
		path := filepath.Join(dir, name)
		os.WriteFile(path, tt.data, 0o644)
		_, errOut, code := runBinary(t, "", "bulk", "--offline", path)
		if code != exitError || !strings.Contains(errOut, tt.want) || strings.Contains(errOut, "NUL") {
			t.Errorf("%s: exit %d, stderr %q", name, code, errOut)
		}
	}
}

// TestBinaryCompletionValues: shell completion offers the values of --format, --keep
// (after a comma too), --fail-on and --progress.
func TestBinaryCompletionValues(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want []string
	}{
		{[]string{"check", "--format", ""}, []string{"text", "json", "ndjson", "csv"}},
		{[]string{"bulk", "--format", ""}, []string{"csv", "ndjson", "json"}},
		{[]string{"bulk", "--keep", "risky,u"}, []string{"risky,undeliverable", "risky,unknown"}},
		{[]string{"bulk", "--fail-on", "mailbox_f"}, []string{"mailbox_full"}},
		{[]string{"bulk", "--progress", ""}, []string{"auto", "always", "never"}},
	} {
		out, _, _ := runBinary(t, "", append([]string{"__complete"}, tt.args...)...)
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if got := strings.Join(lines[:len(lines)-1], " "); got != strings.Join(tt.want, " ") {
			t.Errorf("%v: %q, want %q", tt.args, got, tt.want)
		}
	}
}
