package runc

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/switchyard/switchyard/runtime"
)

// Option configures a Runtime made by New.
type Option func(*options) error

type options struct {
	runc      string
	runcRoot  string
	shim      []string
	noStandby bool // WithoutStandbyShim
	logger    *slog.Logger
	pidsLimit int64
	// logMaxSize and logMaxFiles are the shims' log rotation; 0 means the
	// logfile package's defaults.
	logMaxSize  int64
	logMaxFiles int
	// stepHook, when set, is told of each step boundary of a create or a
	// removal (CreateSteps, RemoveSteps).
	stepHook func(step string)
	// networks are the node's networks; without them a container has
	// loopback only (or the host's network).
	networks Networks
	// exitHook is the command a shim runs when its container exits, with
	// "--dir DIR" appended, for a container on a network.
	exitHook []string
	// secretDir is where the files of containers that hold secrets live
	// (their OCI config, their secret files); "" refuses secrets.
	secretDir string
	// volumeDir is where the node's named volumes live; "" for ROOT/volumes.
	volumeDir string
}

// DefaultPIDsLimit is the pids limit every container gets unless
// WithPIDsLimit says otherwise: enough for any service, too few for a fork
// bomb to hurt the node.
const DefaultPIDsLimit = 4096

func makeOptions(opts []Option) (options, error) {
	o := options{runc: "runc", logger: slog.Default(), pidsLimit: DefaultPIDsLimit}
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return o, err
		}
	}
	if o.shim == nil {
		exe, err := os.Executable()
		if err != nil {
			return o, fmt.Errorf("runc runtime: cannot find its own binary to run shims; pass WithShim: %w", err)
		}
		o.shim = defaultShim(exe)
	}
	return o, nil
}

// ShimBinary is the name of the shim's own binary, looked for beside the
// agent's.
const ShimBinary = "switchyard-shim"

// ShimCommand is the shim command of an agent whose binary is exe, as the
// runtime runs it unless WithShim says otherwise: with shim.PauseArg
// after it, it is a pod's PID namespace holder.
func ShimCommand(exe string) []string { return defaultShim(exe) }

