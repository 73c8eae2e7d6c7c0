package stream

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync/atomic"
	"testing"
	"time"
)

// Result stands for a verdict: the results here only carry their input.
type Result struct{ Input string }

func seq(n int) func(func(int) bool) {
	return func(yield func(int) bool) {
		for i := range n {
			if !yield(i) {
				return
			}
		}
	}
}

// TestStreamOrder: results leave in input order although later items finish first.
func TestStreamOrder(t *testing.T) {
	var got []int
	err := Ordered(context.Background(), 8, seq(200), func(_ context.Context, i int) (Result, error) {
		if i%7 == 0 {
			time.Sleep(time.Millisecond) // slow items among fast ones
		}
		return Result{Input: fmt.Sprint(i)}, nil
	}, func(i int, r Result) error {
		if r.Input != fmt.Sprint(i) {
			t.Errorf("item %d got result %q", i, r.Input)
		}
		got = append(got, i)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := make([]int, 200)
	for i := range want {
		want[i] = i
	}
	if !slices.Equal(got, want) {
		t.Fatalf("order = %v", got)
	}
}

// TestStreamBoundedWindow: a slow head does not let the pool read the whole input.
func TestStreamBoundedWindow(t *testing.T) {
	release := make(chan struct{})
	var taken atomic.Int64
	items := func(yield func(int) bool) {
		for i := range 100000 {
			taken.Add(1)
			if !yield(i) {
				return
			}
		}
	}
	done := make(chan error, 1)
	go func() {
		done <- Ordered(context.Background(), 4, items, func(_ context.Context, i int) (Result, error) {
			if i == 0 {
				<-release
			}
			return Result{}, nil
		}, func(int, Result) error { return nil })
	}()
	// Wait until the producer is blocked, then check how far it got.
	deadline := time.Now().Add(5 * time.Second)
	prev := int64(-1)
	for time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		n := taken.Load()
		if n == prev {
			break
		}
		prev = n
	}
	if n := taken.Load(); n > 4*4+4+2 {
		t.Errorf("took %d items while the head was blocked; want at most the window", n)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestStreamCancel: cancellation stops intake; what was emitted is an in-order prefix.
func TestStreamCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var emitted []int
	err := Ordered(ctx, 4, seq(1000000), func(ctx context.Context, i int) (Result, error) {
		if i == 50 {
			cancel()
		}
		if ctx.Err() != nil {
			return Result{}, ctx.Err()
		}
		return Result{}, nil
	}, func(i int, _ Result) error {
		emitted = append(emitted, i)
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	for i, v := range emitted {
		if v != i {
			t.Fatalf("emitted %v is not an in-order prefix", emitted)
		}
	}
	if len(emitted) > 60 {
		t.Errorf("emitted %d items after cancellation at 50", len(emitted))
	}
}

// TestStreamEmitError stops the run and returns emit's error.
func TestStreamEmitError(t *testing.T) {
	boom := errors.New("disk full")
	n := 0
	err := Ordered(context.Background(), 2, seq(100), func(context.Context, int) (Result, error) {
		return Result{}, nil
	}, func(int, Result) error {
		n++
		if n == 3 {
			return boom
		}
		return nil
	})
	if !errors.Is(err, boom) || n != 3 {
		t.Fatalf("err = %v after %d emits, want %v after 3", err, n, boom)
	}
}

// TestStreamWorkersCostNothing: a bound on workers far above the input size allocates
// nothing per worker: neither goroutines nor window slots are made up front.
func TestStreamWorkersCostNothing(t *testing.T) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	var peak, cur atomic.Int64
	n := 0
	err := Ordered(context.Background(), 1_000_000, seq(3), func(_ context.Context, i int) (int, error) {
		c := cur.Add(1)
		for {
			p := peak.Load()
			if c <= p || peak.CompareAndSwap(p, c) {
				break
			}
		}
		defer cur.Add(-1)
		time.Sleep(10 * time.Millisecond)
		return i, nil
	}, func(int, int) error { n++; return nil })
	runtime.ReadMemStats(&after)
	if err != nil || n != 3 {
		t.Fatalf("err %v, %d results", err, n)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 1<<20 {
		t.Errorf("3 items with 1,000,000 workers allocated %d bytes", alloc)
	}
	if peak.Load() != 3 {
		t.Errorf("%d items in flight at once, want all 3", peak.Load())
	}
}
