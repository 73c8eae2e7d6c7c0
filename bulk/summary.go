package bulk

import (
	"github.com/everify/everify/csvio"
	"github.com/everify/everify/verify"
)

// Summary counts what a run did.
type Summary struct {
	Rows       int // rows verified by this run (duplicates and cached included)
	ByStatus   map[verify.Status]int
	ByReason   map[verify.Reason]int
	Duplicates int // rows whose address an earlier row of the run had
	Malformed  int // rows with a csvio Record.Problem
	Cached     int // verdicts taken from the store
	Skipped    int // rows an earlier run had done (Job.Skip)
	Passed     int // rows Job.Pass copied
	Progress   Progress
}

func newSummary() *Summary {
	return &Summary{ByStatus: map[verify.Status]int{}, ByReason: map[verify.Reason]int{}}
}

func (s *Summary) add(r *verify.Result, rec *csvio.Record) {
	s.Rows++
	s.ByStatus[r.Status]++
	s.ByReason[r.Reason]++
	if rec.Problem != "" {
		s.Malformed++
	}
}
