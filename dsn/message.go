package dsn

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/mail"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-message"
	_ "github.com/emersion/go-message/charset" // bounces come in every charset
	"github.com/emersion/go-message/textproto"
)

// ErrNotBounce is returned by [ParseMessage] for a message that is neither a bounce nor
// a complaint report (an auto-reply, a newsletter, spam in the bounce mailbox).
var ErrNotBounce = errors.New("not a bounce")

// ErrNoRecipient is returned by [ParseMessage] for a message that looks like a bounce
// but names no recipient that could be read.
var ErrNoRecipient = errors.New("bounce without a readable recipient")

// Bounds on what one message may make us read: bounce parts are small, and the
// returned original message, which may be large, is never read beyond its header.
const (
	maxStatusPart = 64 << 10
	maxTextPart   = 256 << 10
	maxHeader     = 256 << 10
)

// msgInfo is what the bounce message's own header says.
type msgInfo struct {
	id      string
	rawDate string
	from    string
	subject string
	parsed  bool
	d       time.Time
}

// date parses the Date header on first use: most events carry their own date, and a
// date that fails to parse costs several allocations.
func (m *msgInfo) date() time.Time {
	if !m.parsed {
		m.parsed = true
		m.d = parseDate(m.rawDate)
	}
	return m.d
}

// parseDate parses an RFC 5322 date; the zero time when it is empty or malformed.
func parseDate(s string) time.Time {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}
	}
	// The usual form first, without its comment: mail.ParseDate tries a dozen layouts,
	// and each that fails allocates an error.
	fast := s
	if i := strings.IndexByte(fast, '('); i > 0 {
		fast = strings.TrimSpace(fast[:i])
	}
	if t, err := time.Parse("Mon, _2 Jan 2006 15:04:05 -0700", fast); err == nil {
		return t
	}
	t, err := mail.ParseDate(s)
	if err != nil {
		return time.Time{}
	}
	return t
}

// fieldReaders are reused to read the field groups of delivery-status parts.
var fieldReaders = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 4096) }}

// ParseMessage reads one RFC 5322 message and returns the events it reports: one per
// recipient of an RFC 3464 delivery status notification (multipart/report with a
// message/delivery-status part), of an RFC 5965 abuse report (a complaint), or of a
// plain-text bounce in the formats of Exim, qmail, Yahoo and Microsoft Exchange.
//
// A message that is no bounce returns [ErrNotBounce], a bounce without a readable
// recipient [ErrNoRecipient]. A broken MIME structure (a truncated message, a bad
// part) returns the events found before the break together with the error.
func ParseMessage(r io.Reader) ([]Event, error) {
	e, err := message.ReadWithOptions(r, &message.ReadOptions{MaxHeaderBytes: maxHeader})
	if e == nil {
		return nil, fmt.Errorf("dsn: header: %w", err)
	}
	h := e.Header
	info := msgInfo{id: strings.Trim(strings.TrimSpace(h.Get("Message-Id")), "<>"), rawDate: h.Get("Date")}
	info.from, _ = h.Text("From")
	info.subject, _ = h.Text("Subject")
	// A delivery status notification says all in its status part: its text is read
	// only by the fallback for the rest, and the returned message only for complaints.
	_, params, _ := h.ContentType()
	reportType := strings.ToLower(params["report-type"])

	var (
		events   []Event
		texts    []string // text/plain bodies, in order
		html     string
		report   bool // a delivery-status or feedback part was found
		feedback textproto.Header
		original textproto.Header // header of the returned message
		partErr  error
	)
	walkErr := e.Walk(func(_ []int, p *message.Entity, err error) error {
		if err != nil && !message.IsUnknownCharset(err) && !message.IsUnknownEncoding(err) {
			return err
		}
		t, _, _ := p.Header.ContentType()
		switch t {
		case "message/delivery-status", "message/global-delivery-status":
			report = true
			evs, err := parseDeliveryStatus(io.LimitReader(p.Body, maxStatusPart), &info)
			events = append(events, evs...)
			if err != nil && partErr == nil {
				partErr = err
			}
		case "message/feedback-report":
			report = true
			feedback, _ = readFields(io.LimitReader(p.Body, maxStatusPart))
		case "message/rfc822", "message/global", "text/rfc822-headers", "message/rfc822-headers":
			if reportType == "feedback-report" && original.Len() == 0 {
				original, _ = textproto.ReadHeader(bufio.NewReader(io.LimitReader(p.Body, maxHeader)))
			}
		case "text/plain", "":
			if reportType != "delivery-status" && len(texts) < 4 {
				b, _ := io.ReadAll(io.LimitReader(p.Body, maxTextPart))
				texts = append(texts, string(b))
			}
		case "text/html":
			if reportType != "delivery-status" && html == "" {
				b, _ := io.ReadAll(io.LimitReader(p.Body, maxTextPart))
				html = htmlText(string(b))
			}
		}
		return nil
	})
	if walkErr != nil {
		walkErr = fmt.Errorf("dsn: MIME: %w", walkErr)
	}
	if feedback.Len() > 0 {
		events = append(events, complaintEvents(feedback, original, &info)...)
	}
	if len(events) == 0 && !report {
		if html != "" {
			texts = append(texts, html)
		}
		if looksLikeBounce(&info, texts) {
			events = textBounces(texts, &info)
			if len(events) == 0 {
				return nil, errors.Join(ErrNoRecipient, walkErr)
			}
		} else if walkErr == nil {
			return nil, ErrNotBounce
		}
	}
	if len(events) == 0 && walkErr == nil {
		if partErr != nil {
			return nil, partErr
		}
		return nil, ErrNoRecipient
	}
	return events, walkErr
}

