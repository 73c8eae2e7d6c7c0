package main

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/everify/everify/internal/fakes"
)

// writeOfflineList writes an n-row CSV export: mostly free-mail and company addresses,
// some disposable, typo, reserved and invalid ones, a quoted company column.
func writeOfflineList(tb testing.TB, n int) string {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "list.csv")
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	rng := rand.New(rand.NewPCG(1, 2))
	domains := []string{"gmail.com", "yahoo.com", "hotmail.com", "outlook.com", "corp%d.com",
		"corp%d.com", "mailinator.com", "gmial.com", "example.com", "bücher.de"}
	fmt.Fprintln(w, "id,first_name,last_name,email,company,signup")
	for i := range n {
		d := domains[rng.IntN(len(domains))]
		if d == "corp%d.com" {
			d = fmt.Sprintf(d, i%5000)
		}
		local := "user" + strconv.Itoa(i)
		if i%50 == 0 {
			local = "bad..dots"
		}
		fmt.Fprintf(w, "%d,First%d,Last%d,%s@%s,\"Company %d, Inc\",2026-01-%02d\n", i, i, i, local, d, i%977, i%28+1)
	}
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	f.Close()
	return path
}

// runMeasured runs the built binary and returns its wall time and peak RSS.
//
// The peak is the child's own VmHWM, read from /proc while it runs: the rusage of a
// child on Linux also counts the RSS of the parent it was forked from (the high-water
// mark survives exec), and this parent holds the fake servers of the world.
func runMeasured(b *testing.B, args ...string) (time.Duration, int64) {
	b.Helper()
	cmd := exec.Command(binPath(b), args...)
	cmd.Stdout, cmd.Stderr = nil, nil
	start := time.Now()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	stop := make(chan struct{})
	peak := make(chan int64, 1)
	go func() {
		var hwm int64
		status := fmt.Sprintf("/proc/%d/status", cmd.Process.Pid)
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			if kb := vmHWM(status); kb > 0 {
				hwm = kb * 1024
			}
			select {
			case <-stop:
				peak <- hwm
				return
			case <-tick.C:
			}
		}
	}()
	err := cmd.Wait()
	wall := time.Since(start)
	close(stop)
	rss := <-peak
	if ee, ok := err.(*exec.ExitError); ok && ee.ExitCode() != 0 {
		b.Fatalf("everify %v: %v", args, err)
	} else if err != nil && !ok {
		b.Fatal(err)
	}
	if rss == 0 { // ended before the first reading
		rss = cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss * 1024
	}
	return wall, rss
}

// vmHWM returns the VmHWM line of a /proc/PID/status file in kB, or 0.
func vmHWM(path string) int64 {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(data)) {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb
		}
	}
	return 0
}

// BenchmarkBulkOffline1M: `everify bulk --offline` on a generated 1,000,000-row CSV,
// the built binary as a user runs it. Reports wall seconds and peak RSS per run.
//
//	go test ./cmd/everify -run '^$' -bench BulkOffline1M -benchtime 3x
func BenchmarkBulkOffline1M(b *testing.B) {
	path := writeOfflineList(b, 1_000_000)
	var wall time.Duration
	var rss int64
	for b.Loop() {
		w, r := runMeasured(b, "bulk", "--offline", "--progress", "never", path, "-o", os.DevNull)
		wall += w
		rss = max(rss, r)
	}
	b.ReportMetric(wall.Seconds()/float64(b.N), "wall-s/run")
	b.ReportMetric(float64(rss)/(1<<20), "peak-RSS-MB")
	b.ReportMetric(1e6*float64(b.N)/wall.Seconds(), "rows/s")
}

// BenchmarkBulkOfflineInProcess is the same pipeline in-process, for profiling:
//
//	go test ./cmd/everify -run '^$' -bench BulkOfflineInProcess -cpuprofile cpu.out
func BenchmarkBulkOfflineInProcess(b *testing.B) {
	const rows = 200_000
	path := writeOfflineList(b, rows)
	b.ReportAllocs()
	for b.Loop() {
		ios, _, _ := testStreams("")
		if code := run(context.Background(), []string{"bulk", "--offline", path, "-o", os.DevNull}, ios); code != 0 {
			b.Fatalf("exit %d", code)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*rows), "ns/row")
}

