package agent

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/switchyard/switchyard/api/server"
	"github.com/switchyard/switchyard/cri"
	"github.com/switchyard/switchyard/network"
	"github.com/switchyard/switchyard/runtime"
	"github.com/switchyard/switchyard/runtimes/composite"
	"github.com/switchyard/switchyard/secrets"
	"github.com/switchyard/switchyard/volumes"
)

// Option configures New.
type Option func(*options) error

// Backoff is the restart back-off of service replicas: the first restart
// waits Initial, each further one twice as long up to Max, and a replica
// that ran at least Reset before it exited starts again from Initial.
type Backoff struct {
	Initial, Max, Reset time.Duration
}

type options struct {
	images          runtime.ImageService
	logger          *slog.Logger
	inspector       composite.Inspector
	version         string
	backoff         Backoff
	stopTimeout     time.Duration
	shutdownTimeout time.Duration
	lock            *RootLock
	listeners       []net.Listener
	serverOpts      []server.Option
	loader          ImageLoader
	networks        *network.Manager
	criOptions      []cri.Option
	volumes         *volumes.Store
	secrets         *secrets.Store
	logins          server.Logins
}

// ImageLoader imports the images of an OCI image layout (directory or
// tarball) or a docker save tarball at path into the node's image store.
type ImageLoader func(ctx context.Context, path string) ([]runtime.ImageInfo, error)

func defaultOptions() options {
	return options{
		backoff:         Backoff{Initial: 200 * time.Millisecond, Max: 30 * time.Second, Reset: 10 * time.Second},
		stopTimeout:     10 * time.Second,
		shutdownTimeout: 10 * time.Second,
		version:         "(devel)",
	}
}

// WithLogger sets the logger the agent and its supervisors write to.
// Default: Config.Logger(os.Stderr).
func WithLogger(l *slog.Logger) Option {
	return func(o *options) error {
		if l == nil {
			return fmt.Errorf("agent: WithLogger(nil): pass a logger: %w", runtime.ErrInvalidArgument)
		}
		o.logger = l
		return nil
	}
}

// WithImages gives the node's image service: it pulls for, and lists the
// images of, every local runtime (those that are not whole
// runtime.Runtimes with images of their own). Required when such a runtime
// is given.
func WithImages(is runtime.ImageService) Option {
	return func(o *options) error {
		if is == nil {
			return fmt.Errorf("agent: WithImages(nil): pass the node's image service, or leave the option out: %w", runtime.ErrInvalidArgument)
		}
		o.images = is
		return nil
	}
}

// WithInspector gives the composite a registry inspector, so that a pull
// asks the registry for the image's platforms first and pulls only where
// the image can run (registry.Inspector is the real one). Default: none;
// pulls go to the primary runtime.
func WithInspector(in composite.Inspector) Option {
	return func(o *options) error {
		if in == nil {
			return fmt.Errorf("agent: WithInspector(nil): pass an inspector, or leave the option out: %w", runtime.ErrInvalidArgument)
		}
		o.inspector = in
		return nil
	}
}

// WithVersion sets the version the API reports (GET /v1/info).
// Default: "(devel)".
func WithVersion(v string) Option {
	return func(o *options) error {
		o.version = v
		return nil
	}
}

// WithRestartBackoff sets the restart back-off of service replicas.
// Default: 200 ms doubling to 30 s, reset after a replica ran 10 s.
func WithRestartBackoff(b Backoff) Option {
	return func(o *options) error {
		if b.Initial <= 0 || b.Max < b.Initial || b.Reset <= 0 {
			return fmt.Errorf("agent: restart back-off %+v: want 0 < Initial <= Max and Reset > 0: %w", b, runtime.ErrInvalidArgument)
		}
		o.backoff = b
		return nil
	}
}

