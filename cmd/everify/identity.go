package main

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"github.com/everify/everify/verify"
)

// The prober's identity (SPEC: the EHLO name is the host's own FQDN or --helo, and the
// envelope sender verify@<that name> or --from). A malformed one would make every
// server refuse the probe, and every address would come out smtp_unreachable or
// smtp_blocked, so it is a usage error caught before any probing.

// checkHELO accepts a domain name (LDH labels) or an address literal ([192.0.2.1],
// [IPv6:2001:db8::1]).
func checkHELO(name string) error {
	if lit, ok := strings.CutPrefix(name, "["); ok {
		lit, ok = strings.CutSuffix(lit, "]")
		v6, isV6 := strings.CutPrefix(lit, "IPv6:")
		if !ok {
			return errors.New("an address literal ends with ']'")
		}
		ip, err := netip.ParseAddr(v6)
		if err != nil || ip.Is6() != isV6 || ip.Zone() != "" {
			return fmt.Errorf("%q is not an address literal such as [192.0.2.1] or [IPv6:2001:db8::1]", name)
		}
		return nil
	}
	host := strings.TrimSuffix(name, ".")
	if host == "" || len(host) > 253 {
		return errors.New("want a host name of 1 to 253 characters")
	}
	for _, l := range strings.Split(host, ".") {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return fmt.Errorf("%q is not a host name: each label has 1 to 63 letters, digits or hyphens, with no hyphen first or last", name)
		}
		for i := 0; i < len(l); i++ {
			if c := l[i]; !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return fmt.Errorf("%q is not a host name: %q is not a letter, digit or hyphen", name, c)
			}
		}
	}
	return nil
}

// checkFrom accepts a bare mailbox (local@domain) usable as MAIL FROM.
func checkFrom(from string) error {
	if strings.ContainsAny(from, "<> \t\r\n") {
		return errors.New(`want a bare address such as verify@mail.example.org (or "<>" for the null sender)`)
	}
	syn := verify.ParseAddress(from, verify.ParseOptions{})
	if !syn.Valid {
		return fmt.Errorf("not an e-mail address: %s", syn.Error)
	}
	return nil
}

// warnHELO warns, once per run, when the EHLO name is not fully qualified (a bare host
// name such as "vm"): many servers refuse "EHLO vm" and the sender verify@vm.
func (o *verifyOptions) warnHELO(helo string) {
	if o.errOut == nil || strings.HasPrefix(helo, "[") || strings.Contains(strings.TrimSuffix(helo, "."), ".") {
		return
	}
	src := "this host's name"
	if o.HELO != "" {
		src = optName(o.fs, "helo")
	}
	from := "verify@" + helo
	switch o.From {
	case "":
	case "<>":
		from = ""
	default:
		from = o.From
	}
	fmt.Fprintf(o.errOut, "everify: warning: the EHLO name %q (%s) is not fully qualified: many servers refuse \"EHLO %s\" and \"MAIL FROM:<%s>\"\n", helo, src, helo, from)
	fmt.Fprintln(o.errOut, "everify: hint: pass --helo with a name that resolves to this host's public address, e.g. --helo mail.example.org")
}
