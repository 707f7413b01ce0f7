package registry

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	goruntime "runtime"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/switchyard/switchyard/runtime"
)

// Option configures an Inspector, an ImageService, Inspect or Pull.
type Option func(*options) error

type options struct {
	insecure  map[string]bool     // registries allowed over plain HTTP, besides loopback
	mirrors   map[string][]mirror // by canonical registry host (canonicalRegistry), in the order tried
	keychain  authn.Keychain
	transport http.RoundTripper
	platforms []ocispec.Platform
	logger    *slog.Logger
	userAgent string
	// headerTimeout bounds the wait for a response's headers, and
	// stallTimeout the silence of a response body being read.
	headerTimeout, stallTimeout time.Duration
}

func makeOptions(opts []Option) (options, error) {
	o := options{
		insecure:  map[string]bool{},
		mirrors:   map[string][]mirror{},
		keychain:  authn.DefaultKeychain,
		transport: remote.DefaultTransport,
		platforms: []ocispec.Platform{{OS: "linux", Architecture: goruntime.GOARCH}},
		logger:    slog.Default(),
		userAgent: "switchyard",

		headerTimeout: DefaultHeaderTimeout,
		stallTimeout:  DefaultStallTimeout,
	}
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return options{}, err
		}
	}
	return o, nil
}

// The default bounds of a registry call: a registry that accepted the
// connection has this long to answer with headers, and a body being read
// may be silent this long; a slow body that keeps moving is not cut.
const (
	DefaultHeaderTimeout = 60 * time.Second
	DefaultStallTimeout  = 60 * time.Second
)

// WithTimeouts sets how long a registry may take to send a response's
// headers, and how long a response body may send nothing, before the call
// fails with an error wrapping ErrUnreachable (and runtime.ErrUnavailable).
// Both must be positive.
func WithTimeouts(header, stall time.Duration) Option {
	return func(o *options) error {
		if header <= 0 || stall <= 0 {
			return fmt.Errorf("registry timeouts %v and %v: want both above zero: %w", header, stall, runtime.ErrInvalidArgument)
		}
		o.headerTimeout, o.stallTimeout = header, stall
		return nil
	}
}

// WithInsecureRegistries lets the given registries (host or host:port, as
// in a reference) be reached over plain HTTP. Loopback registries
// (localhost, 127.0.0.0/8, ::1) always may; every other registry is HTTPS
// only by default, including private addresses.
func WithInsecureRegistries(hosts ...string) Option {
	return func(o *options) error {
		for _, h := range hosts {
			h = strings.TrimSpace(h)
			if h == "" || strings.Contains(h, "/") {
				return fmt.Errorf("insecure registry %q: want a host or host:port, like myregistry:5000: %w", h, runtime.ErrInvalidArgument)
			}
			o.insecure[h] = true
		}
		return nil
	}
}

// WithKeychain sets where credentials come from when the caller passes no
// runtime.RegistryAuth. The default is authn.DefaultKeychain (the Docker config
// file, ~/.docker/config.json, and its credential helpers).
func WithKeychain(kc authn.Keychain) Option {
	return func(o *options) error {
		if kc == nil {
			return fmt.Errorf("keychain is nil: %w", runtime.ErrInvalidArgument)
		}
		o.keychain = kc
		return nil
	}
}

// WithTransport sets the HTTP transport under the registry client (to count
// or trace requests, or to add TLS roots). The default is
// remote.DefaultTransport. The plain-HTTP rule and the digest checks are
// applied on top of it either way.
func WithTransport(rt http.RoundTripper) Option {
	return func(o *options) error {
		if rt == nil {
			return fmt.Errorf("transport is nil: %w", runtime.ErrInvalidArgument)
		}
		o.transport = rt
		return nil
	}
}

// WithPlatforms sets the platforms an ImageService pulls when
// PullOptions.Platform is nil, most preferred first. The default is
// linux on the host's architecture.
func WithPlatforms(ps ...ocispec.Platform) Option {
	return func(o *options) error {
		if len(ps) == 0 {
			return fmt.Errorf("no platforms given: %w", runtime.ErrInvalidArgument)
		}
		o.platforms = make([]ocispec.Platform, len(ps))
		for i, p := range ps {
			o.platforms[i] = runtime.NormalizePlatform(p)
		}
		return nil
	}
}

// WithLogger sets the logger. The default is slog.Default().
func WithLogger(l *slog.Logger) Option {
	return func(o *options) error {
		if l == nil {
			return fmt.Errorf("logger is nil: %w", runtime.ErrInvalidArgument)
		}
		o.logger = l
		return nil
	}
}

// plainHTTPAllowed reports whether host (a reference's registry part) may
// be spoken to without TLS.
func (o *options) plainHTTPAllowed(host string) bool {
	if o.insecure[host] {
		return true
	}
	h := host
	if sh, _, err := net.SplitHostPort(host); err == nil {
		h = sh
	}
	if o.insecure[h] {
		return true
	}
	h = strings.Trim(h, "[]")
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}
