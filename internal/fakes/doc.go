// Package fakes provides in-process fake DNS and SMTP servers on loopback for
// everify's tests, end-to-end runs of the built binary and load benchmarks.
//
// Everything listens on 127.0.0.0/8 only and stops in the t.Cleanup of the
// testing.TB it was created with, so a test never reaches the network and
// never leaks goroutines. Only test code may import this package (the
// internal/ path keeps it inside the module; keep it out of non-test files).
//
// # DNS
//
// [NewDNS] starts an authoritative-style server that answers from records the
// test adds at any time, with knobs for rcodes, dropped queries, latency and
// truncation, and counts the queries it gets:
//
//	d := fakes.NewDNS(t)
//	d.MX("example.com", 10, "mx1.example.com")
//	d.A("mx1.example.com", "127.0.0.2")
//	d.Rcode("broken.example", dns.RcodeServerFailure)
//	resolver := dnscheck.Resolver{Servers: []string{d.Addr()}}
//
// # SMTP
//
// A prober dials every MX host on one port, so fake mail servers live in an
// [MXFarm]: several loopback addresses sharing [MXFarm.Port]. [MXFarm.Host]
// starts a well-behaved server (github.com/emersion/go-smtp) configured by a
// [Config]; [MXFarm.Scripted] hands every connection to a function, for
// misbehaviour ([NoBanner], [Drip], [Endless], [Garbled],
// [DisconnectAfterBanner]). Each [Server] counts sessions, concurrency,
// recipients and round trips, and fails the test if a client ever sends DATA
// or BDAT:
//
//	farm := fakes.NewMXFarm(t)
//	mx := farm.Host("127.0.0.2", fakes.Config{Mailboxes: []string{"alice@example.com"}})
//	prober := smtpprobe.Prober{Port: farm.Port}
//	...
//	if mx.Sessions() != 1 { ... }
package fakes
