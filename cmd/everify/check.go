package main

import (
	"bufio"
	"context"
	"fmt"
	"iter"
	"strings"

	"github.com/spf13/cobra"

	"github.com/everify/everify/verify"
)

// CheckOptions are the inputs of `everify check`.
type CheckOptions struct {
	IO        *IOStreams
	Verify    verifyOptions
	Format    string
	Addresses []string
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
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runCheck(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Format, "format", "", "output `format`: text, json, ndjson, csv (default: text on a terminal, else ndjson)")
	addVerifyFlags(cmd.Flags(), &opts.Verify)
	return cmd
}

func runCheck(ctx context.Context, opts *CheckOptions) error {
	v, err := opts.Verifier()
	if err != nil {
		return err
	}
	defer v.Close()
	out := newResultWriter(opts.IO.Out, opts.Format, opts.IO.Color())
	var undeliverable, doubtful bool
	lies := newLieWarner(opts.IO.ErrOut)
	var readErr error
	err = v.VerifyAll(ctx, opts.Verify.Workers, checkInputs(opts, &readErr), func(r verify.Result) error {
		lies.observe(&r, nil)
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
	reportPortBlocked(opts.IO, v)
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

// checkInputs yields the arguments, with "-" replaced by the non-blank lines of stdin.
func checkInputs(opts *CheckOptions, readErr *error) iter.Seq[string] {
	return func(yield func(string) bool) {
		for _, a := range opts.Addresses {
			if a != "-" {
				if !yield(a) {
					return
				}
				continue
			}
			sc := bufio.NewScanner(opts.IO.In) // read by Stream's producer: Ctrl-C does not wait for it
			sc.Buffer(make([]byte, 64<<10), 1<<20)
			for sc.Scan() {
				line := strings.TrimSuffix(sc.Text(), "\r")
				if strings.TrimSpace(line) == "" {
					continue
				}
				if !yield(line) {
					return
				}
			}
			if err := sc.Err(); err != nil {
				*readErr = err
				return
			}
		}
	}
}
