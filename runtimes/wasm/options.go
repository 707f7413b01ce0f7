package wasm

import (
	"fmt"
	"log/slog"
	"os"

	"github.com/switchyard/switchyard/runtime"
)

// Option configures a Runtime.
type Option func(*options) error

type options struct {
	log     *slog.Logger
	hostCmd []string
	hostEnv []string
	// logMaxSize and logMaxFiles are the instances' log rotation; 0 means
	// logfile's default.
	logMaxSize  int64
	logMaxFiles int
	// stepHook, when set, is told of each step boundary of a create or a
	// removal (CreateSteps, RemoveSteps).
	stepHook func(step string)
	// names, when set, gets the names of modules that publish ports.
	names Publisher
	// volumeDir is where the node's named volumes live; "" for
	// ROOT/volumes.
	volumeDir string
}

// Publisher has the node's DNS answer a module's names with the host's
// address as its containers reach it (a *network.Manager): a module serves
// on the host's ports.
type Publisher interface {
	// Publish answers names to every container, aliases to those of
	// group.
	Publish(id string, names []string, group string, aliases []string)
	// Unpublish drops what Publish gave id.
	Unpublish(id string)
}

// WithPublisher has the runtime publish the names of the modules that
// publish ports (their own, their service's, their aliases) through p.
func WithPublisher(p Publisher) Option {
	return func(o *options) error {
		if p == nil {
			return fmt.Errorf("publisher: nil: %w", runtime.ErrInvalidArgument)
		}
		o.names = p
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

func makeOptions(opts []Option) (options, error) {
	o := options{log: slog.Default()}
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return options{}, err
		}
	}
	if o.hostCmd == nil {
		exe, err := os.Executable()
		if err != nil {
			return options{}, fmt.Errorf("wasm runtime: finding the executable to run the wasm host: %w", err)
		}
		o.hostCmd = []string{exe, "wasm-host"}
	}
	return o, nil
}

// WithLogger sets the logger; default slog.Default().
func WithLogger(l *slog.Logger) Option {
	return func(o *options) error {
		if l == nil {
			return fmt.Errorf("wasm runtime: nil logger: %w", runtime.ErrInvalidArgument)
		}
		o.log = l
		return nil
	}
}

// WithHostCommand sets the command that runs the wasm host; the runtime
// appends "--root <root>" and adds env to the environment. The default is
// this executable's hidden "wasm-host" command.
func WithHostCommand(argv []string, env ...string) Option {
	return func(o *options) error {
		if len(argv) == 0 {
			return fmt.Errorf("wasm runtime: empty host command: %w", runtime.ErrInvalidArgument)
		}
		o.hostCmd, o.hostEnv = append([]string(nil), argv...), append([]string(nil), env...)
		return nil
	}
}

// WithLogRotation sets when each instance's log rotates (at maxSize bytes)
// and how many files are kept, the current one included, as docker's
// max-size and max-file do. 0 keeps the default (logfile.DefaultMaxSize,
// logfile.DefaultMaxFiles); negative values are an error.
func WithLogRotation(maxSize int64, maxFiles int) Option {
	return func(o *options) error {
		if maxSize < 0 || maxFiles < 0 {
			return fmt.Errorf("wasm runtime: log rotation %d bytes, %d files: want 0 (the default) or more: %w", maxSize, maxFiles, runtime.ErrInvalidArgument)
		}
		o.logMaxSize, o.logMaxFiles = maxSize, maxFiles
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
		"create:dir",      // the state directory
		"create:module",   // the image's module found, its use recorded
		"create:prepared", // the host has compiled the module
		"create:done",     // the record is written: the container exists
	}
}

// RemoveSteps returns the step boundaries of a removal, in order.
func RemoveSteps() []string {
	return []string{
		"remove:killed",     // the instance has ended
		"remove:forgotten",  // the host has dropped the instance
		"remove:unrecorded", // the record is gone: so is the container
		"remove:released",   // the image use is released
		"remove:done",       // the state directory is gone
	}
}
