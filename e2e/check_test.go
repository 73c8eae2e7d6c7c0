//go:build e2e

package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// record is docs/record.md.
type record struct {
	Input  string `json:"input"`
	Email  string `json:"email"`
	Status string `json:"status"`
	Reason string `json:"reason"`
	Syntax struct {
		Valid       bool   `json:"valid"`
		Local       string `json:"local"`
		Domain      string `json:"domain"`
		ASCIIDomain string `json:"ascii_domain"`
		SMTPUTF8    bool   `json:"smtputf8"`
		Error       string `json:"error"`
	} `json:"syntax"`
	Domain struct {
		MX []struct {
			Host string `json:"host"`
			Pref int    `json:"pref"`
		} `json:"mx"`
		ImplicitMX bool   `json:"implicit_mx"`
		NullMX     bool   `json:"null_mx"`
		Error      string `json:"error"`
	} `json:"domain"`
	Disposable bool   `json:"disposable"`
	Role       bool   `json:"role"`
	Free       bool   `json:"free"`
	Suggestion string `json:"suggestion"`
	SMTP       struct {
		Checked      bool   `json:"checked"`
		MX           string `json:"mx"`
		Code         int    `json:"code"`
		EnhancedCode string `json:"enhanced_code"`
		Message      string `json:"message"`
		CatchAll     bool   `json:"catch_all"`
		TLS          bool   `json:"tls"`
	} `json:"smtp"`
	DurationMS *int64 `json:"duration_ms"`
}

// Top-level fields every record must carry (docs/record.md: field names are stable).
var recordFields = []string{"input", "email", "status", "reason", "syntax", "domain",
	"disposable", "role", "free", "suggestion", "smtp", "duration_ms"}

// parseNDJSON decodes one record per line and checks each has every SPEC field.
func parseNDJSON(t *testing.T, out string) []record {
	t.Helper()
	var recs []record
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Bytes()
		if len(strings.TrimSpace(string(line))) == 0 {
			continue
		}
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(line, &fields); err != nil {
			t.Fatalf("output line %d is not a JSON object: %v\n%s", n, err, line)
		}
		var missing []string
		for _, f := range recordFields {
			if _, ok := fields[f]; !ok {
				missing = append(missing, f)
			}
		}
		if len(missing) > 0 {
			t.Errorf("output line %d lacks fields %v: %s", n, missing, line)
		}
		var r record
		if err := json.Unmarshal(line, &r); err != nil {
			t.Fatalf("output line %d: %v\n%s", n, err, line)
		}
		recs = append(recs, r)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return recs
}

// want is what one address must yield. The flags (role, free, disposable, catchAll,
// smtputf8, implicitMX, nullMX, suggestion) are always compared, so their zero value
// is an assertion too; the other fields are compared when set.
type want struct {
	input  string
	status string
	reason string
	email  string // "" = not compared

	role, free, disposable, catchAll, smtputf8, implicitMX, nullMX bool
	suggestion                                                     string

	asciiDomain string   // syntax.ascii_domain
	mx          []string // domain.mx as "pref host", in order
	smtpMX      []string // smtp.mx must be one of these
	code        int      // smtp.code
	enhanced    string   // smtp.enhanced_code
	message     string   // smtp.message must contain this (the server's own text)
	tls         *bool    // smtp.tls
}

var (
	yes = func() *bool { b := true; return &b }()
	no  = func() *bool { b := false; return &b }()
)

