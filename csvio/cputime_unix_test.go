//go:build unix

package csvio

import "syscall"

// cpuTime returns the process's user+system CPU time in nanoseconds. Benchmarks report
// it per row because wall time is unreliable on a loaded machine.
func cpuTime() int64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
