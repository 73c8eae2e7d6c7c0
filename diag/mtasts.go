package diag

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
)

// maxPolicySize bounds the MTA-STS policy body (RFC 8461 §3.2 suggests 64 KiB).
const maxPolicySize = 64 << 10

// mtaSTS looks up the _mta-sts TXT record of domain and, when there is one, fetches and
// parses its HTTPS policy (RFC 8461 §3).
func (c *Checker) mtaSTS(ctx context.Context, r *Report, domain string) MTASTS {
	rep := MTASTS{MXPatterns: []string{}}
	name := "_mta-sts." + domain
	txt, err := c.DNS.LookupTXT(ctx, name)
	if err != nil {
		rep.Error = err.Error()
		r.add(SeverityInfo, "mta_sts_lookup_failed", "the MTA-STS lookup at "+name+" failed: "+err.Error(), "check that the domain's name servers answer TXT queries")
		return rep
	}
	for _, t := range txt.Values {
		if strings.HasPrefix(t, "v=STSv1") {
			rep.Record = t
			break
		}
	}
	if rep.Record == "" {
		r.add(SeverityInfo, "mta_sts_missing", "no MTA-STS policy: senders use STARTTLS only opportunistically", "publish an MTA-STS policy (RFC 8461) so that senders require TLS to the MX hosts")
		return rep
	}
	for _, f := range strings.Split(rep.Record, ";") {
		if k, v, ok := strings.Cut(strings.TrimSpace(f), "="); ok && k == "id" {
			rep.ID = v
		}
	}
	if rep.ID == "" {
		r.add(SeverityWarning, "mta_sts_invalid", "the MTA-STS record at "+name+" has no id=", `add id=, changed whenever the policy changes ("v=STSv1; id=20240101")`)
	}
	rep.PolicyURL = "https://mta-sts." + domain + "/.well-known/mta-sts.txt"
	if err := c.fetchPolicy(ctx, &rep); err != nil {
		rep.Error = err.Error()
		r.add(SeverityWarning, "mta_sts_policy_unavailable", "MTA-STS is announced but its policy cannot be had: "+err.Error(), "serve the policy at "+rep.PolicyURL+" (HTTPS, a valid certificate for mta-sts."+domain+", text/plain), or remove the "+name+" record")
		return rep
	}
	switch rep.Mode {
	case "testing":
		r.add(SeverityInfo, "mta_sts_testing", "MTA-STS mode is testing: senders report but still deliver without TLS", "switch to mode: enforce once TLS-RPT reports are clean")
	case "none":
		r.add(SeverityInfo, "mta_sts_none", "MTA-STS mode is none: the policy is withdrawn", "")
	}
	return rep
}

// fetchPolicy downloads and parses the policy file into rep.
func (c *Checker) fetchPolicy(ctx context.Context, rep *MTASTS) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rep.PolicyURL, nil)
	if err != nil {
		return err
	}
	resp, err := c.httpClient().Do(req)
	if err != nil {
		var ue interface{ Unwrap() error }
		if errors.As(err, &ue) && ue.Unwrap() != nil {
			err = ue.Unwrap() // drop the repeated "Get URL:"
		}
		return fmt.Errorf("fetching the policy: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("fetching the policy: HTTP %s (redirects are not followed, RFC 8461 §3.3)", resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxPolicySize+1))
	if err != nil {
		return fmt.Errorf("reading the policy: %w", err)
	}
	if len(body) > maxPolicySize {
		return fmt.Errorf("the policy is larger than %d KiB", maxPolicySize>>10)
	}
	return parsePolicy(string(body), rep)
}

// parsePolicy parses an RFC 8461 §3.2 policy ("key: value" lines).
func parsePolicy(body string, rep *MTASTS) error {
	var version string
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		switch strings.TrimSpace(k) {
		case "version":
			version = v
		case "mode":
			rep.Mode = v
		case "mx":
			rep.MXPatterns = append(rep.MXPatterns, strings.ToLower(strings.TrimSuffix(v, ".")))
		case "max_age":
			rep.MaxAge, _ = strconv.Atoi(v)
		}
	}
	switch {
	case version != "STSv1":
		return fmt.Errorf("the policy's version is %q, want STSv1", version)
	case rep.Mode != "enforce" && rep.Mode != "testing" && rep.Mode != "none":
		return fmt.Errorf("the policy's mode is %q, want enforce, testing or none", rep.Mode)
	case rep.Mode != "none" && len(rep.MXPatterns) == 0:
		return errors.New("the policy names no mx")
	}
	return nil
}

// mtaSTSMatch checks the MX hosts against a fetched policy (RFC 8461 §4.1).
func (c *Checker) mtaSTSMatch(r *Report) {
	p := &r.MTASTS
	if p.Mode == "" || p.Mode == "none" || len(r.MX.Hosts) == 0 {
		return
	}
	var unmatched []string
	for _, h := range r.MX.Hosts {
		if !matchesAny(h.Name, p.MXPatterns) {
			unmatched = append(unmatched, h.Name)
		}
	}
	p.MXMatch = len(unmatched) == 0
	if !p.MXMatch {
		sev, what := SeverityWarning, "senders enforcing MTA-STS will not deliver to them"
		if p.Mode == "testing" {
			what = "senders would refuse them in enforce mode"
		}
		r.add(sev, "mta_sts_mx_mismatch", "MX hosts not in the MTA-STS policy: "+strings.Join(unmatched, ", ")+": "+what, "add mx: lines for them to the policy (and change the id= of the _mta-sts record)")
	}
}

// matchesAny reports whether host matches a policy mx pattern: exactly, or "*.suffix"
// matching one more leftmost label.
func matchesAny(host string, patterns []string) bool {
	for _, p := range patterns {
		if suffix, ok := strings.CutPrefix(p, "*."); ok {
			if label, rest, found := strings.Cut(host, "."); found && label != "" && rest == suffix {
				return true
			}
		} else if host == p {
			return true
		}
	}
	return false
}

// httpClient returns the client fetching MTA-STS policies.
func (c *Checker) httpClient() *http.Client {
	if c.HTTPClient != nil {
		return c.HTTPClient
	}
	c.httpOnce.Do(func() {
		timeout := c.HTTPTimeout
		if timeout <= 0 {
			timeout = DefaultHTTPTimeout
		}
		port := c.HTTPSPort
		if port == 0 {
			port = 443
		}
		dialer := &net.Dialer{Timeout: timeout}
		c.http = &http.Client{
			Timeout: timeout,
			Transport: &http.Transport{
				Proxy: nil,
				// The policy host is resolved by the run's resolver, like everything else.
				DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
					host, _, err := net.SplitHostPort(addr)
					if err != nil {
						return nil, err
					}
					ips, err := c.DNS.LookupHost(ctx, host)
					if err != nil {
						return nil, err
					}
					if len(ips) == 0 {
						return nil, fmt.Errorf("%s has no address", host)
					}
					return dialer.DialContext(ctx, network, net.JoinHostPort(ips[0].String(), strconv.Itoa(port)))
				},
				TLSClientConfig:        &tls.Config{RootCAs: c.RootCAs, MinVersion: tls.VersionTLS12},
				TLSHandshakeTimeout:    timeout,
				ResponseHeaderTimeout:  timeout,
				MaxResponseHeaderBytes: 16 << 10,
			},
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	})
	return c.http
}
