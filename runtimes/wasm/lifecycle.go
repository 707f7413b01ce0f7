package wasm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/switchyard/switchyard/internal/statedir"
	"github.com/switchyard/switchyard/network"
	"github.com/switchyard/switchyard/runtime"
	"github.com/switchyard/switchyard/runtimes/wasm/host"
)

// wasmPage is the size of a WebAssembly memory page.
const wasmPage = 65536

// Create implements runtime.Lifecycle: it records that the container uses
// its image, finds the module, checks that it is a preview 1 core module
// (a component is refused with runtime.ErrNotSupported) and has the host
// compile it, so that Start only instantiates it.
func (r *Runtime) Create(ctx context.Context, id runtime.ContainerID, cs *runtime.CreateSpec) (err error) {
	if err := id.Validate(); err != nil {
		return fmt.Errorf("container %s: %w", id, err)
	}
	if err := cs.Validate(); err != nil {
		return fmt.Errorf("container %s: %w", id, err)
	}
	if p := cs.Platform; p != nil && !isWasm(*p) {
		return fmt.Errorf("container %s: platform %s: the wasm runtime serves only wasip1/wasm: %w", id, runtime.FormatPlatform(*p), runtime.ErrNotSupported)
	}
	ports, err := modulePorts(cs.Network.Ports)
	if err != nil {
		return fmt.Errorf("container %s: %w", id, err)
	}
	if m := cs.Network.Mode; m != "" && m != runtime.NetworkBridge && m != runtime.NetworkNone && !(cs.Pod != nil && m == runtime.NetworkHost) {
		return fmt.Errorf("container %s: network %s: a wasm module has no network interface of its own (WASI preview 1 has no sockets to connect with); use --network bridge or none: %w", id, m, runtime.ErrNotSupported)
	}
	if field := unsupportedField(cs); field != "" {
		return fmt.Errorf("container %s: %s: a wasm module has no processes, users, devices or kernel settings to apply it to; drop it, or run a Linux image: %w", id, field, runtime.ErrNotSupported)
	}
	if cs.Resources.MemoryBytes < 0 || cs.Resources.MemoryBytes > 0 && cs.Resources.MemoryBytes < wasmPage {
		return fmt.Errorf("container %s: memory limit %d bytes: a module needs at least one 64 KiB page; set resources.memory to 64Ki or more, or 0 for none: %w", id, cs.Resources.MemoryBytes, runtime.ErrInvalidArgument)
	}
	e := &entry{}
	r.mu.Lock()
	if _, ok := r.byID[id]; ok {
		r.mu.Unlock()
		return fmt.Errorf("container %s: %w", id, runtime.ErrAlreadyExists)
	}
	r.byID[id] = e // reserved; lookups see no record until it is written
	r.mu.Unlock()

	key := newKey(id)
	dir := r.dir(key)
	defer func() {
		if err != nil {
			_ = os.RemoveAll(dir)
			_ = r.modules.Release(context.WithoutCancel(ctx), key)
			r.mu.Lock()
			delete(r.byID, id)
			r.mu.Unlock()
		}
	}()
	if err := os.MkdirAll(filepath.Join(dir, "scratch", "tmp"), 0o700); err != nil {
		return fmt.Errorf("container %s: %w", id, err)
	}
	r.step("create:dir")
	mod, err := r.modules.Module(ctx, key, cs.Image)
	if err != nil {
		return fmt.Errorf("container %s: image %s: %w", id, cs.Image, err)
	}
	r.step("create:module")
	if err := checkModuleFile(mod.Path); err != nil {
		return fmt.Errorf("container %s: image %s: %w", id, cs.Image, err)
	}
	rec := &record{Key: key, ID: id, Image: cs.Image, ImageDigest: mod.ImageDigest,
		Module:    host.Module{Path: mod.Path, Digest: mod.Digest, Layer: mod.Layer},
		Resources: cs.Resources, MemoryLimit: uint64(cs.Resources.MemoryBytes), Created: time.Now().UTC()}
	rec.Args = argv(mod, cs)
	rec.Workdir = cs.Workdir
	rec.Labels = cs.Labels
	rec.AutoRemove = cs.AutoRemove
	rec.Ports = ports
	rec.Aliases, rec.Group = cs.Network.Aliases, cs.Network.Group
	rec.Pod, rec.LogPath = cs.Pod, cs.LogPath
	if cs.Pod != nil {
		// A pod's ports are the pod's: the module serves its image's
		// exposed ports (else the container's ports the pod gives) in the pod's
		// network, where the pod's port mappings and its address reach
		// them.
		rec.PodPorts = mod.Exposed
		if len(rec.PodPorts) == 0 {
			rec.PodPorts = cs.Pod.Ports
		}
	}
	if rec.Workdir == "" {
		rec.Workdir = mod.Workdir
	}
	if rec.Workdir != "" && !path.IsAbs(rec.Workdir) {
		return fmt.Errorf("container %s: workdir %q must be an absolute path: %w", id, rec.Workdir, runtime.ErrInvalidArgument)
	}
	rec.Env = environ(mod.Env, cs.Env, rec.Workdir)
	if rec.Mounts, err = r.mounts(dir, cs.Volumes, cs.Security.ReadOnlyRootFS); err != nil {
		return fmt.Errorf("container %s: %w", id, err)
	}
	if err := r.withHost(ctx, func() error { return r.client.Prepare(ctx, rec.Module) }); err != nil {
		return fmt.Errorf("container %s: image %s: %w", id, cs.Image, err)
	}
	r.step("create:prepared")
	// The record is the create's last write: a directory without one is a
	// create that did not finish, undone by the next runtime (New).
	if err := statedir.WriteJSON(filepath.Join(dir, configFile), rec); err != nil {
		return fmt.Errorf("container %s: %w", id, err)
	}
	r.mu.Lock()
	e.rec = rec
	r.mu.Unlock()
	r.publish(rec)
	r.step("create:done")
	return nil
}

