package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/everify/everify/dnscheck"
	"github.com/everify/everify/internal/defaults"
	"github.com/everify/everify/smtpprobe"
	"github.com/everify/everify/verify"
)

// run executes the command line args and returns the process exit code.
func run(ctx context.Context, args []string, ios *IOStreams) int {
	root := newRootCmd(ios)
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(ctx)
	path := "everify"
	if cmd != nil {
		path = cmd.CommandPath()
	}
	return exitCode(ctx, err, ios, path)
}

func newRootCmd(ios *IOStreams) *cobra.Command {
	root := &cobra.Command{
		Use:   "everify",
		Short: "Verify email addresses without sending mail",
		Long: `everify answers "will mail to this address be delivered?" as deliverable,
undeliverable, risky or unknown, with a precise reason: syntax (RFC 5321/6531,
IDNA), DNS (MX, implicit MX, null MX), lists (disposable, role, free, typos) and
an SMTP RCPT probe with catch-all detection. No message is ever sent.`,
		SilenceErrors: true,
		SilenceUsage:  true,
		Version:       version,
	}
	root.SetIn(ios.In)
	root.SetOut(ios.Out)
	root.SetErr(ios.ErrOut)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &flagError{err} })
	// The version text parses the embedded lists: build it only when --version is asked.
	cobra.AddTemplateFunc("everifyVersion", versionString)
	root.SetVersionTemplate("{{everifyVersion}}\n")
	// Flags not given on the command line are read from EVERIFY_* variables.
	root.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error { return applyEnv(cmd, ios) }
	root.AddCommand(newCheckCmd(ios, nil), newBulkCmd(ios, nil), newRecheckCmd(ios), newDomainCmd(ios, nil), newDoctorCmd(ios, nil),
		newBouncesCmd(ios, nil), newMergeCmd(ios, nil), newStoreCmd(ios), newVersionCmd(ios), newListsCmd(ios), newGenManCmd(ios))
	documentEnv(root)
	registerCompletions(root)
	return root
}

// verifyOptions are the flags common to check and bulk.
type verifyOptions struct {
	Offline        bool
	NoSMTP         bool
	Resolvers      []string
	DNSTimeout     time.Duration
	HELO           string
	From           string
	SMTPPort       int
	SMTPTimeout    time.Duration
	Proxy          string
	Workers        int
	PerMX          int
	RcptPerConn    int
	MaxRejects     int
	GreylistRetry  time.Duration
	NoCatchAll     bool
	NoSTARTTLS     bool
	AllowFile      string
	DenyFile       string
	SuppressFiles  []string // suppression lists from `everify bounces`
	AllowIPLiteral bool
	ListsDir       string // where `everify lists update` keeps downloaded lists
	NoListUpdates  bool   // use the embedded lists only

	fs     *pflag.FlagSet // where the flags live: errors name their source
	errOut io.Writer      // warnings of newVerifier
}

