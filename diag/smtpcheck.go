package diag

import (
	"crypto/tls"
	"fmt"
	"strings"
)

// smtpProblems adds the findings of the port-25 checks, one per exchanger and kind of
// finding (naming its addresses), and of reverse DNS.
func (c *Checker) smtpProblems(r *Report, probed int) {
	reachable := 0
	for _, h := range r.MX.Hosts {
		var unreachable, refused, noTLS, tlsFailed, oldTLS, badCert, noPTR, noFCrDNS []string
		for _, a := range h.Addresses {
			switch {
			case a.PTRError != "":
			case len(a.PTR) == 0:
				noPTR = append(noPTR, a.IP)
			case !a.FCrDNS:
				noFCrDNS = append(noFCrDNS, a.IP)
			}
			s := a.SMTP
			if s == nil {
				continue
			}
			if !s.Reachable {
				unreachable = append(unreachable, a.IP)
				continue
			}
			reachable++
			switch {
			case s.Error != "":
				refused = append(refused, a.IP+" ("+firstNonEmpty(s.Banner, s.Error)+")")
				continue
			case s.STARTTLS == "not_offered" || s.STARTTLS == "refused":
				noTLS = append(noTLS, a.IP)
			case s.STARTTLS == "failed":
				tlsFailed = append(tlsFailed, a.IP+" ("+s.TLSError+")")
			}
			if s.STARTTLS == "ok" {
				if s.TLSVersion == tls.VersionName(tls.VersionTLS10) || s.TLSVersion == tls.VersionName(tls.VersionTLS11) {
					oldTLS = append(oldTLS, a.IP+" ("+s.TLSVersion+")")
				}
				if !s.CertValid {
					badCert = append(badCert, a.IP)
				}
			}
		}
		n := h.Name
		addIf(r, SeverityWarning, "mx_unreachable", unreachable, "MX "+n+" does not answer on port 25 from here: %s", "if `everify doctor` passes here, the server is down or firewalled: senders will queue or bounce")
		addIf(r, SeverityWarning, "mx_refused_session", refused, "MX "+n+" refused the session: %s", "a refusal at connect is usually about this machine's IP (blocklist, reputation), not the domain; check with `everify doctor`")
		addIf(r, SeverityWarning, "starttls_missing", noTLS, "MX "+n+" does not offer STARTTLS: %s", "enable STARTTLS (RFC 3207) on the server: mail to it travels in clear text")
		addIf(r, SeverityWarning, "starttls_failed", tlsFailed, "MX "+n+": the TLS handshake after STARTTLS failed: %s", "fix the server's TLS configuration (certificate, protocol versions, ciphers)")
		addIf(r, SeverityWarning, "tls_outdated", oldTLS, "MX "+n+" negotiates an outdated TLS version: %s", "enable TLS 1.2 and 1.3 on the server")
		addIf(r, SeverityWarning, "certificate_invalid", badCert, "MX "+n+": the certificate does not verify for the name "+n+": %s", "install a certificate from a public CA that names "+n+" (required by MTA-STS and DANE-less validating senders)")
		addIf(r, SeverityWarning, "mx_no_ptr", noPTR, "MX "+n+" has no reverse DNS (PTR): %s", "ask the address's owner (hosting provider) to set a PTR record to "+n)
		addIf(r, SeverityWarning, "mx_ptr_not_confirmed", noFCrDNS, "MX "+n+": reverse DNS is not forward-confirmed: %s", "make the PTR name of each address resolve back to it (FCrDNS); many receivers check it on outbound mail from the same host")
	}
	if probed > 0 && reachable == 0 {
		r.add(SeverityWarning, "smtp_unreachable", "no MX address of "+r.Domain+" could be reached on port 25 from here", "run `everify doctor`: outbound port 25 is blocked on most clouds and home connections; use --proxy, or --no-smtp")
	}
}

// addIf adds one problem listing items, when there are any.
func addIf(r *Report, sev Severity, code string, items []string, format, fix string) {
	if len(items) > 0 {
		r.add(sev, code, fmt.Sprintf(format, strings.Join(items, ", ")), fix)
	}
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
