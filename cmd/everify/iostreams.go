package main

import (
	"io"
	"os"

	"golang.org/x/term"
)

// IOStreams are the only way commands read and write: tests pass buffers.
type IOStreams struct {
	In          io.Reader
	Out, ErrOut io.Writer
	OutTTY      bool // stdout is a terminal: check defaults to --format text
	ErrTTY      bool // stderr is a terminal: bulk --progress auto shows the bar
	// Getenv reads the environment (EVERIFY_* flags, NO_COLOR); nil means no variables.
	Getenv func(string) string
}

func systemStreams() *IOStreams {
	return &IOStreams{
		In:     os.Stdin,
		Out:    os.Stdout,
		ErrOut: os.Stderr,
		OutTTY: term.IsTerminal(int(os.Stdout.Fd())),
		ErrTTY: term.IsTerminal(int(os.Stderr.Fd())),
		Getenv: os.Getenv,
	}
}

func (s *IOStreams) getenv(k string) string {
	if s.Getenv == nil {
		return ""
	}
	return s.Getenv(k)
}

// Color reports whether output to stdout may use ANSI colours: only on a terminal, and
// never when NO_COLOR is set (no-color.org) or TERM is dumb.
func (s *IOStreams) Color() bool {
	return s.OutTTY && s.getenv("NO_COLOR") == "" && s.getenv("TERM") != "dumb"
}
