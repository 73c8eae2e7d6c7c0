package dsn

import (
	"strings"

	"golang.org/x/net/html"
)

// Markers of the plain-text bounces that MTAs still send instead of (or besides) an
// RFC 3464 report, matched in lower case.
const (
	eximMarker     = "this message was created automatically by mail delivery software"
	qmailMarker    = "this is the qmail-send program"
	yahooMarker    = "unable to deliver your message to the following address"
	exchangeMarker = "diagnostic information for administrators"
)

// looksLikeBounce reports whether a message without a delivery-status part is a bounce:
// it holds one of the known markers, or comes from a mailer daemon with a bounce subject.
func looksLikeBounce(info *msgInfo, texts []string) bool {
	for _, t := range texts {
		l := strings.ToLower(t)
		for _, m := range []string{eximMarker, qmailMarker, yahooMarker, exchangeMarker} {
			if strings.Contains(l, m) {
				return true
			}
		}
	}
	from, subj := strings.ToLower(info.from), strings.ToLower(info.subject)
	daemon := strings.Contains(from, "mailer-daemon") || strings.Contains(from, "postmaster") ||
		strings.Contains(from, "mail delivery")
	for _, s := range []string{"undeliver", "delivery status notification", "delivery failure",
		"mail delivery failed", "failure notice", "returned mail", "delivery has failed"} {
		if daemon && strings.Contains(subj, s) {
			return true
		}
	}
	return false
}

// textBounces extracts the failed recipients of a plain-text bounce, each with the
// server's reply when the text quotes one.
func textBounces(texts []string, info *msgInfo) []Event {
	for _, t := range texts {
		t = strings.ReplaceAll(t, "\r\n", "\n")
		l := strings.ToLower(t)
		var evs []Event
		switch {
		case strings.Contains(l, exchangeMarker):
			evs = exchangeBounces(t, l)
		case strings.Contains(l, eximMarker):
			evs = eximBounces(t, l)
		case strings.Contains(l, qmailMarker):
			evs = angleBounces(t, "qmail", strings.Contains(l, "queue too long"))
		case strings.Contains(l, yahooMarker):
			evs = angleBounces(t, "yahoo", false)
		}
		if len(evs) > 0 {
			for i := range evs {
				evs[i].ID, evs[i].Date = info.id, info.date()
			}
			return evs
		}
	}
	return nil
}

// textEvent classifies one recipient of a text bounce.
func textEvent(addr, diag, source string, temporary bool) (Event, bool) {
	email := normalize(addr)
	if email == "" {
		return Event{}, false
	}
	diag = strings.Join(strings.Fields(diag), " ")
	ev := Event{Email: email, Diagnostic: diag, Source: source}
	ev.Code, ev.Status, _ = splitReply(diag)
	ev.Kind, ev.Reason = classifyFailure(0, "", diag, temporary)
	return ev, true
}

// eximBounces reads Exim's list of failed addresses: each address indented by two
// spaces, its details by four, the remote server's reply after "SMTP error from remote
// mail server after …:".
//
//	jane@example.org
//	  host mx.example.org [192.0.2.1]
//	  SMTP error from remote mail server after RCPT TO:<jane@example.org>:
//	  550 5.1.1 <jane@example.org>: Recipient address rejected: User unknown
func eximBounces(t, l string) []Event {
	start := strings.Index(l, "failed:")
	if start < 0 {
		start = strings.Index(l, eximMarker)
	}
	temporary := strings.Contains(l, "retry timeout exceeded") || strings.Contains(l, "temporary error")
	var evs []Event
	var addr string
	var details []string
	flush := func() {
		if addr == "" {
			return
		}
		diag := strings.Join(details, " ")
		for i, d := range details {
			if strings.HasPrefix(strings.ToLower(d), "smtp error from remote mail server") {
				diag = strings.Join(details[i+1:], " ")
				break
			}
		}
		if ev, ok := textEvent(addr, diag, "exim", temporary); ok {
			evs = append(evs, ev)
		}
		addr, details = "", nil
	}
	for _, line := range strings.Split(t[start:], "\n")[1:] {
		if strings.HasPrefix(line, "------") || strings.HasPrefix(strings.ToLower(line), "reporting-mta:") {
			break
		}
		trimmed := strings.TrimSpace(line)
		indent := len(line) - len(strings.TrimLeft(line, " \t"))
		switch {
		case trimmed == "":
		case indent >= 4 && addr != "":
			details = append(details, trimmed)
		case indent >= 1 && strings.Contains(trimmed, "@") && !strings.Contains(trimmed, " "):
			flush()
			addr = trimmed
		case indent >= 1 && strings.Contains(trimmed, "@"):
			// "jane@example.org: Unrouteable address" on one line.
			flush()
			if a, rest, ok := strings.Cut(trimmed, " "); ok {
				addr, details = strings.TrimSuffix(a, ":"), []string{rest}
			}
		default:
			flush()
		}
	}
	flush()
	return evs
}

