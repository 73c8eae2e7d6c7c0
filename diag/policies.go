package diag

import (
	"context"
	"strconv"
	"strings"

	"github.com/emersion/go-msgauth/dmarc"
	"golang.org/x/net/publicsuffix"
)

// dmarc looks up the DMARC policy of domain (RFC 7489 §6.6.3): at _dmarc.DOMAIN, else at
// _dmarc of its organizational domain (the public suffix list's registrable domain).
// github.com/emersion/go-msgauth/dmarc parses it.
func (c *Checker) dmarc(ctx context.Context, r *Report, domain string) DMARCReport {
	rep := DMARCReport{RUA: []string{}, RUF: []string{}}
	names := []string{"_dmarc." + domain}
	if org, err := publicsuffix.EffectiveTLDPlusOne(domain); err == nil && org != domain {
		names = append(names, "_dmarc."+org)
	}
	for _, name := range names {
		txt, err := c.DNS.LookupTXT(ctx, name)
		if err != nil {
			rep.Error = err.Error()
			r.add(SeverityWarning, "dmarc_lookup_failed", "the DMARC lookup failed: "+err.Error(), "check that the domain's name servers answer TXT queries")
			return rep
		}
		for _, t := range txt.Values {
			if !strings.HasPrefix(t, "v=DMARC1") {
				continue
			}
			rep.Record, rep.Source = t, name
			break
		}
		if rep.Record != "" {
			break
		}
	}
	if rep.Record == "" {
		r.add(SeverityWarning, "dmarc_missing", r.Domain+" publishes no DMARC record", `publish a TXT record at _dmarc.`+domain+` such as "v=DMARC1; p=none; rua=mailto:dmarc@`+domain+`", then move to p=quarantine or p=reject`)
		return rep
	}
	rec, err := dmarc.Parse(rep.Record)
	if err != nil {
		rep.Error = err.Error()
		r.add(SeverityWarning, "dmarc_invalid", "the DMARC record at "+rep.Source+" is invalid: "+err.Error(), "fix its syntax (RFC 7489 §6.4): it starts v=DMARC1; p=none|quarantine|reject")
		return rep
	}
	rep.Policy, rep.SubdomainPolicy, rep.Percent = string(rec.Policy), string(rec.SubdomainPolicy), 100
	if rec.Percent != nil {
		rep.Percent = *rec.Percent
	}
	rep.RUA = append(rep.RUA, rec.ReportURIAggregate...)
	rep.RUF = append(rep.RUF, rec.ReportURIFailure...)
	if rep.Source != names[0] && rep.SubdomainPolicy != "" {
		rep.Policy = rep.SubdomainPolicy // the organizational domain's sp= applies here
	}
	if rep.Policy == string(dmarc.PolicyNone) {
		r.add(SeverityInfo, "dmarc_policy_none", "DMARC p=none: monitoring only, mail failing DMARC is still delivered", "once the aggregate reports show every legitimate sender aligned, move to p=quarantine, then p=reject")
	}
	if rep.Percent < 100 {
		r.add(SeverityInfo, "dmarc_partial", "DMARC pct="+strconv.Itoa(rep.Percent)+": the policy applies to part of the failing mail only", "raise pct to 100 when ready")
	}
	if len(rep.RUA) == 0 {
		r.add(SeverityInfo, "dmarc_no_rua", "DMARC has no rua=: no aggregate reports are sent to the owner", "add rua=mailto:ADDRESS to see who sends as the domain")
	}
	return rep
}

// txtPolicy reports the TXT record starting with prefix at name (TLS-RPT, BIMI).
func (c *Checker) txtPolicy(ctx context.Context, r *Report, name, prefix, code string) TXTPolicy {
	var rep TXTPolicy
	txt, err := c.DNS.LookupTXT(ctx, name)
	if err != nil {
		rep.Error = err.Error()
		r.add(SeverityInfo, code+"_lookup_failed", "the "+prefix+" lookup at "+name+" failed: "+err.Error(), "check that the domain's name servers answer TXT queries")
		return rep
	}
	for _, t := range txt.Values {
		if strings.HasPrefix(t, prefix) {
			rep.Record = t
			return rep
		}
	}
	switch code {
	case "tls_rpt":
		r.add(SeverityInfo, "tls_rpt_missing", "no TLS-RPT record at "+name+": senders cannot report TLS failures to the owner", `publish "v=TLSRPTv1; rua=mailto:tls-reports@DOMAIN" at `+name+" (RFC 8460)")
	case "bimi":
		r.add(SeverityInfo, "bimi_missing", "no BIMI record at "+name, "optional: publish a BIMI record (needs DMARC p=quarantine or p=reject) to show the brand logo")
	}
	return rep
}
