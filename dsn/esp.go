package dsn

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/everify/everify/verify"
)

// errUnknownJSON is a JSON record of no format we read.
var errUnknownJSON = errors.New("JSON record of no known ESP format (SES, SendGrid, Mailgun, Postmark)")

// scanJSON reads ESP events: one JSON array of records, or records one after another
// (one per line, or pretty-printed), each a record or an API page holding them
// (Mailgun's {"items": […]}, Postmark's {"Bounces": […]}). An array is decoded one
// element at a time, so memory stays flat.
func (s *Scanner) scanJSON(ctx context.Context, name string, br *bufio.Reader) error {
	dec := json.NewDecoder(br)
	array := false
	if b, err := peekNonSpace(br); err == nil && b == '[' {
		if _, err := dec.Token(); err != nil {
			s.problem(name, "", err)
			return nil
		}
		array = true
	}
	for n := 1; ; n++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		if array && !dec.More() {
			return nil
		}
		var raw json.RawMessage
		off := dec.InputOffset()
		if err := dec.Decode(&raw); err != nil {
			if errors.Is(err, io.EOF) && !array {
				return nil
			}
			// A syntax error leaves the decoder unusable: the rest of the file is lost.
			s.problem(name, fmt.Sprintf("record %d at byte %d", n, off), err)
			return nil
		}
		if err := s.jsonRecord(name, fmt.Sprintf("record %d at byte %d", n, off), raw); err != nil {
			return err
		}
	}
}

func peekNonSpace(br *bufio.Reader) (byte, error) {
	for i := 1; ; i++ {
		b, err := br.Peek(i)
		if err != nil {
			return 0, err
		}
		switch c := b[i-1]; c {
		case ' ', '\t', '\r', '\n':
		case 0xef, 0xbb, 0xbf: // a byte order mark, which encoding/json rejects
			if i <= 3 {
				continue
			}
			return c, nil
		default:
			return c, nil
		}
	}
}

// jsonRecord dispatches one record on the keys that tell the formats apart.
func (s *Scanner) jsonRecord(name, pos string, raw json.RawMessage) error {
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(raw, &keys); err != nil {
		s.Stats.Messages++
		s.problem(name, pos, err)
		return nil
	}
	var page []json.RawMessage
	switch {
	case keys["items"] != nil: // Mailgun events API page
		if err := json.Unmarshal(keys["items"], &page); err != nil {
			s.problem(name, pos, fmt.Errorf("mailgun items: %w", err))
			return nil
		}
	case keys["Bounces"] != nil: // Postmark bounces API page
		if err := json.Unmarshal(keys["Bounces"], &page); err != nil {
			s.problem(name, pos, fmt.Errorf("postmark Bounces: %w", err))
			return nil
		}
	default:
		page = []json.RawMessage{raw}
	}
	for i, rec := range page {
		p := pos
		if len(page) > 1 || keys["items"] != nil || keys["Bounces"] != nil {
			p = fmt.Sprintf("%s, item %d", pos, i+1)
		}
		s.Stats.Messages++
		evs, err := espEvents(rec)
		switch {
		case errors.Is(err, ErrNotBounce):
			s.Stats.NotBounces++
		case err != nil:
			s.problem(name, p, err)
		}
		for _, ev := range evs {
			if err := s.emit(ev); err != nil {
				return err
			}
		}
	}
	return nil
}

// espEvents decodes one ESP record.
func espEvents(raw json.RawMessage) ([]Event, error) {
	var k map[string]json.RawMessage
	if err := json.Unmarshal(raw, &k); err != nil {
		return nil, err
	}
	has := func(names ...string) bool {
		for _, n := range names {
			if k[n] == nil {
				return false
			}
		}
		return true
	}
	switch {
	case has("Type", "Message") && has("TopicArn"): // an SNS envelope
		return snsEvents(raw)
	case has("notificationType"), has("eventType"):
		return sesEvents(raw, "")
	case has("event-data"):
		return mailgunEvents(k["event-data"])
	case has("sg_event_id"), has("event", "email"):
		return sendgridEvents(raw)
	case has("event", "recipient"):
		return mailgunEvents(raw)
	case has("RecordType"), has("Email", "TypeCode"), has("Email", "BouncedAt"):
		return postmarkEvents(raw)
	}
	return nil, errUnknownJSON
}

