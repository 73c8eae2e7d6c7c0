package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"

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
				return flagErrorf("invalid --format %q: want text, json, ndjson or csv", opts.Format)
			}
			if err := opts.Verify.complete(&opts.Verifier); err != nil {
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
	addStoreFlags(cmd.Flags(), &opts.Store)
	return cmd
}

func runCheck(ctx context.Context, opts *CheckOptions) (retErr error) {
	v, err := opts.Verifier()
	if err != nil {
		return err
	}
	defer v.Close()
	st, closeStore, err := openStore(opts.IO, &opts.Verify, &opts.Store, v)
	if err != nil {
		return err
	}
	defer closeStore(&retErr)
	out := newResultWriter(opts.IO.Out, opts.Format, opts.IO.Color())
	var undeliverable, doubtful bool
	_, err = bulk.Run(ctx, bulk.Job{Input: &checkInputs{opts: opts}, Interactive: true, Verifier: v, Workers: opts.Verify.Workers,
		Store: st, Settings: storeSettings(&opts.Verify, v), Policy: opts.Store.policy(), Refresh: opts.Store.Refresh,
		Emit: func(row bulk.Row) error {
			switch row.Result.Status {
			case verify.StatusUndeliverable:
				undeliverable = true
			case verify.StatusRisky, verify.StatusUnknown:
				doubtful = true
			}
			return out.Write(row.Result)
		}})
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	reportPortBlocked(opts.IO, v)
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

// checkInputs reads the arguments as records, with "-" replaced by the non-blank lines
// of stdin.
type checkInputs struct {
	opts *CheckOptions
	next int
	sc   *bufio.Scanner // reading stdin for a "-"
	line int
}

func (c *checkInputs) Read() (*csvio.Record, error) {
	for {
		if c.sc != nil {
			if c.sc.Scan() {
				c.line++
				line := strings.TrimSuffix(c.sc.Text(), "\r")
				if strings.TrimSpace(line) == "" {
					continue
				}
				return &csvio.Record{Line: c.line, Address: line, Fields: 1}, nil
			}
			if err := c.sc.Err(); err != nil {
				return nil, fmt.Errorf("reading stdin: %w", err)
			}
			c.sc = nil
		}
		if c.next == len(c.opts.Addresses) {
			return nil, io.EOF
		}
		a := c.opts.Addresses[c.next]
		c.next++
		if a != "-" {
			return &csvio.Record{Line: c.next, Address: a, Fields: 1}, nil
		}
		c.sc = bufio.NewScanner(c.opts.IO.In) // read by Stream's producer: Ctrl-C does not wait for it
		c.sc.Buffer(make([]byte, 64<<10), 1<<20)
	}
}
