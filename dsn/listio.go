package dsn

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/everify/everify/verify"
)

// Columns are the columns of a suppression list CSV, in order. The first ten are the
// report; suppressed says whether check and bulk treat the address as suppressed; the
// last three keep what merging needs to count each bounce once and to judge the
// soft-bounce run again.
var Columns = []string{"email", "state", "reason", "bounces", "soft_count", "first_seen",
	"last_seen", "last_status", "last_diagnostic", "source", "suppressed", "last_delivery",
	"soft_dates", "event_ids"}

// entryJSON is the NDJSON form of an Entry; field names are the CSV's columns.
type entryJSON struct {
	Email          string   `json:"email"`
	State          State    `json:"state"`
	Reason         string   `json:"reason"`
	Bounces        int      `json:"bounces"`
	SoftCount      int      `json:"soft_count"`
	FirstSeen      string   `json:"first_seen"`
	LastSeen       string   `json:"last_seen"`
	LastStatus     string   `json:"last_status"`
	LastDiagnostic string   `json:"last_diagnostic"`
	Source         string   `json:"source"`
	Suppressed     bool     `json:"suppressed"`
	LastDelivery   string   `json:"last_delivery"`
	SoftDates      []string `json:"soft_dates"`
	EventIDs       []string `json:"event_ids"`
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func (e *Entry) toJSON() entryJSON {
	j := entryJSON{Email: e.Email, State: e.State, Reason: string(e.Reason), Bounces: e.Bounces,
		SoftCount: e.SoftCount, FirstSeen: formatTime(e.FirstSeen), LastSeen: formatTime(e.LastSeen),
		LastStatus: e.LastStatus, LastDiagnostic: e.LastDiag, Source: e.Source,
		Suppressed: e.Suppressed, LastDelivery: formatTime(e.LastDelivery),
		SoftDates: []string{}, EventIDs: []string{}}
	for _, d := range e.SoftDates {
		j.SoftDates = append(j.SoftDates, formatTime(d))
	}
	for _, id := range e.EventIDs {
		j.EventIDs = append(j.EventIDs, fmt.Sprintf("%016x", id))
	}
	return j
}

// WriteCSV writes the list's entries as CSV, with a header of [Columns].
func (l *List) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(Columns); err != nil {
		return err
	}
	for _, e := range l.Entries() {
		j := e.toJSON()
		cw.Write([]string{j.Email, string(j.State), j.Reason, strconv.Itoa(j.Bounces),
			strconv.Itoa(j.SoftCount), j.FirstSeen, j.LastSeen, j.LastStatus, j.LastDiagnostic,
			j.Source, strconv.FormatBool(j.Suppressed), j.LastDelivery,
			strings.Join(j.SoftDates, " "), strings.Join(j.EventIDs, " ")})
	}
	cw.Flush()
	return cw.Error()
}