// parseTime reads the timestamps of ESP exports and CSV files: RFC 3339, "2006-01-02
// 15:04:05", a date, RFC 5322, or Unix seconds (possibly fractional).
func parseTime(v string) time.Time {
	v = strings.TrimSpace(v)
	if v == "" {
		return time.Time{}
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05Z07:00",
		"2006-01-02 15:04:05", "2006-01-02T15:04:05", "2006-01-02", time.RFC1123Z, time.RFC1123} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC()
		}
	}
	if f, err := strconv.ParseFloat(v, 64); err == nil && f > 0 && f < 1e11 {
		sec := int64(f)
		return time.Unix(sec, int64((f-float64(sec))*1e9)).UTC().Truncate(time.Millisecond)
	}
	return time.Time{}
}

// jsonTime reads a timestamp that is a JSON string or number.
func jsonTime(raw json.RawMessage) time.Time {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return parseTime(s)
	}
	return parseTime(string(raw))
}

// snsEvents unwraps an Amazon SNS notification whose Message is an SES notification.
func snsEvents(raw json.RawMessage) ([]Event, error) {
	var env struct {
		Type, MessageID, Message string
	}
	if err := json.Unmarshal(raw, &env); err != nil {
		return nil, fmt.Errorf("sns: %w", err)
	}
	if env.Type != "Notification" {
		return nil, ErrNotBounce // SubscriptionConfirmation and the like
	}
	return sesEvents(json.RawMessage(env.Message), env.MessageID)
}

type sesNotification struct {
	NotificationType string `json:"notificationType"`
	EventType        string `json:"eventType"`
	Bounce           struct {
		BounceType        string `json:"bounceType"`
		BounceSubType     string `json:"bounceSubType"`
		FeedbackID        string `json:"feedbackId"`
		Timestamp         string `json:"timestamp"`
		ReportingMTA      string `json:"reportingMTA"`
		BouncedRecipients []struct {
			EmailAddress   string `json:"emailAddress"`
			Action         string `json:"action"`
			Status         string `json:"status"`
			DiagnosticCode string `json:"diagnosticCode"`
		} `json:"bouncedRecipients"`
	} `json:"bounce"`
	Complaint struct {
		FeedbackID           string `json:"feedbackId"`
		Timestamp            string `json:"timestamp"`
		ComplaintFeedback    string `json:"complaintFeedbackType"`
		ComplainedRecipients []struct {
			EmailAddress string `json:"emailAddress"`
		} `json:"complainedRecipients"`
	} `json:"complaint"`
	Delivery struct {
		Timestamp  string   `json:"timestamp"`
		Recipients []string `json:"recipients"`
	} `json:"delivery"`
	Mail struct {
		MessageID string `json:"messageId"`
	} `json:"mail"`
}

// sesEvents reads an Amazon SES notification (SNS) or event-publishing record.
func sesEvents(raw json.RawMessage, snsID string) ([]Event, error) {
	var n sesNotification
	if err := json.Unmarshal(raw, &n); err != nil {
		return nil, fmt.Errorf("ses: %w", err)
	}
	typ := n.NotificationType
	if typ == "" {
		typ = n.EventType
	}
	var evs []Event
	switch typ {
	case "Bounce":
		id := n.Bounce.FeedbackID
		if id == "" {
			id = snsID
		}
		for _, r := range n.Bounce.BouncedRecipients {
			ev := Event{Email: normalize(r.EmailAddress), ID: "ses:" + id, Source: "ses",
				Date: parseTime(n.Bounce.Timestamp), Diagnostic: typedValue(r.DiagnosticCode)}
			ev.Code, ev.Status, _ = splitReply(ev.Diagnostic)
			if ev.Status == "" {
				ev.Status = validStatus(r.Status)
			}
			ev.Kind, ev.Reason = sesKind(n.Bounce.BounceType, n.Bounce.BounceSubType, ev.Status, ev.Diagnostic)
			evs = append(evs, ev)
		}
	case "Complaint":
		id := n.Complaint.FeedbackID
		if id == "" {
			id = snsID
		}
		if n.Complaint.ComplaintFeedback == "not-spam" {
			return nil, ErrNotBounce
		}
		for _, r := range n.Complaint.ComplainedRecipients {
			evs = append(evs, Event{Email: normalize(r.EmailAddress), Kind: KindComplaint,
				Reason: ReasonComplaint, ID: "ses:" + id, Source: "ses", Date: parseTime(n.Complaint.Timestamp),
				Diagnostic: "complaint: " + n.Complaint.ComplaintFeedback})
		}
	case "Delivery":
		for _, r := range n.Delivery.Recipients {
			evs = append(evs, Event{Email: normalize(r), Kind: KindDelivery, Reason: "accepted",
				ID: "ses:" + n.Mail.MessageID, Source: "ses", Date: parseTime(n.Delivery.Timestamp)})
		}
	default:
		return nil, ErrNotBounce // Send, Open, Click, Reject (ours), …
	}
	return validEvents(evs)
}

