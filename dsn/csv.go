package dsn

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/everify/everify/csvio"
	"github.com/everify/everify/verify"
)

// Header names of the generic bounce CSV, compared after lower-casing and turning
// spaces and hyphens into underscores. The address column is csvio's choice.
var (
	csvStatusCols = []string{"status", "code", "smtp_code", "status_code", "bounce_code",
		"smtp_status", "enhanced_code", "enhanced_status", "reply_code", "dsn"}
	csvDiagCols = []string{"diagnostic", "diagnostic_code", "reason", "message", "description",
		"details", "error", "response", "smtp_response", "bounce_reason"}
	csvDateCols = []string{"date", "timestamp", "time", "created_at", "bounced_at", "datetime",
		"created", "event_time"}
	csvTypeCols = []string{"type", "bounce_type", "event", "event_type", "state", "kind", "category"}
	csvIDCols   = []string{"id", "event_id", "message_id", "messageid", "sg_event_id"}
)

// csvColumns are the indexes of the generic CSV's columns; -1 when absent.
type csvColumns struct{ status, diag, date, typ, id int }

// scanCSV reads a generic bounce CSV (email, status or code, diagnostic, date; also a
// type column saying hard/soft/complaint/delivered and an id column), with the
// delimiter, header and address column that csvio detects for `everify bulk`.
func (s *Scanner) scanCSV(ctx context.Context, name string, br *bufio.Reader) error {
	rd, err := csvio.NewReader(br, csvio.Options{})
	if err != nil {
		s.problem(name, "", fmt.Errorf("not a bounce source (mbox, message, JSON or CSV): %w", err))
		return nil
	}
	hdr := rd.Header()
	if hdr == nil || rd.Plain() {
		s.problem(name, "", errors.New("CSV without a header naming a status, code or type column"))
		return nil
	}
	names, err := splitCSV(hdr.Raw, rd.Delimiter())
	if err != nil {
		s.problem(name, "line 1", err)
		return nil
	}
	cols := csvColumns{status: findCol(names, csvStatusCols), diag: findCol(names, csvDiagCols),
		date: findCol(names, csvDateCols), typ: findCol(names, csvTypeCols), id: findCol(names, csvIDCols)}
	if cols.status < 0 && cols.typ < 0 && cols.diag < 0 {
		s.problem(name, "line 1", fmt.Errorf("no status, code, type or diagnostic column among %q", names))
		return nil
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		rec, err := rd.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			s.problem(name, "", err)
			return nil
		}
		s.Stats.Messages++
		pos := fmt.Sprintf("line %d", rec.Line)
		if rec.Problem != "" {
			s.problem(name, pos, errors.New(rec.Problem))
			continue
		}
		fields, err := splitCSV(rec.Raw, rd.Delimiter())
		if err != nil {
			s.problem(name, pos, err)
			continue
		}
		ev, err := csvEvent(rec.Address, fields, cols, string(rec.Raw))
		switch {
		case errors.Is(err, ErrNotBounce):
			s.Stats.NotBounces++
		case err != nil:
			s.problem(name, pos, err)
		default:
			if err := s.emit(ev); err != nil {
				return err
			}
		}
	}
}

func splitCSV(raw []byte, delim byte) ([]string, error) {
	r := csv.NewReader(strings.NewReader(string(raw)))
	r.Comma = rune(delim)
	r.FieldsPerRecord = -1
	r.LazyQuotes = true
	return r.Read()
}

func findCol(names []string, want []string) int {
	for _, w := range want {
		for i, n := range names {
			n = strings.NewReplacer(" ", "_", "-", "_").Replace(strings.ToLower(strings.TrimSpace(n)))
			if n == w {
				return i
			}
		}
	}
	return -1
}

func field(fields []string, i int) string {
	if i < 0 || i >= len(fields) {
		return ""
	}
	return strings.TrimSpace(fields[i])
}

// csvEvent makes the event of one row. Codes and text decide, as for every bounce; the
// type column decides alone only for complaints and deliveries, or when the row quotes
// no code and no text.
func csvEvent(addr string, fields []string, cols csvColumns, raw string) (Event, error) {
	ev := Event{Email: normalize(addr), Source: "csv", Date: parseTime(field(fields, cols.date))}
	if ev.Email == "" {
		return ev, fmt.Errorf("invalid address %q", addr)
	}
	ev.ID = "csv:" + field(fields, cols.id)
	if field(fields, cols.id) == "" {
		ev.ID = "csv:" + raw
	}
	typ := strings.ToLower(field(fields, cols.typ))
	switch {
	case strings.Contains(typ, "complain"), strings.Contains(typ, "spam"), strings.Contains(typ, "abuse"):
		ev.Kind, ev.Reason = KindComplaint, ReasonComplaint
		return ev, nil
	case strings.HasPrefix(typ, "deliver"), typ == "sent", typ == "success":
		ev.Kind, ev.Reason = KindDelivery, verify.ReasonAccepted
		return ev, nil
	case strings.HasPrefix(typ, "open"), strings.HasPrefix(typ, "click"), strings.HasPrefix(typ, "unsub"):
		return ev, ErrNotBounce
	}
	status := field(fields, cols.status)
	ev.Diagnostic = field(fields, cols.diag)
	diag := ev.Diagnostic
	switch {
	case validStatus(status) != "":
		ev.Status = status
	case status != "":
		diag = status + " " + diag // "550" or "550 5.1.1": splitReply reads it
	}
	soft := strings.Contains(typ, "soft") || strings.Contains(typ, "transient") || strings.Contains(typ, "temp")
	ev.Code, _, _ = splitReply(diag)
	if ev.Code == 0 && ev.Status == "" && diag == "" {
		switch {
		case strings.Contains(typ, "hard"), strings.Contains(typ, "permanent"):
			ev.Kind, ev.Reason = KindHard, verify.ReasonMailboxNotFound
		case soft:
			ev.Kind, ev.Reason = KindSoft, verify.ReasonSMTPTempFailure
		default:
			return ev, errors.New("row without status, code, type or diagnostic")
		}
		return ev, nil
	}
	if _, st, _ := splitReply(diag); ev.Status == "" {
		ev.Status = st
	}
	ev.Kind, ev.Reason = classifyFailure(0, ev.Status, diag, soft)
	return ev, nil
}
