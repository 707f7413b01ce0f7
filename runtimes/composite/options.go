package composite

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/switchyard/switchyard/runtime"
)

// Inspector asks a registry which platforms an image was built for: every
// entry of a multi-platform index, or the one a single manifest's config
// names. An empty answer means unknown and is not an error. Package
// registry provides the real one.
type Inspector interface {
	InspectPlatforms(ctx context.Context, ref string, auth *runtime.RegistryAuth) ([]ocispec.Platform, error)
}

// Option configures New.
type Option func(*options) error

type options struct {
	remedy        func(ocispec.Platform) string
	images        runtime.ImageService
	inspector     Inspector
	logger        *slog.Logger
	retryInterval time.Duration
}

func defaultOptions() options {
	return options{logger: slog.Default(), retryInterval: time.Second, remedy: defaultRemedy}
}

// WithInspector makes Pull ask in for an image's platforms before it pulls,
// so that it pulls only where the image can run and Create can route by the
// image's platform. Default: no inspector; Pull then pulls on the primary
// and images route by what the runtimes' stores record.
func WithInspector(in Inspector) Option {
	return func(o *options) error {
		o.inspector = in
		return nil
	}
}

// WithImages gives the node's image service: the one that pulls for, and
// lists the images of, every runtime that has no image service of its own
// (the local runtimes, which share the node's store). Required when such a
// runtime is given.
func WithImages(s runtime.ImageService) Option {
	return func(o *options) error {
		o.images = s
		return nil
	}
}

// WithRemedy sets how a route-to-peer answer says to enable, on this node,
// a runtime for a platform no runtime here serves: the words of whatever
// assembles the node (the daemon names its flags). The default names the
// platform only. A nil hook is an error.
func WithRemedy(remedy func(ocispec.Platform) string) Option {
	return func(o *options) error {
		if remedy == nil {
			return fmt.Errorf("composite: WithRemedy(nil): pass a function, or leave the option out: %w", runtime.ErrInvalidArgument)
		}
		o.remedy = remedy
		return nil
	}
}

// WithLogger sets where the composite logs what it decided and what failed
// without failing the call. Default: slog.Default(). A nil logger is an
// error.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) error {
		if l == nil {
			return fmt.Errorf("composite: WithLogger(nil): pass a logger, or slog.New(slog.DiscardHandler) for none: %w", runtime.ErrInvalidArgument)
		}
		o.logger = l
		return nil
	}
}

// WithListRetryInterval sets how often, at most, a lookup of an unknown
// container asks the runtimes whose List failed in New again. Default one
// second, so that a delegate that is down is not asked on every miss. A
// negative interval is an error.
func WithListRetryInterval(d time.Duration) Option {
	return func(o *options) error {
		if d < 0 {
			return fmt.Errorf("composite: WithListRetryInterval(%s): the interval must not be negative: %w", d, runtime.ErrInvalidArgument)
		}
		o.retryInterval = d
		return nil
	}
}
