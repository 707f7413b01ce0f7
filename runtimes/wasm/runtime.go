package wasm

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/switchyard/switchyard/internal/statedir"
	"github.com/switchyard/switchyard/runtime"
	"github.com/switchyard/switchyard/runtimes/wasm/host"
)

var _ runtime.Containers = (*Runtime)(nil)

// configFile is a container's record in its state directory.
const configFile = "config.json"

// Runtime runs WebAssembly modules in the shared wasm host of its root.
// It is safe for concurrent use. Several Runtimes may share a root one
// after another (an agent restart); they then share one host.
type Runtime struct {
	root    string
	modules ModuleSource
	opts    options
	client  *host.Client

	// spawnMu serialises host starts within this process; a lock file
	// serialises them between processes.
	spawnMu sync.Mutex

	mu sync.Mutex
	// byID maps every container to its entry. Guarded by mu.
	byID map[runtime.ContainerID]*entry
	// changed is closed and replaced whenever a container starts or is
	// removed, to wake waiters. Guarded by mu.
	changed chan struct{}
}

// entry is one container. ops serialises the container's lifecycle
// operations (they do I/O and talk to the host); rec is replaced, never
// mutated, and read under Runtime.mu.
type entry struct {
	ops sync.Mutex
	rec *record
	// final is how the container's last run ended, set by Remove for the
	// waiters of its removal. Guarded by the Runtime's mu.
	final *runtime.WaitOutcome
}

// record is what Create decided, kept in the container's config file.
type record struct {
	// Key names the state directory and the host instance; it never
	// changes, so a rename does not disturb a running instance.
	Key         string                `json:"key"`
	ID          runtime.ContainerID   `json:"id"`
	Image       string                `json:"image"`
	ImageDigest string                `json:"image_digest,omitempty"`
	Module      host.Module           `json:"module"`
	Args        []string              `json:"args"`
	Env         []string              `json:"env,omitempty"`
	Workdir     string                `json:"workdir,omitempty"`
	Mounts      []host.Mount          `json:"mounts,omitempty"`
	Resources   runtime.Resources     `json:"resources"`
	Labels      map[string]string     `json:"labels,omitempty"`
	AutoRemove  bool                  `json:"auto_remove,omitempty"`
	Ports       []runtime.PortMapping `json:"ports,omitempty"`
	Aliases     []string              `json:"aliases,omitempty"`
	Group       string                `json:"group,omitempty"`
	MemoryLimit uint64                `json:"memory_limit,omitempty"`
	Created     time.Time             `json:"created"`
	// Pod is the pod the module is in: its listeners are made in the
	// pod's network namespace, on the image's exposed ports.
	Pod *runtime.Pod `json:"pod,omitempty"`
	// PodPorts are the ports the module serves in its pod's network.
	PodPorts []uint16 `json:"pod_ports,omitempty"`
	// LogPath is the CRI copy of the log, when asked for.
	LogPath string `json:"log_path,omitempty"`
}

// New returns the runtime for root, finding the containers a previous
// runtime left there. Modules come from modules.
func New(root string, modules ModuleSource, opts ...Option) (*Runtime, error) {
	o, err := makeOptions(opts)
	if err != nil {
		return nil, err
	}
	if modules == nil {
		return nil, fmt.Errorf("wasm runtime: no module source: %w", runtime.ErrInvalidArgument)
	}
	root, err = filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("wasm runtime %s: %w", root, err)
	}
	if err := os.MkdirAll(filepath.Join(root, "containers"), 0o700); err != nil {
		return nil, fmt.Errorf("wasm runtime %s: %w", root, err)
	}
	r := &Runtime{root: root, modules: modules, opts: o,
		client:  host.NewClient(filepath.Join(root, host.SocketName)),
		byID:    make(map[runtime.ContainerID]*entry),
		changed: make(chan struct{}),
	}
	dirs, err := os.ReadDir(filepath.Join(root, "containers"))
	if err != nil {
		return nil, fmt.Errorf("wasm runtime %s: %w", root, err)
	}
	for _, d := range dirs {
		var rec record
		ok, err := statedir.ReadJSON(filepath.Join(root, "containers", d.Name(), configFile), &rec)
		if err == nil && !ok {
			// No record: a create or a removal that did not finish (the
			// agent stopped during it). Undone, so that its image is free.
			o.log.Warn("wasm runtime: undoing a create or removal that did not finish (the agent stopped during it)", "key", d.Name())
			if err := r.undo(context.Background(), d.Name()); err != nil {
				o.log.Warn("wasm runtime: undoing", "key", d.Name(), "err", err)
			}
			continue
		}
		if err != nil {
			// A damaged record: kept for a person to look at rather than
			// refuse to start the agent.
			o.log.Warn("wasm runtime: skipping a container directory with a damaged record", "dir", d.Name(), "err", err)
			continue
		}
		r.byID[rec.ID] = &entry{rec: &rec}
		r.publish(&rec)
		// The image store keeps uses in memory: this container's is
		// recorded again from its own record.
		if rec.ImageDigest != "" {
			if err := modules.Keep(context.Background(), rec.Key, rec.Image, rec.ImageDigest); err != nil {
				o.log.Warn("wasm runtime: the image of a container is not kept", "container", rec.ID.String(), "err", err)
			}
		}
	}
	return r, nil
}

