// Package stream runs work on a sequence of items with bounded concurrency and
// delivers the results in input order.
package stream

import (
	"context"
	"iter"
	"sync"
	"sync/atomic"
)

// Ordered runs work on each item of items (producing a result of type R, usually a
// verify.Result) with at most workers calls in flight and calls
// emit with the results in input order, from the calling goroutine, as soon as an item
// and every item before it are done. Results wait in a window of 4×workers, so memory
// stays flat however long the input and however slow one item is.
//
// Ordered stops taking items when ctx ends, when work returns an error (which work must
// only do when ctx ended) or when emit returns an error, and returns that error (ctx's
// only if some items were left unread). It does not wait for an items iterator blocked
// in a read: that goroutine, and the workers, exit once the read returns. Results already emitted are final; a result after the
// first failed item is never emitted, so the output is always an in-order prefix.
func Ordered[T, R any](ctx context.Context, workers int, items iter.Seq[T],
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
	// Nothing is allocated per worker up front: workers start only when an item finds
	// none idle, and the window is a semaphore of empty structs (no buffer) over a queue
	// that grows with the items in it. So a generous bound costs nothing on a short input.
	window := make(chan struct{}, 4*workers)
	order := newQueue[job]()
	jobs := make(chan job)
	var wg sync.WaitGroup
	work1 := func(j job) {
		r, err := work(ctx, j.item)
		j.out <- outcome{r, err}
	}
	started := 0
	handOff := func(j job) bool {
		select {
		case jobs <- j: // an idle worker
			return true
		default:
		}
		if started < workers {
			started++
			wg.Add(1)
			go func() {
				defer wg.Done()
				work1(j)
				for j := range jobs {
					work1(j)
				}
			}()
			return true
		}
		select {
		case jobs <- j:
			return true
		case <-ctx.Done():
			j.out <- outcome{err: ctx.Err()}
			return false
		}
	}
	var exhausted atomic.Bool // the producer read items to their end
	go func() {
		defer order.close()
		defer close(jobs)
		for it := range items {
			select {
			case window <- struct{}{}:
			case <-ctx.Done():
				return
			}
			j := job{item: it, out: make(chan outcome, 1)}
			order.push(j)
			if !handOff(j) {
				return
			}
		}
		exhausted.Store(true)
	}()

	var err error
	consume := func(j job) {
		o := <-j.out // every job in order gets an outcome, from a worker or the producer
		<-window
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
		case <-order.ready:
			for {
				j, ok, closed := order.pop()
				if closed {
					finished = true
					break loop
				}
				if !ok {
					break
				}
				consume(j)
				if ctx.Err() != nil {
					break loop
				}
			}
		case <-ctx.Done():
			break loop
		}
	}
	if !finished {
		// Cancelled: flush what is queued, but do not wait for the producer, which may
		// be blocked reading input (a terminal's stdin); it and the workers exit when
		// its read returns.
		for {
			j, ok, closed := order.pop()
			if closed {
				finished = true
			}
			if !ok {
				break
			}
			consume(j)
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

// queue is a FIFO whose storage grows with its contents; ready has a value whenever
// pop may find an item or the end.
type queue[J any] struct {
	mu     sync.Mutex
	items  []J
	closed bool
	ready  chan struct{}
}

func newQueue[J any]() *queue[J] { return &queue[J]{ready: make(chan struct{}, 1)} }

func (q *queue[J]) signal() {
	select {
	case q.ready <- struct{}{}:
	default:
	}
}

func (q *queue[J]) push(j J) {
	q.mu.Lock()
	q.items = append(q.items, j)
	q.mu.Unlock()
	q.signal()
}

func (q *queue[J]) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	q.signal()
}

// pop returns the oldest item (ok), or reports that the queue is empty and closed.
func (q *queue[J]) pop() (j J, ok, closed bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.items) == 0 {
		return j, false, q.closed
	}
	j = q.items[0]
	var zero J
	q.items[0] = zero
	q.items = q.items[1:]
	return j, true, false
}
