package main

import (
	"encoding/json"
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/everify/everify/lists"
)

// Set by the release build (.goreleaser.yaml) with
// -ldflags "-X main.version=1.2.3 -X main.commit=<sha> -X main.date=<RFC 3339>".
// A `go install …@v1.2.3` build has none of them and takes the module version and the
// VCS stamp from the binary's build info instead.
var (
	version = "dev"
	commit  = ""
	date    = ""
)

// buildDetails describes the running binary.
type buildDetails struct {
	Version  string `json:"version"`
	Commit   string `json:"commit"`
	Date     string `json:"date"`
	Go       string `json:"go"`
	Platform string `json:"platform"`
}

func buildInfo() buildDetails {
	b := buildDetails{Version: version, Commit: commit, Date: date, Go: runtime.Version(),
		Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if b.Version == "dev" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			b.Version = bi.Main.Version
		}
		modified := false
		for _, s := range bi.Settings {
			switch {
			case s.Key == "vcs.revision" && b.Commit == "":
				b.Commit = s.Value
			case s.Key == "vcs.time" && b.Date == "":
				b.Date = s.Value
			case s.Key == "vcs.modified" && commit == "":
				modified = s.Value == "true"
			}
		}
		if modified && b.Commit != "" {
			b.Commit += "-dirty"
		}
	}
	b.Version = strings.TrimPrefix(b.Version, "v")
	if b.Commit == "" {
		b.Commit = "unknown"
	}
	if b.Date == "" {
		b.Date = "unknown"
	}
	return b
}

// versionString is the text of `everify --version`: the build and the embedded lists.
func versionString() string {
	return versionText(buildInfo(), lists.Reports(lists.Embedded()))
}

func versionText(b buildDetails, reports []lists.Report) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "everify %s\n", b.Version)
	tw := tabwriter.NewWriter(&sb, 0, 4, 1, ' ', 0)
	fmt.Fprintf(tw, "commit:\t%s\n", b.Commit)
	fmt.Fprintf(tw, "built:\t%s\n", b.Date)
	fmt.Fprintf(tw, "go:\t%s %s\n", b.Go, b.Platform)
	tw.Flush()
	if reports != nil {
		sb.WriteString("lists:\n")
		sb.WriteString(listTable(reports, "  "))
	}
	return strings.TrimSuffix(sb.String(), "\n")
}

// VersionOptions are the inputs of `everify version`.
type VersionOptions struct {
	IO            *IOStreams
	ListsDir      string
	NoListUpdates bool
	JSON          bool
}

func newVersionCmd(ios *IOStreams) *cobra.Command {
	opts := &VersionOptions{IO: ios}
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the version, commit, build date and the lists in use",
		Long: `Print the version, commit and build date of this binary, the Go version it was
built with, and for each reference list where it comes from (the embedded snapshot's
upstream commit, or the file downloaded by 'everify lists update'), its date and its
number of entries.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runVersion(opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.ListsDir, "lists-dir", "", "`dir` of updated lists (default: the user cache dir)")
	f.BoolVar(&opts.NoListUpdates, "no-list-updates", false, "report the lists embedded in the binary only")
	f.BoolVar(&opts.JSON, "json", false, "print JSON")
	documentEnv(cmd)
	return cmd
}

func runVersion(opts *VersionOptions) error {
	l, err := loadLists(opts.ListsDir, opts.NoListUpdates)
	if err != nil {
		// The build is still worth printing: version output goes into bug reports.
		fmt.Fprintln(opts.IO.Out, versionText(buildInfo(), nil))
		return err
	}
	b, reports := buildInfo(), lists.Reports(l)
	if opts.JSON {
		enc := json.NewEncoder(opts.IO.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			buildDetails
			Lists []lists.Report `json:"lists"`
		}{b, reports})
	}
	_, err = fmt.Fprintln(opts.IO.Out, versionText(b, reports))
	return err
}

// listTable renders one line per list: name, entry count (right-aligned), date and
// source, each line starting with indent.
func listTable(reports []lists.Report, indent string) string {
	nameW, countW := 0, 0
	for _, r := range reports {
		nameW = max(nameW, len(r.Name))
		countW = max(countW, len(thousands(r.Entries)))
	}
	var sb strings.Builder
	for _, r := range reports {
		src := "embedded " + r.Source
		if !r.Embedded {
			src = r.Path
		}
		fmt.Fprintf(&sb, "%s%-*s  %*s  %s  %s\n", indent, nameW, r.Name, countW, thousands(r.Entries),
			r.Date.UTC().Format(time.DateOnly), src)
	}
	return sb.String()
}
