package verify

import (
	"context"
	"iter"
	"sync"
	"sync/atomic"
)

// Stream runs work on each item of items (producing a result of type R, usually a
// [Result]) with at most workers calls in flight and calls
// emit with the results in input order, from the calling goroutine, as soon as an item
// and every item before it are done. Results wait in a window of 4×workers, so memory
// stays flat however long the input and however slow one item is.
//
// Stream stops taking items when ctx ends, when work returns an error (which work must
// only do when ctx ended) or when emit returns an error, and returns that error (ctx's
// only if some items were left unread). It does not wait for an items iterator blocked
// in a read: that goroutine, and the workers, exit once the read returns. Results already emitted are final; a result after the
// first failed item is never emitted, so the output is always an in-order prefix.
func Stream[T, R any](ctx context.Context, workers int, items iter.Seq[T],
	work func(context.Context, T) (R, error), emit func(T, R) error) error {
	if workers < 1 {
		workers = 1
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	type outcome struct {
		r   R
		err error
	}
	type job struct {
		item T
		out  chan outcome // buffered: a worker never waits for the writer
	}
	order := make(chan job, 4*workers)
	jobs := make(chan job)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				r, err := work(ctx, j.item)
				j.out <- outcome{r, err}
			}
		}()
	}
	var exhausted atomic.Bool // the producer read items to their end
	go func() {
		defer close(order)
		defer close(jobs)
		for it := range items {
			j := job{item: it, out: make(chan outcome, 1)}
			select {
			case order <- j:
			case <-ctx.Done():
				return
			}
			select {
			case jobs <- j:
			case <-ctx.Done():
				j.out <- outcome{err: ctx.Err()}
				return
			}
		}
		exhausted.Store(true)
	}()

	var err error
	consume := func(j job) {
		o := <-j.out // every job in order gets an outcome, from a worker or the producer
		switch {
		case err != nil: // draining after a failure
		case o.err != nil:
			err = o.err
			cancel()
		default:
			if e := emit(j.item, o.r); e != nil {
				err = e
				cancel()
			}
		}
	}
	finished := false // order closed and consumed
loop:
	for {
		select {
		case j, ok := <-order:
			if !ok {
				finished = true
				break loop
			}
			consume(j)
		case <-ctx.Done():
			break loop
		}
	}
	if !finished {
		// Cancelled: flush what is queued, but do not wait for the producer, which may
		// be blocked reading input (a terminal's stdin); it and the workers exit when
		// its read returns.
	drain:
		for {
			select {
			case j, ok := <-order:
				if !ok {
					finished = true
					break drain
				}
				consume(j)
			default:
				break drain
			}
		}
	}
	if finished {
		wg.Wait()
	}
	if err == nil && !(finished && exhausted.Load()) {
		err = ctx.Err()
	}
	return err
}

// VerifyAll verifies inputs with at most workers in flight and calls emit with the
// results in input order. Errors are those of [Stream].
func (v *Verifier) VerifyAll(ctx context.Context, workers int, inputs iter.Seq[string], emit func(Result) error) error {
	return Stream(ctx, workers, inputs, v.Verify, func(_ string, r Result) error { return emit(r) })
}
