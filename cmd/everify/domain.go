package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/everify/everify/diag"
)

// DomainOptions are the inputs of `everify domain`.
type DomainOptions struct {
	IO      *IOStreams
	Probe   verifyOptions // only the DNS and SMTP flags of addProbeFlags are set
	Format  string
	DNSBL   []string
	Domains []string
	// Checker builds the Checker lazily (tests substitute one).
	Checker func() (*diag.Checker, error)
}

func newDomainCmd(ios *IOStreams, runF func(context.Context, *DomainOptions) error) *cobra.Command {
	opts := &DomainOptions{IO: ios, Probe: probeDefaults()}
	cmd := &cobra.Command{
		Use:   "domain DOMAIN...",
		Short: "Diagnose a domain's mail setup: MX, SMTP/TLS, reverse DNS, SPF, DMARC, MTA-STS, DNSBL, catch-all",
		Long: `Diagnose the mail setup of each domain and list what to fix, each finding with a
severity (error: the domain cannot receive mail; warning: fix it; info: worth knowing).
Exit status: 0 healthy, 2 some domain cannot receive mail, 3 warnings only.`,
		Example: `  everify domain acme.io
  everify domain --no-smtp --format json acme.io example.org
  everify domain --dnsbl zen.spamhaus.org --resolver 127.0.0.1 acme.io`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Domains = args
			if !cmd.Flags().Changed("format") {
				opts.Format = formatNDJSON
				if ios.OutTTY {
					opts.Format = formatText
				}
			}
			if opts.Format != formatText && opts.Format != formatJSON && opts.Format != formatNDJSON {
				return flagErrorf("invalid --format %q: want text, json or ndjson", opts.Format)
			}
			if err := opts.Probe.validate(); err != nil {
				return err
			}
			if opts.Checker == nil {
				opts.Checker = opts.newChecker
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runDomain(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Format, "format", "", "output `format`: text, json, ndjson (default: text on a terminal, else ndjson)")
	addProbeFlags(cmd.Flags(), &opts.Probe)
	addDNSBLFlag(cmd.Flags(), &opts.DNSBL)
	return cmd
}

// probeDefaults are verifyOptions for commands that take only the probe flags: the
// bounds of check and bulk that they do not use are set to valid values.
func probeDefaults() verifyOptions {
	return verifyOptions{Workers: 1, PerMX: 1, RcptPerConn: 1, MaxRejects: 1}
}

// addProbeFlags adds the DNS and SMTP flags of check and bulk that domain and doctor use.
func addProbeFlags(fs *pflag.FlagSet, o *verifyOptions) {
	all := pflag.NewFlagSet("", pflag.ContinueOnError)
	addVerifyFlags(all, o)
	for _, name := range []string{"no-smtp", "resolver", "dns-timeout", "helo", "from", "smtp-port", "smtp-timeout", "proxy"} {
		fs.AddFlag(all.Lookup(name))
	}
}

func addDNSBLFlag(fs *pflag.FlagSet, zones *[]string) {
	fs.StringSliceVar(zones, "dnsbl", diag.DefaultDNSBLZones, "DNS blocklist `zones` to check, comma-separated (\"\" for none)")
}

// newChecker builds the Checker the flags describe, with the resolver and prober of check.
func (o *DomainOptions) newChecker() (*diag.Checker, error) {
	v, err := o.Probe.newVerifier()
	if err != nil {
		return nil, err
	}
	if v.SMTP != nil {
		// Opportunistic TLS as for probes, down to TLS 1.0 so that an outdated server is
		// reported as such rather than as a failed handshake; certificates are judged
		// against the system roots after the handshake.
		v.SMTP.TLSConfig = &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS10}
	}
	return &diag.Checker{DNS: v.DNS, SMTP: v.SMTP, DNSBLZones: nonEmpty(o.DNSBL), HTTPTimeout: min(o.Probe.SMTPTimeout, 10*time.Second)}, nil
}

// nonEmpty drops empty entries (--dnsbl "" means none) and never returns nil.
func nonEmpty(s []string) []string {
	out := []string{}
	for _, v := range s {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

func runDomain(ctx context.Context, opts *DomainOptions) error {
	c, err := opts.Checker()
	if err != nil {
		return err
	}
	w := bufio.NewWriter(opts.IO.Out)
	var worst diag.Severity
	for i, d := range opts.Domains {
		r, err := c.Domain(ctx, d)
		if err != nil {
			w.Flush()
			return err
		}
		switch h := r.Health(); {
		case h == diag.SeverityError:
			worst = h
		case h == diag.SeverityWarning && worst == "":
			worst = h
		}
		if err := writeReport(w, opts.Format, r, i, len(opts.Domains)); err != nil {
			return err
		}
		if err := w.Flush(); err != nil {
			return err
		}
	}
	switch worst {
	case diag.SeverityError:
		return &exitCodeError{exitFail}
	case diag.SeverityWarning:
		return &exitCodeError{exitRisky}
	}
	return nil
}

// writeReport writes the i-th of n reports.
func writeReport(w io.Writer, format string, r *diag.Report, i, n int) error {
	switch format {
	case formatText:
		if i > 0 {
			fmt.Fprintln(w)
		}
		writeReportText(w, r)
		return nil
	case formatJSON:
		return writeJSONItem(w, r, i, n)
	}
	return encodeJSONLine(w, r)
}

// writeJSONItem writes v as the i-th element of an n-element JSON array, one per line.
func writeJSONItem(w io.Writer, v any, i, n int) error {
	sep := ",\n"
	if i == 0 {
		sep = "[\n"
	}
	io.WriteString(w, sep)
	var b bytes.Buffer
	if err := encodeJSONLine(&b, v); err != nil {
		return err
	}
	w.Write(bytes.TrimSuffix(b.Bytes(), []byte("\n")))
	if i == n-1 {
		io.WriteString(w, "\n]\n")
	}
	return nil
}

func encodeJSONLine(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}