// sesKind classifies an SES bounce: by its codes when it carries any, else by SES's
// bounce type (https://docs.aws.amazon.com/ses/latest/dg/notification-contents.html).
func sesKind(typ, sub, status, diag string) (Kind, verify.Reason) {
	if status != "" || diag != "" {
		return classifyFailure(0, status, diag, typ == "Transient")
	}
	switch {
	case typ == "Permanent" && (sub == "General" || sub == "NoEmail" || sub == "Suppressed" || sub == "OnAccountSuppressionList"):
		return KindHard, "mailbox_not_found"
	case typ == "Transient" && sub == "MailboxFull":
		return KindSoft, "mailbox_full"
	case typ == "Transient" && sub == "General":
		return KindSoft, "smtp_temp_failure"
	}
	return KindIgnored, "smtp_blocked" // content, attachment, size rejections; Undetermined
}

// validEvents drops events whose address is not valid; none left is an error.
func validEvents(evs []Event) ([]Event, error) {
	out := evs[:0]
	for _, ev := range evs {
		if ev.Email != "" {
			out = append(out, ev)
		}
	}
	if len(out) == 0 {
		return nil, ErrNoRecipient
	}
	return out, nil
}

// sendgridEvents reads a SendGrid event webhook record.
func sendgridEvents(raw json.RawMessage) ([]Event, error) {
	var e struct {
		Email     string          `json:"email"`
		Event     string          `json:"event"`
		Timestamp json.RawMessage `json:"timestamp"`
		EventID   string          `json:"sg_event_id"`
		Reason    string          `json:"reason"`
		Status    string          `json:"status"`
		Type      string          `json:"type"`
		Response  string          `json:"response"`
	}
	if err := json.Unmarshal(raw, &e); err != nil {
		return nil, fmt.Errorf("sendgrid: %w", err)
	}
	ev := Event{Email: normalize(e.Email), ID: "sendgrid:" + e.EventID, Source: "sendgrid", Date: jsonTime(e.Timestamp)}
	if e.EventID == "" {
		ev.ID = "sendgrid:" + string(raw)
	}
	switch e.Event {
	case "bounce":
		ev.Diagnostic = e.Reason
		ev.Code, ev.Status, _ = splitReply(e.Reason)
		if ev.Status == "" {
			ev.Status = validStatus(e.Status)
		}
		ev.Kind, ev.Reason = classifyFailure(0, ev.Status, ev.Diagnostic, false)
	case "spamreport":
		ev.Kind, ev.Reason, ev.Diagnostic = KindComplaint, ReasonComplaint, "spamreport"
	case "delivered":
		ev.Kind, ev.Reason, ev.Diagnostic = KindDelivery, "accepted", e.Response
	case "deferred":
		ev.Kind, ev.Diagnostic = KindDelayed, e.Response
		_, ev.Reason = classify(0, "", e.Response, true)
	default:
		return nil, ErrNotBounce // processed, dropped, open, click, unsubscribe, …
	}
	return validEvents([]Event{ev})
}

