package runtime

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Runtime is the whole contract: everything a node can be asked to do with
// containers and images. It is composed of role interfaces; depend on the
// smallest one that does the job.
//
// Every per-container method returns an error wrapping ErrNotFound for a
// container the runtime does not know. A method the runtime cannot support
// returns an error wrapping ErrNotSupported; embed Unsupported to get those
// answers for free.
type Runtime interface {
	Containers
	ImageService
}

// Containers is the whole contract but images: what a local runtime (runc,
// wasm) implements. Images belong to the node, not to each local runtime:
// the node's one image service pulls for all of them, and each asks the
// node's store at create for the manifest of its own platform. A runtime
// with a store of its own (a delegate reached over the API) is a whole
// Runtime.
type Containers interface {
	Identity
	Lifecycle
	Inspector
	Waiter
	LogReader
	Executor
}

// WithImages makes a whole Runtime of a local runtime and the node's image
// service, for callers that want one value (the conformance suite, a node
// of one runtime).
func WithImages(c Containers, images ImageService) Runtime {
	return withImages{c, images}
}

type withImages struct {
	Containers
	ImageService
}

// Identity says who a runtime is and what it serves.
type Identity interface {
	// Name is a short name shown to users: runc, wasm, remote:wsl.
	Name() string
	// Platforms lists the platforms this runtime serves, most preferred
	// first. The composite matches them with containerd's platform matcher.
	Platforms() []ocispec.Platform
}

// Lifecycle creates, runs and removes containers.
type Lifecycle interface {
	// Create prepares a container of spec under id without starting it.
	// ErrAlreadyExists when id exists; ErrInvalidArgument for a bad spec;
	// ErrNotFound when the image is not in the store.
	Create(ctx context.Context, id ContainerID, spec *CreateSpec) error
	// Start starts a created (or exited) container.
	Start(ctx context.Context, id ContainerID) error
	// Stop sends SIGTERM (or the runtime's equivalent) and, if the workload
	// has not exited after timeout, SIGKILL. Stopping a stopped container
	// succeeds.
	Stop(ctx context.Context, id ContainerID, timeout time.Duration) error
	// Kill sends a signal, given as ParseSignal accepts it ("" = SIGKILL).
	// ErrInvalidArgument for a bad signal; ErrFailedPrecondition when the
	// container is not running.
	Kill(ctx context.Context, id ContainerID, signal string) error
	// Remove deletes the container and everything the runtime made for it.
	// A running container is refused with ErrFailedPrecondition unless force
	// is set, in which case it is killed first.
	Remove(ctx context.Context, id ContainerID, force bool) error
	// Rename gives the container a new identity. ErrAlreadyExists when to
	// exists.
	Rename(ctx context.Context, id, to ContainerID) error
	// SyncVolumes brings the container's volumes up to date with their
	// sources, for runtimes that copy rather than bind them.
	SyncVolumes(ctx context.Context, id ContainerID) error
}

// Inspector reports on containers.
type Inspector interface {
	// State returns the container's current state.
	State(ctx context.Context, id ContainerID) (State, error)
	// Inspect returns everything known about the container.
	Inspect(ctx context.Context, id ContainerID) (Details, error)
	// List returns every container this runtime owns, in any state.
	List(ctx context.Context) ([]Container, error)
	// Stats samples the container's resource use.
	Stats(ctx context.Context, id ContainerID) (Stats, error)
	// PID returns the workload's host process id, 0 when not running.
	PID(ctx context.Context, id ContainerID) (int, error)
	// IP returns the container's address; the zero Addr when it has none.
	IP(ctx context.Context, id ContainerID) (netip.Addr, error)
	// PortOverride returns the host port that replaces the service's
	// endpoint port, 0 when none.
	PortOverride(ctx context.Context, id ContainerID) (uint16, error)
}

// Waiter waits for workloads to end.
type Waiter interface {
	// Wait waits until the container is not running and returns its exit
	// code (WaitOutcome with WaitNotRunning).
	Wait(ctx context.Context, id ContainerID) (int, error)
	// WaitOutcome waits for cond and returns how the workload ended.
	WaitOutcome(ctx context.Context, id ContainerID, cond WaitCondition) (WaitOutcome, error)
}

// LogReader reads what workloads wrote.
type LogReader interface {
	// Logs returns the last tail lines (TailAll for all).
	Logs(ctx context.Context, id ContainerID, tail int) ([]LogEntry, error)
	// FollowLogs returns the last tail lines and then every new line as it
	// is written, until the container stops running (Recv returns io.EOF)
	// or ctx is done.
	FollowLogs(ctx context.Context, id ContainerID, tail int) (Stream[LogEntry], error)
}

