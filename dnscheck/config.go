package dnscheck

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// resolvConf is the system resolver configuration read when no server is given.
const resolvConf = "/etc/resolv.conf"

// maxNS is the number of resolv.conf nameservers used, as glibc's MAXNS: later
// lines are ignored by the system resolver too.
const maxNS = 3

// NewResolver returns a Resolver that queries servers in order. Each server is
// "host" or "host:port" (port 53 by default); IPv6 addresses may be bare or in
// brackets ("::1", "[::1]:5353"). With no servers it reads the nameservers of
// /etc/resolv.conf, as [NewResolverFromConfig] does. A zero timeout means the
// default of [Resolver.Timeout].
func NewResolver(servers []string, timeout time.Duration) (*Resolver, error) {
	if len(servers) == 0 {
		return NewResolverFromConfig(resolvConf, timeout)
	}
	r := &Resolver{Timeout: timeout}
	for _, s := range servers {
		hp, err := hostPort(s, "53")
		if err != nil {
			return nil, err
		}
		r.Servers = append(r.Servers, hp)
	}
	return r, nil
}

// NewResolverFromConfig returns a Resolver using the nameservers of the
// resolv.conf(5) file at path (at most the first 3, as the system resolver).
// Its "timeout:" option is used when timeout is zero, and its "attempts:" option
// sets [Resolver.Attempts]. It fails, wrapping [ErrNoServers], when the file
// names no nameserver.
func NewResolverFromConfig(path string, timeout time.Duration) (*Resolver, error) {
	cc, err := dns.ClientConfigFromFile(path)
	if err != nil {
		return nil, fmt.Errorf("dnscheck: reading %s: %w (use --resolver to name a DNS server)", path, err)
	}
	if len(cc.Servers) == 0 {
		return nil, fmt.Errorf("dnscheck: %w in %s (use --resolver to name one)", ErrNoServers, path)
	}
	if len(cc.Servers) > maxNS {
		cc.Servers = cc.Servers[:maxNS]
	}
	r := &Resolver{Timeout: timeout, Attempts: cc.Attempts}
	if timeout == 0 && cc.Timeout > 0 {
		r.Timeout = time.Duration(cc.Timeout) * time.Second
	}
	port := cc.Port
	if port == "" {
		port = "53"
	}
	for _, s := range cc.Servers {
		hp, err := hostPort(s, port)
		if err != nil {
			return nil, fmt.Errorf("%w in %s", err, path)
		}
		r.Servers = append(r.Servers, hp)
	}
	return r, nil
}

// hostPort turns "host", "host:port", "v6addr", "[v6addr]" or "[v6addr]:port"
// into "host:port".
func hostPort(s, defPort string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", fmt.Errorf("dnscheck: empty DNS server address")
	}
	// A bare IPv6 address (with an optional zone, as resolv.conf allows).
	if a, err := netip.ParseAddr(s); err == nil {
		return net.JoinHostPort(a.String(), defPort), nil
	}
	if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		a, err := netip.ParseAddr(s[1 : len(s)-1])
		if err != nil {
			return "", fmt.Errorf("dnscheck: invalid DNS server address %q", s)
		}
		return net.JoinHostPort(a.String(), defPort), nil
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		if strings.Contains(s, ":") {
			return "", fmt.Errorf("dnscheck: invalid DNS server address %q", s)
		}
		host, port = s, defPort // a host name or IPv4 address without port
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return "", fmt.Errorf("dnscheck: invalid port in DNS server address %q", s)
	}
	if host == "" {
		return "", fmt.Errorf("dnscheck: missing host in DNS server address %q", s)
	}
	return net.JoinHostPort(host, port), nil
}