// mailgunEvents reads a Mailgun event (events API item or webhook event-data).
func mailgunEvents(raw json.RawMessage) ([]Event, error) {
	var e struct {
		ID             string          `json:"id"`
		Event          string          `json:"event"`
		Severity       string          `json:"severity"`
		Recipient      string          `json:"recipient"`
		Timestamp      json.RawMessage `json:"timestamp"`
		Reason         string          `json:"reason"`
		DeliveryStatus struct {
			Code         int    `json:"code"`
			EnhancedCode string `json:"enhanced-code"`
			Message      string `json:"message"`
			Description  string `json:"description"`
		} `json:"delivery-status"`
	}
	if err := json.Unmarshal(raw, &e); err != nil {
		return nil, fmt.Errorf("mailgun: %w", err)
	}
	ev := Event{Email: normalize(e.Recipient), ID: "mailgun:" + e.ID, Source: "mailgun", Date: jsonTime(e.Timestamp)}
	if e.ID == "" {
		ev.ID = "mailgun:" + string(raw)
	}
	ds := e.DeliveryStatus
	switch e.Event {
	case "failed":
		ev.Diagnostic = strings.TrimSpace(ds.Message)
		if ev.Diagnostic == "" {
			ev.Diagnostic = strings.TrimSpace(ds.Description)
		}
		ev.Code = ds.Code
		ev.Status = validStatus(ds.EnhancedCode)
		if c, st, rest := splitReply(ev.Diagnostic); c == 0 && ev.Status == "" {
			if f, tail, _ := strings.Cut(rest, " "); validStatus(f) != "" {
				ev.Status, ev.Diagnostic = f, tail // Mailgun: "5.1.1 The email account …"
			}
		} else if ev.Status == "" {
			ev.Status = st
		}
		ev.Kind, ev.Reason = classifyFailure(ev.Code, ev.Status, ev.Diagnostic, e.Severity == "temporary")
		if ev.Kind == KindHard && e.Severity == "temporary" {
			ev.Kind = KindSoft // Mailgun retries: not final
		}
	case "complained":
		ev.Kind, ev.Reason, ev.Diagnostic = KindComplaint, ReasonComplaint, "complained"
	case "delivered":
		ev.Kind, ev.Reason, ev.Diagnostic = KindDelivery, "accepted", ds.Message
	default:
		return nil, ErrNotBounce // accepted, opened, clicked, unsubscribed, stored
	}
	return validEvents([]Event{ev})
}

// postmarkEvents reads a Postmark bounce (bounces API item or bounce webhook).
func postmarkEvents(raw json.RawMessage) ([]Event, error) {
	var e struct {
		ID          json.Number `json:"ID"`
		Type        string      `json:"Type"`
		RecordType  string      `json:"RecordType"`
		MessageID   string      `json:"MessageID"`
		Description string      `json:"Description"`
		Details     string      `json:"Details"`
		Email       string      `json:"Email"`
		Recipient   string      `json:"Recipient"`
		BouncedAt   string      `json:"BouncedAt"`
		DeliveredAt string      `json:"DeliveredAt"`
	}
	if err := json.Unmarshal(raw, &e); err != nil {
		return nil, fmt.Errorf("postmark: %w", err)
	}
	addr := e.Email
	if addr == "" {
		addr = e.Recipient
	}
	ev := Event{Email: normalize(addr), ID: "postmark:" + e.ID.String(), Source: "postmark", Date: parseTime(e.BouncedAt)}
	if e.ID == "" {
		ev.ID = "postmark:" + e.MessageID + ":" + e.Type
	}
	switch e.RecordType {
	case "", "Bounce":
	case "SpamComplaint":
		e.Type = "SpamComplaint"
	case "Delivery":
		ev.Kind, ev.Reason, ev.Date = KindDelivery, "accepted", parseTime(e.DeliveredAt)
		return validEvents([]Event{ev})
	default:
		return nil, ErrNotBounce
	}
	ev.Diagnostic = typedValue(e.Details)
	ev.Code, ev.Status, _ = splitReply(ev.Diagnostic)
	switch e.Type {
	case "SpamComplaint":
		ev.Kind, ev.Reason, ev.Diagnostic = KindComplaint, ReasonComplaint, "spam complaint"
		return validEvents([]Event{ev})
	case "HardBounce", "BadEmailAddress", "SoftBounce", "Transient", "DnsError", "Blocked",
		"SMTPApiError", "Unknown", "DMARCPolicy":
	default:
		return nil, ErrNotBounce // AutoResponder, Subscribe, Unsubscribe, AddressChange, …
	}
	if ev.Code != 0 || ev.Status != "" {
		ev.Kind, ev.Reason = classifyFailure(ev.Code, ev.Status, ev.Diagnostic, false)
	} else {
		// No reply quoted: Postmark's own verdict, with its description.
		ev.Diagnostic = strings.TrimSpace(e.Description + " " + ev.Diagnostic)
		switch e.Type {
		case "HardBounce", "BadEmailAddress":
			ev.Kind, ev.Reason = KindHard, "mailbox_not_found"
		case "SoftBounce", "Transient", "DnsError":
			ev.Kind, ev.Reason = KindSoft, "smtp_temp_failure"
		default:
			ev.Kind, ev.Reason = KindIgnored, "smtp_blocked"
		}
	}
	return validEvents([]Event{ev})
}
