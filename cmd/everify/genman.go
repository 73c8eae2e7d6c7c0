package main

//go:generate go run . gen-man --dir ../../man --completions ../../completions

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
)

// GenManOptions are the inputs of the hidden `everify gen-man`, which the release
// (.goreleaser.yaml) runs to put man pages and shell completion scripts into the
// archives and packages.
type GenManOptions struct {
	IO          *IOStreams
	Dir         string // man pages
	Completions string // completion scripts; "" writes none
	Release     string // version in the pages' footer (default: this binary's)
	Date        string // date in the footer: RFC 3339, YYYY-MM-DD or a Unix time
	Gzip        bool   // also write NAME.1.gz, as Debian and RPM packages install them
}

func newGenManCmd(ios *IOStreams) *cobra.Command {
	opts := &GenManOptions{IO: ios}
	cmd := &cobra.Command{
		Use:    "gen-man",
		Short:  "Write man pages (and shell completions) for the release",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runGenMan(cmd.Root(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Dir, "dir", "man", "`dir` for the man pages")
	f.StringVar(&opts.Completions, "completions", "", "`dir` for bash, zsh and fish completion scripts")
	f.StringVar(&opts.Release, "release", "", "`version` shown in the pages (default: this binary's)")
	f.StringVar(&opts.Date, "date", "", "`date` shown in the pages: RFC 3339, YYYY-MM-DD or Unix seconds (default: $SOURCE_DATE_EPOCH, else the build date, else today)")
	f.BoolVar(&opts.Gzip, "gzip", false, "also write gzip-compressed pages (NAME.1.gz)")
	return cmd
}

// parseDocDate reads a date given as RFC 3339, YYYY-MM-DD or Unix seconds.
func parseDocDate(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.Unix(n, 0), nil
	}
	return time.Time{}, fmt.Errorf("invalid date %q: want RFC 3339, YYYY-MM-DD or Unix seconds", s)
}

func runGenMan(root *cobra.Command, opts *GenManOptions) error {
	// Pages are reproducible: the same tree and date give the same bytes.
	var when time.Time
	switch ds := opts.Date; {
	case ds != "":
		t, err := parseDocDate(ds)
		if err != nil {
			return flagErrorf("--date: %v", err)
		}
		when = t
	case opts.IO.getenv("SOURCE_DATE_EPOCH") != "":
		t, err := parseDocDate(opts.IO.getenv("SOURCE_DATE_EPOCH"))
		if err != nil {
			return fmt.Errorf("SOURCE_DATE_EPOCH: %w", err)
		}
		when = t
	default:
		if t, err := time.Parse(time.RFC3339, date); err == nil {
			when = t
		} else {
			when = time.Now()
		}
	}
	when = when.UTC()
	release := opts.Release
	if release == "" {
		release = buildInfo().Version
	}
	release = strings.TrimPrefix(release, "v")

	// The completion command is added by cobra when the command line is executed; add
	// it now so that it gets pages too.
	root.InitDefaultCompletionCmd()
	documentEnv(root)
	if err := os.MkdirAll(opts.Dir, 0o755); err != nil {
		return err
	}
	header := &doc.GenManHeader{
		Title:   "EVERIFY",
		Section: "1",
		Date:    &when,
		Source:  "everify " + release,
		Manual:  "everify manual",
	}
	if err := doc.GenManTreeFromOpts(root, doc.GenManTreeOptions{
		Header: header, Path: opts.Dir, CommandSeparator: "-",
	}); err != nil {
		return err
	}
	if opts.Gzip {
		if err := gzipPages(opts.Dir); err != nil {
			return err
		}
	}
	n, _ := filepath.Glob(filepath.Join(opts.Dir, "*.1"))
	fmt.Fprintf(opts.IO.ErrOut, "everify: wrote %d man pages to %s\n", len(n), opts.Dir)
	if opts.Completions == "" {
		return nil
	}
	return writeCompletions(root, opts.Completions)
}

// gzipPages writes NAME.1.gz next to each NAME.1, with no name or time in the gzip
// header so the output is reproducible.
func gzipPages(dir string) error {
	pages, err := filepath.Glob(filepath.Join(dir, "*.1"))
	if err != nil {
		return err
	}
	for _, p := range pages {
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		if _, err := zw.Write(data); err != nil {
			return err
		}
		if err := zw.Close(); err != nil {
			return err
		}
		if err := os.WriteFile(p+".gz", buf.Bytes(), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// writeCompletions writes the scripts packages install: everify.bash, _everify (zsh),
// everify.fish and everify.ps1.
func writeCompletions(root *cobra.Command, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	gens := []struct {
		file string
		gen  func(*bytes.Buffer) error
	}{
		{"everify.bash", func(b *bytes.Buffer) error { return root.GenBashCompletionV2(b, true) }},
		{"_everify", func(b *bytes.Buffer) error { return root.GenZshCompletion(b) }},
		{"everify.fish", func(b *bytes.Buffer) error { return root.GenFishCompletion(b, true) }},
		{"everify.ps1", func(b *bytes.Buffer) error { return root.GenPowerShellCompletionWithDesc(b) }},
	}
	for _, g := range gens {
		var b bytes.Buffer
		if err := g.gen(&b); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, g.file), b.Bytes(), 0o644); err != nil {
			return err
		}
	}
	return nil
}
