package images

import (
	"fmt"
	"log/slog"

	"github.com/switchyard/switchyard/runtime"
)

// Option configures a Store opened with Open.
type Option func(*options) error

type options struct {
	jobs             int
	maxUnpacked      int64
	maxImageUnpacked int64
	logger           *slog.Logger
	allowDevices     bool
}

// DefaultMaxUnpackedSize bounds the uncompressed size of one layer, and
// DefaultMaxImageUnpackedSize that of all the layers of one image.
const (
	DefaultMaxUnpackedSize      int64 = 8 << 30
	DefaultMaxImageUnpackedSize int64 = 32 << 30
)

func makeOptions(opts []Option) (options, error) {
	o := options{jobs: 4, maxUnpacked: DefaultMaxUnpackedSize, maxImageUnpacked: DefaultMaxImageUnpackedSize, logger: slog.Default()}
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return options{}, err
		}
	}
	return o, nil
}

// WithJobs sets how many blobs Write copies at once. The default is 4;
// n < 1 is an error.
func WithJobs(n int) Option {
	return func(o *options) error {
		if n < 1 {
			return fmt.Errorf("images: jobs %d: %w: give 1 or more", n, runtime.ErrInvalidArgument)
		}
		o.jobs = n
		return nil
	}
}

// WithMaxUnpackedSize bounds the uncompressed size of one layer when it is
// unpacked into a snapshot. The default is DefaultMaxUnpackedSize (8 GiB);
// n < 1 is an error.
func WithMaxUnpackedSize(n int64) Option {
	return func(o *options) error {
		if n < 1 {
			return fmt.Errorf("images: max unpacked size %d: %w: give 1 or more bytes", n, runtime.ErrInvalidArgument)
		}
		o.maxUnpacked = n
		return nil
	}
}

// WithMaxImageUnpackedSize bounds the uncompressed size of all the layers
// of one image together. The default is DefaultMaxImageUnpackedSize (32
// GiB); n < 1 is an error.
func WithMaxImageUnpackedSize(n int64) Option {
	return func(o *options) error {
		if n < 1 {
			return fmt.Errorf("images: max image unpacked size %d: %w: give 1 or more bytes", n, runtime.ErrInvalidArgument)
		}
		o.maxImageUnpacked = n
		return nil
	}
}

// WithDevices lets layers create device nodes in snapshots. By default
// device nodes in layers are skipped (whiteouts are not device nodes in a
// layer and are always converted).
func WithDevices(allow bool) Option {
	return func(o *options) error {
		o.allowDevices = allow
		return nil
	}
}

// WithLogger sets the logger. The default is slog.Default().
func WithLogger(l *slog.Logger) Option {
	return func(o *options) error {
		if l == nil {
			return fmt.Errorf("images: logger: %w: must not be nil", runtime.ErrInvalidArgument)
		}
		o.logger = l
		return nil
	}
}
