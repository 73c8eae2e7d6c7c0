package verify

import (
	"strings"

	"github.com/everify/everify/smtpprobe"
)

// ClassifyReply maps a non-positive SMTP reply received at step to a [Reason]. It is the
// only code in everify that reads reply text.
//
// The RFC 3463 enhanced status code is trusted first (qmail's "(#5.1.1)" at the end of
// the text counts when the reply has none), then the basic code and the step, and the
// text last: it only refines a reply whose codes are ambiguous (no enhanced code, or an
// "other" code such as 5.0.0, 5.1.0, 5.5.0).
//
// A rejection of the prober is never undeliverable: a reply at any step other than
// RCPT (banner, EHLO, STARTTLS, MAIL FROM, RSET, QUIT) is smtp_blocked,
// smtp_temp_failure or smtp_protocol_error, and so is any 5.7.x (policy, security) reply
// and any reply whose text is about the sender (Postfix's delayed "Sender address
// rejected"). A 4xx reply is never undeliverable either: it is smtp_temp_failure, or
// smtp_blocked when the text names a blocklist, reputation or a refused client, or
// mailbox_full for 4.2.2 and quota texts.
//
// A positive (2xx/3xx) reply yields [ReasonAccepted]; a code outside 200-599 yields
// [ReasonSMTPProtocolError].
func ClassifyReply(step smtpprobe.Step, r smtpprobe.Reply) Reason {
	switch {
	case r.Positive():
		return ReasonAccepted
	case r.Code < 400 || r.Code > 599:
		return ReasonSMTPProtocolError
	}
	ec := parseEnhanced(r.Enhanced)
	if !ec.ok {
		ec = enhancedInText(r.Message)
	}
	t := normalizeReplyText(r.Message)
	if step != smtpprobe.StepRCPT {
		return classifyPeer(r.Code, ec, t)
	}
	if r.Transient() {
		return classifyRCPT4xx(ec, t)
	}
	return classifyRCPT5xx(r.Code, ec, t)
}

// classifyPeer classifies a refusal at a step that is about the session or the sender,
// never about the mailbox.
func classifyPeer(code int, ec enhancedCode, t string) Reason {
	if code < 500 {
		if hasAny(t, strongBlockTexts) {
			return ReasonSMTPBlocked
		}
		return ReasonSMTPTempFailure
	}
	switch {
	case ec.ok && ec.subject == 7, hasAny(t, strongBlockTexts), hasAny(t, softBlockTexts):
		return ReasonSMTPBlocked
	case code >= 500 && code <= 504, ec.ok && ec.subject == 5:
		return ReasonSMTPProtocolError // our command was not understood (or not in sequence)
	}
	return ReasonSMTPBlocked // 5xx to the session or MAIL FROM refuses us
}

// classifyRCPT4xx: a transient reply to RCPT says nothing final about the mailbox.
func classifyRCPT4xx(ec enhancedCode, t string) Reason {
	switch {
	case ec.ok && ec.subject == 2 && ec.detail == 2,
		(!ec.ok || ec.subject == 0 || ec.subject == 2) && mailboxFullText(t):
		return ReasonMailboxFull
	case hasAny(t, strongBlockTexts):
		return ReasonSMTPBlocked
	}
	return ReasonSMTPTempFailure // greylisting, rate limits, local problems
}

