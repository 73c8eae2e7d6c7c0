package main

import (
	"context"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/everify/everify/shard"
	"github.com/everify/everify/verify"
)

// MergeOptions are the inputs of `everify merge`.
type MergeOptions struct {
	IO      *IOStreams
	Inputs  []string
	Output  string
	KeepRow bool
	FailOn  []string
}

func newMergeCmd(ios *IOStreams, runF func(context.Context, *MergeOptions) error) *cobra.Command {
	opts := &MergeOptions{IO: ios}
	cmd := &cobra.Command{
		Use:   "merge [-o OUT] SHARD_OUTPUT...",
		Short: "Reassemble the outputs of 'bulk --shard K/N' into the output of one run",
		Long: `merge checks that the shard outputs are the N shards of one run (same input, same
settings, same header, each shard once, each finished: its manifest FILE.shard.json
is next to it) and writes what one unsharded 'everify bulk' would have written,
byte for byte: the rows in input order, each exactly once, the header once, without
the row column. Then it prints the summary of the whole run.`,
		Example: `  for k in 1 2 3; do everify bulk --shard $k/3 -o out.$k.csv list.csv & done; wait
  everify merge -o checked.csv out.1.csv out.2.csv out.3.csv`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Inputs = args
			var err error
			if opts.FailOn, err = parseMatchList("--fail-on", opts.FailOn, true); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runMerge(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&opts.Output, "output", "o", "", "write to `file` instead of stdout (replaced only when the merge succeeds)")
	f.BoolVar(&opts.KeepRow, "keep-row", false, "keep the row column (CSV) or field (JSON)")
	f.StringSliceVar(&opts.FailOn, "fail-on", nil, "exit 2 if any row has one of these `statuses or reasons`")
	return cmd
}

func runMerge(ctx context.Context, opts *MergeOptions) error {
	mo := shard.MergeOptions{KeepRow: opts.KeepRow}
	var sum shard.Summary
	var err error
	if opts.Output != "" && opts.Output != "-" {
		sum, err = shard.MergeFile(ctx, opts.Output, opts.Inputs, mo)
	} else {
		sum, err = shard.Merge(ctx, opts.IO.Out, opts.Inputs, mo)
	}
	if err != nil {
		return err
	}
	s := newSummary()
	s.rows, s.duplicates, s.malformed, s.empty = sum.Rows, sum.Duplicates, sum.Malformed, sum.Empty
	for k, n := range sum.Providers {
		s.byProvider[k] = n
	}
	failed := false
	for k, n := range sum.Statuses {
		s.byStatus[verify.Status(k)] = n
		failed = failed || (n > 0 && slices.Contains(opts.FailOn, k))
	}
	for k, n := range sum.Reasons {
		s.byReason[verify.Reason(k)] = n
		failed = failed || (n > 0 && slices.Contains(opts.FailOn, k))
	}
	st := verify.Stats{DNSQueries: sum.DNSQueries, Sessions: sum.Sessions, RoundTrips: sum.RoundTrips,
		PeakPerServer: sum.PeakPerServer}
	s.print(opts.IO.ErrOut, time.Duration(sum.ElapsedMS)*time.Millisecond, st, sum.SMTP)
	if failed {
		return &exitCodeError{exitFail}
	}
	return nil
}
