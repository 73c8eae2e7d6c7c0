package main

import (
	"context"
	"io"
)

// ctxReader reads r in a goroutine of its own so that a Read blocked on a terminal or
// a pipe that stays open returns ctx's error as soon as ctx ends (Ctrl-C), instead of
// waiting for input that may never come.
type ctxReader struct {
	ctx  context.Context
	r    io.Reader
	ch   chan readResult
	buf  []byte
	err  error
	pump bool
}

type readResult struct {
	b   []byte
	err error
}

func newCtxReader(ctx context.Context, r io.Reader) *ctxReader {
	return &ctxReader{ctx: ctx, r: r, ch: make(chan readResult)}
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if len(c.buf) == 0 && c.err == nil {
		if !c.pump {
			c.pump = true
			go c.run()
		}
		select {
		case res := <-c.ch:
			c.buf, c.err = res.b, res.err
		case <-c.ctx.Done():
			return 0, c.ctx.Err()
		}
	}
	if len(c.buf) > 0 {
		n := copy(p, c.buf)
		c.buf = c.buf[n:]
		return n, nil
	}
	return 0, c.err
}

// run feeds reads of r to Read until an error (io.EOF included) or ctx's end.
func (c *ctxReader) run() {
	for {
		b := make([]byte, 64<<10)
		n, err := c.r.Read(b)
		select {
		case c.ch <- readResult{b[:n], err}:
		case <-c.ctx.Done():
			return
		}
		if err != nil {
			return
		}
	}
}
