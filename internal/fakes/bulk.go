package fakes

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// BulkSpec describes a generated mailing list and the fake servers behind it, for
// end-to-end tests and load benchmarks of `everify bulk`.
type BulkSpec struct {
	Rows    int // data rows of the CSV
	Domains int // distinct domains (d0.zz, d1.zz, ...)
	MXHosts int // exchangers shared by the domains (domain i uses host i % MXHosts); ≤ 250
	// CatchAllEvery makes every n-th domain catch-all; 0 means none.
	CatchAllEvery int
	// UnknownPercent of the rows name a mailbox that does not exist; DuplicatePercent
	// repeat an earlier row's address.
	UnknownPercent, DuplicatePercent int
	// Server behaviour: per-reply latency, Postfix-like error limits (soft limit with a
	// 1 s sleep, hard limit with 421), and the concurrency each server tolerates.
	Latency                        time.Duration
	SoftErrorLimit, HardErrorLimit int
	MaxSessions                    int
	Seed                           uint64
}

// BulkWorld is a running [BulkSpec]: its servers, the CSV and the verdict of every row.
type BulkWorld struct {
	DNS     *DNS
	Farm    *MXFarm
	Servers []*Server
	CSV     []byte    // header "id,name,email,note" then Rows rows
	Want    []ZooCase // per data row, in order
	Unknown int       // rows whose mailbox does not exist
}

// NewBulkWorld starts the servers of spec; they stop in t.Cleanup.
func NewBulkWorld(t testing.TB, spec BulkSpec) *BulkWorld {
	if spec.MXHosts < 1 || spec.MXHosts > 250 || spec.Domains < 1 {
		t.Fatalf("fakes: BulkSpec needs 1..250 MX hosts and at least one domain")
	}
	rng := rand.New(rand.NewPCG(spec.Seed, 42))
	w := &BulkWorld{DNS: NewDNS(t), Farm: NewMXFarm(t)}
	cfgs := make([]Config, spec.MXHosts)
	for i := range cfgs {
		cfgs[i] = Config{Latency: spec.Latency, SoftErrorLimit: spec.SoftErrorLimit,
			HardErrorLimit: spec.HardErrorLimit, MaxSessions: spec.MaxSessions}
	}
	catchAll := func(d int) bool { return spec.CatchAllEvery > 0 && d%spec.CatchAllEvery == 0 }
	for d := range spec.Domains {
		domain := fmt.Sprintf("d%d.zz", d)
		h := d % spec.MXHosts
		w.DNS.MX(domain, 10, fmt.Sprintf("mx%d.hosting.zz", h))
		if catchAll(d) {
			cfgs[h].CatchAll = append(cfgs[h].CatchAll, domain)
		}
	}
	var buf bytes.Buffer
	buf.WriteString("id,name,email,note\n")
	var seen []string
	for i := range spec.Rows {
		var addr string
		var want ZooCase
		switch {
		case len(seen) > 0 && rng.IntN(100) < spec.DuplicatePercent:
			j := rng.IntN(len(seen))
			addr, want = seen[j], w.Want[j]
		default:
			d := rng.IntN(spec.Domains)
			domain := fmt.Sprintf("d%d.zz", d)
			h := d % spec.MXHosts
			switch {
			case catchAll(d):
				addr = fmt.Sprintf("user%d@%s", i, domain)
				want = ZooCase{addr, "risky", "catch_all", true}
			case rng.IntN(100) < spec.UnknownPercent:
				addr = fmt.Sprintf("ghost%d@%s", i, domain)
				want = ZooCase{addr, "undeliverable", "mailbox_not_found", false}
				w.Unknown++
			default:
				addr = fmt.Sprintf("user%d@%s", i, domain)
				cfgs[h].Mailboxes = append(cfgs[h].Mailboxes, addr)
				want = ZooCase{addr, "deliverable", "accepted", false}
			}
		}
		seen = append(seen, addr)
		w.Want = append(w.Want, want)
		note := "plain"
		if i%7 == 0 {
			note = `"quoted, with ""comma"""`
		}
		fmt.Fprintf(&buf, "%d,Name %d,%s,%s\n", i, i, addr, note)
	}
	for h, cfg := range cfgs {
		ip := fmt.Sprintf("127.0.1.%d", h+1)
		w.DNS.A(fmt.Sprintf("mx%d.hosting.zz", h), ip)
		w.Servers = append(w.Servers, w.Farm.Host(ip, cfg))
	}
	w.CSV = buf.Bytes()
	return w
}

// Totals sums the servers' counters.
func (w *BulkWorld) Totals() (sessions, recipients, roundTrips, tooManyErrors int) {
	for _, s := range w.Servers {
		sessions += s.Sessions()
		recipients += s.Recipients()
		roundTrips += s.RoundTrips()
		tooManyErrors += s.TooManyErrors()
	}
	return
}

// MaxOpen is the most sessions any one server saw open at once.
func (w *BulkWorld) MaxOpen() int {
	m := 0
	for _, s := range w.Servers {
		m = max(m, s.MaxOpen())
	}
	return m
}