func classifyRCPT5xx(code int, ec enhancedCode, t string) Reason {
	if hasAny(t, senderTexts) {
		return ReasonSMTPBlocked // Postfix delays a MAIL FROM rejection to RCPT
	}
	fallback := basicFallback(code)
	if !ec.ok {
		return textReason(t, fallback)
	}
	switch ec.subject {
	case 7: // security or policy: about us, never about the mailbox
		return ReasonSMTPBlocked
	case 1: // addressing status
		switch ec.detail {
		case 1, 2, 3, 6, 10: // bad mailbox, bad system, bad syntax, moved, not found (MS)
			return ReasonMailboxNotFound
		case 7, 8: // bad sender mailbox / sender system: about our MAIL FROM
			return ReasonSMTPBlocked
		}
		return textReason(t, ReasonMailboxNotFound) // 5.1.0 "other address status", 5.1.4…
	case 2: // mailbox status
		if hasAny(t, laterTexts) {
			// Gmail: "5.2.1 The user you are trying to contact is receiving mail at a rate
			// that prevents additional messages from being delivered."
			return ReasonSMTPTempFailure
		}
		switch ec.detail {
		case 1:
			return ReasonMailboxDisabled
		case 2:
			return ReasonMailboxFull
		}
		return textReason(t, fallback)
	case 4: // network and routing
		if ec.detail == 1 && hasAny(t, dbebTexts) {
			// Microsoft 365 directory-based edge blocking: the recipient is not in the
			// tenant's directory.
			return ReasonMailboxNotFound
		}
		return textReason(t, ReasonSMTPTempFailure)
	case 3: // mail system status: the server's own trouble
		return textReason(t, ReasonSMTPTempFailure)
	case 5: // protocol status
		return textReason(t, ReasonSMTPProtocolError)
	case 6: // content: cannot be about an envelope recipient
		return textReason(t, ReasonSMTPBlocked)
	}
	return textReason(t, fallback) // 5.0.0 and unregistered subjects
}

// basicFallback is the verdict on a permanent reply to RCPT whose codes and text say
// nothing more specific (RFC 5321 §4.2.2, §4.2.3).
func basicFallback(code int) Reason {
	switch code {
	case 550, 551, 553: // mailbox unavailable / user not local / mailbox name not allowed
		return ReasonMailboxNotFound
	case 552: // exceeded storage allocation
		return ReasonMailboxFull
	case 500, 501, 502, 503, 504:
		return ReasonSMTPProtocolError
	}
	return ReasonSMTPBlocked // 554 "transaction failed" and the rest: mostly policy
}

// textReason classifies a permanent RCPT reply by its text. Texts about blocking win over
// texts about the mailbox, because a reply that says both (cPanel: "The account or domain
// may not exist, they may be blacklisted") must not be reported as undeliverable.
func textReason(t string, fallback Reason) Reason {
	switch {
	case hasAny(t, strongBlockTexts), hasAny(t, softBlockTexts):
		return ReasonSMTPBlocked
	case mailboxFullText(t):
		return ReasonMailboxFull
	case hasAny(t, disabledTexts):
		return ReasonMailboxDisabled
	case hasAny(t, notFoundTexts):
		return ReasonMailboxNotFound
	}
	return fallback
}

