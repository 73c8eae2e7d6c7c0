package main

import (
	"fmt"
	"strconv"
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
			return
		}
		if f.Annotations == nil {
			f.Annotations = map[string][]string{}
		}
		f.Annotations[envAnnotation] = []string{val}
	})
	if len(errs) > 0 {
		return errs[0] // the first is enough to act on, as with flags
	}
	return nil
}

// envAnnotation marks a flag set from its environment variable (the value is the
// variable's text), so that errors name the variable the user has to fix.
const envAnnotation = "everify_env"

// optRef names a flag's setting in an error message: `--workers 0` when it came from
// the command line (or is the default), `EVERIFY_WORKERS="0"` when from the environment.
// fs may be nil (options built by a test).
func optRef(fs *pflag.FlagSet, name string) string {
	var f *pflag.Flag
	if fs != nil {
		f = fs.Lookup(name)
	}
	if f == nil {
		return "--" + name
	}
	if v, ok := f.Annotations[envAnnotation]; ok && len(v) == 1 {
		return fmt.Sprintf("%s=%q", envName(name), v[0])
	}
	val := f.Value.String()
	if f.Value.Type() == "string" {
		val = strconv.Quote(val)
	}
	return "--" + name + " " + val
}

// optName is optRef without the value: "--keep" or "EVERIFY_KEEP".
func optName(fs *pflag.FlagSet, name string) string {
	if fs != nil {
		if f := fs.Lookup(name); f != nil {
			if _, ok := f.Annotations[envAnnotation]; ok {
				return envName(name)
			}
		}
	}
	return "--" + name
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
