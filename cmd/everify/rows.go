package main

import (
	"github.com/spf13/pflag"

	"github.com/everify/everify/csvio"
)

// rowProblem is the message reported on stderr for an input row: its defect, or a
// warning about a defect outside its address cell; "" for a good row and for an empty
// one (a blank line, a spreadsheet's ",,,"), which the summary counts apart.
func rowProblem(rec *csvio.Record) string {
	switch {
	case rec.Empty:
		return ""
	case rec.Problem != "":
		return rec.Problem
	}
	return rec.Warning
}

// addCSVSafeFlag adds --csv-safe, for commands writing CSV.
func addCSVSafeFlag(f *pflag.FlagSet, p *bool) {
	f.BoolVar(p, "csv-safe", false, "neutralise spreadsheet formulas: prefix ' to cells starting with = + - @ tab or CR, input columns included (CSV output)")
}