// Executor runs commands inside running containers.
type Executor interface {
	// Exec runs argv in the container and returns its exit code and output.
	// ErrFailedPrecondition when the container is not running.
	Exec(ctx context.Context, id ContainerID, argv []string) (ExecResult, error)
	// ExecStream runs argv and streams its output as it comes: chunks of
	// stdout and stderr, then exactly one ExecExit event, then io.EOF.
	ExecStream(ctx context.Context, id ContainerID, argv []string) (Stream[ExecEvent], error)
}

// ImageService manages the images a runtime can run.
type ImageService interface {
	// Pull makes ref available locally according to opts.Policy.
	// PullNever with an absent image is ErrNotFound naming the image.
	Pull(ctx context.Context, ref string, opts PullOptions) (ImageInfo, error)
	// ListImages lists the images in the runtime's store.
	ListImages(ctx context.Context) ([]ImageInfo, error)
	// RemoveImage removes ref. An image a container uses is refused with
	// ErrFailedPrecondition unless force is set.
	RemoveImage(ctx context.Context, ref string, force bool) error
	// TagImage gives the image at src a second reference dst.
	TagImage(ctx context.Context, src, dst string) error
	// PruneImages removes images that no tag or container references.
	PruneImages(ctx context.Context) (PruneResult, error)
}

// ImageReclaimer is implemented by a runtime that keeps what it derived
// from images beside the image store, such as compiled code. The composite
// asks it after images were removed or pruned, and the runtime drops what
// belonged to images the store no longer has, except what a container
// still uses. The result says what it freed.
type ImageReclaimer interface {
	ReclaimImages(ctx context.Context) (PruneResult, error)
}

// ExecOptions are what an exec may ask for besides its command. The zero
// value is ExecStream's exec: the container's own user, environment and
// working directory, and no standard input.
type ExecOptions struct {
	// Stdin, when set, is copied to the command's standard input until it
	// ends; nil gives the command end-of-file at once.
	Stdin io.Reader
	// Env are more KEY=VALUE entries, over the container's own.
	Env []string
	// User runs the command as user[:group] (names from the image or
	// numbers) in place of the container's user.
	User string
	// Workdir runs the command there in place of the container's working
	// directory.
	Workdir string
	// TTY gives the command a terminal: its output is one stream (stdout)
	// and the returned stream is a Resizer.
	TTY bool
	// TerminalSize is the terminal's first size, rows and columns; zero
	// leaves the runtime's default.
	TerminalSize [2]uint16
}

// Resizer is a stream of a process with a terminal, whose size can be
// changed (docker's resize endpoints).
type Resizer interface {
	Resize(rows, cols uint16) error
}

// ExecOptioner is implemented by a runtime whose execs can take
// ExecOptions (docker exec -i, -e, -u and -w). Through the composite, a
// runtime without it refuses any option with ErrNotSupported.
type ExecOptioner interface {
	// ExecStreamWith is ExecStream with opts.
	ExecStreamWith(ctx context.Context, id ContainerID, argv []string, opts ExecOptions) (Stream[ExecEvent], error)
}

// Attacher is implemented by a runtime whose running containers take
// input from clients (made with CreateSpec.OpenStdin) and whose terminals
// can be resized (made with CreateSpec.TTY): docker attach, docker run
// -i and -t.
type Attacher interface {
	// AttachStdin connects to the running container's standard input.
	// Closing the writer ends this client's input; a container made with
	// StdinOnce then reads end-of-file.
	AttachStdin(ctx context.Context, id ContainerID) (io.WriteCloser, error)
	// ResizeTerminal sets the running container's terminal size.
	ResizeTerminal(ctx context.Context, id ContainerID, rows, cols uint16) error
}

// DetailLister is implemented by a runtime that lists its containers with
// what Inspect says of each in one pass, cheaper than List and an Inspect
// per container (docker ps shows both).
type DetailLister interface {
	ListDetails(ctx context.Context) ([]Details, error)
}

// ProcessLister is implemented by a runtime whose containers' processes
// are processes of this host (docker top).
type ProcessLister interface {
	// Processes returns the host pids of the running container's
	// processes, in no particular order.
	Processes(ctx context.Context, id ContainerID) ([]int, error)
}

// NetworkConnector is implemented by a runtime whose containers can join
// and leave a network after their create, as docker network connect and
// disconnect do. A runtime without it answers those with ErrNotSupported
// (through the composite).
type NetworkConnector interface {
	// ConnectNetwork attaches the container to the network, with aliases
	// the network's DNS answers with its address besides its names. A
	// running or created container is attached at once; an exited one at
	// its next start.
	ConnectNetwork(ctx context.Context, id ContainerID, network string, aliases []string) error
	// DisconnectNetwork detaches the container from the network; it keeps
	// loopback and its published ports' reservations, which a later
	// connect publishes again.
	DisconnectNetwork(ctx context.Context, id ContainerID, network string) error
}