// step tells the step hook, if any, that step is done.
func (r *Runtime) step(step string) {
	if r.opts.stepHook != nil {
		r.opts.stepHook(step)
	}
}

func isWasm(p ocispec.Platform) bool {
	return p.Architecture == "wasm" && (p.OS == "wasip1" || p.OS == "wasi")
}

// checkModuleFile reads a module's header: a component is refused here,
// before anything runs.
func checkModuleFile(p string) error {
	f, err := os.Open(p)
	if err != nil {
		return fmt.Errorf("module: %w", err)
	}
	defer f.Close()
	head := make([]byte, 8)
	if _, err := io.ReadFull(f, head); err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("module: %w", err)
	}
	return host.CheckHeader(head)
}

// argv builds the module's argv as Docker builds a process's: the spec's
// entrypoint replaces the image's (and drops the image's cmd), the spec's
// args replace the cmd. argv[0] is the module's name.
func argv(mod Module, cs *runtime.CreateSpec) []string {
	entry, args := mod.Entrypoint, mod.Cmd
	if len(cs.Entrypoint) > 0 {
		entry, args = cs.Entrypoint, nil
	}
	if len(cs.Args) > 0 {
		args = cs.Args
	}
	if len(entry) == 0 {
		name := mod.Name
		if name == "" {
			name = moduleName(mod.Ref)
		}
		return append([]string{name}, args...)
	}
	out := append([]string{path.Base(entry[0])}, entry[1:]...)
	return append(out, args...)
}

// environ merges the image's environment with the request's (which
// wins), in order; a workdir becomes PWD, the WASI way to set a cwd.
func environ(image []string, extra []string, workdir string) []string {
	var out []string
	idx := map[string]int{}
	set := func(k, v string) {
		if i, ok := idx[k]; ok {
			out[i] = k + "=" + v
			return
		}
		idx[k] = len(out)
		out = append(out, k+"="+v)
	}
	for _, kv := range image {
		k, v, _ := strings.Cut(kv, "=")
		set(k, v)
	}
	for _, kv := range extra {
		k, v, _ := strings.Cut(kv, "=")
		set(k, v)
	}
	if workdir != "" {
		set("PWD", workdir)
	}
	return out
}

