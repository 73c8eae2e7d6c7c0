package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/everify/everify/verify"
)

// summary counts bulk results for the report printed on stderr at the end.
type summary struct {
	rows       int
	byStatus   map[verify.Status]int
	byReason   map[verify.Reason]int
	duplicates int
	malformed  int
	empty      int // rows with no data at all: written, but not counted by status
}

func newSummary() *summary {
	return &summary{byStatus: map[verify.Status]int{}, byReason: map[verify.Reason]int{}}
}

func (s *summary) add(r *verify.Result) {
	s.rows++
	s.byStatus[r.Status]++
	s.byReason[r.Reason]++
}

// addEmpty counts a row with no data: in the rows, not in the statuses.
func (s *summary) addEmpty() {
	s.rows++
	s.empty++
}

func (s *summary) print(w io.Writer, elapsed time.Duration, st verify.Stats, smtp bool) {
	var b strings.Builder
	rate := 0.0
	if elapsed > 0 {
		rate = float64(s.rows) / elapsed.Seconds()
	}
	fmt.Fprintf(&b, "everify: %d rows in %s (%.0f addresses/s)", s.rows, elapsed.Round(time.Millisecond), rate)
	if s.duplicates > 0 {
		fmt.Fprintf(&b, ", %d %s", s.duplicates, plural(s.duplicates, "duplicate", "duplicates"))
	}
	if s.malformed > 0 {
		fmt.Fprintf(&b, ", %d %s", s.malformed, plural(s.malformed, "malformed row", "malformed rows"))
	}
	if s.empty > 0 {
		fmt.Fprintf(&b, ", %d %s", s.empty, plural(s.empty, "empty row", "empty rows"))
	}
	b.WriteString("\n")
	for _, status := range []verify.Status{verify.StatusDeliverable, verify.StatusUndeliverable,
		verify.StatusRisky, verify.StatusUnknown} {
		n := s.byStatus[status]
		if n == 0 {
			continue
		}
		var reasons []string
		for _, reason := range verify.Reasons {
			if reason.Status() == status && s.byReason[reason] > 0 {
				reasons = append(reasons, fmt.Sprintf("%s %d", reason, s.byReason[reason]))
			}
		}
		slices.Sort(reasons)
		fmt.Fprintf(&b, "  %-14s %7d  %5.1f%%  (%s)\n", status, n, 100*float64(n)/float64(max(s.rows-s.empty, 1)), strings.Join(reasons, ", "))
	}
	if smtp {
		fmt.Fprintf(&b, "  dns queries %d, smtp sessions %d, smtp round trips %d\n", st.DNSQueries, st.Sessions, st.RoundTrips)
	} else if st.DNSQueries > 0 {
		fmt.Fprintf(&b, "  dns queries %d\n", st.DNSQueries)
	}
	io.WriteString(w, b.String())
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
