package client

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/switchyard/switchyard/api"
	"github.com/switchyard/switchyard/runtime"
)

// Client is a switchyard API client. It implements runtime.Runtime and is
// safe for concurrent use.
type Client struct {
	addr string // the address as people read it: unix:///path or https://host:port
	base string // the URL prefix of every request
	tr   *http.Transport
	hc   *http.Client
	opts options
	// timeoutErr is the cause of every quick call's deadline.
	timeoutErr error
}

// The client speaks every role of the contract but Identity, which needs
// network I/O the contract's methods have no context for: runtimes/remote
// is the adapter that makes a client a runtime.Runtime.
var (
	_ runtime.Lifecycle    = (*Client)(nil)
	_ runtime.Inspector    = (*Client)(nil)
	_ runtime.Waiter       = (*Client)(nil)
	_ runtime.LogReader    = (*Client)(nil)
	_ runtime.Executor     = (*Client)(nil)
	_ runtime.ImageService = (*Client)(nil)
)

type options struct {
	timeout     time.Duration
	dialTimeout time.Duration
	idleTimeout time.Duration
	tls         *tls.Config
	token       string
}

// Option configures a Client.
type Option func(*options) error

// WithTimeout bounds each quick call (state, start, list, ...) from sending
// the request to reading the answer. Default: 1m; d must be positive.
func WithTimeout(d time.Duration) Option {
	return func(o *options) error {
		if d <= 0 {
			return fmt.Errorf("client timeout %v: want > 0: %w", d, runtime.ErrInvalidArgument)
		}
		o.timeout = d
		return nil
	}
}

// WithDialTimeout bounds connecting to the daemon (and the TLS handshake).
// Default: 5s; d must be positive.
func WithDialTimeout(d time.Duration) Option {
	return func(o *options) error {
		if d <= 0 {
			return fmt.Errorf("dial timeout %v: want > 0: %w", d, runtime.ErrInvalidArgument)
		}
		o.dialTimeout = d
		return nil
	}
}

// WithIdleTimeout sets how long a stream or long call (wait, exec, pull,
// stop) may go without a frame or heartbeat from the daemon before it is
// treated as dropped (checked four times per d, so the call ends after d to
// 1.25·d of silence). Default: 35s, three and a half of the server's
// default heartbeats; d must be positive and should exceed the server's
// heartbeat.
func WithIdleTimeout(d time.Duration) Option {
	return func(o *options) error {
		if d <= 0 {
			return fmt.Errorf("idle timeout %v: want > 0: %w", d, runtime.ErrInvalidArgument)
		}
		o.idleTimeout = d
		return nil
	}
}

// WithTLSConfig sets the TLS configuration for https:// addresses (root
// CAs, client certificates). Default: the system roots.
func WithTLSConfig(cfg *tls.Config) Option {
	return func(o *options) error {
		if cfg == nil {
			return fmt.Errorf("TLS config is nil: %w", runtime.ErrInvalidArgument)
		}
		o.tls = cfg.Clone()
		return nil
	}
}

// WithToken sends token as a bearer token with every request. Default:
// none.
func WithToken(token string) Option {
	return func(o *options) error {
		if token == "" || strings.ContainsAny(token, "\r\n") {
			return fmt.Errorf("bearer token is empty or has a line break: %w", runtime.ErrInvalidArgument)
		}
		o.token = token
		return nil
	}
}

// New returns a client for the daemon at address: unix:///path/to.sock, a
// bare socket path, or https://host:port. It does not connect yet. The
// error wraps runtime.ErrInvalidArgument for a bad address or option.
func New(address string, opts ...Option) (*Client, error) {
	o := options{timeout: time.Minute, dialTimeout: 5 * time.Second, idleTimeout: 35 * time.Second}
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	c := &Client{opts: o}
	dialer := &net.Dialer{Timeout: o.dialTimeout}
	tr := &http.Transport{
		MaxIdleConnsPerHost:   16,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   o.dialTimeout,
		ExpectContinueTimeout: time.Second,
	}
	network, dialAddr, err := c.parseAddress(address)
	if err != nil {
		return nil, err
	}
	if network == "tcp" {
		tr.TLSClientConfig = o.tls
	}
	tr.DialContext = func(ctx context.Context, _, _ string) (net.Conn, error) {
		conn, err := dialer.DialContext(ctx, network, dialAddr)
		if err != nil {
			return nil, &dialError{err}
		}
		return conn, nil
	}
	c.tr = tr
	c.hc = &http.Client{Transport: tr}
	c.timeoutErr = &connError{
		msg:   fmt.Sprintf("the switchyard daemon at %s did not answer within %v", c.addr, o.timeout),
		cause: context.DeadlineExceeded,
	}
	return c, nil
}

// parseAddress sets c.addr and c.base and returns what to dial.
func (c *Client) parseAddress(address string) (network, dialAddr string, err error) {
	bad := func(why string) error {
		return fmt.Errorf("daemon address %q: %s; give unix:///path/to.sock, a socket path, or https://host:port: %w", address, why, runtime.ErrInvalidArgument)
	}
	switch {
	case address == "":
		return "", "", bad("empty")
	case strings.HasPrefix(address, "unix://"):
		path := strings.TrimPrefix(address, "unix://")
		if path == "" {
			return "", "", bad("no socket path")
		}
		c.addr, c.base = "unix://"+path, "http://switchyard"
		return "unix", path, nil
	case !strings.Contains(address, "://"):
		c.addr, c.base = "unix://"+address, "http://switchyard"
		return "unix", address, nil
	}
	u, err := url.Parse(address)
	if err != nil {
		return "", "", bad(err.Error())
	}
	switch {
	case u.Scheme == "http" && !isLoopback(u.Hostname()):
		return "", "", bad("plain HTTP would expose the daemon; TCP needs TLS (plain HTTP is for loopback addresses only)")
	case u.Scheme != "https" && u.Scheme != "http":
		return "", "", bad("unknown scheme " + u.Scheme)
	case u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil:
		return "", "", bad("want only a scheme, a host and a port")
	}
	host := u.Host
	if u.Port() == "" {
		port := "443"
		if u.Scheme == "http" {
			port = "80"
		}
		host = net.JoinHostPort(u.Hostname(), port)
	}
	// Plain http:// reaches only a loopback daemon started with
	// --insecure-listen; anything that crosses a network needs TLS.
	c.addr, c.base = u.Scheme+"://"+host, u.Scheme+"://"+host
	return "tcp", host, nil
}

// Address returns the daemon's address as people read it.
func (c *Client) Address() string { return c.addr }

// Close releases idle connections. Calls made after Close still work; they
// open new connections.
func (c *Client) Close() error {
	c.tr.CloseIdleConnections()
	return nil
}

// Info asks the daemon who it is: its runtime's name and platforms, its
// version and the API version.
func (c *Client) Info(ctx context.Context) (api.Info, error) {
	var info api.Info
	if err := c.do(ctx, call{op: "info", method: http.MethodGet, path: "/v1/info"}, &info); err != nil {
		return api.Info{}, err
	}
	return info, nil
}

// isLoopback reports whether host is localhost or a loopback address.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