// mounts preopens the container's scratch directory as "/" and each
// volume at its path (a volume without a source gets a directory of its
// own in the container's state directory).
func (r *Runtime) mounts(dir string, vols []runtime.Volume, readOnlyRoot bool) ([]host.Mount, error) {
	out := []host.Mount{{HostPath: filepath.Join(dir, "scratch"), GuestPath: "/", ReadOnly: readOnlyRoot}}
	// Names and paths were checked by CreateSpec.Validate; "/" is the
	// scratch directory's.
	for _, v := range vols {
		if path.Clean(v.Path) == "/" {
			return nil, fmt.Errorf("volume %q: path / is the module's scratch directory; mount the volume below it, such as /data: %w", v.Name, runtime.ErrInvalidArgument)
		}
		src := v.Source
		switch {
		case v.Kind == runtime.VolumeTmpfs:
			return nil, fmt.Errorf("volume %q: a wasm module has no tmpfs (its files are host directories); use a volume of its own instead: %w", v.Name, runtime.ErrNotSupported)
		case v.Kind == runtime.VolumeNamed:
			src = filepath.Join(r.root, "volumes", v.Name)
			if r.opts.volumeDir != "" {
				src = filepath.Join(r.opts.volumeDir, v.Name)
			}
			if err := os.MkdirAll(src, 0o755); err != nil {
				return nil, fmt.Errorf("volume %q: %w", v.Name, err)
			}
			out = append(out, host.Mount{HostPath: src, GuestPath: path.Clean(v.Path), ReadOnly: v.ReadOnly})
			continue
		}
		if src == "" {
			src = filepath.Join(dir, "volumes", v.Name)
			if err := os.MkdirAll(src, 0o755); err != nil {
				return nil, fmt.Errorf("volume %q: %w", v.Name, err)
			}
		} else if fi, err := os.Stat(src); err != nil || !fi.IsDir() {
			return nil, fmt.Errorf("volume %q: source %s is not a directory on this host; create it first: %w", v.Name, src, runtime.ErrInvalidArgument)
		}
		out = append(out, host.Mount{HostPath: src, GuestPath: path.Clean(v.Path), ReadOnly: v.ReadOnly})
	}
	return out, nil
}

// acquire looks id up and holds its lifecycle lock; the caller unlocks
// e.ops.
func (r *Runtime) acquire(id runtime.ContainerID) (*entry, *record, error) {
	e, _, err := r.lookup(id)
	if err != nil {
		return nil, nil, err
	}
	e.ops.Lock()
	r.mu.Lock()
	cur, ok := r.byID[id]
	rec := e.rec
	r.mu.Unlock()
	if !ok || cur != e || rec == nil || rec.ID != id {
		e.ops.Unlock()
		return nil, nil, fmt.Errorf("container %s: %w", id, runtime.ErrNotFound)
	}
	return e, rec, nil
}

