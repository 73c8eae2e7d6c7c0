package bulk

import (
	"context"
	"hash/maphash"
	"sync"
)

// dedup runs the verification of each normalized address once and replays its outcome
// for duplicates. It remembers the most recent addresses only (two generations of
// dedupGeneration), so memory stays flat on inputs of any length. Offline, where
// verifying again costs less than remembering a result, it only counts duplicates, by
// hash.
type dedup struct {
	results   bool
	mu        sync.Mutex
	cur, prev map[string]*dedupEntry
	seenCur   map[uint64]struct{}
	seenPrev  map[uint64]struct{}
	seed      maphash.Seed
	nhits     int
}

type dedupEntry struct {
	done chan struct{}
	o    outcome
	err  error
}

// dedupGeneration is how many outcomes one generation holds (about 500 bytes each);
// countGeneration how many hashes, offline.
const (
	dedupGeneration = 10_000
	countGeneration = 100_000
)

func newDedup(results bool) *dedup {
	return &dedup{results: results, cur: make(map[string]*dedupEntry),
		seenCur: make(map[uint64]struct{}), seed: maphash.MakeSeed()}
}

// do returns the outcome of fn for key, running fn only for the first of concurrent or
// recent calls with the same key. A replayed outcome has store false: it was stored once.
// When the first call failed (its ctx ended), a duplicate runs fn itself.
func (d *dedup) do(ctx context.Context, key string, fn func() (outcome, error)) (outcome, error) {
	if !d.results {
		d.count(key)
		return fn()
	}
	d.mu.Lock()
	e := d.cur[key]
	if e == nil {
		if e = d.prev[key]; e != nil {
			d.cur[key] = e
		}
	}
	if e != nil {
		d.nhits++
		d.mu.Unlock()
		select {
		case <-e.done:
		case <-ctx.Done():
			return outcome{}, ctx.Err()
		}
		if e.err != nil {
			return fn()
		}
		o := e.o
		o.store = false
		return o, nil
	}
	e = &dedupEntry{done: make(chan struct{})}
	if len(d.cur) >= dedupGeneration {
		d.prev, d.cur = d.cur, make(map[string]*dedupEntry, dedupGeneration)
	}
	d.cur[key] = e
	d.mu.Unlock()
	e.o, e.err = fn()
	close(e.done)
	return e.o, e.err
}

// count records the hash of an address and counts it when seen recently.
func (d *dedup) count(key string) {
	h := maphash.String(d.seed, key)
	d.mu.Lock()
	defer d.mu.Unlock()
	_, hit := d.seenCur[h]
	if !hit {
		_, hit = d.seenPrev[h]
	}
	if hit {
		d.nhits++
		return
	}
	if len(d.seenCur) >= countGeneration {
		d.seenPrev, d.seenCur = d.seenCur, make(map[uint64]struct{}, countGeneration)
	}
	d.seenCur[h] = struct{}{}
}

func (d *dedup) hits() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.nhits
}
