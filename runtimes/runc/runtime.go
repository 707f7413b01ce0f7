package runc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"time"

	"github.com/containerd/platforms"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/switchyard/switchyard/images"
	"github.com/switchyard/switchyard/internal/cgroupfs"
	"github.com/switchyard/switchyard/internal/statedir"
	"github.com/switchyard/switchyard/runtime"
)

var _ runtime.Containers = (*Runtime)(nil)

// RootfsStore is what the runtime needs of the node's image store: a root
// filesystem per container, made from the manifest of the reference that
// serves the platforms it asks for, and giving it back. *images.Store has
// it. The runtime pulls nothing: the node's image service does.
type RootfsStore interface {
	PrepareRootfs(ctx context.Context, key, ref string, want []ocispec.Platform) (images.Rootfs, images.Image, error)
	ReleaseRootfs(ctx context.Context, key string) error
	// Keep records again that container key uses manifest digest of ref:
	// the store keeps its containers' uses in memory, and each runtime
	// records them when it starts (images.Store.Keep).
	Keep(ctx context.Context, key, ref, digest string) error
}

// Runtime runs Linux containers through an OCI runtime binary, each under
// its own shim. All its state lives under its root directory, so a new
// Runtime over the same root takes over every container of an earlier one.
type Runtime struct {
	root  string
	store RootfsStore
	opt   options

	mu    sync.Mutex
	locks map[string]*keyLock // guarded by mu: per-container lifecycle locks
	// finals keeps how the last runs of the most recently removed
	// containers ended, by key, for the waiters of their removal, which
	// may not have looked at the state before it was torn down.
	finals     map[string]runtime.WaitOutcome // guarded by mu
	finalOrder []string                       // guarded by mu: oldest first
	// oci is what the OCI runtime binary says of itself: the runtime
	// spec version bundles say they follow, the newest it knows (crun 1.8
	// refuses a newer one), and whether it is runc.
	oci ociRuntime
	// standby is the shim kept ready for the next create.
	standby *standbys
}

// keptFinals bounds finals: a removal's waiters are woken within
// milliseconds of it.
const keptFinals = 256

// keepFinal records how removed container key's last run ended.
func (r *Runtime) keepFinal(key string, o runtime.WaitOutcome) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.finalOrder) >= keptFinals {
		delete(r.finals, r.finalOrder[0])
		r.finalOrder = r.finalOrder[1:]
	}
	r.finals[key] = o
	r.finalOrder = append(r.finalOrder, key)
}

// final returns what keepFinal recorded for key.
func (r *Runtime) final(key string) (runtime.WaitOutcome, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	o, ok := r.finals[key]
	return o, ok
}

// keyLock serialises lifecycle calls on one container; refs counts holders
// and waiters so the map entry can go when unused.
type keyLock struct {
	sync.Mutex
	refs int
}

// New returns a runtime keeping its state under root (created if needed)
// and taking root filesystems from store. The OCI runtime binary must be
// found now: a node without it cannot run Linux containers, and says so.
func New(root string, store RootfsStore, opts ...Option) (*Runtime, error) {
	o, err := makeOptions(opts)
	if err != nil {
		return nil, err
	}
	if store == nil {
		return nil, fmt.Errorf("runc runtime: nil image store: %w", runtime.ErrInvalidArgument)
	}
	bin, err := exec.LookPath(o.runc)
	if err != nil {
		return nil, fmt.Errorf("runc runtime: OCI runtime binary %q not found: install runc or pass its path: %w", o.runc, runtime.ErrUnavailable)
	}
	o.runc = bin
	root, err = filepath.Abs(root)
	if err != nil {
		return nil, err
	}
	r := &Runtime{root: root, store: store, opt: o, locks: map[string]*keyLock{}, finals: map[string]runtime.WaitOutcome{},
		oci: probeOCIRuntime(bin), standby: newStandbys(o.noStandby)}
	r.emptyTrash()
	for _, d := range []string{filepath.Join(root, "containers"), filepath.Join(root, "names"), filepath.Join(root, trashDir)} {
		if err := os.MkdirAll(d, 0o711); err != nil {
			return nil, fmt.Errorf("runc runtime: state dir: %w", err)
		}
	}
	r.sweepUnfinished(context.Background())
	r.keepImages(context.Background())
	return r, nil
}

// keepImages records, in the image store, the image each container uses,
// from the containers' own records: the store does not keep them over a
// restart of the agent.
// Each container's record is read on its own: one that cannot be read
// does not leave the others' images unprotected.
func (r *Runtime) keepImages(ctx context.Context) {
	links, _ := os.ReadDir(filepath.Join(r.root, "names"))
	for _, l := range links {
		target, err := os.Readlink(filepath.Join(r.root, "names", l.Name()))
		if err != nil {
			continue
		}
		var m meta
		if err := readJSON(filepath.Join(r.dirOf(filepath.Base(target)), metaFile), &m); err != nil {
			r.opt.logger.Warn("runc runtime: a container's record cannot be read; its image is not kept", "container", l.Name(), "err", err)
			continue
		}
		if m.ImageDigest == "" {
			continue
		}
		if err := r.store.Keep(ctx, m.Key, m.Image, m.ImageDigest); err != nil {
			r.opt.logger.Warn("runc runtime: the image of a container is not kept", "container", m.ID.String(), "err", err)
		}
	}
}