// Start implements runtime.Lifecycle. Starting a running container does
// nothing; starting an exited one runs the module again (its log goes on).
func (r *Runtime) Start(ctx context.Context, id runtime.ContainerID) error {
	e, rec, err := r.acquire(id)
	if err != nil {
		return err
	}
	defer e.ops.Unlock()
	obs, err := r.observe(ctx, rec)
	if err != nil || obs.running() {
		return err
	}
	// The next run's number is past every run recorded: the start record
	// is not durable (a crash of the machine may take it), the exit is.
	run := obs.start.Run + 1
	if x, ok, err := statedir.ReadExit(r.dir(rec.Key)); err == nil && ok && x.Run >= run {
		run = x.Run + 1
	}
	req := host.StartRequest{Key: rec.Key, Name: id.String(), Module: rec.Module,
		Args: rec.Args, Env: rec.Env, Mounts: rec.Mounts, StateDir: r.dir(rec.Key), Listeners: listeners(rec.Ports),
		MemoryLimit: rec.MemoryLimit, Run: run,
		LogMaxSize: r.opts.logMaxSize, LogMaxFiles: r.opts.logMaxFiles, CRILog: rec.LogPath}
	if rec.Pod != nil && rec.Pod.NetNS != "" {
		req.NetNS = rec.Pod.NetNS
		for _, p := range rec.PodPorts {
			req.Listeners = append(req.Listeners, host.Listener{Port: p, ContainerPort: p})
		}
	}
	err = r.withHost(ctx, func() error {
		_, err := r.client.Start(ctx, req)
		return err
	})
	if err != nil {
		return fmt.Errorf("container %s: %w", id, err)
	}
	r.broadcast()
	return nil
}

// Stop implements runtime.Lifecycle. A module cannot catch SIGTERM, so the
// instance is cancelled at once; it ends at its next function call or loop
// iteration (or sleep), well within timeout, and the exit says SIGTERM.
func (r *Runtime) Stop(ctx context.Context, id runtime.ContainerID, timeout time.Duration) error {
	_, rec, err := r.lookup(id)
	if err != nil {
		return err
	}
	obs, err := r.observe(ctx, rec)
	if err != nil || !obs.running() {
		return err
	}
	// A signal that finds the instance gone is fine: waitRun then reads
	// (or records) how it ended.
	_ = r.client.Signal(ctx, rec.Key, runtime.SIGTERM.String())
	tctx, cancel := context.WithTimeout(ctx, timeout)
	_, err = r.waitRun(tctx, rec, obs.start.Run)
	cancel()
	if err == nil || ctx.Err() != nil {
		return err
	}
	_ = r.client.Signal(ctx, rec.Key, runtime.SIGKILL.String())
	_, err = r.waitRun(ctx, rec, obs.start.Run)
	return err
}

// Kill implements runtime.Lifecycle. SIGKILL, SIGTERM and SIGINT end the
// instance; other signals mean nothing to a module and are refused with
// runtime.ErrNotSupported.
func (r *Runtime) Kill(ctx context.Context, id runtime.ContainerID, signal string) error {
	sig, err := runtime.ParseSignal(signal)
	if err != nil {
		return fmt.Errorf("container %s: %w", id, err)
	}
	if sig != runtime.SIGKILL && sig != runtime.SIGTERM && sig != runtime.SIGINT {
		return fmt.Errorf("container %s: signal %s: a wasm module cannot receive signals; SIGTERM, SIGINT and SIGKILL end it: %w", id, sig, runtime.ErrNotSupported)
	}
	_, rec, err := r.lookup(id)
	if err != nil {
		return err
	}
	obs, err := r.observe(ctx, rec)
	if err != nil {
		return err
	}
	if !obs.running() {
		return fmt.Errorf("container %s: not running (%s): %w", id, obs.state, runtime.ErrFailedPrecondition)
	}
	if err := r.client.Signal(ctx, rec.Key, sig.String()); err != nil {
		if errors.Is(err, runtime.ErrFailedPrecondition) || errors.Is(err, runtime.ErrNotFound) || errors.Is(err, runtime.ErrUnavailable) {
			return fmt.Errorf("container %s: not running: %w", id, runtime.ErrFailedPrecondition)
		}
		return fmt.Errorf("container %s: %w", id, err)
	}
	return nil
}

