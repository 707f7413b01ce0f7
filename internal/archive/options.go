package archive

import "log/slog"

// DefaultMaxSize is the default bound on the uncompressed stream.
const DefaultMaxSize int64 = 8 << 30

// Option configures Extract.
type Option func(*options)

type options struct {
	maxSize   int64
	devices   bool
	overlay   bool
	owners    bool
	mediaType string
	logger    *slog.Logger
}

func makeOptions(opts []Option) options {
	o := options{maxSize: DefaultMaxSize, owners: true, logger: slog.Default()}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// WithMaxSize bounds the uncompressed size of the stream, in bytes. The
// default is DefaultMaxSize (8 GiB); n <= 0 keeps the default.
func WithMaxSize(n int64) Option {
	return func(o *options) {
		if n > 0 {
			o.maxSize = n
		}
	}
}

// WithDevices lets the archive create character and block devices. By
// default they are skipped (and logged at debug level). FIFOs are always
// created: they give no access to anything.
func WithDevices(allow bool) Option { return func(o *options) { o.devices = allow } }

// WithOverlayWhiteouts converts whiteouts to overlayfs form instead of
// applying them. Use it when the target is one layer of an overlay mount.
func WithOverlayWhiteouts() Option { return func(o *options) { o.overlay = true } }

// WithOwners says whether to apply the owners recorded in the archive. The
// default is true, which needs CAP_CHOWN.
func WithOwners(apply bool) Option { return func(o *options) { o.owners = apply } }

// WithMediaType gives the stream's media type. The compression is detected
// from the first bytes anyway; a media type that names a compression the
// content does not have is an error.
func WithMediaType(mt string) Option { return func(o *options) { o.mediaType = mt } }

// WithLogger sets the logger for skipped entries. The default is
// slog.Default().
func WithLogger(l *slog.Logger) Option {
	return func(o *options) {
		if l != nil {
			o.logger = l
		}
	}
}
