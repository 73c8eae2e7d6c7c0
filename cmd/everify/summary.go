package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/everify/everify/bulk"
	"github.com/everify/everify/verify"
)

// summary counts bulk results for the report printed on stderr at the end.
type summary struct {
	rows       int
	byStatus   map[verify.Status]int
	byReason   map[verify.Reason]int
	byProvider map[string]int // recognised mail providers only
	duplicates int
	malformed  int
	empty      int // rows with no data at all: written, but not counted by status
	cached     int // verdicts taken from the result store
	skipped    int // rows an earlier run had done (--resume)
	passed     int // rows recheck copied unchanged
}

func newSummary() *summary {
	return &summary{byStatus: map[verify.Status]int{}, byReason: map[verify.Reason]int{},
		byProvider: map[string]int{}}
}

func (s *summary) add(r *verify.Result) {
	s.rows++
	s.byStatus[r.Status]++
	s.byReason[r.Reason]++
	if r.Domain.Provider != "" {
		s.byProvider[r.Domain.Provider]++
	}
}

// addEmpty counts a row with no data: in the rows, not in the statuses.
func (s *summary) addEmpty() {
	s.rows++
	s.empty++
}

// counts takes what the bulk engine counted and the emitter could not see.
func (s *summary) counts(b *bulk.Summary) {
	s.duplicates, s.malformed = b.Duplicates, b.Malformed
	s.cached, s.skipped, s.passed = b.Cached, b.Skipped, b.Passed
}

// printSummary writes the report of a run the bulk engine counted alone (recheck).
func printSummary(w io.Writer, b *bulk.Summary, elapsed time.Duration, st verify.Stats, smtp bool) {
	s := newSummary()
	s.rows = b.Rows
	maps.Copy(s.byStatus, b.ByStatus)
	maps.Copy(s.byReason, b.ByReason)
	s.counts(b)
	s.print(w, elapsed, st, smtp)
}

// print writes the report of a bulk run to w (stderr).
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
	if s.cached > 0 {
		fmt.Fprintf(&b, ", %d from the store", s.cached)
	}
	if s.skipped > 0 {
		fmt.Fprintf(&b, ", resumed after %d", s.skipped)
	}
	if s.passed > 0 {
		fmt.Fprintf(&b, ", %d copied unchanged", s.passed)
	}
	if s.empty > 0 {
		fmt.Fprintf(&b, ", %d %s", s.empty, plural(s.empty, "empty row", "empty rows"))
	}
	b.WriteString("\n")
	for _, status := range verify.Statuses {
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
	if len(s.byProvider) > 0 {
		fmt.Fprintf(&b, "  %-14s %s\n", "providers", s.providers())
	}
	if smtp {
		fmt.Fprintf(&b, "  dns queries %d, smtp sessions %d (at most %d at once to one server), smtp round trips %d\n",
			st.DNSQueries, st.Sessions, st.PeakPerServer, st.RoundTrips)
	} else if st.DNSQueries > 0 {
		fmt.Fprintf(&b, "  dns queries %d\n", st.DNSQueries)
	}
	io.WriteString(w, b.String())
}

// providers lists the recognised mail providers with their rows and share of all rows,
// the largest first: "google 120 (40.0%), microsoft 80 (26.7%)".
func (s *summary) providers() string {
	names := make([]string, 0, len(s.byProvider))
	for name := range s.byProvider {
		names = append(names, name)
	}
	slices.SortFunc(names, func(a, b string) int {
		if d := s.byProvider[b] - s.byProvider[a]; d != 0 {
			return d
		}
		return strings.Compare(a, b)
	})
	parts := make([]string, len(names))
	for i, name := range names {
		n := s.byProvider[name]
		parts[i] = fmt.Sprintf("%s %d (%.1f%%)", name, n, 100*float64(n)/float64(max(s.rows, 1)))
	}
	return strings.Join(parts, ", ")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
