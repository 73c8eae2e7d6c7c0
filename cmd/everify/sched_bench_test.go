package main

import (
	"bytes"
	"encoding/csv"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/everify/everify/internal/fakes"
)

// BenchmarkSchedule runs `everify bulk` (the built binary, default flags) against the
// scheduler's three worlds, with fake DNS and SMTP servers that delay every reply by a
// 40 ms round trip and have Postfix's error limits (replies delayed after 10 rejections
// in a session, 421 after 20); the servers fail the run on more than 2 sessions at
// once, a nested MAIL, or two domains in one transaction:
//
//   - hosted: 1,000 addresses over 300 company domains on one server address (half
//     sharing one MX name as Workspace tenants do, half with their own names as
//     Microsoft 365 tenants), heavy-tailed domain frequency, 45/40/15 real / unknown /
//     on a catch-all domain;
//   - few: the same mix over 7 domains on 3 servers;
//   - many: 10,000 domains each on its own server address, 1–3 addresses each.
//
// It reports addresses/s, sessions and round trips per address (counted by the
// servers), the peak of sessions open at once to one server, and wall time over the
// lower bound of fakes.World.LowerBound: per server ceil(rejections/10) sessions of 3
// round trips, 2 at a time, plus a DNS round trip; and the refusals the servers saw over
// the least possible. Every verdict is checked.
//
//	go test ./cmd/everify -run '^$' -bench Schedule -benchtime 1x
func BenchmarkSchedule(b *testing.B) {
	const rtt = 40 * time.Millisecond
	worlds := []struct {
		name string
		spec fakes.WorldSpec
	}{
		{"hosted", fakes.WorldSpec{Rows: 1000, Domains: 300, Servers: 1, OwnNames: true, Zipf: 1.2,
			UnknownPercent: 40, CatchAllPercent: 15}},
		{"few", fakes.WorldSpec{Rows: 1000, Domains: 7, Servers: 3, UnknownPercent: 40, CatchAllPercent: 15}},
		{"many", fakes.WorldSpec{Domains: 10_000, Servers: 10_000, PerDomain: [2]int{1, 3},
			UnknownPercent: 40, CatchAllPercent: 15}},
	}
	for _, wc := range worlds {
		b.Run(wc.name, func(b *testing.B) {
			var wall, bound time.Duration
			var rows, sessions, rtts, peak, rejected, minRejected int
			for b.Loop() {
				b.StopTimer()
				spec := wc.spec
				spec.Latency, spec.SoftErrorLimit, spec.HardErrorLimit, spec.MaxSessions = rtt, 10, 20, 2
				spec.Seed = uint64(b.N)
				w := fakes.NewWorld(b, spec)
				dir := b.TempDir()
				in, out := filepath.Join(dir, "list.csv"), filepath.Join(dir, "out.csv")
				os.WriteFile(in, w.CSV, 0o644)
				b.StartTimer()
				wl, _ := runMeasured(b, "bulk", "--progress", "never", in, "-o", out,
					"--resolver", w.DNS.Addr(), "--smtp-port", strconv.Itoa(w.Farm.Port), "--helo", "prober.everify.zz")
				b.StopTimer()
				checkWorld(b, w, out)
				for i, srv := range w.Servers {
					rejected += srv.Rejected()
					minRejected += w.UnknownPerServer[i] + w.ProbesPerServer[i]
				}
				s, rt, tooMany, mo := w.Totals()
				if tooMany > 0 {
					b.Errorf("%d '421 too many errors'", tooMany)
				}
				wall += wl
				bound += w.LowerBound(2, 10)
				rows += len(w.Want)
				sessions += s
				rtts += rt
				peak = max(peak, mo)
				b.StartTimer()
			}
			b.ReportMetric(float64(rows)/wall.Seconds(), "addr/s")
			b.ReportMetric(float64(sessions)/float64(rows), "sessions/addr")
			b.ReportMetric(float64(rtts)/float64(rows), "roundtrips/addr")
			b.ReportMetric(float64(peak), "peak-sessions/server")
			b.ReportMetric(wall.Seconds()/bound.Seconds(), "x-lower-bound")
			// Refusals over the least possible: the unknown addresses plus a refused
			// catch-all probe per domain none of whose addresses was refused.
			b.ReportMetric(float64(rejected)/float64(minRejected), "x-min-rejections")
		})
	}
}

// checkWorld fails b unless every row of the bulk output at path has its verdict.
func checkWorld(b *testing.B, w *fakes.World, path string) {
	b.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	recs, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil {
		b.Fatal(err)
	}
	if len(recs) != len(w.Want)+1 {
		b.Fatalf("%d output rows, want %d", len(recs)-1, len(w.Want))
	}
	wrong := 0
	for i, want := range w.Want {
		rec := recs[i+1]
		if rec[2] != want.Status || rec[3] != want.Reason {
			if wrong < 5 {
				b.Errorf("%s: %s/%s, want %s/%s (%q)", want.Addr, rec[2], rec[3], want.Status, want.Reason, rec)
			}
			wrong++
		}
	}
	if wrong > 0 {
		b.Errorf("%d of %d verdicts wrong", wrong, len(w.Want))
	}
}