// parseDeliveryStatus reads the fields of a message/delivery-status part (RFC 3464 §2):
// a group of per-message fields, then a group per recipient, separated by blank lines.
// Lines holding only white space count as blank, since some MTAs write them.
func parseDeliveryStatus(r io.Reader, info *msgInfo) ([]Event, error) {
	body, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("dsn: delivery-status: %w", err)
	}
	var events []Event
	var perMsg textproto.Header
	first := true
	var firstErr error
	for _, block := range splitBlocks(body) {
		h, err := readFields(bytes.NewReader(block))
		if err != nil && firstErr == nil {
			firstErr = fmt.Errorf("dsn: delivery-status: %w", err)
		}
		if first {
			first = false
			if !h.Has("Final-Recipient") && !h.Has("Original-Recipient") {
				perMsg = h
				continue
			}
		}
		if ev, ok := recipientEvent(h, perMsg, info); ok {
			events = append(events, ev)
		}
	}
	if len(events) == 0 && firstErr == nil {
		firstErr = errors.New("dsn: delivery-status names no recipient")
	}
	return events, firstErr
}

// splitBlocks splits b into groups of lines separated by blank lines.
func splitBlocks(b []byte) [][]byte {
	var blocks [][]byte
	var cur []byte
	for len(b) > 0 {
		line := b
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i+1], b[i+1:]
		} else {
			b = nil
		}
		if len(bytes.TrimSpace(line)) == 0 {
			if len(cur) > 0 {
				blocks = append(blocks, cur)
				cur = nil
			}
			continue
		}
		cur = append(cur, line...)
	}
	if len(cur) > 0 {
		blocks = append(blocks, cur)
	}
	return blocks
}

// readFields reads one group of header-style fields.
func readFields(r io.Reader) (textproto.Header, error) {
	br := fieldReaders.Get().(*bufio.Reader)
	br.Reset(r)
	h, err := textproto.ReadHeader(br)
	br.Reset(nil)
	fieldReaders.Put(br)
	return h, err
}

