package main

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// envRoot is a root command wired like newRootCmd (applyEnv in PersistentPreRunE)
// around check and bulk commands whose run functions capture their options.
func envRoot(ios *IOStreams, check *CheckOptions, bulk *BulkOptions) *cobra.Command {
	root := &cobra.Command{Use: "everify", SilenceErrors: true, SilenceUsage: true}
	root.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error { return applyEnv(cmd, ios) }
	root.AddCommand(
		newCheckCmd(ios, func(_ context.Context, o *CheckOptions) error { *check = *o; return nil }),
		newBulkCmd(ios, func(_ context.Context, o *BulkOptions) error { *bulk = *o; return nil }),
	)
	return root
}

func TestApplyEnv(t *testing.T) {
	tests := []struct {
		name  string
		env   map[string]string
		args  []string
		check func(t *testing.T, c *CheckOptions, b *BulkOptions)
		err   string
	}{
		{name: "defaults", args: []string{"check", "a@b.example"},
			check: func(t *testing.T, c *CheckOptions, _ *BulkOptions) {
				if c.Verify.HELO != "" || c.Verify.Workers != 64 || c.Verify.DNSTimeout != 5*time.Second || c.Verify.Offline {
					t.Errorf("defaults changed: %+v", c.Verify)
				}
			}},
		{name: "env beats default",
			env: map[string]string{"EVERIFY_HELO": "probe.example.org", "EVERIFY_WORKERS": "8", "EVERIFY_DNS_TIMEOUT": "2s",
				"EVERIFY_OFFLINE": "true", "EVERIFY_NO_CATCH_ALL": "yes", "EVERIFY_FORMAT": "csv", "EVERIFY_FROM": "<>"},
			args: []string{"check", "a@b.example"},
			check: func(t *testing.T, c *CheckOptions, _ *BulkOptions) {
				v := c.Verify
				if v.HELO != "probe.example.org" || v.Workers != 8 || v.DNSTimeout != 2*time.Second || !v.Offline ||
					!v.NoCatchAll || c.Format != "csv" || v.From != "<>" {
					t.Errorf("env not applied: format %q %+v", c.Format, v)
				}
			}},
		{name: "flag beats env",
			env:  map[string]string{"EVERIFY_HELO": "env.example.org", "EVERIFY_OFFLINE": "1", "EVERIFY_FORMAT": "csv"},
			args: []string{"check", "--helo", "flag.example.org", "--offline=false", "--format", "json", "a@b.example"},
			check: func(t *testing.T, c *CheckOptions, _ *BulkOptions) {
				if c.Verify.HELO != "flag.example.org" || c.Verify.Offline || c.Format != "json" {
					t.Errorf("env overrode a flag: format %q %+v", c.Format, c.Verify)
				}
			}},
		{name: "empty is unset", env: map[string]string{"EVERIFY_WORKERS": "", "EVERIFY_HELO": ""},
			args: []string{"check", "a@b.example"},
			check: func(t *testing.T, c *CheckOptions, _ *BulkOptions) {
				if c.Verify.Workers != 64 || c.Verify.HELO != "" {
					t.Errorf("empty variable applied: %+v", c.Verify)
				}
			}},
		{name: "bool words", env: map[string]string{"EVERIFY_OFFLINE": "off", "EVERIFY_NO_SMTP": "ON"},
			args: []string{"check", "a@b.example"},
			check: func(t *testing.T, c *CheckOptions, _ *BulkOptions) {
				if c.Verify.Offline || !c.Verify.NoSMTP {
					t.Errorf("off/ON: offline %v no-smtp %v", c.Verify.Offline, c.Verify.NoSMTP)
				}
			}},
		{name: "lists", env: map[string]string{"EVERIFY_RESOLVER": "127.0.0.1:5353, [::1]:53", "EVERIFY_FAIL_ON": "undeliverable,disposable",
			"EVERIFY_KEEP": "deliverable", "EVERIFY_COLUMN": "Email Address", "EVERIFY_OUTPUT": "out.csv", "EVERIFY_PROGRESS": "never"},
			args: []string{"bulk", "in.csv"},
			check: func(t *testing.T, _ *CheckOptions, b *BulkOptions) {
				if !slices.Equal(b.Verify.Resolvers, []string{"127.0.0.1:5353", "[::1]:53"}) ||
					!slices.Equal(b.FailOn, []string{"undeliverable", "disposable"}) || !slices.Equal(b.Keep, []string{"deliverable"}) ||
					b.Column != "Email Address" || b.Output != "out.csv" || b.Progress != "never" {
					t.Errorf("bulk env: resolvers %q fail-on %q keep %q column %q output %q progress %q",
						b.Verify.Resolvers, b.FailOn, b.Keep, b.Column, b.Output, b.Progress)
				}
			}},
		{name: "repeatable flag replaces env", env: map[string]string{"EVERIFY_RESOLVER": "192.0.2.1"},
			args: []string{"check", "--resolver", "127.0.0.1", "a@b.example"},
			check: func(t *testing.T, c *CheckOptions, _ *BulkOptions) {
				if !slices.Equal(c.Verify.Resolvers, []string{"127.0.0.1"}) {
					t.Errorf("resolvers %q, want the flag's only", c.Verify.Resolvers)
				}
			}},
		{name: "bad duration", env: map[string]string{"EVERIFY_DNS_TIMEOUT": "5 seconds"}, args: []string{"check", "a@b.example"},
			err: `invalid EVERIFY_DNS_TIMEOUT="5 seconds"`},
		{name: "bad int", env: map[string]string{"EVERIFY_WORKERS": "many"}, args: []string{"bulk"},
			err: `invalid EVERIFY_WORKERS="many"`},
		{name: "bad bool", env: map[string]string{"EVERIFY_OFFLINE": "sure"}, args: []string{"check", "a@b.example"},
			err: `invalid EVERIFY_OFFLINE="sure"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ios, _, _ := relStreams(tt.env)
			var c CheckOptions
			var b BulkOptions
			root := envRoot(ios, &c, &b)
			root.SetArgs(tt.args)
			err := root.Execute()
			if tt.err != "" {
				var fe *flagError
				if err == nil || !strings.Contains(err.Error(), tt.err) || !errorsAsFlag(err, &fe) {
					t.Fatalf("err = %v, want a usage error containing %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, &c, &b)
		})
	}
}

func errorsAsFlag(err error, target **flagError) bool {
	fe, ok := err.(*flagError)
	*target = fe
	return ok
}

// TestApplyEnvCLI checks the environment reaches commands through run and that a bad
// value exits 1 naming the variable.
func TestApplyEnvCLI(t *testing.T) {
	code, _, stderr := relRun(t, map[string]string{"EVERIFY_SMTP_TIMEOUT": "soon"}, "check", "--offline", "a@b.example")
	if code != exitError || !strings.Contains(stderr, "EVERIFY_SMTP_TIMEOUT") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
	code, _, stderr = relRun(t, map[string]string{"EVERIFY_TIMEOUT": "-1s"}, "lists", "update", "--lists-dir", t.TempDir())
	if code != exitError || !strings.Contains(stderr, "invalid --timeout") {
		t.Errorf("lists update EVERIFY_TIMEOUT=-1s: exit %d, stderr %q", code, stderr)
	}
}

func TestEnvName(t *testing.T) {
	for flag, want := range map[string]string{
		"helo": "EVERIFY_HELO", "dns-timeout": "EVERIFY_DNS_TIMEOUT", "no-list-updates": "EVERIFY_NO_LIST_UPDATES",
	} {
		if got := envName(flag); got != want {
			t.Errorf("envName(%q) = %q, want %q", flag, got, want)
		}
	}
}

// TestDocumentEnv checks --help names each flag's variable, once, for every command.
func TestDocumentEnv(t *testing.T) {
	ios, out, _ := relStreams(nil)
	root := newRootCmd(ios)
	documentEnv(root)
	documentEnv(root) // idempotent: the lead may call it in newRootCmd too
	for _, args := range [][]string{{"check", "--help"}, {"bulk", "--help"}, {"lists", "update", "--help"}, {"version", "--help"}} {
		out.Reset()
		root.SetArgs(args)
		if err := root.Execute(); err != nil {
			t.Fatal(err)
		}
		help := out.String()
		cmd, _, _ := root.Find(args[:len(args)-1])
		cmd.Flags().VisitAll(func(f *pflag.Flag) {
			v := "[$" + envName(f.Name) + "]"
			switch n := strings.Count(help, v); {
			case f.Name == "help" || f.Hidden:
				if n != 0 {
					t.Errorf("%v: %s documented", args, v)
				}
			case n != 1:
				t.Errorf("%v: %s appears %d times in help:\n%s", args, v, n, help)
			}
		})
	}
}
