package main

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/everify/everify/bulk"
	"github.com/everify/everify/csvio"
	"github.com/everify/everify/verify"
)

// CheckOptions are the inputs of `everify check`.
type CheckOptions struct {
	IO        *IOStreams
	Verify    verifyOptions
	Format    string
	Addresses []string
	CSVSafe   bool
	Store     storeOptions
	// Verifier builds the Verifier lazily (tests substitute one).
	Verifier func() (*verify.Verifier, error)
}

func newCheckCmd(ios *IOStreams, runF func(context.Context, *CheckOptions) error) *cobra.Command {
	opts := &CheckOptions{IO: ios}
	cmd := &cobra.Command{
		Use:   "check ADDRESS...",
		Short: "Verify email addresses given as arguments (\"-\" reads one per line from stdin)",
		Example: `  everify check jane@acme.io
  everify check --format json jane@acme.io 'Bob <bob@acme.io>'
  everify check --no-smtp --format csv jane@gmail.con
  cut -d, -f3 list.csv | everify check -`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Addresses = args
			if !cmd.Flags().Changed("format") {
				opts.Format = formatNDJSON
				if ios.OutTTY {
					opts.Format = formatText
				}
			}
			if !validFormat(opts.Format) {
				return flagErrorf("invalid %s: want text, json, ndjson or csv", optRef(cmd.Flags(), "format"))
			}
			if err := opts.Verify.complete(ios, &opts.Verifier); err != nil {
				return err
			}
			if err := opts.Store.complete(cmd.Flags()); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runCheck(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Format, "format", "", "output `format`: text, json, ndjson, csv (default: text on a terminal, else ndjson)")
	addVerifyFlags(cmd.Flags(), &opts.Verify)
	addCSVSafeFlag(cmd.Flags(), &opts.CSVSafe)
	addStoreFlags(cmd.Flags(), &opts.Store)
	return cmd
}

func runCheck(ctx context.Context, opts *CheckOptions) (retErr error) {
	v, st, done, err := openVerifier(opts.IO, &opts.Verify, &opts.Store, opts.Verifier)
	if err != nil {
		return err
	}
	defer done(&retErr)
	out := newResultWriter(opts.IO.Out, opts.Format, opts.IO.Color())
	if cw, ok := out.(*csvWriter); ok {
		cw.safe = opts.CSVSafe
	}
	var undeliverable, doubtful bool
	lies := newLieWarner(opts.IO.ErrOut)
	_, err = bulk.Run(ctx, bulk.Job{Input: newCheckRecords(opts), Interactive: true,
		Verifier: v, Workers: opts.Verify.Workers,
		Store: st, Settings: storeSettings(&opts.Verify, v), Policy: opts.Store.policy(), Refresh: opts.Store.Refresh,
		Emit: func(row bulk.Row) error {
			r := row.Result
			lies.observe(r, nil)
			if row.Record.Empty { // its record keeps lines aligned; a blank line is not a bad address
				return out.Write(r)
			}
			switch r.Status {
			case verify.StatusUndeliverable:
				undeliverable = true
			case verify.StatusRisky, verify.StatusUnknown:
				doubtful = true
			}
			return out.Write(r)
		}})
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	reportPortBlocked(opts.IO, v, opts.Verify.Proxy)
	switch {
	case err != nil:
		return storeError(err)
	case undeliverable:
		return &exitCodeError{exitFail}
	case doubtful:
		return &exitCodeError{exitRisky}
	}
	return nil
}

// checkRecords reads the inputs of check as the bulk engine's records. A goroutine
// reads them ahead, so that a Read blocked on a silent stdin is the only thing a
// cancelled run leaves behind (the engine does not wait for it).
type checkRecords struct {
	ch      chan checkInput
	readErr error // set before ch is closed
	n       int
}

func newCheckRecords(opts *CheckOptions) *checkRecords {
	c := &checkRecords{ch: make(chan checkInput, 64)}
	go func() {
		defer close(c.ch)
		for in := range checkInputs(opts, &c.readErr) {
			c.ch <- in
		}
	}()
	return c
}

func (c *checkRecords) Read() (*csvio.Record, error) {
	in, ok := <-c.ch
	if !ok {
		if c.readErr != nil {
			return nil, fmt.Errorf("reading stdin: %w", c.readErr)
		}
		return nil, io.EOF
	}
	c.n++
	line := in.line
	if line == 0 {
		line = c.n
	}
	return &csvio.Record{Line: line, Address: in.text, Problem: in.problem, Fields: 1, Empty: in.empty()}, nil
}
