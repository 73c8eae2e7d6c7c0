package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/everify/everify/dsn"
	"github.com/everify/everify/internal/atomicfile"
	"github.com/everify/everify/verify"
)

// BouncesOptions are the inputs of `everify bounces`.
type BouncesOptions struct {
	IO        *IOStreams
	Paths     []string
	Format    string // csv or ndjson
	Output    string // merged into when it exists
	SoftLimit int
	Window    time.Duration
	// Now is the clock for the summary (tests fix it).
	Now func() time.Time
}

func newBouncesCmd(ios *IOStreams, runF func(context.Context, *BouncesOptions) error) *cobra.Command {
	opts := &BouncesOptions{IO: ios}
	cmd := &cobra.Command{
		Use:   "bounces FILE|DIR...",
		Short: "Turn bounce logs (DSNs in mbox, Maildir, .eml; ESP event exports) into a suppression list",
		Long: `bounces reads delivery status notifications and text bounces (mbox, Maildir,
.eml, gzip-compressed or not), Amazon SES, SendGrid, Mailgun and Postmark event
exports (JSON) and bounce CSVs, classifies each bounce with the SMTP probe's reply
classifier, and writes a suppression list for 'check --suppress' and
'bulk --suppress': a hard bounce or a complaint suppresses an address at once,
--soft-limit soft bounces with no delivery in between within --window do too.
Bounces that are not about the recipient (our IP or sender blocked, content or
policy rejections) never suppress. With -o, new logs are merged into the list,
each bounce counted once.`,
		Example: `  everify bounces /var/mail/bounces ~/Maildir/.Bounces -o suppress.csv
  everify bounces ses-notifications.json.gz sendgrid-events.json -o suppress.csv
  everify bulk --suppress suppress.csv list.csv > checked.csv`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Paths = args
			switch {
			case opts.Format != formatCSV && opts.Format != formatNDJSON:
				return flagErrorf("invalid --format %q: want csv or ndjson", opts.Format)
			case opts.SoftLimit < 1:
				return flagErrorf("invalid --soft-limit %d: must be at least 1", opts.SoftLimit)
			case opts.Window <= 0:
				return flagErrorf("invalid --window %v: must be positive", opts.Window)
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runBounces(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Format, "format", formatCSV, "output `format`: csv, ndjson")
	f.StringVarP(&opts.Output, "output", "o", "", "write the list to `file`, merging into it when it exists")
	f.IntVar(&opts.SoftLimit, "soft-limit", 5, "soft bounces in a row (no delivery in between) that suppress an address")
	f.DurationVar(&opts.Window, "window", 30*24*time.Hour, "span within which those soft bounces must fall")
	return cmd
}

// bounceSummary counts what a bounces run read, for the report on stderr.
type bounceSummary struct {
	byKind     map[dsn.Kind]int
	byReason   map[dsn.Kind]map[verify.Reason]int
	duplicates int
	problems   int
}

func (s *bounceSummary) add(ev *dsn.Event, counted bool) {
	if !counted && ev.Kind != dsn.KindIgnored && ev.Kind != dsn.KindDelayed {
		s.duplicates++
		return
	}
	s.byKind[ev.Kind]++
	if s.byReason[ev.Kind] == nil {
		s.byReason[ev.Kind] = map[verify.Reason]int{}
	}
	s.byReason[ev.Kind][ev.Reason]++
}

func runBounces(ctx context.Context, opts *BouncesOptions) error {
	now := opts.Now
	if now == nil {
		now = bouncesClock
	}
	start := now()
	list := &dsn.List{Policy: dsn.Policy{SoftLimit: opts.SoftLimit, Window: opts.Window}}
	if opts.Output != "" && opts.Output != "-" {
		f, err := os.Open(opts.Output)
		switch {
		case err == nil:
			err = list.Load(f, true)
			f.Close()
			if err != nil {
				return withHint(fmt.Errorf("%s: %w", opts.Output, err),
					"-o merges into an existing suppression list; name a new file to start one")
			}
		case !errors.Is(err, os.ErrNotExist):
			return err
		}
	}
	sum := &bounceSummary{byKind: map[dsn.Kind]int{}, byReason: map[dsn.Kind]map[verify.Reason]int{}}
	sc := &dsn.Scanner{
		Event: func(ev dsn.Event) error {
			sum.add(&ev, list.Add(ev))
			return nil
		},
		Problem: func(p dsn.Problem) {
			if sum.problems < maxProblemLines {
				fmt.Fprintf(opts.IO.ErrOut, "everify: %s\n", p)
			}
			sum.problems++
		},
	}
	scanErr := sc.Scan(ctx, opts.Paths...)
	if scanErr != nil && !errors.Is(scanErr, context.Canceled) {
		return scanErr
	}
	// Interrupted, the list of what was read is still written: merging is idempotent,
	// so running again over the same logs completes it.
	if err := writeList(opts, list); err != nil {
		return err
	}
	if sum.problems > maxProblemLines {
		fmt.Fprintf(opts.IO.ErrOut, "everify: … and %d more unparsable inputs\n", sum.problems-maxProblemLines)
	}
	printBounceSummary(opts.IO.ErrOut, sc.Stats, sum, list, now().Sub(start))
	return scanErr
}

// bouncesClock is the clock of bounces summaries; tests replace it.
var bouncesClock = time.Now

// writeList writes the list to stdout, or to -o through a temporary file renamed into
// place, so that an existing list is never left half-written.
func writeList(opts *BouncesOptions, list *dsn.List) error {
	write := list.WriteCSV
	if opts.Format == formatNDJSON {
		write = list.WriteNDJSON
	}
	if opts.Output == "" || opts.Output == "-" {
		return write(opts.IO.Out)
	}
	return atomicfile.Write(opts.Output, write)
}

func printBounceSummary(w io.Writer, st dsn.Stats, sum *bounceSummary, list *dsn.List, elapsed time.Duration) {
	var b strings.Builder
	rate := 0.0
	if elapsed > 0 {
		rate = float64(st.Messages) / elapsed.Seconds()
	}
	bounces := sum.byKind[dsn.KindHard] + sum.byKind[dsn.KindSoft] + sum.byKind[dsn.KindIgnored]
	fmt.Fprintf(&b, "everify: %d messages and events read in %s (%.0f/s): %d %s, %d not %s, %d unparsable",
		st.Messages, elapsed.Round(time.Millisecond), rate, bounces, plural(bounces, "bounce", "bounces"),
		st.NotBounces, plural(st.NotBounces, "a bounce", "bounces"), st.Problems)
	if sum.duplicates > 0 {
		fmt.Fprintf(&b, ", %d already counted", sum.duplicates)
	}
	b.WriteString("\n")
	for _, k := range []struct {
		kind dsn.Kind
		note string
	}{{dsn.KindHard, ""}, {dsn.KindSoft, ""}, {dsn.KindComplaint, ""},
		{dsn.KindIgnored, ": not about the recipient, never suppress"},
		{dsn.KindDelayed, ": delay warnings, not counted"}, {dsn.KindDelivery, ""}} {
		n := sum.byKind[k.kind]
		if n == 0 {
			continue
		}
		var reasons []string
		for r, c := range sum.byReason[k.kind] {
			if k.kind != dsn.KindComplaint && k.kind != dsn.KindDelivery {
				reasons = append(reasons, fmt.Sprintf("%s %d", r, c))
			}
		}
		slices.Sort(reasons)
		detail := ""
		if len(reasons) > 0 {
			detail = " (" + strings.Join(reasons, ", ") + ")"
		}
		name := string(k.kind)
		if k.kind == dsn.KindDelivery {
			name = "delivered"
		}
		fmt.Fprintf(&b, "  %-10s %7d%s%s\n", name, n, detail, k.note)
	}
	entries := list.Entries()
	byState := map[dsn.State]int{}
	suppressed := 0
	for _, e := range entries {
		if e.Suppressed {
			suppressed++
			byState[e.State]++
		}
	}
	fmt.Fprintf(&b, "  %d %s listed, %d suppressed (hard %d, complaint %d, soft %d)\n",
		len(entries), plural(len(entries), "address", "addresses"), suppressed,
		byState[dsn.StateHard], byState[dsn.StateComplaint], byState[dsn.StateSoft])
	io.WriteString(w, b.String())
}

// loadSuppress reads the --suppress files into one list; nil when there are none.
func loadSuppress(paths []string) (verify.Suppressor, error) {
	if len(paths) == 0 {
		return nil, nil
	}
	list := &dsn.List{}
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			return nil, fmt.Errorf("--suppress: %w", err)
		}
		err = list.Load(f, false)
		f.Close()
		if err != nil {
			return nil, withHint(fmt.Errorf("--suppress %s: %w", p, err),
				"a suppression list is the CSV or NDJSON that 'everify bounces' writes, or a CSV with an \"email\" column")
		}
	}
	return list, nil
}
