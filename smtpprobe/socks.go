package smtpprobe

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"time"

	"golang.org/x/net/proxy"
)

// SOCKS5Dialer returns a dial function for [Prober.Dial] that connects through the SOCKS5
// proxy (RFC 1928, with RFC 1929 user/password when given) at proxyURL,
// "socks5://[user:pass@]host:port" (socks5h is accepted as a synonym: probes dial IP
// addresses). The port defaults to 1080. timeout, if positive, bounds the connection to
// the proxy and the SOCKS handshake together, in addition to the ctx deadline.
func SOCKS5Dialer(proxyURL string, timeout time.Duration) (func(ctx context.Context, network, addr string) (net.Conn, error), error) {
	u, err := url.Parse(proxyURL)
	if err != nil {
		return nil, fmt.Errorf("smtpprobe: proxy URL: %w", err)
	}
	if u.Scheme != "socks5" && u.Scheme != "socks5h" {
		return nil, fmt.Errorf("smtpprobe: proxy URL %q: scheme must be socks5", u.Redacted())
	}
	if u.Hostname() == "" {
		return nil, fmt.Errorf("smtpprobe: proxy URL %q: missing host", u.Redacted())
	}
	d, err := proxy.FromURL(u, &net.Dialer{Timeout: timeout})
	if err != nil {
		return nil, fmt.Errorf("smtpprobe: proxy URL %q: %w", u.Redacted(), err)
	}
	cd, ok := d.(proxy.ContextDialer)
	if !ok {
		return nil, errors.New("smtpprobe: SOCKS5 dialer does not support contexts")
	}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		if timeout > 0 {
			var cancel context.CancelFunc
			// The SOCKS client bounds its handshake only by the ctx deadline.
			ctx, cancel = context.WithTimeout(ctx, timeout)
			defer cancel()
		}
		return cd.DialContext(ctx, network, addr)
	}, nil
}
