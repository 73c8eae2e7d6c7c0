package main

import (
	"bufio"
	"context"
	"fmt"
	"net/netip"

	"github.com/spf13/cobra"

	"github.com/everify/everify/diag"
)

// DoctorOptions are the inputs of `everify doctor`.
type DoctorOptions struct {
	IO       *IOStreams
	Probe    verifyOptions // only the DNS and SMTP flags of addProbeFlags are set
	Format   string
	MX       string
	EgressIP string
	DNSBL    []string
	// Doctor builds the Doctor lazily (tests substitute one).
	Doctor func() (*diag.Doctor, error)
}

func newDoctorCmd(ios *IOStreams, runF func(context.Context, *DoctorOptions) error) *cobra.Command {
	opts := &DoctorOptions{IO: ios, Probe: probeDefaults()}
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "Check that this machine can probe: resolver, outbound port 25, EHLO name, reverse DNS, blocklists",
		Long: `Check that this machine can probe mail servers. Each check prints pass, warn or fail
and how to fix it. Exit status: 0 when probing can work, 2 when it cannot.

The egress IP is the local address of the port-25 connection, which is the address
receivers see unless this machine is behind NAT or a proxy: then give it with
--egress-ip.`,
		Example: `  everify doctor
  everify doctor --helo probe.example.net --mx mx.example.org
  everify doctor --proxy socks5://relay.example.net:1080 --egress-ip 203.0.113.7`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if opts.Format != formatText && opts.Format != formatJSON {
				return flagErrorf("invalid --format %q: want text or json", opts.Format)
			}
			if opts.EgressIP != "" {
				if _, err := netip.ParseAddr(opts.EgressIP); err != nil {
					return flagErrorf("invalid --egress-ip %q: not an IP address", opts.EgressIP)
				}
			}
			if err := opts.Probe.validate(); err != nil {
				return err
			}
			if opts.Doctor == nil {
				opts.Doctor = opts.newDoctor
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runDoctor(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Format, "format", formatText, "output `format`: text or json")
	cmd.Flags().StringVar(&opts.MX, "mx", "", "mail server `host` to connect to (default: the first MX of gmail.com)")
	cmd.Flags().StringVar(&opts.EgressIP, "egress-ip", "", "the `address` receivers see (default: the local address of the port-25 connection)")
	addProbeFlags(cmd.Flags(), &opts.Probe)
	addDNSBLFlag(cmd.Flags(), &opts.DNSBL)
	return cmd
}

func (o *DoctorOptions) newDoctor() (*diag.Doctor, error) {
	v, err := o.Probe.newVerifier()
	if err != nil {
		return nil, err
	}
	d := &diag.Doctor{DNS: v.DNS, SMTP: v.SMTP, Proxied: o.Probe.Proxy != "", MX: o.MX, DNSBLZones: nonEmpty(o.DNSBL)}
	if o.EgressIP != "" {
		d.EgressIP = netip.MustParseAddr(o.EgressIP)
	}
	return d, nil
}

func runDoctor(ctx context.Context, opts *DoctorOptions) error {
	d, err := opts.Doctor()
	if err != nil {
		return err
	}
	checks, err := d.Run(ctx)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(opts.IO.Out)
	if opts.Format == formatJSON {
		err = encodeJSONLine(w, map[string]any{"can_probe": diag.CanProbe(checks), "checks": checks})
	} else {
		for _, c := range checks {
			fmt.Fprintf(w, "%-4s  %-9s %s\n", c.Status, c.Name, c.Message)
			if c.Fix != "" {
				fmt.Fprintf(w, "                fix: %s\n", c.Fix)
			}
		}
	}
	if ferr := w.Flush(); err == nil {
		err = ferr
	}
	if err != nil {
		return err
	}
	if !diag.CanProbe(checks) {
		return &exitCodeError{exitFail}
	}
	return nil
}