func addVerifyFlags(fs *pflag.FlagSet, o *verifyOptions) {
	o.fs = fs
	fs.BoolVar(&o.Offline, "offline", false, "syntax and lists only: no network at all")
	fs.BoolVar(&o.NoSMTP, "no-smtp", false, "skip the SMTP stage (syntax, DNS and lists only)")
	fs.StringArrayVar(&o.Resolvers, "resolver", nil, "DNS server `host[:port]` (repeatable; default: /etc/resolv.conf)")
	fs.DurationVar(&o.DNSTimeout, "dns-timeout", defaults.DNSTimeout, "timeout per DNS query")
	fs.StringVar(&o.HELO, "helo", "", "EHLO `name` (default: this host's FQDN)")
	fs.StringVar(&o.From, "from", "", "envelope sender `address` for the probe, \"<>\" for the null sender (default: verify@HELO)")
	fs.IntVar(&o.SMTPPort, "smtp-port", defaults.SMTPPort, "TCP port of mail exchangers")
	fs.DurationVar(&o.SMTPTimeout, "smtp-timeout", defaults.SMTPTimeout, "timeout per SMTP command, connect included")
	fs.StringVar(&o.Proxy, "proxy", "", "SOCKS5 proxy `URL` for SMTP connections: socks5://[user:pass@]host:port")
	fs.IntVar(&o.Workers, "workers", defaults.Workers, "addresses verified at once (online bulk: 1000 unless given)")
	fs.IntVar(&o.PerMX, "per-mx", defaults.PerMX, "simultaneous SMTP sessions per mail server")
	fs.IntVar(&o.RcptPerConn, "rcpt-per-conn", defaults.RcptPerConn, "recipients probed on one SMTP session before reconnecting")
	fs.IntVar(&o.MaxRejects, "max-rejects", defaults.MaxRejects, "rejected recipients one SMTP session takes before a fresh one is opened (stays under servers' error limits)")
	fs.DurationVar(&o.GreylistRetry, "greylist-retry", 0, "wait this long and retry once after a temporary (4xx) failure (0: off)")
	fs.BoolVar(&o.NoCatchAll, "no-catch-all", false, "skip the catch-all probe")
	fs.BoolVar(&o.NoSTARTTLS, "no-starttls", false, "never use STARTTLS: two round trips less per session, but addresses cross the network in clear text")
	fs.StringVar(&o.AllowFile, "allow", "", "`file` of addresses or domains always treated as deliverable (not probed)")
	fs.StringVar(&o.DenyFile, "deny", "", "`file` of addresses or domains always treated as undeliverable (reason denied)")
	fs.StringArrayVar(&o.SuppressFiles, "suppress", nil, "suppression list `file` from 'everify bounces' (repeatable): listed addresses are undeliverable (reason suppressed), not probed")
	fs.BoolVar(&o.AllowIPLiteral, "allow-ip-literal", false, "accept address literals (user@[192.0.2.1]) and probe that address")
	fs.StringVar(&o.ListsDir, "lists-dir", "", "`dir` of updated lists (default: the user cache dir, see 'everify lists show')")
	fs.BoolVar(&o.NoListUpdates, "no-list-updates", false, "use only the lists embedded in the binary")
}

// maxWorkers bounds --workers: a generous number of addresses in flight (an online run
// may want thousands), but not one that would ask the machine for gigabytes.
const maxWorkers = 100000

func (o *verifyOptions) validate() error {
	fs := o.fs
	switch {
	case o.Workers < 1:
		return flagErrorf("invalid %s: must be at least 1", optRef(fs, "workers"))
	case o.Workers > maxWorkers:
		return flagErrorf("invalid %s: at most %d addresses can be in flight", optRef(fs, "workers"), maxWorkers)
	case o.PerMX < 1:
		return flagErrorf("invalid %s: must be at least 1", optRef(fs, "per-mx"))
	case o.RcptPerConn < 1:
		return flagErrorf("invalid %s: must be at least 1", optRef(fs, "rcpt-per-conn"))
	case o.MaxRejects < 1:
		return flagErrorf("invalid %s: must be at least 1", optRef(fs, "max-rejects"))
	case o.SMTPPort < 1 || o.SMTPPort > 65535:
		return flagErrorf("invalid %s: want a TCP port, 1 to 65535", optRef(fs, "smtp-port"))
	case o.DNSTimeout <= 0:
		return flagErrorf("invalid %s: must be positive", optRef(fs, "dns-timeout"))
	case o.SMTPTimeout <= 0:
		return flagErrorf("invalid %s: must be positive", optRef(fs, "smtp-timeout"))
	case o.GreylistRetry < 0:
		return flagErrorf("invalid %s: must not be negative", optRef(fs, "greylist-retry"))
	}
	if o.HELO != "" {
		if err := checkHELO(o.HELO); err != nil {
			return flagErrorf("invalid %s: %v", optRef(fs, "helo"), err)
		}
	}
	if o.From != "" && o.From != "<>" {
		if err := checkFrom(o.From); err != nil {
			return flagErrorf("invalid %s: %v", optRef(fs, "from"), err)
		}
	}
	return nil
}

// complete validates the flags and, unless a test supplied one, sets *vf to build the
// Verifier they describe; warnings of that build go to ios.ErrOut.
func (o *verifyOptions) complete(ios *IOStreams, vf *func() (*verify.Verifier, error)) error {
	if err := o.validate(); err != nil {
		return err
	}
	o.errOut = ios.ErrOut
	if *vf == nil {
		*vf = o.newVerifier
	}
	return nil
}

