package verify

import "net/netip"

// Syntax is the result of the syntax stage and the "syntax" object of the JSON record.
type Syntax struct {
	Valid       bool   `json:"valid"`
	Local       string `json:"local"`        // local part as given (quoted form canonicalized), NFC
	Domain      string `json:"domain"`       // lower-case; Unicode (U-label) form, NFC
	ASCIIDomain string `json:"ascii_domain"` // IDNA A-label form used on the wire
	SMTPUTF8    bool   `json:"smtputf8"`     // the address needs SMTPUTF8 (RFC 6531): non-ASCII local part
	Error       string `json:"error"`        // why the address is invalid; empty when Valid

	// Literal is the address of an address-literal domain (user@[192.0.2.1]); valid only
	// when parsing allowed literals. Zero otherwise.
	Literal netip.Addr `json:"-"`
}

// Email returns the normalized address, local@domain, or "" when s is not valid.
func (s Syntax) Email() string {
	if !s.Valid {
		return ""
	}
	return s.Local + "@" + s.Domain
}
