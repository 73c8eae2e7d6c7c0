package fakes

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// WorldSpec describes a mailing list whose domains are hosted on shared servers, as
// B2B lists are (Google Workspace tenants share one MX name; each Microsoft 365 tenant
// has its own MX name resolving to shared addresses), for the scheduler's benchmarks
// and tests.
type WorldSpec struct {
	Rows    int // data rows; 0 with PerDomain gives each domain its own count
	Domains int // distinct domains (c0.zz, c1.zz, ...)
	Servers int // server addresses; domain d is on server d % Servers; ≤ 60,000
	// OwnNames makes every other domain of a server have its own MX name
	// (mx.<domain>) resolving to the server, the rest sharing the server's name.
	OwnNames bool
	// Zipf, when > 1, makes the domains' frequency heavy-tailed (rank^-Zipf); else
	// every domain is equally likely.
	Zipf float64
	// PerDomain, when Rows is 0, gives each domain between PerDomain[0] and
	// PerDomain[1] addresses.
	PerDomain [2]int
	// UnknownPercent of the addresses name no mailbox; CatchAllPercent are on catch-all
	// domains; the rest are real mailboxes.
	UnknownPercent, CatchAllPercent int
	// Server behaviour, as in [Config]: per-reply latency (one round trip), Postfix's
	// error limits, the sessions each tolerates (MaxSessions fails the test beyond),
	// and strict transactions.
	Latency                        time.Duration
	SoftErrorLimit, HardErrorLimit int
	MaxSessions                    int
	Seed                           uint64
}

// World is a running [WorldSpec].
type World struct {
	DNS     *DNS
	Farm    *MXFarm
	Servers []*Server
	CSV     []byte    // header "id,email" then the rows
	Want    []ZooCase // per data row
	Spec    WorldSpec
	// For the lower bound: per server, its unknown addresses and the domains that
	// need a catch-all probe that gets refused (no address of theirs is refused and
	// they are not catch-all).
	UnknownPerServer, ProbesPerServer []int
}

