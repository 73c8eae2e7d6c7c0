package verify

import (
	"time"
)

// Result is the verdict on one address and the evidence behind it. Its JSON form is the
// record of SPEC.md; field names are stable.
type Result struct {
	Input      string     `json:"input"`
	Email      string     `json:"email"` // normalized address; "" when the syntax is invalid
	Status     Status     `json:"status"`
	Reason     Reason     `json:"reason"`
	Syntax     Syntax     `json:"syntax"`
	Domain     DomainInfo `json:"domain"`
	Disposable bool       `json:"disposable"`
	Role       bool       `json:"role"`
	Free       bool       `json:"free"`
	Suggestion string     `json:"suggestion"` // likely intended address for a typo, e.g. jane@gmail.com
	SMTP       SMTPInfo   `json:"smtp"`
	DurationMS int64      `json:"duration_ms"`
	// SoftBounces is the soft-bounce count of an address on a [Verifier.Suppress] list
	// that is below the limit (so not suppressed); 0 otherwise.
	SoftBounces int `json:"soft_bounces,omitempty"`
	// Cached says the verdict came from the result store instead of the servers.
	Cached bool `json:"cached"`
	// CheckedAt is when the verdict was reached (for a cached one: when the servers were
	// asked), in UTC to the second.
	CheckedAt time.Time `json:"checked_at"`
}

// DomainInfo is the DNS stage's evidence.
type DomainInfo struct {
	MX         []MXHost `json:"mx"`
	ImplicitMX bool     `json:"implicit_mx"` // no MX records: the domain's own A/AAAA (RFC 5321 §5.1)
	NullMX     bool     `json:"null_mx"`     // RFC 7505 "MX 0 ."
	Provider   string   `json:"provider"`    // mail provider recognised from the MX hosts ("google"); see [Provider]
	Error      string   `json:"error"`
}

// MXHost is one mail exchanger of a domain.
type MXHost struct {
	Host string `json:"host"`
	Pref uint16 `json:"pref"`
}

// SMTPInfo is the SMTP stage's evidence: the reply to RCPT TO for the address (or the
// reply that ended the probe before it, e.g. a 554 banner).
type SMTPInfo struct {
	Checked      bool   `json:"checked"` // a mail server was contacted for this address
	MX           string `json:"mx"`      // the exchanger that answered
	Code         int    `json:"code"`
	EnhancedCode string `json:"enhanced_code"`
	Message      string `json:"message"`
	CatchAll     bool   `json:"catch_all"` // the domain accepts a random never-used local part
	TLS          bool   `json:"tls"`       // the session ran over STARTTLS
}

// setReason sets the reason and the status it implies.
func (r *Result) setReason(reason Reason) {
	r.Reason = reason
	r.Status = reason.Status()
}

func (r *Result) finish(start time.Time) {
	r.DurationMS = time.Since(start).Milliseconds()
	r.CheckedAt = start.UTC().Truncate(time.Second)
	if r.Domain.MX == nil {
		r.Domain.MX = []MXHost{}
	}
}
