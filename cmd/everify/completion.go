package main

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/everify/everify/verify"
)

var statusNames = []string{string(verify.StatusDeliverable), string(verify.StatusUndeliverable),
	string(verify.StatusRisky), string(verify.StatusUnknown)}

// flagValues are the values shell completion offers for flags taking a fixed set, per
// command ("" for every command having the flag); list says the flag takes a
// comma-separated list.
var flagValues = []struct {
	cmd, flag string
	list      bool
	values    func() []string
}{
	{"check", "format", false, func() []string { return []string{formatText, formatJSON, formatNDJSON, formatCSV} }},
	{"bulk", "format", false, func() []string { return []string{formatCSV, formatNDJSON, formatJSON} }},
	{"", "progress", false, func() []string { return []string{"auto", "always", "never"} }},
	{"", "keep", true, func() []string { return statusNames }},
	{"", "fail-on", true, func() []string {
		vals := append([]string(nil), statusNames...)
		for _, r := range verify.Reasons {
			vals = append(vals, string(r))
		}
		return vals
	}},
}

// registerCompletions gives each flag of flagValues, in cmd and its subcommands, its
// completion function.
func registerCompletions(cmd *cobra.Command) {
	for _, fv := range flagValues {
		if (fv.cmd != "" && fv.cmd != cmd.Name()) || cmd.Flags().Lookup(fv.flag) == nil {
			continue
		}
		cmd.RegisterFlagCompletionFunc(fv.flag, completeValues(fv.values, fv.list))
	}
	for _, c := range cmd.Commands() {
		registerCompletions(c)
	}
}

// completeValues completes one value or, for a list, the value after the last comma,
// keeping what was typed before it.
func completeValues(values func() []string, list bool) cobra.CompletionFunc {
	return func(_ *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		prefix, last := "", toComplete
		if i := strings.LastIndexByte(toComplete, ','); list && i >= 0 {
			prefix, last = toComplete[:i+1], toComplete[i+1:]
		}
		var out []string
		for _, v := range values() {
			if strings.HasPrefix(v, last) && !strings.Contains(","+prefix, ","+v+",") {
				out = append(out, prefix+v)
			}
		}
		dir := cobra.ShellCompDirectiveNoFileComp
		if list {
			dir |= cobra.ShellCompDirectiveNoSpace
		}
		return out, dir
	}
}