// angleBounces reads the qmail layout, also used by Yahoo: each failed address alone on
// a line as "<jane@example.org>:", then what happened, up to a blank line; the remote
// server's reply follows "Remote host said:".
func angleBounces(t, source string, temporary bool) []Event {
	var evs []Event
	lines := strings.Split(t, "\n")
	for i := 0; i < len(lines); i++ {
		line := strings.TrimSpace(lines[i])
		if strings.HasPrefix(line, "---") {
			break // the returned message follows
		}
		if !strings.HasPrefix(line, "<") || !strings.HasSuffix(line, ">:") {
			continue
		}
		addr := line[1 : len(line)-2]
		var block []string
		for i+1 < len(lines) && strings.TrimSpace(lines[i+1]) != "" {
			i++
			block = append(block, strings.TrimSpace(lines[i]))
		}
		diag := strings.Join(block, " ")
		for _, b := range block {
			if _, said, ok := strings.Cut(b, "Remote host said:"); ok {
				diag = said
				break
			}
		}
		if ev, ok := textEvent(addr, diag, source, temporary); ok {
			evs = append(evs, ev)
		}
	}
	return evs
}

// exchangeBounces reads the "Diagnostic information for administrators" section of an
// Exchange or Microsoft 365 NDR: each recipient on a line, followed by the remote
// server's reply as "Remote Server returned '550 5.1.10 …'" or, for a rejection by
// Exchange itself, "#550 5.1.1 RESOLVER.ADR.RecipNotFound; not found ##".
func exchangeBounces(t, l string) []Event {
	start := strings.Index(l, exchangeMarker)
	var evs []Event
	var addr string
	for _, line := range strings.Split(t[start:], "\n") {
		trimmed := strings.TrimSpace(line)
		low := strings.ToLower(trimmed)
		if strings.HasPrefix(low, "original message headers") {
			break
		}
		if _, said, ok := strings.Cut(low, "remote server returned"); ok && addr != "" {
			diag := said
			if len(low) == len(trimmed) { // keep the reply's case when lower-casing kept offsets
				diag = trimmed[len(trimmed)-len(said):]
			}
			diag = strings.TrimSpace(diag)
			diag = strings.Trim(diag, "'\" ")
			// Old Exchange: '<mx.example.org #5.1.1 smtp;550 5.1.1 User unknown>'.
			diag = strings.Trim(diag, "<>")
			if _, smtp, ok := strings.Cut(diag, "smtp;"); ok {
				diag = smtp
			}
			if ev, ok := textEvent(addr, diag, "exchange", false); ok {
				evs = append(evs, ev)
			}
			addr = ""
			continue
		}
		if addr != "" && len(trimmed) > 4 && trimmed[0] == '#' && trimmed[1] >= '2' && trimmed[1] <= '5' {
			// Exchange 2013 and later: "#550 5.1.1 RESOLVER.ADR.RecipNotFound; not found ##".
			if ev, ok := textEvent(addr, strings.Trim(trimmed, "# "), "exchange", false); ok {
				evs = append(evs, ev)
			}
			addr = ""
			continue
		}
		if strings.Contains(trimmed, "@") && !strings.Contains(trimmed, " ") {
			addr = trimmed
		}
	}
	return evs
}

// htmlText returns the text of an HTML body, one line per block element, for NDRs sent
// as HTML alone.
func htmlText(s string) string {
	z := html.NewTokenizer(strings.NewReader(s))
	var b strings.Builder
	skip := 0
	for {
		switch z.Next() {
		case html.ErrorToken:
			return b.String()
		case html.TextToken:
			if skip == 0 {
				b.Write(z.Text())
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			name, _ := z.TagName()
			switch string(name) {
			case "script", "style":
				skip++
			case "br", "p", "div", "tr", "li", "h1", "h2", "h3":
				b.WriteByte('\n')
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			switch string(name) {
			case "script", "style":
				skip = max(skip-1, 0)
			case "p", "div", "tr", "li", "td", "h1", "h2", "h3":
				b.WriteByte('\n')
			}
		}
	}
}