// newVerifier builds the Verifier the flags describe.
func (o *verifyOptions) newVerifier() (*verify.Verifier, error) {
	v := &verify.Verifier{
		AllowIPLiteral: o.AllowIPLiteral,
		NoCatchAll:     o.NoCatchAll,
		GreylistRetry:  o.GreylistRetry,
		PerMX:          o.PerMX,
		RcptPerConn:    o.RcptPerConn,
		MaxRejects:     o.MaxRejects,
	}
	var err error
	if v.Lists, err = loadLists(o.ListsDir, o.NoListUpdates); err != nil {
		return nil, err
	}
	if v.Allow, err = loadMatcher(o.AllowFile, "--allow"); err != nil {
		return nil, err
	}
	if v.Deny, err = loadMatcher(o.DenyFile, "--deny"); err != nil {
		return nil, err
	}
	if v.Suppress, err = loadSuppress(o.SuppressFiles); err != nil {
		return nil, err
	}
	if o.Offline {
		return v, nil
	}
	v.DNS, err = dnscheck.NewResolver(o.Resolvers, o.DNSTimeout)
	if err != nil {
		return nil, withHint(err, "name a DNS server with --resolver HOST[:PORT], or use --offline")
	}
	if o.NoSMTP {
		return v, nil
	}
	helo := o.HELO
	if helo == "" {
		helo = hostFQDN()
	}
	o.warnHELO(helo)
	from := o.From
	switch from {
	case "":
		from = "verify@" + helo
	case "<>":
		from = ""
	}
	p := &smtpprobe.Prober{Port: o.SMTPPort, HELO: helo, From: from, Timeout: o.SMTPTimeout, NoTLS: o.NoSTARTTLS}
	if o.Proxy != "" {
		if p.Dial, err = smtpprobe.SOCKS5Dialer(o.Proxy, o.SMTPTimeout); err != nil {
			return nil, flagErrorf("invalid %s: %v", optName(o.fs, "proxy"), err)
		}
	}
	v.SMTP = p
	// Bound one address: DNS rounds, up to three exchangers, the catch-all probe.
	v.AddressTimeout = 4*o.DNSTimeout + 8*o.SMTPTimeout
	return v, nil
}

func loadMatcher(path, flag string) (*verify.Matcher, error) {
	if path == "" {
		return nil, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", flag, err)
	}
	defer f.Close()
	m, err := verify.LoadMatcher(f)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", flag, path, err)
	}
	return m, nil
}

// hostFQDN returns this host's fully-qualified name for EHLO: the hostname, canonicalized
// through the system resolver when it has no dot.
func hostFQDN() string {
	h, err := os.Hostname()
	if err != nil || h == "" {
		return "localhost.localdomain"
	}
	if strings.Contains(h, ".") {
		return strings.TrimSuffix(h, ".")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if cname, err := net.DefaultResolver.LookupCNAME(ctx, h); err == nil {
		if c := strings.TrimSuffix(cname, "."); strings.Contains(c, ".") {
			return c
		}
	}
	return h
}

// portBlockedHint is printed once when every SMTP connection of a run timed out.
const portBlockedHint = "every SMTP connection timed out: outbound port 25 looks blocked " +
	"(most cloud providers and ISPs block it); probe through a host that can reach port 25 " +
	"with --proxy socks5://host:port, or skip the SMTP stage with --no-smtp"

// proxyTimeoutHint replaces portBlockedHint when the connections went through --proxy:
// the proxy, not the local port 25, is what to look at.
const proxyTimeoutHint = "every SMTP connection through the proxy timed out: check that the " +
	"--proxy server is up and reachable from here and that it may connect to port 25 " +
	"(the proxy's own provider may block it), or skip the SMTP stage with --no-smtp"

func reportPortBlocked(ios *IOStreams, v *verify.Verifier, proxy string) {
	if v == nil || !v.Stats().PortBlocked() {
		return
	}
	hint := portBlockedHint
	if proxy != "" {
		hint = proxyTimeoutHint
	}
	fmt.Fprintf(ios.ErrOut, "everify: hint: %s\n", hint)
}
