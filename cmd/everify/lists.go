package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/everify/everify/lists"
)

// chooseLists is [lists.Choose] after checking that an explicit --lists-dir exists.
func chooseLists(dir string, embeddedOnly bool) (lists.Choice, error) {
	if dir != "" && !embeddedOnly {
		st, err := os.Stat(dir)
		if err != nil {
			return lists.Choice{}, withHint(fmt.Errorf("--lists-dir: %w", err),
				"create it with 'everify lists update --lists-dir "+dir+"'")
		}
		if !st.IsDir() {
			return lists.Choice{}, flagErrorf("--lists-dir %s: not a directory", dir)
		}
	}
	return lists.Choose(dir, embeddedOnly), nil
}

// loadLists returns the lists a run uses: those in dir (--lists-dir), else those in the
// user cache directory written by `everify lists update` when newer than the embedded
// ones, else the embedded ones. embeddedOnly (--no-list-updates) forces the embedded
// lists. A downloaded list that does not parse is an error, not a silent fallback.
func loadLists(dir string, embeddedOnly bool) (*lists.Lists, error) {
	c, err := chooseLists(dir, embeddedOnly)
	if err != nil {
		return nil, err
	}
	if !c.Use {
		return lists.Embedded(), nil
	}
	l, err := lists.Load(c.Dir)
	if err != nil {
		return nil, withHint(err, "download fresh copies with 'everify lists update', or use --no-list-updates")
	}
	return l, nil
}

func newListsCmd(ios *IOStreams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "lists",
		Short: "Refresh or inspect the disposable, allowlist, free and role lists",
		Long: `everify ships snapshots of its reference lists (disposable domains, the disposable
allowlist, free providers, role local parts, popular domains for typo suggestions).
'everify lists update' downloads newer copies into the user cache directory; later
runs use them in preference to the embedded ones.`,
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(newListsUpdateCmd(ios, nil), newListsShowCmd(ios))
	documentEnv(cmd)
	return cmd
}

// ListsUpdateOptions are the inputs of `everify lists update`.
type ListsUpdateOptions struct {
	IO      *IOStreams
	Dir     string        // target directory; "" is the user cache directory
	Names   []string      // lists to update; empty: all that have an upstream
	URLBase string        // replaces https://raw.githubusercontent.com in every URL
	Timeout time.Duration // whole download of one list
	Client  *http.Client  // nil: a client with Timeout and the environment's proxy
	Now     func() time.Time

	maxBytes int64 // tests lower it; 0 is lists' bound
}

