package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// flagDocs renders docs/flags.md from the command tree: for every command, each visible
// flag with its default and its EVERIFY_* variable. TestFlagDocs compares it with the
// file, so the reference cannot drift from the code.
func flagDocs(root *cobra.Command) string {
	var b strings.Builder
	b.WriteString("# Flags and environment variables\n\n")
	b.WriteString("<!-- Generated from the command tree by `go test ./cmd/everify -run TestFlagDocs -update`; do not edit. -->\n\n")
	b.WriteString("Every flag can also be set by its environment variable, `EVERIFY_` and the flag's name\n")
	b.WriteString("in upper case with `-` as `_`. Precedence is flag, then environment, then default; an\n")
	b.WriteString("empty variable counts as unset. Booleans accept 1/0, true/false, yes/no, on/off; a\n")
	b.WriteString("repeatable flag takes a comma-separated list. `--help` and `--version` are not read from\n")
	b.WriteString("the environment.\n")
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Hidden || c.Name() == "help" || c.Name() == "__complete" || strings.HasPrefix(c.Name(), "__") {
			return
		}
		var flags []*pflag.Flag
		c.NonInheritedFlags().VisitAll(func(f *pflag.Flag) {
			if !f.Hidden && f.Name != "help" {
				flags = append(flags, f)
			}
		})
		if len(flags) > 0 || c.HasParent() {
			fmt.Fprintf(&b, "\n## %s\n\n%s.\n", c.CommandPath(), c.Short)
			if len(flags) > 0 {
				b.WriteString("\n| flag | default | environment | meaning |\n|---|---|---|---|\n")
				for _, f := range flags {
					b.WriteString(flagRow(f))
				}
			}
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	return b.String()
}

func flagRow(f *pflag.Flag) string {
	name, usage := pflag.UnquoteUsage(f)
	flag := "`--" + f.Name
	if f.Shorthand != "" {
		flag = "`-" + f.Shorthand + "`, `--" + f.Name
	}
	if name != "" {
		flag += " " + name
	}
	flag += "`"
	def := f.DefValue
	switch {
	case def == "" || def == "[]":
		def = ""
	case f.Value.Type() == "bool" && def == "false":
		def = ""
	default:
		def = "`" + def + "`"
	}
	env := ""
	if !envExempt(f) {
		env = "`" + envName(f.Name) + "`"
	}
	// The usage text carries " [$EVERIFY_…]" for --help; the table has its own column.
	usage = strings.TrimSuffix(usage, " [$"+envName(f.Name)+"]")
	usage = strings.ReplaceAll(usage, "|", "\\|")
	return fmt.Sprintf("| %s | %s | %s | %s |\n", flag, def, env, usage)
}