// Name implements runtime.Identity.
func (r *Runtime) Name() string { return "wasm" }

// Platform returns the platform the wasm runtime serves: wasip1/wasm
// (wasi/wasm is its other spelling).
func Platform() ocispec.Platform { return ocispec.Platform{OS: "wasip1", Architecture: "wasm"} }

// Platforms implements runtime.Identity: Platform.
func (r *Runtime) Platforms() []ocispec.Platform {
	return []ocispec.Platform{Platform()}
}

// Close releases the runtime's connections. The host and its instances
// keep running: they outlive the agent by design (see StopHost).
func (r *Runtime) Close() error {
	r.client.Close()
	return nil
}

func (r *Runtime) dir(key string) string { return filepath.Join(r.root, "containers", key) }

// lookup returns id's entry and current record.
func (r *Runtime) lookup(id runtime.ContainerID) (*entry, *record, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.byID[id]
	if !ok || e.rec == nil || e.rec.ID != id {
		return nil, nil, fmt.Errorf("container %s: %w", id, runtime.ErrNotFound)
	}
	return e, e.rec, nil
}

// broadcast wakes everyone waiting for a start or a removal.
func (r *Runtime) broadcast() {
	r.mu.Lock()
	close(r.changed)
	r.changed = make(chan struct{})
	r.mu.Unlock()
}

func (r *Runtime) changes() <-chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.changed
}

// newKey names a new container's state for good: its id at creation (so
// that people recognise it in the image store's use records) and a random
// suffix (so that a re-created id never meets an old one's leftovers).
func newKey(id runtime.ContainerID) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return id.String() + "." + hex.EncodeToString(b[:])
}

// observation is a container's state as its records and the host tell it.
type observation struct {
	state   runtime.State
	start   statedir.Start
	started bool
	// exit is set when the current run has ended.
	exit *statedir.Exit
	// status is the host's report while the instance runs.
	status host.Status
}

func (o observation) running() bool {
	return o.state.Status == runtime.StatusRunning || o.state.Status == runtime.StatusStopping
}

// observe reads rec's state. A started run with no exit record that its
// host does not know (the host died, or a new host runs) is recorded as
// failed, so an instance is never silently lost.
func (r *Runtime) observe(ctx context.Context, rec *record) (observation, error) {
	dir := r.dir(rec.Key)
	start, ok, err := statedir.ReadStart(dir)
	if err != nil {
		return observation{}, fmt.Errorf("container %s: %w", rec.ID, err)
	}
	if !ok {
		return observation{state: runtime.State{Status: runtime.StatusPending}}, nil
	}
	obs := observation{start: start, started: true}
	ended := func(x statedir.Exit) (observation, error) {
		obs.exit = &x
		obs.state = stateOf(x.Outcome)
		return obs, nil
	}
	readExit := func() (statedir.Exit, bool, error) {
		x, ok, err := statedir.ReadExit(dir)
		return x, ok && x.Run == start.Run, err
	}
	if x, ok, err := readExit(); err != nil {
		return observation{}, fmt.Errorf("container %s: %w", rec.ID, err)
	} else if ok {
		return ended(x)
	}
	st, err := r.client.Status(ctx, rec.Key)
	switch {
	case err == nil && st.Run == start.Run && st.Running:
		obs.status = st
		obs.state.Status = runtime.StatusRunning
		if st.Stopping {
			obs.state.Status = runtime.StatusStopping
		}
		return obs, nil
	case err == nil && st.Run == start.Run:
		// It ended between our two reads; its record is written.
		if x, ok, err := readExit(); err == nil && ok {
			return ended(x)
		}
	case err != nil && !errors.Is(err, runtime.ErrUnavailable) && !errors.Is(err, runtime.ErrNotFound):
		return observation{}, fmt.Errorf("container %s: %w", rec.ID, err)
	}
	x, err := host.RecordLost(dir, start.Run, start.SupervisorPID, start.StartedAt)
	if err != nil {
		return observation{}, fmt.Errorf("container %s: %w", rec.ID, err)
	}
	return ended(x)
}

// stateOf maps an outcome to a state: a module that ended by itself or by
// a signal has exited (with 128+N for signal N); one the runtime could not
// run, or that ran out of memory, has failed, with the reason.
func stateOf(o runtime.WaitOutcome) runtime.State {
	switch o.Reason {
	case runtime.ReasonRuntimeError, runtime.ReasonOOMKilled:
		msg := o.Message
		if msg == "" {
			msg = string(o.Reason)
		}
		return runtime.State{Status: runtime.StatusFailed, ExitCode: o.ExitCode, Reason: msg}
	}
	return runtime.State{Status: runtime.StatusExited, ExitCode: o.ExitCode}
}