func newListsUpdateCmd(ios *IOStreams, runF func(context.Context, *ListsUpdateOptions) error) *cobra.Command {
	opts := &ListsUpdateOptions{IO: ios}
	aliases := lists.Aliases()
	cmd := &cobra.Command{
		Use:   "update [LIST...]",
		Short: "Download newer lists from upstream into the user cache directory",
		Long: `Download the reference lists from their upstream repositories, check them (one
domain or local part per line, size bounds, at least half as many entries as the
embedded list, so a truncated download or an error page is refused) and write them
atomically into the user cache directory, or --lists-dir. Later runs use them instead
of the embedded lists; --no-list-updates goes back to the embedded ones.

LIST is one of: ` + strings.Join(aliases, ", ") + ` (default: all).
The allowlist and the free list are pinned to the snapshot's commit (see SOURCES.md:
the allowlist is frozen upstream, and newer versions of the free list mix in
disposable domains).`,
		Example: `  everify lists update
  everify lists update disposable
  everify lists update --lists-dir /srv/everify/lists`,
		ValidArgs: aliases,
		Args:      cobra.OnlyValidArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Names = args
			if opts.Timeout <= 0 {
				return flagErrorf("invalid --timeout %v: must be positive", opts.Timeout)
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runListsUpdate(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Dir, "lists-dir", "", "`dir` to write the lists to (default: the user cache dir)")
	f.DurationVar(&opts.Timeout, "timeout", lists.DefaultTimeout, "time limit for downloading one list")
	f.StringVar(&opts.URLBase, "url-base", "", "download from this `URL` instead of "+lists.RawBase+" (a mirror)")
	_ = f.MarkHidden("url-base")
	return cmd
}

func runListsUpdate(ctx context.Context, opts *ListsUpdateOptions) error {
	dir := opts.Dir
	if dir == "" {
		d, err := lists.DefaultDir()
		if err != nil {
			return withHint(fmt.Errorf("no user cache directory: %w", err), "name a directory with --lists-dir")
		}
		dir = d
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	before := map[string]int{}
	for _, info := range lists.Embedded().Info() {
		before[info.Name] = info.Entries
	}
	if l, err := lists.Load(dir); err == nil {
		for _, info := range l.Info() {
			before[info.Name] = info.Entries
		}
	}
	var todo []lists.Origin
	for _, o := range lists.Origins() {
		if o.URL == "" || len(opts.Names) > 0 && !slices.Contains(opts.Names, o.Alias) {
			continue
		}
		todo = append(todo, o)
	}
	u := &lists.Updater{Dir: dir, URLBase: opts.URLBase, Timeout: opts.Timeout, Client: opts.Client,
		Now: opts.Now, MaxBytes: opts.maxBytes, UserAgent: "everify/" + strings.TrimPrefix(version, "v") + " (lists update)"}
	results := u.UpdateAll(ctx, todo)
	var failed []string
	tw := tabwriter.NewWriter(opts.IO.Out, 0, 4, 2, ' ', 0)
	for _, r := range results {
		o := r.Origin
		if r.Err != nil {
			if ctx.Err() != nil {
				tw.Flush()
				return ctx.Err()
			}
			failed = append(failed, o.Alias)
			tw.Flush()
			fmt.Fprintf(opts.IO.ErrOut, "everify: %s: not updated: %v\n", o.Name, r.Err)
			continue
		}
		note := ""
		if r.Skipped > 0 {
			note = fmt.Sprintf(" (%d malformed upstream entries left out)", r.Skipped)
		}
		fmt.Fprintf(tw, "%s\t%7s entries\t(was %s)\t%s%s\n", o.Name, thousands(r.Entries),
			thousands(before[o.Name]), r.Path, note)
	}
	tw.Flush()
	if len(failed) > 0 {
		return withHint(fmt.Errorf("%d list(s) not updated: %s", len(failed), strings.Join(failed, ", ")),
			"the previous copies are kept and still used; try again later")
	}
	return nil
}

// ListsShowOptions are the inputs of `everify lists show`.
type ListsShowOptions struct {
	IO            *IOStreams
	Dir           string
	NoListUpdates bool
	JSON          bool
	Now           func() time.Time
}

func newListsShowCmd(ios *IOStreams) *cobra.Command {
	opts := &ListsShowOptions{IO: ios}
	cmd := &cobra.Command{
		Use:   "show",
		Short: "Show where each list in use comes from, its entry count and age",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runListsShow(opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Dir, "lists-dir", "", "`dir` of updated lists (default: the user cache dir)")
	f.BoolVar(&opts.NoListUpdates, "no-list-updates", false, "show the lists embedded in the binary only")
	f.BoolVar(&opts.JSON, "json", false, "print JSON")
	return cmd
}

func runListsShow(opts *ListsShowOptions) error {
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	c, err := chooseLists(opts.Dir, opts.NoListUpdates)
	if err != nil {
		return err
	}
	l, err := loadLists(opts.Dir, opts.NoListUpdates)
	if err != nil {
		return err
	}
	reports := lists.Reports(l)
	out := opts.IO.Out
	if opts.JSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			Dir   string         `json:"dir"`
			InUse bool           `json:"in_use"`
			Lists []lists.Report `json:"lists"`
		}{c.Dir, c.Use, reports})
	}
	switch {
	case c.Dir == "":
		fmt.Fprintf(out, "lists dir: none (%s): using the embedded lists\n", c.Why)
	case c.Use:
		fmt.Fprintf(out, "lists dir: %s (in use)\n", c.Dir)
	default:
		fmt.Fprintf(out, "lists dir: %s (not used: %s)\n", c.Dir, c.Why)
	}
	countW := len("ENTRIES")
	for _, r := range reports {
		countW = max(countW, len(thousands(r.Entries)))
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "LIST\tENTRIES\tDATE\tAGE\tSOURCE")
	for _, r := range reports {
		src := "embedded " + r.Source
		if !r.Embedded {
			src = r.Path + " (from " + r.Source + ")"
		}
		fmt.Fprintf(tw, "%s\t%*s\t%s\t%s\t%s\n", r.Name, countW, thousands(r.Entries),
			r.Date.UTC().Format(time.DateOnly), age(now().Sub(r.Date)), src)
	}
	return tw.Flush()
}

// age renders a duration the way a person says how old something is.
func age(d time.Duration) string {
	plural := func(n int, unit string) string {
		if n == 1 {
			return "1 " + unit
		}
		return fmt.Sprintf("%d %ss", n, unit)
	}
	switch day := 24 * time.Hour; {
	case d < time.Hour:
		return "<1 hour"
	case d < 2*day:
		return plural(int(d/time.Hour), "hour")
	case d < 60*day:
		return plural(int(d/day), "day")
	case d < 730*day:
		return plural(int(d/(30*day)), "month")
	default:
		return plural(int(d/(365*day)), "year")
	}
}

// thousands formats n with commas: 8335 → 8,335.
func thousands(n int) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return "-" + thousands(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
