package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/everify/everify/store"
	"github.com/everify/everify/verify"
)

// storeOptions are the result store flags.
type storeOptions struct {
	Path      string
	NoStore   bool
	MaxAge    time.Duration
	maxAgeSet bool
	Refresh   bool
}

func addStoreFlags(fs *pflag.FlagSet, o *storeOptions) {
	fs.StringVar(&o.Path, "store", "", "result store `file` (default: everify.db in the user cache dir)")
	fs.BoolVar(&o.NoStore, "no-store", false, "neither reuse nor keep verdicts")
	fs.DurationVar(&o.MaxAge, "max-age", 0, "reuse stored verdicts younger than this `duration`, whatever their status (default: 720h deliverable/undeliverable, 168h risky, unknown never)")
	fs.BoolVar(&o.Refresh, "refresh", false, "ignore stored verdicts, ask the servers again and update the store")
}

// complete validates the flags; fs tells whether --max-age was given.
func (o *storeOptions) complete(fs *pflag.FlagSet) error {
	o.maxAgeSet = fs.Changed("max-age")
	if o.MaxAge < 0 {
		return flagErrorf("invalid --max-age %v: must not be negative", o.MaxAge)
	}
	if o.NoStore && fs.Changed("store") {
		return flagErrorf("--store and --no-store contradict each other")
	}
	return nil
}

func (o *storeOptions) policy() store.Policy {
	return store.Policy{MaxAge: o.MaxAge, Override: o.maxAgeSet}
}

// storeHint tells what to do with a store file everify cannot use.
const storeHint = "run with --no-store, or move the file away (everify then starts a new store)"

// openStore opens the result store of a run, or returns nil when the run has no use for
// one: --no-store, --offline and --no-smtp (no SMTP verdicts to reuse or keep). A
// default store that cannot be created (no cache dir, read-only home) is a warning; an
// explicit --store that fails, or a file that is not an everify store, is an error.
// The caller defers closeStore(&retErr): a failed last write becomes the run's error.
func openStore(ios *IOStreams, vo *verifyOptions, o *storeOptions, v *verify.Verifier) (st *store.Store, closeStore func(*error), err error) {
	closeStore = func(*error) {}
	if o.NoStore || vo.Offline || vo.NoSMTP || v.SMTP == nil {
		return nil, closeStore, nil
	}
	if st, err = openStoreFile(ios, o); err != nil || st == nil {
		return nil, closeStore, err
	}
	return st, func(retErr *error) {
		if cerr := st.Close(); cerr != nil && *retErr == nil {
			*retErr = storeError(cerr)
		}
	}, nil
}

func openStoreFile(ios *IOStreams, o *storeOptions) (*store.Store, error) {
	path, explicit := o.Path, o.Path != ""
	if !explicit {
		var err error
		if path, err = store.DefaultPath(); err != nil {
			fmt.Fprintf(ios.ErrOut, "everify: warning: no result store: %v (set --store FILE)\n", err)
			return nil, nil
		}
	}
	st, err := store.Open(path)
	if err == nil {
		return st, nil
	}
	if errors.Is(err, store.ErrCorrupt) || errors.Is(err, store.ErrForeign) || errors.Is(err, store.ErrTooNew) {
		return nil, withHint(err, storeHint)
	}
	if explicit {
		return nil, withHint(err, "check the path, or run with --no-store")
	}
	fmt.Fprintf(ios.ErrOut, "everify: warning: no result store: %v (set --store FILE, or --no-store)\n", err)
	return nil, nil
}

// storeError adds a hint to a failed store write.
func storeError(err error) error {
	var he *hintError
	if err == nil || errors.As(err, &he) {
		return err
	}
	if errors.Is(err, store.ErrCorrupt) {
		return withHint(err, storeHint)
	}
	return err
}

// storeSettings hashes the settings that can change a verdict: verdicts reached with
// other settings are kept apart.
func storeSettings(o *verifyOptions, v *verify.Verifier) string {
	if v.SMTP == nil {
		return ""
	}
	parts := []string{v.SMTP.HELO, v.SMTP.From, strconv.Itoa(v.SMTP.Port), o.Proxy, strconv.FormatBool(v.NoCatchAll)}
	if v.SMTP.NoTLS { // only when set: the verdicts stored before the flag keep their key
		parts = append(parts, "no-starttls")
	}
	return store.SettingsHash(parts...)
}

