package sched

// SetSlotEndsHook makes f run whenever a session slot that found no work is about to
// end, until restore is called.
func SetSlotEndsHook(f func()) (restore func()) {
	testHookSlotEnds = f
	return func() { testHookSlotEnds = nil }
}
