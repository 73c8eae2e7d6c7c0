//go:build !unix

package csvio

func cpuTime() int64 { return 0 }