// Name implements runtime.Identity.
func (r *Runtime) Name() string { return "runc" }

// Platforms implements runtime.Identity: the host's Linux platform.
func (r *Runtime) Platforms() []ocispec.Platform {
	return []ocispec.Platform{platforms.DefaultSpec()}
}

// lock takes the lifecycle lock of key; call the returned func to release.
func (r *Runtime) lock(key string) func() {
	r.mu.Lock()
	l := r.locks[key]
	if l == nil {
		l = &keyLock{}
		r.locks[key] = l
	}
	l.refs++
	r.mu.Unlock()
	l.Lock()
	return func() {
		l.Unlock()
		r.mu.Lock()
		if l.refs--; l.refs == 0 {
			delete(r.locks, key)
		}
		r.mu.Unlock()
	}
}

func (r *Runtime) nameLink(id runtime.ContainerID) string {
	return filepath.Join(r.root, "names", id.String())
}

func (r *Runtime) dirOf(key string) string { return filepath.Join(r.root, "containers", key) }

// resolve returns the key of container id, wrapping ErrNotFound.
func (r *Runtime) resolve(id runtime.ContainerID) (string, error) {
	if err := id.Validate(); err != nil {
		return "", fmt.Errorf("container %s: %w", id, runtime.ErrNotFound)
	}
	target, err := os.Readlink(r.nameLink(id))
	if err != nil {
		return "", fmt.Errorf("container %s: %w", id, runtime.ErrNotFound)
	}
	return filepath.Base(target), nil
}

// get loads container id's state, for a caller that does not hold its
// lock.
func (r *Runtime) get(id runtime.ContainerID) (*snapshot, error) {
	return r.getState(id, false)
}

// getState loads container id's state; held says whether the caller holds
// id's lock.
func (r *Runtime) getState(id runtime.ContainerID, held bool) (*snapshot, error) {
	key, err := r.resolve(id)
	if err != nil {
		return nil, err
	}
	s, err := r.loadKey(id, key)
	if err != nil || !orphaned(s) {
		return s, err
	}
	// The shim is gone without an exit record (it was killed): its
	// workload may still run, unseen, its output and its end recorded by
	// nobody. End it, and record that, so the container reads as what it
	// is and can be started again. Only under the lock, and only if the
	// same run is still the orphan: a Start holding the lock may have
	// ended it and begun the next run under the same key, which a reader
	// must not kill.
	if !held {
		unlock := r.lock(key)
		defer unlock()
		again, err := r.loadKey(id, key)
		if err != nil || !orphaned(again) || again.shim.Gen != s.shim.Gen {
			return again, err
		}
		s = again
	}
	if ended, err := r.endOrphan(key, s); err == nil {
		s = ended
	}
	return s, nil
}