// Reply-text phrases, matched against the text as normalized by normalizeReplyText
// (lower case, runs of anything but letters and digits turned into one space, words
// holding an '@' dropped, padded with a space at each end). A phrase with a space at an
// end therefore only matches at a word boundary.
var (
	// strongBlockTexts name a refusal of the prober's IP, host name or sender that
	// waiting will not cure; they mean smtp_blocked even on a 4xx reply.
	strongBlockTexts = []string{
		"spamhaus", "spamcop", "barracuda", "sorbs", "dnsbl", " rbl", "blocklist",
		"block list", "blacklist", "black list", "denylist", "blocked", " banned",
		"reputation", "client host", "not permitted", "access denied", "denied",
		"relay", "listed at", "listed on", "is listed in", " ptr ", "reverse dns",
		" rdns ", "helo command rejected", "ehlo command rejected", "invalid helo", "bad helo",
		"helo name", "dynamic ip", "residential", "authentication required",
		"must authenticate", "sender address rejected", "sender verify",
		// Sophos Email's codes for an RBL or DBL hit, a block list entry and a domain
		// it does not protect (docs.sophos.com, Sophos Email SMTP error codes).
		"xgemail 0004", "xgemail 0005", "xgemail 0008", "xgemail 0009", "xgemail 0010",
	}
	// softBlockTexts are policy, spam and throttling texts: smtp_blocked on a 5xx
	// reply, left to the code (smtp_temp_failure) on a 4xx one.
	softBlockTexts = []string{
		"spam", "unsolicited", "junk", "policy", "policies", "prohibit", "rejected due to",
		"too many", "rate limit", "ratelimit", "rate limited", "throttl", "try again later",
		"try later", "greylist", "graylist", "grey list", "gray list", "temporarily",
		"not accepted from", "abuse", "suspicious",
	}
	// senderTexts are about our MAIL FROM, whatever the code says.
	senderTexts = []string{
		"sender address rejected", "sender verify failed", "sender rejected",
		"sender domain", "sender denied",
	}
	// laterTexts turn a mailbox-status code into a temporary condition.
	laterTexts = []string{
		"receiving mail at a rate", "receiving mail too quickly", "at a later time",
		"try again later", "rate limit",
	}
	fullTexts = []string{
		"quota", "mailbox full", "mailbox is full", "mailbox has exceeded", "mailfolder is full",
		"insufficient storage", "storage allocation", "exceeded storage", "out of storage",
		"full mailbox", "mailbox size limit", "inbox is full",
		"exhausted allowed storage", // Web.de
	}
	disabledTexts = []string{
		"disabled", "inactive", "suspended", "deactivated", "no longer active", "not active",
		"discontinued", "account has been closed", "account is closed", " locked",
		"expired", "blocked account",
	}
	notFoundTexts = []string{
		"user unknown", "unknown user", "unknown recipient", "recipient unknown",
		"address unknown", "unknown address", "unknown mailbox", "mailbox unknown",
		"no such user", "no such mailbox", "no such recipient", "no such address",
		"no such account", "no mailbox", "not exist", "doesn t exist", "does not exist",
		"invalid recipient", "invalid mailbox", "invalid address", "invalid user",
		"recipient not found", "recipientnotfound", "recipnotfound", "user not found",
		"mailbox not found", "account not found", "address not found",
		"mailbox unavailable", "mailbox is unavailable", "mailbox not available",
		"unrouteable address", "unroutable address", "this user doesn t have",
		"not a valid mailbox", "bad address", "bad destination", "no longer",
		"not our customer", "unknown or illegal", "user doesn t exist", "has moved",
		// Wordings that come with an unspecific code (5.0.0, 5.3.0 or none): Sendmail's
		// "553 5.3.0 <x@y>... Addressee unknown", AOL's "554 delivery error: dd Not a
		// valid recipient", Sophos Email's XGEMAIL_0011 (recipient does not exist).
		"addressee unknown", "unknown addressee", "not a valid recipient",
		"recipient not valid", "recipient is not valid", "recipient is invalid",
		"recipient invalid", "xgemail 0011",
	}
	// dbebTexts identify Microsoft 365's "550 5.4.1 Recipient address rejected: Access
	// denied. AS(201806281)", sent for recipients missing from the tenant's directory.
	dbebTexts = []string{"recipient address rejected access denied", "as 201806281"}
)

// mailboxFullText reports whether t says the mailbox is over its quota; a quota on the
// sender ("sender quota exceeded") is a limit on us instead.
func mailboxFullText(t string) bool {
	return hasAny(t, fullTexts) && !strings.Contains(t, " sender ")
}

// hasAny reports whether the normalized text t contains one of phrases.
func hasAny(t string, phrases []string) bool {
	for _, p := range phrases {
		if strings.Contains(t, p) {
			return true
		}
	}
	return false
}

// maxReplyText bounds the text examined; every wording we know fits well within it.
const maxReplyText = 2048

