package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// Exit codes of a run ended by a signal: 128 + the signal number, as a shell reports a
// process killed by it, so scripts and CI runners see which signal stopped the run.
const (
	exitInterrupted = 130 // SIGINT (Ctrl-C)
	exitTerminated  = 143 // SIGTERM (timeout, docker stop, CI cancellation)
)

// stopGrace bounds how long a run may take to flush and exit after the first signal;
// past it the process exits anyway (a write blocked on a full pipe can never finish).
var stopGrace = 5 * time.Second

// signalError is the cause of a context cancelled by a signal.
type signalError struct{ sig os.Signal }

func (e *signalError) Error() string { return "received " + e.sig.String() }

// code returns the exit code for the signal.
func (e *signalError) code() int {
	if e.sig == syscall.SIGTERM {
		return exitTerminated
	}
	return exitInterrupted
}

// verb says what happened, for the one line printed on stderr.
func (e *signalError) verb() string {
	if e.sig == syscall.SIGTERM {
		return "terminated"
	}
	return "interrupted"
}

// notifySignals returns a context cancelled by the first SIGINT or SIGTERM, with a
// *signalError as its cause. SIGTERM is treated exactly like SIGINT: the run stops
// taking input, flushes what is done and exits 130 or 143. A second signal, or a run
// still going stopGrace after the first, exits at once through exit.
func notifySignals(parent context.Context, errOut io.Writer, exit func(int)) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(parent)
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		var first *signalError
		select {
		case s := <-ch:
			first = &signalError{s}
			cancel(first)
		case <-done:
			return
		}
		grace := time.NewTimer(stopGrace)
		defer grace.Stop()
		select {
		case s := <-ch:
			second := &signalError{s}
			fmt.Fprintf(errOut, "everify: %s again: exiting at once\n", second.verb())
			exit(second.code())
		case <-grace.C:
			fmt.Fprintf(errOut, "everify: %s, and still stopping after %v: exiting\n", first.verb(), stopGrace)
			exit(first.code())
		case <-done:
		}
	}()
	stop := func() {
		signal.Stop(ch)
		close(done)
		cancel(nil)
	}
	return ctx, stop
}

// interruptCode prints the one-line notice of a run ended by ctx and returns its exit
// code: 143 for SIGTERM, 130 for SIGINT or any other cancellation.
func interruptCode(ctx context.Context, errOut io.Writer) int {
	var se *signalError
	if ctx != nil && errors.As(context.Cause(ctx), &se) {
		fmt.Fprintf(errOut, "everify: %s\n", se.verb())
		return se.code()
	}
	fmt.Fprintln(errOut, "everify: interrupted")
	return exitInterrupted
}