// loadKey loads the state of container id, kept under key.
func (r *Runtime) loadKey(id runtime.ContainerID, key string) (*snapshot, error) {
	s, err := load(r.dirOf(key))
	if isNotExist(err) {
		return nil, fmt.Errorf("container %s: %w", id, runtime.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("container %s: %w", id, err)
	}
	return s, nil
}

// orphaned reports whether s is a run whose shim was lost: failed, started
// and never ended.
func orphaned(s *snapshot) bool {
	return s.exit == nil && s.state.Status == runtime.StatusFailed && s.started != nil
}

// endOrphan kills and deletes the OCI container of a run whose shim was
// lost, and records the run's end as a runtime error.
func (r *Runtime) endOrphan(key string, s *snapshot) (*snapshot, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if r.holdsOCIContainer(key) {
		r.opt.logger.Warn("runc runtime: the shim of a container was lost while its workload ran; killing the workload", "key", key)
		_ = r.runc(ctx, "kill", key, "KILL")
	}
	if err := r.deleteOCIContainer(ctx, key); err != nil {
		return nil, err
	}
	msg, code := "the shim supervising the workload ended without recording an exit (it was killed?); the workload was killed with it", 137
	if s.state.Reason == statedir.MachineRestarted {
		// As docker reports a container that ran when its machine stopped.
		msg, code = statedir.MachineRestarted, 255
	}
	exit := statedir.Exit{Run: s.shim.Gen, Outcome: runtime.WaitOutcome{ExitCode: code, Reason: runtime.ReasonRuntimeError, Message: msg, FinishedAt: time.Now().UTC()}, Error: msg}
	if s.started != nil {
		exit.StartedAt = s.started.StartedAt
	}
	if err := statedir.WriteExit(s.dir, exit); err != nil {
		return nil, err
	}
	return load(s.dir)
}

// locked resolves id, takes its lock and loads its state.
func (r *Runtime) locked(id runtime.ContainerID) (*snapshot, func(), error) {
	key, err := r.resolve(id)
	if err != nil {
		return nil, nil, err
	}
	unlock := r.lock(key)
	s, err := r.getState(id, true)
	if err != nil {
		unlock()
		return nil, nil, err
	}
	return s, unlock, nil
}

// runc runs the OCI runtime binary and returns its error as a *runcError:
// runc's own message, which names what went wrong, and the kind
// statedir.ClassifyRunc gives it. The runtime runs runc start, kill and
// delete with arguments of its own making: what runc would call invalid in
// them is the node's failure (unavailable), and runc's "no such container"
// is errNoOCIContainer, since the container is the agent's and exists.
func (r *Runtime) runc(ctx context.Context, args ...string) error {
	return r.runcIn(ctx, nil, args...)
}

// runcIn is runc with in, when not nil, on runc's standard input.
func (r *Runtime) runcIn(ctx context.Context, in io.Reader, args ...string) error {
	global := []string{"--log-format", "json"}
	if r.opt.runcRoot != "" {
		global = append(global, "--root", r.opt.runcRoot)
	}
	cmd := exec.CommandContext(ctx, r.opt.runc, append(global, args...)...)
	cmd.Stdin = in
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		op := filepath.Base(r.opt.runc) + " " + args[0]
		if ctx.Err() != nil {
			return fmt.Errorf("%s: %w", op, ctx.Err())
		}
		msg := statedir.RuncMessage(out.Bytes())
		if msg == "" {
			msg = err.Error()
		}
		kind := statedir.ClassifyRunc(msg)
		switch {
		case errors.Is(kind, runtime.ErrNotFound):
			kind = errNoOCIContainer
		case errors.Is(kind, runtime.ErrInvalidArgument):
			kind = runtime.ErrUnavailable
		}
		return &runcError{op: op, msg: msg, kind: kind}
	}
	return nil
}

// runcError is a failed run of the OCI runtime binary.
type runcError struct {
	op   string // "runc kill"
	msg  string // runc's message
	kind error  // an error kind, or errNoOCIContainer
}

// Error implements error.
func (e *runcError) Error() string { return e.op + ": " + e.msg + ": " + e.kind.Error() }

// Unwrap returns the failure's kind.
func (e *runcError) Unwrap() error { return e.kind }

// withKind returns the failure with another kind, for a caller that knows
// better what it means for the container.
func (e *runcError) withKind(kind error) *runcError {
	c := *e
	c.kind = kind
	return &c
}

// cleanupCgroup removes what is left of the container's cgroup in every
// hierarchy; the OCI runtime's delete normally does it.
func (r *Runtime) cleanupCgroup(ctx context.Context, key string) {
	if err := cgroupfs.Remove(ctx, cgroupfs.Root, cgroupPath(key)); err != nil {
		r.opt.logger.Warn("cgroup left behind", "key", key, "err", err)
	}
}

// cgroupPath is the cgroup of the container with key, as its bundle names
// it (cgroupsPath).
func cgroupPath(key string) string { return "/switchyard/" + key }

// List implements runtime.Inspector.
func (r *Runtime) List(ctx context.Context) ([]runtime.Container, error) {
	var out []runtime.Container
	err := r.each(func(s *snapshot) { out = append(out, r.container(s)) })
	if out == nil && err == nil {
		out = []runtime.Container{}
	}
	return out, err
}

// each calls f with every container's snapshot; one removed meanwhile is
// left out.
func (r *Runtime) each(f func(*snapshot)) error {
	ents, err := os.ReadDir(filepath.Join(r.root, "names"))
	if err != nil {
		return fmt.Errorf("runc runtime: list: %w", err)
	}
	for _, e := range ents {
		id, err := runtime.ParseContainerID(e.Name())
		if err != nil {
			continue
		}
		s, err := r.get(id)
		if errors.Is(err, runtime.ErrNotFound) || errors.Is(err, fs.ErrNotExist) {
			continue // removed meanwhile
		}
		if err != nil {
			return err
		}
		f(s)
	}
	return nil
}

func (r *Runtime) container(s *snapshot) runtime.Container {
	return runtime.Container{
		ID: s.meta.ID, Image: s.meta.Image, Platform: s.meta.Platform,
		Runtime: r.Name(), State: s.state, Created: s.meta.Created,
		AutoRemove: s.meta.AutoRemove, Ports: s.meta.Ports,
		Command: s.meta.Command, Labels: s.meta.Labels,
	}
}
