package verify

import "time"

// SetStickyFor changes how long failed servers are not retried, for the test's life.
func SetStickyFor(d time.Duration) (restore func()) {
	prev := stickyFor
	stickyFor = d
	return func() { stickyFor = prev }
}
