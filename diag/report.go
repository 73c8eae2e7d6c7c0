package diag

// Severity grades a [Problem].
type Severity string

// Severities, from the worst. Only [SeverityError] and [SeverityWarning] count towards
// [Report.Health]; [SeverityInfo] is a note.
const (
	SeverityError   Severity = "error"   // the domain cannot receive mail
	SeverityWarning Severity = "warning" // something to fix; mail still flows
	SeverityInfo    Severity = "info"    // worth knowing, nothing broken
)

// Problem is one concrete finding.
type Problem struct {
	Severity Severity `json:"severity"`
	Code     string   `json:"code"`    // stable snake_case identifier, e.g. "spf_too_many_lookups"
	Message  string   `json:"message"` // what is wrong, e.g. "SPF has 13 DNS lookups (limit 10)"
	Fix      string   `json:"fix"`     // what to do about it
}

// Report is the diagnosis of one domain. Its JSON form is the `everify domain` record;
// field names are stable.
type Report struct {
	Domain   string      `json:"domain"`
	Provider string      `json:"provider"` // from the MX host names, as the records' domain.provider
	MX       MXReport    `json:"mx"`
	SPF      SPFReport   `json:"spf"`
	DMARC    DMARCReport `json:"dmarc"`
	MTASTS   MTASTS      `json:"mta_sts"`
	TLSRPT   TXTPolicy   `json:"tls_rpt"`
	BIMI     TXTPolicy   `json:"bimi"`
	DNSBL    []Listing   `json:"dnsbl"`
	CatchAll CatchAll    `json:"catch_all"`
	Problems []Problem   `json:"problems"`
}

// MXReport is the domain's mail routing.
type MXReport struct {
	Hosts      []MXHost `json:"hosts"` // by preference; implicit MX: the domain itself
	NullMX     bool     `json:"null_mx"`
	ImplicitMX bool     `json:"implicit_mx"`
	NXDomain   bool     `json:"nxdomain"`
	BackupMX   bool     `json:"backup_mx"` // more than one MX host
	Error      string   `json:"error"`     // the lookup failed (SERVFAIL, timeout)
}

// MXHost is one exchanger and what each of its addresses said.
type MXHost struct {
	Name      string       `json:"name"`
	Pref      uint16       `json:"pref"`
	Addresses []AddrReport `json:"addresses"` // empty: the name resolves to nothing
}

// AddrReport is one address of an exchanger.
type AddrReport struct {
	IP       string     `json:"ip"`
	PTR      []string   `json:"ptr"`       // reverse DNS names
	PTRError string     `json:"ptr_error"` // the PTR lookup failed: nothing is known
	FCrDNS   bool       `json:"fcrdns"`    // a PTR name resolves back to IP
	SMTP     *SMTPCheck `json:"smtp"`      // nil: not probed (--no-smtp, or past the address limit)
}

// SMTPCheck is what an exchanger's address said on the SMTP port.
type SMTPCheck struct {
	Reachable  bool            `json:"reachable"` // the TCP connection was accepted
	Banner     string          `json:"banner"`
	Extensions map[string]bool `json:"extensions"`  // STARTTLS, SMTPUTF8, PIPELINING, SIZE, ENHANCEDSTATUSCODES, CHUNKING
	STARTTLS   string          `json:"starttls"`    // "ok", "not_offered", "refused" (non-220), "failed" (handshake), "" when not reached
	TLSVersion string          `json:"tls_version"` // e.g. "TLS 1.3"
	CertValid  bool            `json:"cert_valid"`  // the chain verifies for the MX host name
	Error      string          `json:"error"`       // what stopped the session, if anything
	TLSError   string          `json:"tls_error"`
}

// SPFReport is the domain's SPF policy (RFC 7208).
type SPFReport struct {
	Records []string `json:"records"` // every v=spf1 TXT record (more than one is an error)
	Lookups int      `json:"lookups"` // DNS-querying terms, counted through include and redirect (§4.6.4)
	All     string   `json:"all"`     // qualifier of the top-level all: "-", "~", "?", "+", "" when absent
	Result  string   `json:"result"`  // evaluation for an address outside the policy: none, neutral, softfail, fail, pass, permerror, temperror
	Error   string   `json:"error"`   // why the evaluation is a permerror or temperror
}

// DMARCReport is the domain's DMARC policy (RFC 7489).
type DMARCReport struct {
	Record          string   `json:"record"`
	Source          string   `json:"source"` // the name the record was found at: _dmarc.DOMAIN or _dmarc.ORGDOMAIN
	Policy          string   `json:"p"`
	SubdomainPolicy string   `json:"sp"`
	Percent         int      `json:"pct"`
	RUA             []string `json:"rua"`
	RUF             []string `json:"ruf"`
	Error           string   `json:"error"`
}

// MTASTS is the domain's MTA-STS policy (RFC 8461).
type MTASTS struct {
	Record     string   `json:"record"`      // the _mta-sts TXT record
	ID         string   `json:"id"`          // its id=
	PolicyURL  string   `json:"policy_url"`  // fetched when the TXT record exists
	Mode       string   `json:"mode"`        // enforce, testing, none
	MXPatterns []string `json:"mx_patterns"` // the policy's mx: lines
	MaxAge     int      `json:"max_age"`
	MXMatch    bool     `json:"mx_match"` // every MX host matches a pattern
	Error      string   `json:"error"`    // the policy could not be fetched or parsed
}

// TXTPolicy is a DNS-published policy that is reported for its presence: TLS-RPT
// (RFC 8460) at _smtp._tls.DOMAIN, BIMI at default._bimi.DOMAIN.
type TXTPolicy struct {
	Record string `json:"record"`
	Error  string `json:"error"`
}

// Listing is the answer of one DNSBL zone about one address.
type Listing struct {
	IP      string   `json:"ip"`
	Zone    string   `json:"zone"`
	Listed  bool     `json:"listed"`
	Codes   []string `json:"codes"`   // the A records of the answer, e.g. 127.0.0.2
	Meaning string   `json:"meaning"` // e.g. "Spamhaus SBL"
	Error   string   `json:"error"`   // the lookup failed or was refused: nothing is known
}

// CatchAll is the outcome of the random-recipient probe.
type CatchAll struct {
	Result string `json:"result"` // "yes", "no", "inconclusive", "skipped"
	MX     string `json:"mx"`     // the exchanger asked
	Reply  string `json:"reply"`  // its reply to RCPT (or to what ended the probe)
}

// Health returns the worst severity of r's problems that counts ([SeverityError] or
// [SeverityWarning]), or "" when the domain is healthy.
func (r *Report) Health() Severity {
	var worst Severity
	for _, p := range r.Problems {
		switch p.Severity {
		case SeverityError:
			return SeverityError
		case SeverityWarning:
			worst = SeverityWarning
		}
	}
	return worst
}

func (r *Report) add(sev Severity, code, msg, fix string) {
	r.Problems = append(r.Problems, Problem{Severity: sev, Code: code, Message: msg, Fix: fix})
}