// WriteNDJSON writes the list's entries as one JSON object per line.
func (l *List) WriteNDJSON(w io.Writer) error {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	for _, e := range l.Entries() {
		if err := enc.Encode(e.toJSON()); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// Load adds the entries of a suppression list written by [List.WriteCSV] or
// [List.WriteNDJSON] (the format is recognised from the first byte). Any CSV with a
// header naming an "email" column is read too, the other columns being optional:
// without a "suppressed" column every listed address is suppressed, so an ESP's
// exported suppression list can be used as it is.
//
// With merge, the entries are judged anew by l's Policy as they are read, ready for
// more events (`everify bounces -o`). Without, the file's suppressed column stands,
// and an address listed by several files is suppressed if any of them says so (check
// and bulk --suppress). A malformed line is an error naming it.
func (l *List) Load(r io.Reader, merge bool) error {
	br := bufio.NewReader(r)
	if b, err := peekNonSpace(br); err == nil && b == '{' {
		return l.readNDJSON(br, merge)
	}
	return l.readCSV(br, merge)
}

func (l *List) readNDJSON(r io.Reader, merge bool) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for line := 1; sc.Scan(); line++ {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var j entryJSON
		if err := json.Unmarshal(sc.Bytes(), &j); err != nil {
			return fmt.Errorf("line %d: %w", line, err)
		}
		e, err := j.entry()
		if err != nil {
			return fmt.Errorf("line %d: %w", line, err)
		}
		l.put(e, merge)
	}
	return sc.Err()
}

func (l *List) readCSV(r io.Reader, merge bool) error {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil
	}
	if err != nil {
		return err
	}
	if len(header) > 0 {
		header[0] = strings.TrimPrefix(header[0], "\ufeff")
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.ToLower(strings.TrimSpace(h))] = i
	}
	if _, ok := col["email"]; !ok {
		return fmt.Errorf("line 1: no \"email\" column in the header %q", header)
	}
	_, hasSuppressed := col["suppressed"]
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		line, _ := cr.FieldPos(0)
		get := func(name string) string {
			if i, ok := col[name]; ok && i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		j := entryJSON{Email: get("email"), State: State(get("state")), Reason: get("reason"),
			FirstSeen: get("first_seen"), LastSeen: get("last_seen"), LastStatus: get("last_status"),
			LastDiagnostic: get("last_diagnostic"), Source: get("source"), LastDelivery: get("last_delivery"),
			SoftDates: strings.Fields(get("soft_dates")), EventIDs: strings.Fields(get("event_ids")),
			Suppressed: !hasSuppressed || get("suppressed") == "true"}
		for _, f := range []struct {
			name string
			dst  *int
		}{{"bounces", &j.Bounces}, {"soft_count", &j.SoftCount}} {
			if v := get(f.name); v != "" {
				if *f.dst, err = strconv.Atoi(v); err != nil {
					return fmt.Errorf("line %d: %s %q is not a number", line, f.name, v)
				}
			}
		}
		if !hasSuppressed {
			if j.State == "" {
				j.State = StateHard
			}
			j.Bounces = max(j.Bounces, 1)
		}
		e, err := j.entry()
		if err != nil {
			return fmt.Errorf("line %d: %w", line, err)
		}
		l.put(e, merge && hasSuppressed)
	}
}

// entry validates a record read back.
func (j *entryJSON) entry() (*Entry, error) {
	email := normalize(j.Email)
	if email == "" {
		return nil, fmt.Errorf("invalid address %q", j.Email)
	}
	switch j.State {
	case StateHard, StateSoft, StateComplaint, "":
	default:
		return nil, fmt.Errorf("invalid state %q: want hard, soft or complaint", j.State)
	}
	e := &Entry{Email: email, State: j.State, Reason: verify.Reason(j.Reason), Bounces: j.Bounces,
		SoftCount: j.SoftCount, LastStatus: j.LastStatus, LastDiag: j.LastDiagnostic,
		Source: j.Source, Suppressed: j.Suppressed}
	var err error
	for _, f := range []struct {
		name string
		v    string
		dst  *time.Time
	}{{"first_seen", j.FirstSeen, &e.FirstSeen}, {"last_seen", j.LastSeen, &e.LastSeen},
		{"last_delivery", j.LastDelivery, &e.LastDelivery}} {
		if f.v == "" {
			continue
		}
		if *f.dst, err = time.Parse(time.RFC3339, f.v); err != nil {
			return nil, fmt.Errorf("%s %q is not an RFC 3339 time", f.name, f.v)
		}
	}
	for _, d := range j.SoftDates {
		t, err := time.Parse(time.RFC3339, d)
		if err != nil {
			return nil, fmt.Errorf("soft_dates %q is not an RFC 3339 time", d)
		}
		e.SoftDates = append(e.SoftDates, t)
	}
	slices.SortFunc(e.SoftDates, time.Time.Compare)
	for _, id := range j.EventIDs {
		v, err := strconv.ParseUint(id, 16, 64)
		if err != nil {
			return nil, fmt.Errorf("event_ids %q is not a hexadecimal id", id)
		}
		e.EventIDs = append(e.EventIDs, v)
	}
	return e, nil
}