// normalizeReplyText lower-cases msg, turns every run of characters other than ASCII
// letters and digits (and non-ASCII bytes, kept as letters) into one space, drops the
// addresses a reply echoes (<rbl@example.com> must not match " rbl") but keeps what is
// glued to them (Barracuda's "(jane@example.com:blocked)" says "blocked"), drops
// Sendmail's relay=[192.0.2.1], and pads the result with a space at each end.
func normalizeReplyText(msg string) string {
	if len(msg) > maxReplyText {
		msg = msg[:maxReplyText]
	}
	var b strings.Builder
	b.Grow(len(msg) + 2)
	b.WriteByte(' ')
	space := true
	for i := 0; i < len(msg); {
		// One white-space separated word at a time.
		for i < len(msg) && isSpaceByte(msg[i]) {
			i++
		}
		j := i
		for j < len(msg) && !isSpaceByte(msg[j]) {
			j++
		}
		w := msg[i:j]
		i = j
		if w == "" || len(w) > 6 && strings.EqualFold(w[:6], "relay=") {
			continue // Sendmail echoes the client as relay=[192.0.2.1]: not a relay refusal
		}
		if strings.IndexByte(w, '@') >= 0 {
			w = blankAddresses(w)
		}
		for k := 0; k < len(w); k++ {
			c := w[k]
			switch {
			case c >= 'A' && c <= 'Z':
				c += 'a' - 'A'
			case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c >= 0x80:
			default:
				c = ' '
			}
			if c == ' ' {
				if !space {
					b.WriteByte(' ')
					space = true
				}
				continue
			}
			b.WriteByte(c)
			space = false
		}
		if !space {
			b.WriteByte(' ')
			space = true
		}
	}
	if !space {
		b.WriteByte(' ')
	}
	return b.String()
}

func isSpaceByte(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// blankAddresses returns the word w with each address in it (the atext and dots before
// an '@', the letters, digits, hyphens and dots after it) turned into spaces.
func blankAddresses(w string) string {
	b := []byte(w)
	for k := 0; k < len(b); k++ {
		if b[k] != '@' {
			continue
		}
		start := k
		for start > 0 && (isAtext(b[start-1]) || b[start-1] == '.' || b[start-1] >= 0x80) {
			start--
		}
		end := k + 1
		for end < len(b) && (isLetterDigit(b[end]) || b[end] == '-' || b[end] == '.' || b[end] >= 0x80) {
			end++
		}
		for p := start; p < end; p++ {
			b[p] = ' '
		}
		k = end - 1
	}
	return string(b)
}

func isLetterDigit(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// enhancedCode is a parsed RFC 3463 status code, class.subject.detail.
type enhancedCode struct {
	class, subject, detail int
	ok                     bool
}

// parseEnhanced parses "5.1.1". A class other than 4 or 5 (a 2.x.x on a failure
// reply) is not trusted and reported as absent.
func parseEnhanced(s string) enhancedCode {
	ec, n := scanEnhanced(s)
	if n == 0 || n != len(s) {
		return enhancedCode{}
	}
	return ec
}

// scanEnhanced parses an enhanced code at the start of s and returns it with the number
// of bytes it spans (0 when there is none).
func scanEnhanced(s string) (enhancedCode, int) {
	var parts [3]int
	i := 0
	for p := 0; p < 3; p++ {
		if p > 0 {
			if i >= len(s) || s[i] != '.' {
				return enhancedCode{}, 0
			}
			i++
		}
		start := i
		v := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' && i-start < 3 {
			v = v*10 + int(s[i]-'0')
			i++
		}
		if i == start || p == 0 && i-start != 1 {
			return enhancedCode{}, 0
		}
		parts[p] = v
	}
	if i < len(s) && s[i] >= '0' && s[i] <= '9' {
		return enhancedCode{}, 0 // a fourth digit: not a code
	}
	if parts[0] != 4 && parts[0] != 5 {
		return enhancedCode{}, 0
	}
	return enhancedCode{class: parts[0], subject: parts[1], detail: parts[2], ok: true}, i
}

// enhancedInText finds an enhanced code in the text of a reply that carried none in its
// place: qmail appends "(#5.1.1)", and some servers write "#5.1.0 Address rejected" or
// repeat the code at the start of the text. The first code found counts, unless a later
// one is a policy code (x.7.x), which is never overridden.
func enhancedInText(msg string) enhancedCode {
	var first enhancedCode
	if ec, n := scanEnhanced(msg); n > 0 && (n == len(msg) || isSpaceByte(msg[n])) {
		first = ec
	}
	for i := 0; i < len(msg) && first.subject != 7; i++ {
		if msg[i] != '#' {
			continue
		}
		if ec, n := scanEnhanced(msg[i+1:]); n > 0 && (!first.ok || ec.subject == 7) {
			first = ec
		}
	}
	return first
}