// recipientEvent turns a per-recipient group into an Event.
func recipientEvent(h, perMsg textproto.Header, info *msgInfo) (Event, bool) {
	// The original recipient is the address as the sender wrote it, which is what a
	// mailing list holds; the final one may be an alias it expanded to.
	email := normalize(h.Get("Original-Recipient"))
	if email == "" {
		email = normalize(h.Get("Final-Recipient"))
	}
	if email == "" {
		return Event{}, false
	}
	ev := Event{Email: email, ID: info.id, Source: "dsn"}
	ev.Status = strings.TrimSpace(h.Get("Status"))
	if f, _, ok := strings.Cut(ev.Status, " "); ok {
		ev.Status = f // "5.1.1 (bad destination mailbox)"
	}
	ev.Diagnostic = joinContinuations(typedValue(h.Get("Diagnostic-Code")))
	ev.RemoteMTA = typedValue(h.Get("Remote-MTA"))
	for _, d := range []string{h.Get("Last-Attempt-Date"), perMsg.Get("Arrival-Date")} {
		if ev.Date = parseDate(d); !ev.Date.IsZero() {
			break
		}
	}
	if ev.Date.IsZero() {
		ev.Date = info.date()
	}
	if ev.ID == "" {
		// No Message-ID: the fields themselves identify the bounce.
		ev.ID = "dsn:" + ev.Date.UTC().Format(time.RFC3339) + ":" + ev.Status + ":" + ev.Diagnostic
	}
	action := strings.ToLower(strings.TrimSpace(h.Get("Action")))
	switch action {
	case "delayed":
		ev.Kind = KindDelayed
		_, ev.Reason = classify(0, ev.Status, ev.Diagnostic, true)
		return ev, true
	case "delivered", "relayed", "expanded":
		ev.Kind, ev.Reason = KindDelivery, "accepted"
		return ev, true
	}
	ev.Code, _, _ = splitReply(ev.Diagnostic)
	ev.Kind, ev.Reason = classifyFailure(0, ev.Status, ev.Diagnostic, false)
	return ev, true
}

// joinContinuations drops the code prefixes of the continuation lines of a multi-line
// reply that a DSN quotes folded: "550-5.1.1 The email account … 550-5.1.1 double-checking
// … 550 5.1.1 https://…" becomes "550 5.1.1 The email account … double-checking … https://…".
func joinContinuations(diag string) string {
	code, st, rest := splitReply(diag)
	if code == 0 {
		return diag
	}
	prefix := strconv.Itoa(code)
	for _, sep := range []string{"-", " "} {
		p := " " + prefix + sep
		if st != "" {
			p += st + " "
		}
		rest = strings.ReplaceAll(rest, p, " ")
	}
	head := prefix
	if st != "" {
		head += " " + st
	}
	return head + " " + strings.Join(strings.Fields(rest), " ")
}

// typedValue strips the type of a typed DSN field: "smtp; 550 5.1.1 User unknown".
func typedValue(v string) string {
	v = strings.TrimSpace(v)
	if typ, rest, ok := strings.Cut(v, ";"); ok && !strings.ContainsAny(typ, " @") {
		return strings.TrimSpace(rest)
	}
	return v
}

// complaintEvents turns an RFC 5965 feedback report into complaints. The complaining
// recipient is the report's Original-Rcpt-To, else the To of the returned message.
func complaintEvents(fb, original textproto.Header, info *msgInfo) []Event {
	if t := strings.ToLower(strings.TrimSpace(fb.Get("Feedback-Type"))); t != "" && t != "abuse" && t != "fraud" && t != "other" {
		return nil // not-spam, virus, auth-failure: no complaint about our mail
	}
	rcpts := fb.Values("Original-Rcpt-To")
	if len(rcpts) == 0 {
		if list, err := mail.ParseAddressList(original.Get("To")); err == nil {
			for _, a := range list {
				rcpts = append(rcpts, a.Address)
			}
		}
	}
	date := parseDate(fb.Get("Arrival-Date"))
	if date.IsZero() {
		date = info.date()
	}
	var events []Event
	for _, r := range rcpts {
		if email := normalize(r); email != "" {
			events = append(events, Event{Email: email, Kind: KindComplaint, Reason: ReasonComplaint,
				Date: date, ID: info.id, Source: "arf", Diagnostic: "feedback report: abuse"})
		}
	}
	return events
}