// BenchmarkBulkOnline: the bulk engine against fake DNS and SMTP servers with a 20 ms
// round-trip latency and Postfix's error limits (soft 10 with 1 s sleeps, hard 20),
// on generated addresses over many domains (real, unknown and catch-all). Reports
// addresses/s, SMTP sessions and round trips per address (counted by the servers),
// DNS queries per domain, and peak RSS of the binary; without and with a result store
// (what writing every verdict costs).
//
//	go test ./cmd/everify -run '^$' -bench 'BulkOnline$' -benchtime 1x
func BenchmarkBulkOnline(b *testing.B) {
	benchBulkOnline(b, []bulkCase{{5000, 50, 25, false}, {5000, 50, 25, true}, {20000, 200, 50, false}, {20000, 200, 50, true}})
}

// BenchmarkBulkOnline1M is BenchmarkBulkOnline on 1,000,000 rows: the peak RSS of the
// binary must not grow with the list (the read-ahead is bounded), here with and without
// the result store.
//
//	go test ./cmd/everify -run '^$' -bench BulkOnline1M -benchtime 1x
func BenchmarkBulkOnline1M(b *testing.B) {
	benchBulkOnline(b, []bulkCase{{1_000_000, 2000, 100, false}, {1_000_000, 2000, 100, true}})
}

// bulkCase is one world of the online benchmarks.
type bulkCase struct {
	rows, domains, hosts int
	store                bool
}

func benchBulkOnline(b *testing.B, cases []bulkCase) {
	for _, bc := range cases {
		b.Run(fmt.Sprintf("rows=%d/domains=%d/mx=%d/store=%v", bc.rows, bc.domains, bc.hosts, bc.store), func(b *testing.B) {
			var wall time.Duration
			var rss int64
			var sessions, rtts, rows, queries, domains int
			for b.Loop() {
				b.StopTimer()
				w := fakes.NewBulkWorld(b, fakes.BulkSpec{Rows: bc.rows, Domains: bc.domains, MXHosts: bc.hosts,
					CatchAllEvery: 10, UnknownPercent: 30, DuplicatePercent: 5,
					Latency: 20 * time.Millisecond, SoftErrorLimit: 10, HardErrorLimit: 20, MaxSessions: 2, Seed: 7})
				in := filepath.Join(b.TempDir(), "list.csv")
				os.WriteFile(in, w.CSV, 0o644)
				b.StartTimer()
				storeArgs := []string{"--no-store"}
				if bc.store { // a new store each time: every verdict is written, none reused
					storeArgs = []string{"--store", filepath.Join(b.TempDir(), "s.db")}
				}
				args := append([]string{"bulk", "--progress", "never", in, "-o", os.DevNull}, bulkWorldArgs(w)...)
				wl, r := runMeasured(b, append(args, storeArgs...)...)
				b.StopTimer()
				wall += wl
				rss = max(rss, r)
				s, _, rt, tooMany := w.Totals()
				if tooMany > 0 {
					b.Errorf("%d '421 too many errors'", tooMany)
				}
				sessions += s
				rtts += rt
				rows += bc.rows
				queries += w.DNS.Queries()
				domains += bc.domains
				b.StartTimer()
			}
			b.ReportMetric(float64(rows)/wall.Seconds(), "addr/s")
			b.ReportMetric(float64(sessions)/float64(rows), "sessions/addr")
			b.ReportMetric(float64(rtts)/float64(rows), "roundtrips/addr")
			b.ReportMetric(float64(queries)/float64(domains), "dns-queries/domain")
			b.ReportMetric(float64(rss)/(1<<20), "peak-RSS-MB")
		})
	}
}