// defaultShim is the shim command of an agent whose binary is exe: the
// small ShimBinary in the same directory when it is there, since every
// container pays for the shim's start and keeps it resident, else exe
// itself with "shim".
func defaultShim(exe string) []string {
	if p := filepath.Join(filepath.Dir(exe), ShimBinary); isExecutable(p) {
		return []string{p}
	}
	return []string{exe, "shim"}
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

// WithSecretDir sets where the runtime keeps what it writes of the secrets
// a container gets: the container's OCI config (which holds their values in
// its environment; the bundle links to it) and the files mounted at their
// paths, one directory per container, made 0700. It belongs under the
// node's secret store (secrets.PrivateDir). Without it a request with
// secrets is refused.
func WithSecretDir(dir string) Option {
	return func(o *options) error {
		if dir == "" {
			return fmt.Errorf("secret dir: empty path: %w", runtime.ErrInvalidArgument)
		}
		o.secretDir = dir
		return nil
	}
}

// WithNamedVolumes sets where the node's named volumes live (a
// volumes.Store's directory), shared with the node's other runtimes; the
// default is the runtime's own ROOT/volumes.
func WithNamedVolumes(dir string) Option {
	return func(o *options) error {
		if dir == "" {
			return fmt.Errorf("named volumes: empty path: %w", runtime.ErrInvalidArgument)
		}
		o.volumeDir = dir
		return nil
	}
}

// WithRuncBinary sets the OCI runtime binary: a path, or a name looked up
// in PATH. Any runtime with runc's command line works. The default is
// "runc".
func WithRuncBinary(path string) Option {
	return func(o *options) error {
		if path == "" {
			return fmt.Errorf("runc binary: empty path: %w", runtime.ErrInvalidArgument)
		}
		o.runc = path
		return nil
	}
}

// WithRuncRoot sets the OCI runtime's state root (its --root). The default
// is the runtime's own default (/run/runc for runc).
func WithRuncRoot(dir string) Option {
	return func(o *options) error { o.runcRoot = dir; return nil }
}

// WithShim sets the command that runs a shim: argv[0] and the words before
// the shim's own flags. The default is ShimBinary beside this binary
// (os.Executable()) when it is there, else this binary and "shim", which is
// what `switchyard shim` serves.
func WithShim(argv ...string) Option {
	return func(o *options) error {
		if len(argv) == 0 || argv[0] == "" {
			return fmt.Errorf("shim command: empty: %w", runtime.ErrInvalidArgument)
		}
		o.shim = argv
		return nil
	}
}

// WithoutStandbyShim has every create start its shim, instead of handing
// the container to a shim started ahead (shim.StandbyArg): for a shim
// command that does not speak the standby protocol.
func WithoutStandbyShim() Option {
	return func(o *options) error {
		o.noStandby = true
		return nil
	}
}

// WithLogger sets the logger. The default is slog.Default().
func WithLogger(l *slog.Logger) Option {
	return func(o *options) error {
		if l == nil {
			return fmt.Errorf("logger: nil: %w", runtime.ErrInvalidArgument)
		}
		o.logger = l
		return nil
	}
}

// WithLogRotation sets when each container's log rotates (at maxSize bytes)
// and how many files are kept, the current one included, as docker's
// max-size and max-file do. 0 keeps the default (logfile.DefaultMaxSize,
// logfile.DefaultMaxFiles); negative values are an error.
func WithLogRotation(maxSize int64, maxFiles int) Option {
	return func(o *options) error {
		if maxSize < 0 || maxFiles < 0 {
			return fmt.Errorf("log rotation %d bytes, %d files: want 0 (the default) or more: %w", maxSize, maxFiles, runtime.ErrInvalidArgument)
		}
		o.logMaxSize, o.logMaxFiles = maxSize, maxFiles
		return nil
	}
}

// WithPIDsLimit sets the pids limit of every container; 0 means none. The
// default is DefaultPIDsLimit.
func WithPIDsLimit(n int64) Option {
	return func(o *options) error {
		if n < 0 {
			return fmt.Errorf("pids limit %d: want 0 (none) or more: %w", n, runtime.ErrInvalidArgument)
		}
		o.pidsLimit = n
		return nil
	}
}

// WithNetworks gives the node's networks: a container then joins the
// default network unless it asks for another, none or the host's.
func WithNetworks(n Networks) Option {
	return func(o *options) error {
		if n == nil {
			return fmt.Errorf("networks: nil: %w", runtime.ErrInvalidArgument)
		}
		o.networks = n
		return nil
	}
}

// WithNetworkExitHook sets the command that tears a container's network
// down when it exits, run by its shim whether or not the agent is running:
// argv, then "--dir" and the container's state directory. The command
// calls TeardownNetwork. Without it the network stays until the container
// is removed.
func WithNetworkExitHook(argv ...string) Option {
	return func(o *options) error {
		if len(argv) == 0 || argv[0] == "" {
			return fmt.Errorf("network exit hook: empty: %w", runtime.ErrInvalidArgument)
		}
		o.exitHook = argv
		return nil
	}
}

// WithStepHook has hook called at each step boundary of a create and of a
// removal, with the step just done (one of CreateSteps or RemoveSteps):
// tests stop the agent there to check that whatever step it died after,
// the next runtime on the root finds the container whole or not at all.
func WithStepHook(hook func(step string)) Option {
	return func(o *options) error { o.stepHook = hook; return nil }
}

// CreateSteps returns the step boundaries of a create, in order.
func CreateSteps() []string {
	return []string{
		"create:dir",      // the state directory and its "being created" mark
		"create:named",    // the name points at the directory
		"create:netns",    // the network namespace is made, its attachment begun (on a network)
		"create:rootfs",   // the image's layers are ready, its use recorded
		"create:mounted",  // the root filesystem is mounted
		"create:bundle",   // the OCI bundle is written
		"create:meta",     // the container record is written
		"create:shim",     // the shim reported the container created
		"create:attached", // the network attachment is done (on a network)
		"create:done",     // the mark is gone: the container exists
	}
}

// RemoveSteps returns the step boundaries of a removal, in order.
func RemoveSteps() []string {
	return []string{
		"remove:killed",    // the container's process has ended
		"remove:unnamed",   // the name is free: the container is gone
		"remove:shim",      // the shim has ended
		"remove:deleted",   // the OCI runtime's container and the cgroup are gone
		"remove:unmounted", // the root filesystem is unmounted and its use released
		"remove:done",      // the state directory is gone
	}
}
