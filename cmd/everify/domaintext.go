package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/everify/everify/diag"
)

// writeReportText writes r for people: the evidence, then the problems with their fixes.
func writeReportText(w io.Writer, r *diag.Report) {
	head := r.Domain
	if r.Provider != "" {
		head += " (provider: " + r.Provider + ")"
	}
	fmt.Fprintln(w, head)
	row := func(label, format string, a ...any) {
		fmt.Fprintf(w, "  %-9s %s\n", label, fmt.Sprintf(format, a...))
	}
	switch m := r.MX; {
	case m.Error != "":
		row("MX", "lookup failed: %s", m.Error)
	case m.NXDomain:
		row("MX", "the domain does not exist")
	case m.NullMX:
		row("MX", "null MX (accepts no mail)")
	case len(m.Hosts) == 0:
		row("MX", "none, and no address record")
	}
	for _, h := range r.MX.Hosts {
		name := fmt.Sprintf("%d %s", h.Pref, h.Name)
		if r.MX.ImplicitMX {
			name = h.Name + " (implicit MX)"
		}
		if len(h.Addresses) == 0 {
			row("MX", "%s: no address", name)
		}
		for _, a := range h.Addresses {
			row("MX", "%s %s  %s", name, a.IP, ptrText(a))
			if s := a.SMTP; s != nil {
				row("", "  %s", smtpText(s))
			}
		}
	}
	if r.MX.NXDomain {
		writeProblems(w, r)
		return
	}
	row("SPF", "%s", spfText(r.SPF))
	row("DMARC", "%s", dmarcText(r.DMARC))
	row("MTA-STS", "%s", mtaSTSText(r.MTASTS))
	row("TLS-RPT", "%s", orNone(r.TLSRPT.Record, r.TLSRPT.Error))
	row("BIMI", "%s", orNone(r.BIMI.Record, r.BIMI.Error))
	for _, l := range r.DNSBL {
		switch {
		case l.Listed:
			row("DNSBL", "%s LISTED on %s: %s (%s)", l.IP, l.Zone, l.Meaning, strings.Join(l.Codes, ", "))
		case l.Error != "":
			row("DNSBL", "%s on %s: unknown (%s)", l.IP, l.Zone, l.Error)
		default:
			row("DNSBL", "%s not listed on %s", l.IP, l.Zone)
		}
	}
	ca := r.CatchAll.Result
	if r.CatchAll.Reply != "" {
		ca += " (" + r.CatchAll.Reply + ")"
	}
	row("catch-all", "%s", ca)
	writeProblems(w, r)
}

func writeProblems(w io.Writer, r *diag.Report) {
	if len(r.Problems) == 0 {
		fmt.Fprintln(w, "  no problems found")
		return
	}
	fmt.Fprintln(w, "  problems:")
	for _, p := range r.Problems {
		fmt.Fprintf(w, "    %-7s %s\n", p.Severity, p.Message)
		if p.Fix != "" {
			fmt.Fprintf(w, "            fix: %s\n", p.Fix)
		}
	}
}

func ptrText(a diag.AddrReport) string {
	switch {
	case a.PTRError != "":
		return "PTR lookup failed"
	case len(a.PTR) == 0:
		return "no PTR"
	case a.FCrDNS:
		return "PTR " + strings.Join(a.PTR, ",") + " (forward-confirmed)"
	}
	return "PTR " + strings.Join(a.PTR, ",") + " (not forward-confirmed)"
}

func smtpText(s *diag.SMTPCheck) string {
	if !s.Reachable {
		return "port 25 unreachable: " + s.Error
	}
	if s.Error != "" {
		return "refused: " + firstOf(s.Banner, s.Error)
	}
	var ext []string
	for _, e := range []string{"STARTTLS", "SMTPUTF8", "PIPELINING", "SIZE", "ENHANCEDSTATUSCODES", "CHUNKING"} {
		if s.Extensions[e] {
			ext = append(ext, e)
		}
	}
	t := "STARTTLS " + s.STARTTLS
	if s.STARTTLS == "ok" {
		cert := "certificate valid"
		if !s.CertValid {
			cert = "certificate NOT valid for the MX name"
		}
		t += ", " + s.TLSVersion + ", " + cert
	}
	return fmt.Sprintf("%s | %s | %s", s.Banner, strings.Join(ext, " "), t)
}

func spfText(s diag.SPFReport) string {
	if len(s.Records) == 0 {
		return orNone("", s.Error)
	}
	t := strings.Join(s.Records, " | ")
	if len(s.Records) == 1 {
		t += fmt.Sprintf(" (DNS lookups: %d; other senders get %s)", s.Lookups, s.Result)
	}
	if s.Error != "" {
		t += ": " + s.Error
	}
	return t
}

func dmarcText(d diag.DMARCReport) string {
	if d.Record == "" {
		return orNone("", d.Error)
	}
	t := fmt.Sprintf("%s (at %s; p=%s", d.Record, d.Source, d.Policy)
	if d.SubdomainPolicy != "" {
		t += " sp=" + d.SubdomainPolicy
	}
	t += fmt.Sprintf(" pct=%d)", d.Percent)
	if d.Error != "" {
		t += ": " + d.Error
	}
	return t
}

func mtaSTSText(m diag.MTASTS) string {
	switch {
	case m.Record == "":
		return orNone("", m.Error)
	case m.Error != "":
		return m.Record + ": " + m.Error
	}
	match := "every MX matches"
	if !m.MXMatch {
		match = "some MX do not match"
	}
	return fmt.Sprintf("%s: mode %s, mx %s, max_age %d (%s)", m.Record, m.Mode, strings.Join(m.MXPatterns, " "), m.MaxAge, match)
}

func orNone(record, err string) string {
	switch {
	case record != "":
		return record
	case err != "":
		return "lookup failed: " + err
	}
	return "none"
}

func firstOf(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
