package main

import (
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// envPrefix starts the environment variable of every flag: --dns-timeout is read from
// EVERIFY_DNS_TIMEOUT when not given on the command line.
const envPrefix = "EVERIFY_"

// envName returns the environment variable that sets the flag called name.
func envName(name string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// envExempt are flags never read from the environment: EVERIFY_HELP=1 must not turn
// every run into a help page.
func envExempt(f *pflag.Flag) bool {
	return f.Name == "help" || f.Name == "version"
}

// applyEnv sets each flag of cmd that was not given on the command line from its
// EVERIFY_* variable, read through ios so tests inject the environment. Precedence is
// flag > environment > default. An empty variable counts as unset. A value the flag
// rejects is an error naming the variable.
func applyEnv(cmd *cobra.Command, ios *IOStreams) error {
	var errs []error
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if f.Changed || envExempt(f) {
			return
		}
		name := envName(f.Name)
		val := ios.getenv(name)
		if val == "" {
			return
		}
		if err := setFromEnv(cmd.Flags(), f, val); err != nil {
			errs = append(errs, flagErrorf("invalid %s=%q: %v", name, val, err))
		}
	})
	if len(errs) > 0 {
		return errs[0] // the first is enough to act on, as with flags
	}
	return nil
}

// setFromEnv sets f from an environment value. Boolean flags also take yes/no and
// on/off; a repeatable flag (--resolver) takes a comma-separated list, as a slice flag
// (--keep) does natively.
func setFromEnv(fs *pflag.FlagSet, f *pflag.Flag, val string) error {
	switch f.Value.Type() {
	case "bool":
		switch strings.ToLower(strings.TrimSpace(val)) {
		case "yes", "on":
			val = "true"
		case "no", "off":
			val = "false"
		}
	case "stringArray":
		for _, v := range strings.Split(val, ",") {
			if v = strings.TrimSpace(v); v == "" {
				continue
			}
			if err := fs.Set(f.Name, v); err != nil {
				return err
			}
		}
		return nil
	}
	return fs.Set(f.Name, strings.TrimSpace(val))
}

// documentEnv appends each flag's environment variable to its usage text, as
// "[$EVERIFY_HELO]", in cmd and all its subcommands, so --help and the man pages say
// where else a flag can be set. It is idempotent and skips hidden flags.
func documentEnv(cmd *cobra.Command) {
	note := func(f *pflag.Flag) {
		if f.Hidden || envExempt(f) || strings.Contains(f.Usage, "[$"+envPrefix) {
			return
		}
		f.Usage += " [$" + envName(f.Name) + "]"
	}
	cmd.Flags().VisitAll(note)
	cmd.PersistentFlags().VisitAll(note)
	for _, c := range cmd.Commands() {
		documentEnv(c)
	}
}