// check compares a record with its expectation and reports every difference.
func (wt want) check(t *testing.T, r record) {
	t.Helper()
	var diffs []string
	cmp := func(field string, got, want any) {
		if got != want {
			diffs = append(diffs, fmt.Sprintf("%s = %v, want %v", field, got, want))
		}
	}
	cmp("status", r.Status, wt.status)
	cmp("reason", r.Reason, wt.reason)
	if wt.email != "" {
		cmp("email", r.Email, wt.email)
	}
	cmp("role", r.Role, wt.role)
	cmp("free", r.Free, wt.free)
	cmp("disposable", r.Disposable, wt.disposable)
	cmp("smtp.catch_all", r.SMTP.CatchAll, wt.catchAll)
	cmp("syntax.smtputf8", r.Syntax.SMTPUTF8, wt.smtputf8)
	cmp("domain.implicit_mx", r.Domain.ImplicitMX, wt.implicitMX)
	cmp("domain.null_mx", r.Domain.NullMX, wt.nullMX)
	cmp("suggestion", r.Suggestion, wt.suggestion)
	if wt.asciiDomain != "" {
		cmp("syntax.ascii_domain", r.Syntax.ASCIIDomain, wt.asciiDomain)
	}
	if wt.mx != nil {
		var got []string
		for _, m := range r.Domain.MX {
			got = append(got, fmt.Sprintf("%d %s", m.Pref, m.Host))
		}
		if !slices.Equal(got, wt.mx) {
			diffs = append(diffs, fmt.Sprintf("domain.mx = %q, want %q", got, wt.mx))
		}
	}
	if wt.smtpMX != nil && !slices.Contains(wt.smtpMX, r.SMTP.MX) {
		diffs = append(diffs, fmt.Sprintf("smtp.mx = %q, want one of %q", r.SMTP.MX, wt.smtpMX))
	}
	if wt.code != 0 {
		cmp("smtp.code", r.SMTP.Code, wt.code)
	}
	if wt.enhanced != "" {
		cmp("smtp.enhanced_code", r.SMTP.EnhancedCode, wt.enhanced)
	}
	if wt.message != "" && !strings.Contains(r.SMTP.Message, wt.message) {
		diffs = append(diffs, fmt.Sprintf("smtp.message = %q, want it to contain %q", r.SMTP.Message, wt.message))
	}
	if wt.tls != nil {
		cmp("smtp.tls", r.SMTP.TLS, *wt.tls)
	}
	if r.DurationMS == nil || *r.DurationMS < 0 {
		diffs = append(diffs, fmt.Sprintf("duration_ms = %v, want a number >= 0", r.DurationMS))
	}
	if len(diffs) > 0 {
		b, _ := json.Marshal(r)
		t.Errorf("%q:\n  %s\n  record: %s", wt.input, strings.Join(diffs, "\n  "), b)
	}
}

const (
	deliverable   = "deliverable"
	undeliverable = "undeliverable"
	risky         = "risky"
	unknown       = "unknown"
)

// checkCases covers every behaviour the world offers (see testdata/e2e/README.md).
var checkCases = []want{
	// Mailboxes on a real Postfix.
	{input: "alice@alpha.zz", email: "alice@alpha.zz", status: deliverable, reason: "accepted",
		asciiDomain: "alpha.zz", mx: []string{"10 mx1.alpha.zz"}, smtpMX: []string{"mx1.alpha.zz"},
		code: 250, enhanced: "2.1.5", tls: yes},
	{input: " Bob Example <bob@alpha.zz> ", email: "bob@alpha.zz", status: deliverable, reason: "accepted"},
	{input: "postmaster@alpha.zz", email: "postmaster@alpha.zz", status: deliverable, reason: "accepted", role: true},
	{input: "info@alpha.zz", status: deliverable, reason: "accepted", role: true},
	{input: "stranger@alpha.zz", status: undeliverable, reason: "mailbox_not_found",
		smtpMX: []string{"mx1.alpha.zz"}, code: 550, enhanced: "5.1.1", message: "User unknown in virtual mailbox table"},
	{input: "full@alpha.zz", status: risky, reason: "mailbox_full", code: 552, enhanced: "5.2.2", message: "Mailbox full, quota exceeded"},
	{input: "disabled@alpha.zz", status: undeliverable, reason: "mailbox_disabled", code: 550, enhanced: "5.2.1", message: "Mailbox disabled"},
	// Greylisting: no --greylist-retry, so the 4xx stands.
	{input: "grey@alpha.zz", status: unknown, reason: "smtp_temp_failure", code: 450, enhanced: "4.7.1", message: "Greylisted"},
	// Catch-all: the random probe is accepted too.
	{input: "whoever@catchall.zz", status: risky, reason: "catch_all", catchAll: true,
		smtpMX: []string{"mx.catchall.zz"}, code: 250, tls: no},
	// The prober is refused, which says nothing about the mailbox.
	{input: "hank@blocked.zz", status: unknown, reason: "smtp_blocked", code: 554, enhanced: "5.7.1", message: "blocked using bl.e2e-everify.zz"},
	{input: "gina@policy.zz", status: unknown, reason: "smtp_blocked", code: 550, enhanced: "5.7.1", message: "Access denied by local policy"},
	// DNS outcomes.
	{input: "someone@nosuch.zz", status: undeliverable, reason: "no_such_domain"},
	{input: "someone@nullmx.zz", status: undeliverable, reason: "null_mx", nullMX: true},
	{input: "someone@dangling.zz", status: undeliverable, reason: "no_mail_server", mx: []string{"10 mx.nowhere.zz"}},
	{input: "someone@noaddr.zz", status: undeliverable, reason: "no_mail_server"},
	{input: "someone@broken.yy", status: unknown, reason: "dns_error"},
	{input: "carol@implicit.zz", status: deliverable, reason: "accepted", implicitMX: true,
		smtpMX: []string{"implicit.zz"}, code: 250},
	{input: "dave@cname.zz", status: deliverable, reason: "accepted",
		mx: []string{"10 mail.cname.zz"}, smtpMX: []string{"mail.cname.zz"}, code: 250},
	{input: "erin@v6only.zz", status: deliverable, reason: "accepted",
		smtpMX: []string{"mx6.v6only.zz"}, code: 250, tls: yes},
	// The preferred MX refuses connections; the backup answers.
	{input: "frank@multi.zz", status: deliverable, reason: "accepted",
		mx: []string{"10 mx-dead.multi.zz", "20 mx-live.multi.zz"}, smtpMX: []string{"mx-live.multi.zz"}, code: 250},
	{input: "someone@refused.zz", status: unknown, reason: "smtp_unreachable"},
	// IDN: Unicode in, Unicode out, A-label on the wire.
	{input: "anna@bücher.zz", email: "anna@bücher.zz", status: deliverable, reason: "accepted",
		asciiDomain: "xn--bcher-kva.zz", smtpMX: []string{"mx.xn--bcher-kva.zz", "mx.bücher.zz"}, code: 250},
	{input: "Anna@BÜCHER.zz", email: "Anna@bücher.zz", status: deliverable, reason: "accepted",
		asciiDomain: "xn--bcher-kva.zz"},
	// SMTPUTF8 local parts.
	{input: "jösé@utf8.zz", email: "jösé@utf8.zz", status: deliverable, reason: "accepted", smtputf8: true,
		smtpMX: []string{"mx1.alpha.zz"}, code: 250},
	{input: "jösé@noutf8.zz", status: undeliverable, reason: "smtputf8_unsupported", smtputf8: true},
	{input: "ascii@noutf8.zz", status: deliverable, reason: "accepted", smtpMX: []string{"mx.noutf8.zz"}, code: 250, tls: no},
	// Lists meet live domains.
	{input: "jane@gmail.com", status: deliverable, reason: "accepted", free: true},
	// gmial.com is on the disposable list too (upstream disposable-email-domains has it).
	{input: "jane@gmial.com", status: undeliverable, reason: "no_such_domain", suggestion: "jane@gmail.com", disposable: true},
	{input: "temp@mailinator.com", status: risky, reason: "disposable", disposable: true},
	// Decided before DNS.
	{input: "someone@example.com", status: undeliverable, reason: "reserved_domain"},
	{input: "a..b@alpha.zz", status: undeliverable, reason: "invalid_syntax"},
}

