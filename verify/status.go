package verify

// Status is the verdict on one address: will mail to it be delivered? Its values are the
// wire strings of docs/reasons.md.
type Status string

// The four statuses.
const (
	StatusDeliverable   Status = "deliverable"
	StatusUndeliverable Status = "undeliverable"
	StatusRisky         Status = "risky"
	StatusUnknown       Status = "unknown"
)

// Statuses lists the four statuses, best first: the order of summaries and of the
// --only/--exclude help.
var Statuses = []Status{StatusDeliverable, StatusUndeliverable, StatusRisky, StatusUnknown}

// Reason says precisely why an address got its [Status]. Values are stable snake_case wire
// strings; each reason belongs to exactly one status (see [Reason.Status]).
type Reason string

// The reasons of docs/reasons.md.
const (
	ReasonAccepted            Reason = "accepted"
	ReasonInvalidSyntax       Reason = "invalid_syntax"
	ReasonReservedDomain      Reason = "reserved_domain"
	ReasonNoSuchDomain        Reason = "no_such_domain"
	ReasonNullMX              Reason = "null_mx"
	ReasonNoMailServer        Reason = "no_mail_server"
	ReasonMailboxNotFound     Reason = "mailbox_not_found"
	ReasonMailboxDisabled     Reason = "mailbox_disabled"
	ReasonSMTPUTF8Unsupported Reason = "smtputf8_unsupported"
	ReasonCatchAll            Reason = "catch_all"
	ReasonDisposable          Reason = "disposable"
	ReasonMailboxFull         Reason = "mailbox_full"
	ReasonSMTPTempFailure     Reason = "smtp_temp_failure"
	ReasonSMTPBlocked         Reason = "smtp_blocked"
	ReasonSMTPTimeout         Reason = "smtp_timeout"
	ReasonSMTPUnreachable     Reason = "smtp_unreachable"
	ReasonSMTPProtocolError   Reason = "smtp_protocol_error"
	ReasonDNSError            Reason = "dns_error"
	ReasonSMTPSkipped         Reason = "smtp_skipped"
	ReasonDenied              Reason = "denied"
	ReasonAllowed             Reason = "allowed"
	ReasonSuppressed          Reason = "suppressed"
)

// Reasons lists every reason (docs/reasons.md says what each means).
var Reasons = []Reason{
	ReasonAccepted, ReasonInvalidSyntax, ReasonReservedDomain, ReasonNoSuchDomain, ReasonNullMX,
	ReasonNoMailServer, ReasonMailboxNotFound, ReasonMailboxDisabled, ReasonSMTPUTF8Unsupported,
	ReasonCatchAll, ReasonDisposable, ReasonMailboxFull, ReasonSMTPTempFailure, ReasonSMTPBlocked,
	ReasonSMTPTimeout, ReasonSMTPUnreachable, ReasonSMTPProtocolError, ReasonDNSError,
	ReasonSMTPSkipped, ReasonDenied, ReasonAllowed, ReasonSuppressed,
}

// Status returns the status that r implies.
func (r Reason) Status() Status {
	switch r {
	case ReasonAccepted, ReasonAllowed:
		return StatusDeliverable
	case ReasonInvalidSyntax, ReasonReservedDomain, ReasonNoSuchDomain, ReasonNullMX,
		ReasonNoMailServer, ReasonMailboxNotFound, ReasonMailboxDisabled,
		ReasonSMTPUTF8Unsupported, ReasonDenied, ReasonSuppressed:
		return StatusUndeliverable
	case ReasonCatchAll, ReasonDisposable, ReasonMailboxFull:
		return StatusRisky
	default:
		return StatusUnknown
	}
}
