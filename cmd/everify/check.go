package main

import (
	"context"
	"fmt"
	"runtime"

	"github.com/spf13/cobra"

	"github.com/everify/everify/verify"
)

// CheckOptions are the inputs of `everify check`.
type CheckOptions struct {
	IO        *IOStreams
	Verify    verifyOptions
	Format    string
	Addresses []string
	CSVSafe   bool
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
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runCheck(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Format, "format", "", "output `format`: text, json, ndjson, csv (default: text on a terminal, else ndjson)")
	addVerifyFlags(cmd.Flags(), &opts.Verify)
	addCSVSafeFlag(cmd.Flags(), &opts.CSVSafe)
	return cmd
}

func runCheck(ctx context.Context, opts *CheckOptions) error {
	v, err := opts.Verifier()
	if err != nil {
		return err
	}
	defer v.Close()
	out := newResultWriter(opts.IO.Out, opts.Format, opts.IO.Color())
	if cw, ok := out.(*csvWriter); ok {
		cw.safe = opts.CSVSafe
	}
	var undeliverable, doubtful bool
	lies := newLieWarner(opts.IO.ErrOut)
	var readErr error
	workers := opts.Verify.Workers
	if v.DNS == nil {
		workers = min(workers, runtime.GOMAXPROCS(0)) // offline work is CPU-bound
	}
	err = verify.Stream(ctx, workers, checkInputs(opts, &readErr), func(ctx context.Context, in checkInput) (verify.Result, error) {
		if in.problem != "" {
			return verify.Invalid(in.text, in.problem), nil
		}
		return v.Verify(ctx, in.text)
	}, func(in checkInput, r verify.Result) error {
		lies.observe(&r, nil)
		if in.empty() { // its record keeps lines aligned; a blank line is not a bad address
			return out.Write(&r)
		}
		switch r.Status {
		case verify.StatusUndeliverable:
			undeliverable = true
		case verify.StatusRisky, verify.StatusUnknown:
			doubtful = true
		}
		return out.Write(&r)
	})
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	reportPortBlocked(opts.IO, v, opts.Verify.Proxy)
	switch {
	case err != nil:
		return err
	case readErr != nil:
		return fmt.Errorf("reading stdin: %w", readErr)
	case undeliverable:
		return &exitCodeError{exitFail}
	case doubtful:
		return &exitCodeError{exitRisky}
	}
	return nil
}
