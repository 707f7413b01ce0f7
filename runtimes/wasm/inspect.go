package wasm

import (
	"context"
	"fmt"
	"net/netip"
	"path/filepath"
	"sort"
	"time"

	"github.com/switchyard/switchyard/internal/logfile"
	"github.com/switchyard/switchyard/internal/statedir"
	"github.com/switchyard/switchyard/runtime"
)

// State implements runtime.Inspector.
func (r *Runtime) State(ctx context.Context, id runtime.ContainerID) (runtime.State, error) {
	_, rec, err := r.lookup(id)
	if err != nil {
		return runtime.State{}, err
	}
	obs, err := r.observe(ctx, rec)
	return obs.state, err
}

// Inspect implements runtime.Inspector.
func (r *Runtime) Inspect(ctx context.Context, id runtime.ContainerID) (runtime.Details, error) {
	_, rec, err := r.lookup(id)
	if err != nil {
		return runtime.Details{}, err
	}
	obs, err := r.observe(ctx, rec)
	if err != nil {
		return runtime.Details{}, err
	}
	d := runtime.Details{
		Container:   r.container(rec, obs),
		ImageDigest: rec.ImageDigest,
		Env:         append([]string(nil), rec.Env...),
		Workdir:     rec.Workdir,
		Resources:   rec.Resources,
		StateDir:    r.dir(rec.Key),
	}
	for _, m := range rec.Mounts {
		d.Mounts = append(d.Mounts, runtime.Mount{Source: m.HostPath, Destination: m.GuestPath, ReadOnly: m.ReadOnly})
	}
	// A module has no interface of its own: its ports are the host's,
	// and it can open no connection.
	d.Network = &runtime.NetworkStatus{Mode: runtime.NetworkNone, Ports: rec.Ports,
		Note: "a WASI preview 1 module serves on its published ports (listeners on the host's) and cannot open connections"}
	if len(rec.Ports) > 0 {
		d.Network.Mode = runtime.NetworkHost
	}
	if obs.started {
		d.StartedAt = obs.start.StartedAt
	}
	if obs.exit != nil {
		o := obs.exit.Outcome
		d.Outcome, d.FinishedAt = &o, o.FinishedAt
		d.LogsDropped = obs.exit.LogsDropped
	}
	if obs.running() {
		d.PID = obs.start.SupervisorPID
	}
	return d, nil
}

func (r *Runtime) container(rec *record, obs observation) runtime.Container {
	return runtime.Container{ID: rec.ID, Image: rec.Image, Platform: r.Platforms()[0], Runtime: r.Name(),
		State: obs.state, Created: rec.Created, AutoRemove: rec.AutoRemove, Ports: rec.Ports,
		Command: append([]string(nil), rec.Args...), Labels: rec.Labels}
}

// List implements runtime.Inspector.
func (r *Runtime) List(ctx context.Context) ([]runtime.Container, error) {
	r.mu.Lock()
	recs := make([]*record, 0, len(r.byID))
	for id, e := range r.byID {
		if e.rec != nil && e.rec.ID == id {
			recs = append(recs, e.rec)
		}
	}
	r.mu.Unlock()
	sort.Slice(recs, func(i, j int) bool { return recs[i].ID.String() < recs[j].ID.String() })
	out := make([]runtime.Container, 0, len(recs))
	for _, rec := range recs {
		obs, err := r.observe(ctx, rec)
		if err != nil {
			return nil, err
		}
		out = append(out, r.container(rec, obs))
	}
	return out, nil
}

// Stats implements runtime.Inspector: memory is the instance's linear
// memory; CPU time is not measured (instances share the host's threads, so
// there is no honest per-instance figure) and is left nil.
func (r *Runtime) Stats(ctx context.Context, id runtime.ContainerID) (runtime.Stats, error) {
	_, rec, err := r.lookup(id)
	if err != nil {
		return runtime.Stats{}, err
	}
	obs, err := r.observe(ctx, rec)
	if err != nil {
		return runtime.Stats{}, err
	}
	st := runtime.Stats{MemoryLimit: rec.MemoryLimit, Timestamp: time.Now().UTC()}
	if obs.running() {
		st.MemoryBytes = obs.status.MemoryBytes
	}
	return st, nil
}

// PID implements runtime.Inspector: the process that runs a module is the
// shared wasm host, so that is its pid while the module runs.
func (r *Runtime) PID(ctx context.Context, id runtime.ContainerID) (int, error) {
	_, rec, err := r.lookup(id)
	if err != nil {
		return 0, err
	}
	obs, err := r.observe(ctx, rec)
	if err != nil || !obs.running() {
		return 0, err
	}
	return obs.start.SupervisorPID, nil
}

// IP implements runtime.Inspector: WASI preview 1 modules have no network
// of their own, so the address is always the zero Addr.
func (r *Runtime) IP(_ context.Context, id runtime.ContainerID) (netip.Addr, error) {
	_, _, err := r.lookup(id)
	return netip.Addr{}, err
}

// PortOverride implements runtime.Inspector; modules have no ports.
func (r *Runtime) PortOverride(_ context.Context, id runtime.ContainerID) (uint16, error) {
	_, _, err := r.lookup(id)
	return 0, err
}

// Logs implements runtime.LogReader.
func (r *Runtime) Logs(_ context.Context, id runtime.ContainerID, tail int) ([]runtime.LogEntry, error) {
	_, rec, err := r.lookup(id)
	if err != nil {
		return nil, err
	}
	if tail < runtime.TailAll {
		return nil, fmt.Errorf("container %s: tail %d: want a count or TailAll: %w", id, tail, runtime.ErrInvalidArgument)
	}
	entries, err := logfile.Tail(filepath.Join(r.dir(rec.Key), statedir.LogFile), tail)
	if err != nil {
		return nil, fmt.Errorf("container %s: %w", id, err)
	}
	return entries, nil
}

// FollowLogs implements runtime.LogReader.
func (r *Runtime) FollowLogs(ctx context.Context, id runtime.ContainerID, tail int) (runtime.Stream[runtime.LogEntry], error) {
	_, rec, err := r.lookup(id)
	if err != nil {
		return nil, err
	}
	if tail < runtime.TailAll {
		return nil, fmt.Errorf("container %s: tail %d: want a count or TailAll: %w", id, tail, runtime.ErrInvalidArgument)
	}
	stopped := func() bool {
		obs, err := r.observe(ctx, rec)
		return err != nil || !obs.running()
	}
	return logfile.Follow(ctx, filepath.Join(r.dir(rec.Key), statedir.LogFile), tail, stopped), nil
}

// Exec implements runtime.Executor: a module is a single process, so there
// is nothing to exec into.
func (r *Runtime) Exec(_ context.Context, id runtime.ContainerID, _ []string) (runtime.ExecResult, error) {
	return runtime.ExecResult{}, execUnsupported(id)
}

// ExecStream implements runtime.Executor; see Exec.
func (r *Runtime) ExecStream(_ context.Context, id runtime.ContainerID, _ []string) (runtime.Stream[runtime.ExecEvent], error) {
	return nil, execUnsupported(id)
}

func execUnsupported(id runtime.ContainerID) error {
	return fmt.Errorf("container %s: exec: a wasm module is a single process and cannot run other commands: %w", id, runtime.ErrNotSupported)
}
