package remote

import (
	"fmt"
	"log/slog"
	"slices"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/containerd/platforms"

	"github.com/switchyard/switchyard/api/client"
	"github.com/switchyard/switchyard/runtime"
)

type options struct {
	log             *slog.Logger
	static          []ocispec.Platform
	probeTimeout    time.Duration
	refreshInterval time.Duration
	client          []client.Option
}

// Option configures a Runtime.
type Option func(*options) error

// WithPlatforms sets the platforms the delegate claims until it has
// answered once (see the package doc). Default: none, so that a delegate
// that is down at New claims nothing until it comes up. Platforms are
// normalised; an empty list is refused.
func WithPlatforms(ps ...ocispec.Platform) Option {
	return func(o *options) error {
		if len(ps) == 0 {
			return fmt.Errorf("delegate platforms: the list is empty; give at least one, such as linux/amd64: %w", runtime.ErrInvalidArgument)
		}
		o.static = make([]ocispec.Platform, len(ps))
		for i, p := range ps {
			if p.OS == "" {
				return fmt.Errorf("delegate platform %d: no OS; give os/arch, such as linux/amd64: %w", i, runtime.ErrInvalidArgument)
			}
			o.static[i] = platforms.Normalize(p)
		}
		return nil
	}
}

// WithProbeTimeout bounds each probe of the delegate's identity, the first
// one in New included. Default: 2s; d must be positive.
func WithProbeTimeout(d time.Duration) Option {
	return func(o *options) error {
		if d <= 0 {
			return fmt.Errorf("probe timeout %v: want > 0: %w", d, runtime.ErrInvalidArgument)
		}
		o.probeTimeout = d
		return nil
	}
}

// WithRefreshInterval sets how often the background loop asks the
// delegate for its platforms. Default: 30s; d must be positive.
func WithRefreshInterval(d time.Duration) Option {
	return func(o *options) error {
		if d <= 0 {
			return fmt.Errorf("refresh interval %v: want > 0: %w", d, runtime.ErrInvalidArgument)
		}
		o.refreshInterval = d
		return nil
	}
}

// WithLogger sets the logger for the delegate's comings and goings.
// Default: discard.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) error {
		if l == nil {
			return fmt.Errorf("remote logger is nil: %w", runtime.ErrInvalidArgument)
		}
		o.log = l
		return nil
	}
}

// WithClientOptions passes options to the API client that talks to the
// delegate: TLS (client.WithTLSConfig, client.TLSConfig), the bearer token
// (client.WithToken), timeouts. Default: the client's defaults, except a
// dial timeout of 3s.
func WithClientOptions(opts ...client.Option) Option {
	return func(o *options) error {
		o.client = append(o.client, slices.Clone(opts)...)
		return nil
	}
}