// Remove implements runtime.Lifecycle.
func (r *Runtime) Remove(ctx context.Context, id runtime.ContainerID, force bool) error {
	e, rec, err := r.acquire(id)
	if err != nil {
		return err
	}
	defer e.ops.Unlock()
	obs, err := r.observe(ctx, rec)
	if err != nil {
		return err
	}
	var final runtime.WaitOutcome
	if obs.exit != nil {
		final = obs.exit.Outcome
	}
	if obs.running() {
		if !force {
			return fmt.Errorf("container %s: running; stop it first or remove it with force: %w", id, runtime.ErrFailedPrecondition)
		}
		_ = r.client.Signal(ctx, rec.Key, runtime.SIGKILL.String())
		x, err := r.waitRun(ctx, rec, obs.start.Run)
		if err != nil {
			return fmt.Errorf("container %s: %w", id, err)
		}
		final = x.Outcome
	}
	r.step("remove:killed")
	if err := r.client.Forget(ctx, rec.Key); err != nil && !errors.Is(err, runtime.ErrNotFound) && !errors.Is(err, runtime.ErrUnavailable) {
		return fmt.Errorf("container %s: %w", id, err)
	}
	r.step("remove:forgotten")
	// The record goes first: from then on the container is gone, and what
	// is left of it is undone by the next runtime on this root if this
	// one stops half-way (New).
	if err := os.Remove(filepath.Join(r.dir(rec.Key), configFile)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("container %s: %w", id, err)
	}
	r.step("remove:unrecorded")
	if r.opts.names != nil {
		r.opts.names.Unpublish(rec.Key)
	}
	r.mu.Lock()
	e.final = &final
	delete(r.byID, id)
	r.mu.Unlock()
	r.broadcast()
	if err := r.undo(ctx, rec.Key); err != nil {
		r.opts.log.Warn("wasm runtime: cleaning up a removed container; the next start finishes it", "container", id, "err", err)
	}
	r.step("remove:done")
	return nil
}

// undo releases the image use of the container of key and removes its
// state directory: the end of a removal, or of a create that did not
// finish.
func (r *Runtime) undo(ctx context.Context, key string) error {
	if err := r.modules.Release(ctx, key); err != nil {
		return fmt.Errorf("releasing its image: %w", err)
	}
	r.step("remove:released")
	return os.RemoveAll(r.dir(key))
}

// Rename implements runtime.Lifecycle. The instance, its state directory
// and its log are keyed by an id that never changes, so a running module
// is not disturbed.
func (r *Runtime) Rename(ctx context.Context, id, to runtime.ContainerID) error {
	if err := to.Validate(); err != nil {
		return fmt.Errorf("container %s: rename to %s: %w", id, to, err)
	}
	e, rec, err := r.acquire(id)
	if err != nil {
		return err
	}
	defer e.ops.Unlock()
	if id == to {
		return nil
	}
	r.mu.Lock()
	if _, ok := r.byID[to]; ok {
		r.mu.Unlock()
		return fmt.Errorf("container %s: rename to %s: %w", id, to, runtime.ErrAlreadyExists)
	}
	r.byID[to] = e // reserved while the record is written
	r.mu.Unlock()
	nrec := *rec
	nrec.ID = to
	if err := statedir.WriteJSON(filepath.Join(r.dir(rec.Key), configFile), &nrec); err != nil {
		r.mu.Lock()
		delete(r.byID, to)
		r.mu.Unlock()
		return fmt.Errorf("container %s: rename to %s: %w", id, to, err)
	}
	r.mu.Lock()
	delete(r.byID, id)
	e.rec = &nrec
	r.mu.Unlock()
	r.broadcast()
	// The network's DNS answers the new name, not the old one.
	if r.opts.names != nil && len(nrec.Ports) > 0 {
		r.opts.names.Unpublish(nrec.Key)
		r.publish(&nrec)
	}
	return nil
}

// SyncVolumes implements runtime.Lifecycle: volumes are host directories
// the module reads directly, so there is nothing to copy.
func (r *Runtime) SyncVolumes(_ context.Context, id runtime.ContainerID) error {
	_, _, err := r.lookup(id)
	return err
}