// NewWorld starts the servers of spec; they stop in t.Cleanup.
func NewWorld(t testing.TB, spec WorldSpec) *World {
	if spec.Servers < 1 || spec.Servers > 60_000 || spec.Domains < spec.Servers {
		t.Fatalf("fakes: WorldSpec needs 1..60000 servers and at least one domain per server")
	}
	rng := rand.New(rand.NewPCG(spec.Seed, 7))
	w := &World{DNS: NewDNS(t), Farm: NewMXFarm(t), Spec: spec,
		UnknownPerServer: make([]int, spec.Servers), ProbesPerServer: make([]int, spec.Servers)}
	w.DNS.Latency(spec.Latency)
	cfgs := make([]Config, spec.Servers)
	ips := make([]string, spec.Servers)
	for i := range cfgs {
		cfgs[i] = Config{Latency: spec.Latency, SoftErrorLimit: spec.SoftErrorLimit,
			HardErrorLimit: spec.HardErrorLimit, MaxSessions: spec.MaxSessions, StrictTransactions: true}
		// 127.1.0.1 onwards: clear of the 127.0.x.y of other fakes.
		n := i + 1
		ips[i] = fmt.Sprintf("127.%d.%d.%d", 1+n/65536, n/256%256, n%256)
		w.DNS.A(fmt.Sprintf("mx%d.shared.zz", i), ips[i])
	}
	// Catch-all domains are every k-th, so that about CatchAllPercent of the
	// addresses fall on them whatever the frequency law.
	catchAll := func(d int) bool {
		return spec.CatchAllPercent > 0 && d%max(1, 100/spec.CatchAllPercent) == 1
	}
	domain := func(d int) string { return fmt.Sprintf("c%d.zz", d) }
	for d := range spec.Domains {
		srv := d % spec.Servers
		name := fmt.Sprintf("mx%d.shared.zz", srv)
		if spec.OwnNames && d%2 == 1 {
			name = "mx." + domain(d)
			w.DNS.A(name, ips[srv])
		}
		w.DNS.MX(domain(d), 10, name)
		if catchAll(d) {
			cfgs[srv].CatchAll = append(cfgs[srv].CatchAll, domain(d))
		}
	}
	var regular, catchAlls []int
	for d := range spec.Domains {
		if catchAll(d) {
			catchAlls = append(catchAlls, d)
		} else {
			regular = append(regular, d)
		}
	}
	pick := func(ds []int) int {
		if spec.Zipf <= 1 {
			return ds[rng.IntN(len(ds))]
		}
		// Inverse transform of a truncated power law over ranks 1..len(ds).
		n := float64(len(ds))
		u := rng.Float64()
		a := 1 - spec.Zipf
		r := math.Pow(u*(math.Pow(n+1, a)-1)+1, 1/a)
		return ds[min(len(ds)-1, int(r)-1)]
	}
	var order []int // the domain of each row
	if spec.Rows > 0 {
		for range spec.Rows {
			if len(catchAlls) > 0 && rng.IntN(100) < spec.CatchAllPercent {
				order = append(order, -1-pick(catchAlls))
			} else {
				order = append(order, pick(regular))
			}
		}
	} else {
		for d := range spec.Domains {
			for range spec.PerDomain[0] + rng.IntN(spec.PerDomain[1]-spec.PerDomain[0]+1) {
				order = append(order, d)
			}
		}
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
	}
	refused := make(map[int]bool)
	used := make(map[int]bool)
	var buf bytes.Buffer
	buf.WriteString("id,email\n")
	for i, d := range order {
		if d < 0 {
			d = -1 - d
		}
		used[d] = true
		srv := d % spec.Servers
		var addr string
		var want ZooCase
		switch {
		case catchAll(d):
			addr = fmt.Sprintf("user%d@%s", i, domain(d))
			want = ZooCase{addr, "risky", "catch_all", true}
		case rng.IntN(100-spec.CatchAllPercent) < spec.UnknownPercent:
			addr = fmt.Sprintf("ghost%d@%s", i, domain(d))
			want = ZooCase{addr, "undeliverable", "mailbox_not_found", false}
			refused[d] = true
			w.UnknownPerServer[srv]++
		default:
			addr = fmt.Sprintf("user%d@%s", i, domain(d))
			cfgs[srv].Mailboxes = append(cfgs[srv].Mailboxes, addr)
			want = ZooCase{addr, "deliverable", "accepted", false}
		}
		w.Want = append(w.Want, want)
		fmt.Fprintf(&buf, "%d,%s\n", i, addr)
	}
	for d := range used {
		if !refused[d] && !catchAll(d) {
			w.ProbesPerServer[d%spec.Servers]++
		}
	}
	for i, cfg := range cfgs {
		w.Servers = append(w.Servers, w.Farm.Host(ips[i], cfg))
	}
	w.CSV = buf.Bytes()
	return w
}

// LowerBound is the least time any prober keeping perServer sessions per server can
// take, the bound: per server, at least ceil(rejections/softLimit) sessions
// (rejections: the unknown addresses plus a refused catch-all probe per domain none of
// whose addresses was refused), each at least 3 round trips (banner, EHLO, then MAIL
// and every RCPT pipelined), perServer at a time; plus one DNS round trip.
func (w *World) LowerBound(perServer, softLimit int) time.Duration {
	var worst time.Duration
	for s := range w.Servers {
		rej := w.UnknownPerServer[s] + w.ProbesPerServer[s]
		sessions := max(1, (rej+softLimit-1)/softLimit)
		rounds := (sessions + perServer - 1) / perServer
		worst = max(worst, time.Duration(rounds*3)*w.Spec.Latency)
	}
	return worst + w.Spec.Latency
}

// Totals sums the servers' counters.
func (w *World) Totals() (sessions, roundTrips, tooManyErrors, maxOpen int) {
	for _, s := range w.Servers {
		sessions += s.Sessions()
		roundTrips += s.RoundTrips()
		tooManyErrors += s.TooManyErrors()
		maxOpen = max(maxOpen, s.MaxOpen())
	}
	return
}