// WithStopTimeout sets how long Down and convergence wait for a replica to
// stop after SIGTERM before it is killed. Default: 10 s.
func WithStopTimeout(d time.Duration) Option {
	return func(o *options) error {
		if d < 0 {
			return fmt.Errorf("agent: stop timeout %v: want >= 0: %w", d, runtime.ErrInvalidArgument)
		}
		o.stopTimeout = d
		return nil
	}
}

// WithShutdownTimeout sets how long Serve waits for requests in flight when
// it shuts down before it closes their connections. Default: 10 s.
func WithShutdownTimeout(d time.Duration) Option {
	return func(o *options) error {
		if d <= 0 {
			return fmt.Errorf("agent: shutdown timeout %v: want > 0: %w", d, runtime.ErrInvalidArgument)
		}
		o.shutdownTimeout = d
		return nil
	}
}

// WithRootLock hands New a lock on the root taken earlier with LockRoot;
// the Agent releases it when it closes (or when New fails). Default: New
// takes the lock itself.
func WithRootLock(l *RootLock) Option {
	return func(o *options) error {
		if l == nil {
			return fmt.Errorf("agent: WithRootLock(nil): pass the lock LockRoot returned: %w", runtime.ErrInvalidArgument)
		}
		o.lock = l
		return nil
	}
}

// WithListener makes Serve serve the API on ln too (a TCP listener with TLS,
// for delegating agents), besides the unix socket. Serve closes it. Guard it
// with WithServerOptions(server.WithToken(...)) or client certificates; the
// daemon refuses an unauthenticated TCP listener (server.CheckListen).
func WithListener(ln net.Listener) Option {
	return func(o *options) error {
		if ln == nil {
			return fmt.Errorf("agent: WithListener(nil): %w", runtime.ErrInvalidArgument)
		}
		o.listeners = append(o.listeners, ln)
		return nil
	}
}

// WithServerOptions passes options to the API server (authentication, for
// one). Requests on the unix socket are not authenticated: its file mode
// guards it.
func WithServerOptions(opts ...server.Option) Option {
	return func(o *options) error {
		o.serverOpts = append(o.serverOpts, opts...)
		return nil
	}
}

// WithImageLoader enables POST /v1/images/load: the request body (a tar
// stream) is written to a temporary file under the root and handed to
// load. Default: no loader, and the endpoint answers not_supported.
func WithImageLoader(load ImageLoader) Option {
	return func(o *options) error {
		if load == nil {
			return fmt.Errorf("agent: WithImageLoader(nil): %w", runtime.ErrInvalidArgument)
		}
		o.loader = load
		return nil
	}
}

// WithNetworks gives the node's networks, served by the network endpoints.
func WithNetworks(m *network.Manager) Option {
	return func(o *options) error {
		if m == nil {
			return fmt.Errorf("agent: WithNetworks(nil): pass the node's networks, or leave the option out: %w", runtime.ErrInvalidArgument)
		}
		o.networks = m
		return nil
	}
}

// WithCRIOptions adds options of the CRI front door (its pods' PID
// holder, say), beyond what the agent gives it itself.
func WithCRIOptions(opts ...cri.Option) Option {
	return func(o *options) error {
		o.criOptions = append(o.criOptions, opts...)
		return nil
	}
}

// WithVolumes gives the node's named volumes, served by the Docker API's
// volume endpoints.
func WithVolumes(v *volumes.Store) Option {
	return func(o *options) error {
		if v == nil {
			return fmt.Errorf("agent: WithVolumes(nil): pass the node's volumes, or leave the option out: %w", runtime.ErrInvalidArgument)
		}
		o.volumes = v
		return nil
	}
}

// WithLogins keeps registry credentials for the login endpoints (the node
// checks them with the registry and stores them where its pulls read).
func WithLogins(l server.Logins) Option {
	return func(o *options) error {
		if l == nil {
			return fmt.Errorf("agent: WithLogins(nil): %w", runtime.ErrInvalidArgument)
		}
		o.logins = l
		return nil
	}
}
