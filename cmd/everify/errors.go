package main

import (
	"context"
	"errors"
	"fmt"
)

// Exit codes of docs/reasons.md.
const (
	exitOK    = 0
	exitError = 1 // usage or runtime error
	exitFail  = 2 // check: some address undeliverable; bulk: a row matched --fail-on
	exitRisky = 3 // check: some address risky or unknown, none undeliverable
)

// exitError carries a verdict exit code (2 or 3) out of a command after its output is
// flushed.
type exitCodeError struct{ code int }

func (e *exitCodeError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// flagError is a usage error: printed with a pointer to --help.
type flagError struct{ err error }

func (e *flagError) Error() string { return e.err.Error() }
func (e *flagError) Unwrap() error { return e.err }

func flagErrorf(format string, a ...any) error { return &flagError{fmt.Errorf(format, a...)} }

// hintError is an error with a line telling the user how to fix it.
type hintError struct {
	err  error
	hint string
}

func (e *hintError) Error() string { return e.err.Error() }
func (e *hintError) Unwrap() error { return e.err }

func withHint(err error, hint string) error { return &hintError{err, hint} }

// exitCode prints err once and maps it to the process exit code; ctx is the run's,
// whose cause tells which signal ended it.
func exitCode(ctx context.Context, err error, ios *IOStreams, cmdPath string) int {
	if err == nil {
		return exitOK
	}
	var ec *exitCodeError
	if errors.As(err, &ec) {
		return ec.code
	}
	if errors.Is(err, context.Canceled) {
		return interruptCode(ctx, ios.ErrOut)
	}
	fmt.Fprintf(ios.ErrOut, "everify: error: %v\n", err)
	var he *hintError
	if errors.As(err, &he) {
		fmt.Fprintf(ios.ErrOut, "everify: hint: %s\n", he.hint)
	}
	var fe *flagError
	if errors.As(err, &fe) {
		fmt.Fprintf(ios.ErrOut, "everify: hint: see '%s --help'\n", cmdPath)
	}
	return exitError
}