// Stream is a sequence of values delivered as they are produced, such as
// followed log lines or exec output. Recv returns io.EOF after the last
// value. Close releases the stream; it is safe to call more than once and
// from another goroutine to unblock Recv.
type Stream[T any] interface {
	Recv() (T, error)
	Close() error
}

// IsZero reports whether o asks for nothing beyond a plain exec.
func (o ExecOptions) IsZero() bool {
	return o.Stdin == nil && len(o.Env) == 0 && o.User == "" && o.Workdir == "" && !o.TTY
}

// ExecWith runs argv in container id of e with opts: through e's
// ExecStreamWith when it has one, else through ExecStream when opts asks
// for nothing more, else an error wrapping ErrNotSupported. name names e
// in that error.
func ExecWith(ctx context.Context, e Executor, name string, id ContainerID, argv []string, opts ExecOptions) (Stream[ExecEvent], error) {
	if eo, ok := e.(ExecOptioner); ok {
		return eo.ExecStreamWith(ctx, id, argv, opts)
	}
	if opts.IsZero() {
		return e.ExecStream(ctx, id, argv)
	}
	return nil, fmt.Errorf("container %s: runtime %s cannot give an exec standard input, a terminal, environment, a user or a working directory: %w", id, name, ErrNotSupported)
}

// AttachStdin is rt's AttachStdin when rt is an Attacher, else an error
// wrapping ErrNotSupported that names rt by name.
func AttachStdin(ctx context.Context, rt any, name string, id ContainerID) (io.WriteCloser, error) {
	if a, ok := rt.(Attacher); ok {
		return a.AttachStdin(ctx, id)
	}
	return nil, fmt.Errorf("container %s: runtime %s takes no input for its containers: %w", id, name, ErrNotSupported)
}

// ResizeTerminal is rt's ResizeTerminal when rt is an Attacher, else an
// error wrapping ErrNotSupported that names rt by name.
func ResizeTerminal(ctx context.Context, rt any, name string, id ContainerID, rows, cols uint16) error {
	if a, ok := rt.(Attacher); ok {
		return a.ResizeTerminal(ctx, id, rows, cols)
	}
	return fmt.Errorf("container %s: runtime %s gives its containers no terminal: %w", id, name, ErrNotSupported)
}

// ConnectNetwork is rt's ConnectNetwork when rt is a NetworkConnector, else
// an error wrapping ErrNotSupported that names rt by name.
func ConnectNetwork(ctx context.Context, rt any, name string, id ContainerID, network string, aliases []string) error {
	if nc, ok := rt.(NetworkConnector); ok {
		return nc.ConnectNetwork(ctx, id, network, aliases)
	}
	return fmt.Errorf("container %s: runtime %s cannot connect a container to a network after its create; choose the network at create (--network): %w", id, name, ErrNotSupported)
}

// DisconnectNetwork is rt's DisconnectNetwork when rt is a
// NetworkConnector, else an error wrapping ErrNotSupported that names rt.
func DisconnectNetwork(ctx context.Context, rt any, name string, id ContainerID, network string) error {
	if nc, ok := rt.(NetworkConnector); ok {
		return nc.DisconnectNetwork(ctx, id, network)
	}
	return fmt.Errorf("container %s: runtime %s cannot disconnect a container from a network: %w", id, name, ErrNotSupported)
}

// Processes is rt's Processes when rt is a ProcessLister, else an error
// wrapping ErrNotSupported that names rt by name.
func Processes(ctx context.Context, rt any, name string, id ContainerID) ([]int, error) {
	if pl, ok := rt.(ProcessLister); ok {
		return pl.Processes(ctx, id)
	}
	return nil, fmt.Errorf("container %s: runtime %s does not list its containers' processes: %w", id, name, ErrNotSupported)
}

// ListDetails is rt's ListDetails when rt is a DetailLister, else its List
// and an Inspect of each container (one removed meanwhile is left out).
func ListDetails(ctx context.Context, rt Inspector) ([]Details, error) {
	if dl, ok := rt.(DetailLister); ok {
		return dl.ListDetails(ctx)
	}
	cs, err := rt.List(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Details, 0, len(cs))
	for _, c := range cs {
		d, err := rt.Inspect(ctx, c.ID)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

// ResourceUpdater is implemented by a runtime that can change a
// container's limits after its create (CRI's UpdateContainerResources,
// docker update): at once for a running container, and for its next runs.
type ResourceUpdater interface {
	UpdateResources(ctx context.Context, id ContainerID, res Resources) error
}

// UpdateResources is rt's UpdateResources when rt is a ResourceUpdater,
// else an error wrapping ErrNotSupported that names rt by name.
func UpdateResources(ctx context.Context, rt any, name string, id ContainerID, res Resources) error {
	if u, ok := rt.(ResourceUpdater); ok {
		return u.UpdateResources(ctx, id, res)
	}
	return fmt.Errorf("container %s: runtime %s cannot change a container's limits after its create; make the container again with them: %w", id, name, ErrNotSupported)
}
