package dsn

import (
	"strconv"
	"strings"
	"time"

	"github.com/everify/everify/smtpprobe"
	"github.com/everify/everify/verify"
)

// Kind is what an [Event] says about its recipient.
type Kind string

// The kinds of events. Only hard and soft bounces and complaints count towards
// suppression; a delivery resets the soft-bounce count.
const (
	KindHard      Kind = "hard"      // the address is dead: mailbox unknown or disabled, domain gone
	KindSoft      Kind = "soft"      // a temporary failure: mailbox full, greylisting, server trouble
	KindComplaint Kind = "complaint" // the recipient reported the mail as spam
	KindDelivery  Kind = "delivery"  // the mail was delivered
	// KindDelayed is a delay warning (DSN Action: delayed, an ESP deferral): the
	// message is still being retried, so it is no bounce yet.
	KindDelayed Kind = "delayed"
	// KindIgnored is a bounce that says nothing about the recipient: our sender or IP
	// blocked, content or spam rejections, 5.7.x policy, protocol trouble. It never
	// suppresses an address.
	KindIgnored Kind = "ignored"
)

// ReasonComplaint is the reason recorded for a complaint.
const ReasonComplaint verify.Reason = "complaint"

// An Event is one bounce, complaint or delivery of one recipient, from a DSN, a text
// bounce or an ESP event export.
type Event struct {
	Email      string        // normalized address (verify.Syntax.Email)
	Kind       Kind          // what the event says about Email
	Reason     verify.Reason // the reply classifier's reason (ReasonComplaint for complaints)
	Status     string        // RFC 3463 enhanced status code, e.g. "5.1.1"; "" when unknown
	Code       int           // basic SMTP reply code, e.g. 550; 0 when unknown
	Diagnostic string        // the server's reply text or the ESP's description
	Date       time.Time     // when it happened; zero when the source does not say
	RemoteMTA  string        // the server that answered, when known
	// ID identifies the event for de-duplication: the bounce's Message-ID or the ESP's
	// event id. Together with Email it makes the key [List.Add] remembers.
	ID string
	// Source names the format it came from: dsn, exim, qmail, exchange, yahoo, ses,
	// sendgrid, mailgun, postmark, arf or csv.
	Source string
}

// classify returns the kind and reason of a failed delivery, from the enhanced status
// code (trusted first), the basic reply code and the diagnostic text, with the reply
// classifier of the SMTP probe ([verify.ClassifyReply]). temporary says the failure was
// reported as transient where no code says so.
func classify(code int, status, diag string, temporary bool) (Kind, verify.Reason) {
	diag = strings.TrimSpace(diag)
	if c, st, rest := splitReply(diag); c != 0 {
		if code == 0 {
			code = c
		}
		// The Status field's x.0.0 is less specific than the diagnostic's own code.
		if status == "" || strings.HasSuffix(status, ".0.0") && st != "" && st[0] == status[0] {
			status = st
		}
		diag = rest
	}
	status = validStatus(status)
	if code == 0 {
		switch {
		case status != "" && status[0] == '4', status == "" && temporary:
			code = 450
		case status != "" && status[0] == '2':
			code = 250
		default:
			// A bare 554 says "transaction failed" and nothing about the mailbox: a
			// bounce with no code and no telling text suppresses nothing.
			code = 554
		}
	}
	if code >= 200 && code < 400 {
		return KindDelivery, verify.ReasonAccepted
	}
	if r := domainReason(code, status, diag); r != "" {
		return KindHard, r
	}
	r := verify.ClassifyReply(smtpprobe.StepRCPT, smtpprobe.Reply{Code: code, Enhanced: status, Message: diag})
	return kindOf(r), r
}

// classifyFailure is classify for a reported failure: a success code in it is
// inconsistent, and says nothing about the recipient.
func classifyFailure(code int, status, diag string, temporary bool) (Kind, verify.Reason) {
	k, r := classify(code, status, diag, temporary)
	if k == KindDelivery {
		return KindIgnored, verify.ReasonSMTPProtocolError
	}
	return k, r
}

// kindOf maps a classifier reason to what it means for a bounce.
func kindOf(r verify.Reason) Kind {
	switch r {
	case verify.ReasonAccepted:
		return KindDelivery
	case verify.ReasonMailboxFull, verify.ReasonSMTPTempFailure, verify.ReasonSMTPTimeout,
		verify.ReasonSMTPUnreachable:
		return KindSoft
	case verify.ReasonSMTPBlocked, verify.ReasonSMTPProtocolError:
		return KindIgnored
	}
	if r.Status() == verify.StatusUndeliverable {
		return KindHard
	}
	return KindIgnored
}

// domainReason recognises the domain-level hard bounces that the RCPT classifier has no
// reason for, since a probe learns them from DNS: a permanent failure saying the domain
// does not exist (Postfix 5.4.4 "Host or domain name not found", Exim "Unrouteable
// address" for an unknown domain) or publishes a null MX (RFC 7505). A temporary DNS
// failure is never one of them.
func domainReason(code int, status, diag string) verify.Reason {
	if code < 500 || status != "" && status[0] != '5' {
		return ""
	}
	t := strings.ToLower(diag)
	switch {
	case strings.Contains(t, "null mx"):
		return verify.ReasonNullMX
	case status == "5.1.2", status == "5.4.4", status == "":
		for _, p := range domainTexts {
			if strings.Contains(t, p) {
				return verify.ReasonNoSuchDomain
			}
		}
	}
	return ""
}

var domainTexts = []string{
	"host or domain name not found", "domain not found", "no such domain", "nxdomain",
	"domain does not exist", "domain name not found", "unrouteable mail domain",
	"unroutable mail domain", "all relevant mx records point to non-existent hosts",
	"no mx or a records",
}

// splitReply splits "550 5.1.1 User unknown" (also "550-5.1.1 …" and "550 User
// unknown") into its parts; code is 0 when diag does not start with a reply code.
func splitReply(diag string) (code int, status, rest string) {
	if len(diag) < 3 || diag[0] < '2' || diag[0] > '5' {
		return 0, "", diag
	}
	c, err := strconv.Atoi(diag[:3])
	if err != nil || len(diag) > 3 && diag[3] != ' ' && diag[3] != '-' && diag[3] != ':' {
		return 0, "", diag
	}
	rest = strings.TrimLeft(diag[3:], " -:")
	if f, tail, _ := strings.Cut(rest, " "); validStatus(f) != "" {
		status, rest = f, strings.TrimSpace(tail)
	}
	return c, status, rest
}

// validStatus returns s when it is an RFC 3463 code of class 2, 4 or 5, else "".
func validStatus(s string) string {
	parts := strings.Split(s, ".")
	if len(parts) != 3 || len(parts[0]) != 1 || !strings.Contains("245", parts[0]) {
		return ""
	}
	for _, p := range parts[1:] {
		if len(p) == 0 || len(p) > 3 {
			return ""
		}
		for i := 0; i < len(p); i++ {
			if p[i] < '0' || p[i] > '9' {
				return ""
			}
		}
	}
	return s
}

// normalize returns the normalized form of a recipient as found in a bounce ("rfc822;
// <Jane@Example.org>"), or "" when it is not a valid address.
func normalize(addr string) string {
	addr = strings.TrimSpace(addr)
	if typ, rest, ok := strings.Cut(addr, ";"); ok && !strings.ContainsAny(typ, "@<\"") {
		addr = strings.TrimSpace(rest)
	}
	addr = strings.Trim(addr, "<>")
	syn := verify.ParseAddress(addr, verify.ParseOptions{})
	return syn.Email()
}