// TestCheck runs alone (not parallel), so the Postfix log's per-listener counts are
// this run's.
func TestCheck(t *testing.T) {
	w := requireBinary(t)
	args := []string{"check", "--format", "ndjson"}
	for _, c := range checkCases {
		args = append(args, c.input)
	}
	off := logSize(filepath.Join(w.dir, "postfix.log"))
	out, stderr, code := w.everify(t, 90*time.Second, args...)
	time.Sleep(300 * time.Millisecond) // postlogd writes asynchronously; the counts are informational
	w.logListenerStats(t, off)
	if code != 2 {
		t.Errorf("exit code %d, want 2 (some address undeliverable)\nstderr:\n%s", code, stderr)
	}
	_ = os.WriteFile(filepath.Join(w.dir, "check.ndjson"), []byte(out), 0o644)
	recs := parseNDJSON(t, out)
	if len(recs) != len(checkCases) {
		t.Errorf("%d records for %d addresses\nstderr:\n%s", len(recs), len(checkCases), stderr)
	}
	byInput := map[string]record{}
	for i, r := range recs {
		byInput[r.Input] = r
		// check prints results in argument order.
		if i < len(checkCases) && r.Input != checkCases[i].input {
			t.Errorf("record %d is for %q, want %q (argument order)", i, r.Input, checkCases[i].input)
		}
	}
	for _, c := range checkCases {
		t.Run(c.input, func(t *testing.T) {
			r, ok := byInput[c.input]
			if !ok {
				t.Fatalf("no record with input %q", c.input)
			}
			c.check(t, r)
		})
	}
}

// TestCheckExitCodes runs one address per invocation: the exit codes of docs/reasons.md.
func TestCheckExitCodes(t *testing.T) {
	w := requireBinary(t)
	t.Parallel()
	tests := []struct {
		addrs []string
		code  int
	}{
		{[]string{"alice@alpha.zz"}, 0},
		{[]string{"alice@alpha.zz", "erin@v6only.zz"}, 0},
		{[]string{"stranger@alpha.zz"}, 2},
		{[]string{"full@alpha.zz"}, 3},
		{[]string{"hank@blocked.zz"}, 3},
		{[]string{"full@alpha.zz", "someone@nosuch.zz"}, 2},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.addrs, ","), func(t *testing.T) {
			out, stderr, code := w.everify(t, 60*time.Second, append([]string{"check", "--format", "ndjson"}, tt.addrs...)...)
			if code != tt.code {
				t.Errorf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.code, out, stderr)
			}
			if n := len(parseNDJSON(t, out)); n != len(tt.addrs) {
				t.Errorf("%d records, want %d", n, len(tt.addrs))
			}
		})
	}
}
