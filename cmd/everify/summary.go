package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/everify/everify/bulk"
	"github.com/everify/everify/verify"
)

// printSummary writes the report of a bulk run to w (stderr).
func printSummary(w io.Writer, s *bulk.Summary, elapsed time.Duration, st verify.Stats, smtp bool) {
	var b strings.Builder
	rate := 0.0
	if elapsed > 0 {
		rate = float64(s.Rows) / elapsed.Seconds()
	}
	fmt.Fprintf(&b, "everify: %d rows in %s (%.0f addresses/s)", s.Rows, elapsed.Round(time.Millisecond), rate)
	if s.Duplicates > 0 {
		fmt.Fprintf(&b, ", %d %s", s.Duplicates, plural(s.Duplicates, "duplicate", "duplicates"))
	}
	if s.Malformed > 0 {
		fmt.Fprintf(&b, ", %d %s", s.Malformed, plural(s.Malformed, "malformed row", "malformed rows"))
	}
	if s.Cached > 0 {
		fmt.Fprintf(&b, ", %d from the store", s.Cached)
	}
	if s.Skipped > 0 {
		fmt.Fprintf(&b, ", resumed after %d", s.Skipped)
	}
	if s.Passed > 0 {
		fmt.Fprintf(&b, ", %d copied unchanged", s.Passed)
	}
	b.WriteString("\n")
	for _, status := range []verify.Status{verify.StatusDeliverable, verify.StatusUndeliverable,
		verify.StatusRisky, verify.StatusUnknown} {
		n := s.ByStatus[status]
		if n == 0 {
			continue
		}
		var reasons []string
		for _, reason := range verify.Reasons {
			if reason.Status() == status && s.ByReason[reason] > 0 {
				reasons = append(reasons, fmt.Sprintf("%s %d", reason, s.ByReason[reason]))
			}
		}
		slices.Sort(reasons)
		fmt.Fprintf(&b, "  %-14s %7d  %5.1f%%  (%s)\n", status, n, 100*float64(n)/float64(max(s.Rows, 1)), strings.Join(reasons, ", "))
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
