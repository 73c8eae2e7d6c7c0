package main

import (
	"context"
	"strings"
	"testing"

	"github.com/everify/everify/internal/fakes"
)

// providerDNS serves domains whose MX hosts belong to known providers.
func providerDNS(t *testing.T) *fakes.DNS {
	d := fakes.NewDNS(t)
	for domain, mx := range map[string]string{
		"acme.zz":    "aspmx.l.google.com",
		"globex.zz":  "alt1.aspmx.l.google.com",
		"contoso.zz": "contoso-zz.mail.protection.outlook.com",
		"shield.zz":  "eu-smtp-inbound-1.mimecast.com",
		"own.zz":     "mx.own.zz",
	} {
		d.MX(domain, 10, mx)
		d.A(mx, "127.0.0.250")
	}
	return d
}

// TestProviderOutputs: domain.provider reaches the JSON record, the CSV column and
// text output; bulk's summary counts rows by provider, the largest first.
func TestProviderOutputs(t *testing.T) {
	d := providerDNS(t)
	dnsArgs := []string{"--no-smtp", "--resolver", d.Addr()}

	in := "email\na@acme.zz\nb@globex.zz\nc@acme.zz\nd@contoso.zz\ne@shield.zz\nf@own.zz\nbad@\n"
	ios, out, errOut := testStreams(in)
	if code := run(context.Background(), append([]string{"bulk", "--format", "csv", "-"}, dnsArgs...), ios); code != 0 {
		t.Fatalf("bulk exit %d: %s", code, errOut)
	}
	header, rows := readCSV(t, out.String())
	if header[len(header)-1] != "provider" {
		t.Errorf("last CSV column is %q, want provider", header[len(header)-1])
	}
	want := []string{"google", "google", "google", "microsoft", "mimecast", "", ""}
	for i, row := range rows {
		if row["provider"] != want[i] {
			t.Errorf("row %d (%s): provider %q, want %q", i+1, row["email"], row["provider"], want[i])
		}
	}
	const line = "  providers      google 3 (42.9%), microsoft 1 (14.3%), mimecast 1 (14.3%)\n"
	if !strings.Contains(errOut.String(), line) {
		t.Errorf("summary lacks %q:\n%s", line, errOut)
	}

	ios, out, _ = testStreams("")
	run(context.Background(), append([]string{"check", "--format", "ndjson", "d@contoso.zz", "f@own.zz"}, dnsArgs...), ios)
	rs := decodeNDJSON(t, out.String())
	if len(rs) != 2 || rs[0].Domain.Provider != "microsoft" || rs[1].Domain.Provider != "" {
		t.Errorf("records %+v", rs)
	}
	if !strings.Contains(out.String(), `"null_mx":false,"provider":"microsoft","error":""`) {
		t.Errorf("provider is not after null_mx in the record:\n%s", out)
	}

	ios, out, _ = testStreams("")
	run(context.Background(), append([]string{"check", "--format", "text", "a@acme.zz"}, dnsArgs...), ios)
	if !strings.Contains(out.String(), "provider: google") {
		t.Errorf("text output lacks the provider:\n%s", out)
	}
}

// TestSummaryWithoutProviders: no provider line when no row's domain was recognised
// (offline runs, invalid rows).
func TestSummaryWithoutProviders(t *testing.T) {
	ios, _, errOut := testStreams("email\na@gmail.com\nbad@\n")
	if code := run(context.Background(), []string{"bulk", "--offline", "--format", "csv", "-"}, ios); code != 0 {
		t.Fatalf("exit %d", code)
	}
	if strings.Contains(errOut.String(), "providers") {
		t.Errorf("summary has a providers line:\n%s", errOut)
	}
}
