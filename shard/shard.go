// Package shard splits a bulk run across machines and puts it back together.
//
// A list is cut into N shards by the domain of each address, so that everything
// everify learns about a domain — its MX hosts, its catch-all probe, the per-server
// session limits — lives on one machine. [Of] is the assignment: it is part of the
// file format between `everify bulk --shard K/N` and `everify merge`, and it never
// changes between versions.
//
// Each shard writes its output (every row carrying its input row number) and, next to
// it, a [Manifest] that says which input, settings and shard it came from and what it
// counted. [Merge] checks the manifests against each other and interleaves the shard
// outputs back into input order, producing exactly what one unsharded run writes.
package shard

import (
	"fmt"
	"strconv"
	"strings"
)

// Spec is one shard of a split: shard K of N, 1 ≤ K ≤ N. The zero Spec means "not
// sharded".
type Spec struct {
	K, N int
}

// Parse parses "K/N" (1 ≤ K ≤ N, N ≤ MaxShards).
func Parse(s string) (Spec, error) {
	ks, ns, ok := strings.Cut(strings.TrimSpace(s), "/")
	k, kerr := strconv.Atoi(strings.TrimSpace(ks))
	n, nerr := strconv.Atoi(strings.TrimSpace(ns))
	switch {
	case !ok || kerr != nil || nerr != nil:
		return Spec{}, fmt.Errorf("shard %q: want K/N, e.g. 2/8", s)
	case n < 1 || n > MaxShards:
		return Spec{}, fmt.Errorf("shard %q: N must be 1 to %d", s, MaxShards)
	case k < 1 || k > n:
		return Spec{}, fmt.Errorf("shard %q: K must be 1 to N (%d)", s, n)
	}
	return Spec{K: k, N: n}, nil
}

// ParseIndex parses "I/N" with a 0-based I (0 ≤ I < N), as schedulers number their
// tasks (a Kubernetes Indexed Job's JOB_COMPLETION_INDEX): it is shard I+1 of N.
func ParseIndex(s string) (Spec, error) {
	is, ns, ok := strings.Cut(strings.TrimSpace(s), "/")
	i, err := strconv.Atoi(strings.TrimSpace(is))
	if !ok || err != nil || i < 0 {
		return Spec{}, fmt.Errorf("shard index %q: want I/N with 0 ≤ I < N, e.g. 0/8", s)
	}
	sp, err := Parse(strconv.Itoa(i+1) + "/" + ns)
	if err != nil {
		return Spec{}, fmt.Errorf("shard index %q: want I/N with 0 ≤ I < N (%v)", s, err)
	}
	return sp, nil
}

// MaxShards bounds N: more shards than this would not fit on distinct egress addresses
// anyway, and the bound keeps merge's open files reasonable.
const MaxShards = 1000

// String returns "K/N".
func (s Spec) String() string { return strconv.Itoa(s.K) + "/" + strconv.Itoa(s.N) }

// Has reports whether a row whose address has the given domain belongs to s.
func (s Spec) Has(asciiDomain string) bool { return Of(asciiDomain, s.N) == s.K }

// Of returns the shard, 1..n, of an address domain:
//
//	Of(d, n) = FNV-1a-32(lower(d)) mod n + 1
//
// where d is the domain's IDNA A-label form (verify.Syntax.ASCIIDomain, e.g.
// "xn--bcher-kva.de"; an address literal such as "[192.0.2.1]" is taken as written),
// lower() maps only the ASCII letters A-Z to a-z, a final dot is dropped, and
// FNV-1a-32 is the 32-bit Fowler-Noll-Vo 1a hash (offset basis 2166136261, prime
// 16777619) of its bytes. An empty domain — a row without a usable address — is in
// shard 1. This function is a file format: it must never change.
func Of(asciiDomain string, n int) int {
	d := strings.TrimSuffix(asciiDomain, ".")
	if d == "" || n <= 1 {
		return 1
	}
	h := uint32(2166136261)
	for i := 0; i < len(d); i++ {
		c := d[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		h ^= uint32(c)
		h *= 16777619
	}
	return int(h%uint32(n)) + 1
}