// modulePorts checks a module's published ports and chooses the free host
// ports: TCP only (a WASI preview 1 module serves on listeners it is
// given and can open no socket of its own), each host port free now, so
// that a taken one fails at create, naming who holds it. The host binds
// them when the module starts.
func modulePorts(ports []runtime.PortMapping) ([]runtime.PortMapping, error) {
	seen := map[uint16]bool{}
	for _, p := range ports {
		if p.Proto() != "tcp" {
			return nil, fmt.Errorf("port %s: a wasm module can serve TCP alone (WASI preview 1 gives it listening TCP sockets, nothing else): %w", p, runtime.ErrNotSupported)
		}
		if seen[p.ContainerPort] {
			return nil, fmt.Errorf("port %s: container port %d is published twice; a module is handed one listener per port it serves: %w", p, p.ContainerPort, runtime.ErrInvalidArgument)
		}
		seen[p.ContainerPort] = true
	}
	held, resolved, err := network.HoldPorts(ports)
	for _, f := range held {
		f.Close()
	}
	return resolved, err
}

// listeners are the host's listeners for the module's ports.
func listeners(ports []runtime.PortMapping) []host.Listener {
	var out []host.Listener
	for _, p := range ports {
		l := host.Listener{Port: p.HostPort, ContainerPort: p.ContainerPort}
		if p.HostIP.IsValid() {
			l.Host = p.HostIP.String()
		}
		out = append(out, l)
	}
	return out
}

// publish has the node's DNS answer the names of a module that publishes
// ports.
func (r *Runtime) publish(rec *record) {
	if r.opts.names == nil || len(rec.Ports) == 0 {
		return
	}
	r.opts.names.Publish(rec.Key, []string{rec.ID.String(), rec.ID.Service}, rec.Group, rec.Aliases)
}

// unsupportedField names the first field of cs that has no meaning for a
// wasm module (a process's user, capabilities, devices, kernel settings,
// cgroup extras), or "".
func unsupportedField(cs *runtime.CreateSpec) string {
	sec, res := cs.Security, cs.Resources
	switch {
	case sec.Privileged:
		return "privileged"
	case len(sec.CapAdd) > 0 || len(sec.CapDrop) > 0:
		return "capabilities"
	case len(sec.Devices) > 0:
		return "devices"
	case len(sec.Sysctls) > 0:
		return "sysctls"
	case len(sec.Ulimits) > 0:
		return "ulimits"
	case sec.Seccomp != "" && sec.Seccomp != "unconfined":
		// Unconfined, and new privileges allowed, hold of a module as
		// they are: it makes no system calls to filter and runs no
		// setuid program. A profile to apply is refused.
		return "security_opt"
	case sec.PidHost:
		return "pid_mode"
	case sec.IpcHost:
		return "ipc_mode"
	case cs.User != "" || len(cs.ExtraGroups) > 0 || cs.StrictGroups:
		return "user"
	case res.PidsLimit != 0 || res.Cpuset != "" || res.CPUShares != 0 || res.MemorySwapBytes != 0 ||
		res.MemoryReservationBytes != 0 || res.MemorySwappiness != nil || res.OOMScoreAdj != nil || res.OOMKillDisable || res.BlkioWeight != 0:
		return "resources (beyond cpu and memory)"
	case len(cs.Network.DNS) > 0 || len(cs.Network.ExtraHosts) > 0:
		return "dns and extra_hosts"
	case cs.Hostname != "":
		return "hostname"
	case cs.TTY:
		return "tty"
	case cs.OpenStdin:
		return "stdin (docker run -i: a module's input is not kept open for clients)"
	case len(cs.Secrets) > 0:
		return "secrets (a module's environment is kept in its record, where a secret must not be)"
	case cs.StopSignal != "":
		return "stop_signal (a module is stopped, not signalled)"
	case slices.ContainsFunc(cs.Volumes, func(v runtime.Volume) bool { return v.Propagation != "" && v.Propagation != runtime.PropagationPrivate }):
		return "volume propagation (a module's directories are opened once, at its start; mounts made later do not reach it)"
	}
	return ""
}