// StoreOptions are the inputs of `everify store`.
type StoreOptions struct {
	IO     *IOStreams
	Store  storeOptions
	Action string
	Now    func() time.Time
}

func newStoreCmd(ios *IOStreams) *cobra.Command {
	opts := &StoreOptions{IO: ios}
	cmd := &cobra.Command{
		Use:   "store stats|prune|export",
		Short: "Inspect the result store: counts by status and age, drop expired verdicts, export as NDJSON",
		Example: `  everify store stats
  everify store prune                 # drop verdicts past their maximum age, then VACUUM
  everify store export | jq -r 'select(.status=="deliverable") | .email'`,
		Args:      cobra.ExactArgs(1),
		ValidArgs: []string{"stats", "prune", "export"},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Action = args[0]
			switch opts.Action {
			case "stats", "prune", "export":
			default:
				return flagErrorf("unknown action %q: want stats, prune or export", opts.Action)
			}
			if err := opts.Store.complete(cmd.Flags()); err != nil {
				return err
			}
			return runStore(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Store.Path, "store", "", "result store `file` (default: everify.db in the user cache dir)")
	f.DurationVar(&opts.Store.MaxAge, "max-age", 0, "prune: drop verdicts older than this `duration`, whatever their status")
	return cmd
}

func runStore(ctx context.Context, opts *StoreOptions) error {
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	path := opts.Store.Path
	if path == "" {
		var err error
		if path, err = store.DefaultPath(); err != nil {
			return withHint(err, "name the store with --store FILE")
		}
	}
	st, err := store.Open(path)
	if err != nil {
		if errors.Is(err, store.ErrCorrupt) || errors.Is(err, store.ErrForeign) || errors.Is(err, store.ErrTooNew) {
			return withHint(err, "move the file away: everify then starts a new store")
		}
		return err
	}
	defer st.Close()
	switch opts.Action {
	case "export":
		return st.Export(ctx, opts.IO.Out)
	case "prune":
		n, err := st.Prune(ctx, opts.Store.policy(), now())
		if err != nil {
			return err
		}
		fmt.Fprintf(opts.IO.Out, "pruned %d %s from %s\n", n, plural(int(n), "verdict", "verdicts"), st.Path())
		return nil
	}
	s, err := st.Stats(ctx, now())
	if err != nil {
		return err
	}
	fmt.Fprintf(opts.IO.Out, "store %s (schema %d, %s)\n", s.Path, s.Version, byteSize(s.Size))
	fmt.Fprintf(opts.IO.Out, "  %-14s %8s %8s %8s %8s %8s  %s\n", "status", "total", "<1d", "<7d", "<30d", "expired", "oldest")
	total := 0
	for _, status := range []verify.Status{verify.StatusDeliverable, verify.StatusUndeliverable,
		verify.StatusRisky, verify.StatusUnknown} {
		ss := s.ByStatus[status]
		total += ss.Total
		oldest := "-"
		if ss.Total > 0 {
			oldest = ss.Oldest.Format(time.RFC3339)
		}
		fmt.Fprintf(opts.IO.Out, "  %-14s %8d %8d %8d %8d %8d  %s\n", status, ss.Total, ss.Day, ss.Week, ss.Month, ss.Expired, oldest)
	}
	fmt.Fprintf(opts.IO.Out, "  %d %s, %d %s\n", total, plural(total, "verdict", "verdicts"), s.Domains, plural(s.Domains, "domain", "domains"))
	return nil
}

func byteSize(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// openVerifier builds a run's verifier and opens its result store; done closes both,
// reporting a failed final store write in *retErr.
func openVerifier(ios *IOStreams, vo *verifyOptions, so *storeOptions, mk func() (*verify.Verifier, error)) (*verify.Verifier, *store.Store, func(retErr *error), error) {
	v, err := mk()
	if err != nil {
		return nil, nil, nil, err
	}
	st, closeStore, err := openStore(ios, vo, so, v)
	if err != nil {
		v.Close()
		return nil, nil, nil, err
	}
	return v, st, func(retErr *error) {
		closeStore(retErr)
		v.Close()
	}, nil
}
