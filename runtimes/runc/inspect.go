package runc

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/containerd/cgroups/v3"
	"github.com/containerd/cgroups/v3/cgroup1"
	"github.com/containerd/cgroups/v3/cgroup2"

	"github.com/switchyard/switchyard/internal/logfile"
	"github.com/switchyard/switchyard/internal/statedir"
	"github.com/switchyard/switchyard/runtime"
	"github.com/switchyard/switchyard/runtimes/runc/shim"
)

// State implements runtime.Inspector.
func (r *Runtime) State(ctx context.Context, id runtime.ContainerID) (runtime.State, error) {
	s, err := r.get(id)
	if err != nil {
		return runtime.State{}, err
	}
	return s.state, nil
}

// Inspect implements runtime.Inspector.
func (r *Runtime) Inspect(ctx context.Context, id runtime.ContainerID) (runtime.Details, error) {
	s, err := r.get(id)
	if err != nil {
		return runtime.Details{}, err
	}
	return r.details(s), nil
}

var _ runtime.DetailLister = (*Runtime)(nil)

// ListDetails implements runtime.DetailLister: each container's records
// are read once.
func (r *Runtime) ListDetails(ctx context.Context) ([]runtime.Details, error) {
	var out []runtime.Details
	err := r.each(func(s *snapshot) { out = append(out, r.details(s)) })
	return out, err
}

// details is what Inspect says of the container s.
func (r *Runtime) details(s *snapshot) runtime.Details {
	d := runtime.Details{
		Container:   r.container(s),
		ImageDigest: s.meta.ImageDigest,
		Env:         s.meta.Env,
		Workdir:     s.meta.Workdir,
		Mounts:      s.meta.Mounts,
		Resources:   s.meta.Resources,
		StateDir:    s.dir,
		TTY:         s.meta.TTY,
		OpenStdin:   s.meta.OpenStdin,
		StdinOnce:   s.meta.StdinOnce,
	}
	if s.started != nil {
		d.StartedAt = s.started.StartedAt
	}
	if o, ok := s.outcome(); ok {
		d.Outcome = &o
		d.FinishedAt = o.FinishedAt
	}
	if s.exit != nil {
		d.LogsDropped = s.exit.LogsDropped
	}
	if s.running() {
		d.PID = initPID(s.dir)
	}
	if rec := readNet(s.dir); rec != nil {
		d.Network = rec.status()
	} else if s.meta.NetworkMode != "" {
		d.Network = &runtime.NetworkStatus{Mode: s.meta.NetworkMode}
	}
	return d
}

// initPID reads the pid runc recorded for the container's init.
func initPID(dir string) int {
	b, err := os.ReadFile(filepath.Join(dir, shim.InitPIDFile))
	if err != nil {
		return 0
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return pid
}

// PID implements runtime.Inspector.
func (r *Runtime) PID(ctx context.Context, id runtime.ContainerID) (int, error) {
	s, err := r.get(id)
	if err != nil || !s.running() {
		return 0, err
	}
	return initPID(s.dir), nil
}

// IP implements runtime.Inspector: the container's address on its
// network; the zero Addr for loopback alone or the host's network.
func (r *Runtime) IP(ctx context.Context, id runtime.ContainerID) (netip.Addr, error) {
	s, err := r.get(id)
	if err != nil {
		return netip.Addr{}, err
	}
	if rec := readNet(s.dir); rec != nil && rec.Attachment != nil {
		return rec.Attachment.Address.Addr(), nil
	}
	return netip.Addr{}, nil
}

// PortOverride implements runtime.Inspector: no port is remapped.
func (r *Runtime) PortOverride(ctx context.Context, id runtime.ContainerID) (uint16, error) {
	_, err := r.get(id)
	return 0, err
}

// Stats implements runtime.Inspector from the container's cgroup (v1 or
// v2). A container that is not running has no cgroup: its stats are zero.
func (r *Runtime) Stats(ctx context.Context, id runtime.ContainerID) (runtime.Stats, error) {
	s, err := r.get(id)
	if err != nil {
		return runtime.Stats{}, err
	}
	st := runtime.Stats{Timestamp: time.Now()}
	if !s.running() && s.state.Status != runtime.StatusPending {
		return st, nil
	}
	path := "/switchyard/" + s.meta.Key
	if cgroups.Mode() == cgroups.Unified {
		m, err := cgroup2.Load(path)
		if err != nil {
			return st, fmt.Errorf("container %s: cgroup: %w", id, err)
		}
		mt, err := m.Stat()
		if err != nil {
			return st, fmt.Errorf("container %s: cgroup stats: %w", id, err)
		}
		if mt.Memory != nil {
			st.MemoryBytes, st.MemoryLimit = mt.Memory.Usage, mt.Memory.UsageLimit
		}
		if mt.CPU != nil {
			u := mt.CPU.UsageUsec
			st.CPUUsageUsec = &u
		}
		if mt.Pids != nil {
			st.PIDs = mt.Pids.Current
		}
	} else {
		cg, err := cgroup1.Load(cgroup1.StaticPath(path))
		if err != nil {
			return st, fmt.Errorf("container %s: cgroup: %w", id, err)
		}
		mt, err := cg.Stat(cgroup1.IgnoreNotExist)
		if err != nil {
			return st, fmt.Errorf("container %s: cgroup stats: %w", id, err)
		}
		if mt.Memory != nil && mt.Memory.Usage != nil {
			st.MemoryBytes, st.MemoryLimit = mt.Memory.Usage.Usage, mt.Memory.Usage.Limit
		}
		if mt.CPU != nil && mt.CPU.Usage != nil {
			u := mt.CPU.Usage.Total / 1000
			st.CPUUsageUsec = &u
		}
		if mt.Pids != nil {
			st.PIDs = mt.Pids.Current
		}
	}
	if s.meta.Resources.MemoryBytes <= 0 {
		// v1 reports "no limit" as a huge number.
		st.MemoryLimit = 0
	}
	return st, nil
}

// waitExit waits until the run s describes has ended and returns how.
func (r *Runtime) waitExit(ctx context.Context, s *snapshot) (runtime.WaitOutcome, error) {
	var out runtime.WaitOutcome
	var lerr error
	ok := pollWatching(ctx, s.dir, s.shim.PID, time.Now().Add(100*365*24*time.Hour), func() bool {
		now, err := load(s.dir)
		if err != nil {
			lerr = err
			return true
		}
		if now.shim.Gen != s.shim.Gen {
			// A later run began: this one ended.
			var o runtime.WaitOutcome
			if e, ok, err := statedir.ReadExit(s.dir); err == nil && ok {
				o = e.Outcome
			}
			out = o
			return true
		}
		o, done := now.outcome()
		out = o
		return done
	})
	if lerr != nil {
		return out, fmt.Errorf("container %s: %w", s.meta.ID, runtime.ErrNotFound)
	}
	if !ok {
		return out, fmt.Errorf("container %s: wait: %w", s.meta.ID, ctx.Err())
	}
	return out, nil
}

// Wait implements runtime.Waiter.
func (r *Runtime) Wait(ctx context.Context, id runtime.ContainerID) (int, error) {
	o, err := r.WaitOutcome(ctx, id, runtime.WaitNotRunning)
	return o.ExitCode, err
}

// WaitOutcome implements runtime.Waiter.
func (r *Runtime) WaitOutcome(ctx context.Context, id runtime.ContainerID, cond runtime.WaitCondition) (runtime.WaitOutcome, error) {
	cond, err := runtime.ParseWaitCondition(string(cond))
	if err != nil {
		return runtime.WaitOutcome{}, fmt.Errorf("container %s: %w", id, err)
	}
	s, err := r.get(id)
	if err != nil {
		return runtime.WaitOutcome{}, err
	}
	switch cond {
	case runtime.WaitNotRunning:
		if o, ok := s.outcome(); ok || s.state.Status == runtime.StatusPending {
			return o, nil
		}
		return r.waitExit(ctx, s)
	case runtime.WaitNextExit:
		// The next exit is that of the next run if this one has ended, or
		// of this one.
		gen := s.shim.Gen
		if _, ended := s.outcome(); ended {
			gen++
		}
		return r.waitGen(ctx, id, s.dir, gen)
	default: // WaitRemoved
		var last runtime.WaitOutcome
		removed := func() bool {
			if o, ok := r.final(s.meta.Key); ok {
				last = o
			}
			return true
		}
		ok := pollWatching(ctx, s.dir, 0, time.Now().Add(100*365*24*time.Hour), func() bool {
			now, err := load(s.dir)
			if err != nil {
				return removed()
			}
			// Remove unlinks the name before it tears the state down: what
			// the state says after that (a shim gone without its exit
			// record, say) is the teardown's, not the run's.
			if key, err := r.resolve(now.meta.ID); err != nil || key != s.meta.Key {
				return removed()
			}
			if o, ended := now.outcome(); ended {
				last = o
			}
			return false
		})
		if !ok {
			return last, fmt.Errorf("container %s: wait: %w", id, ctx.Err())
		}
		return last, nil
	}
}

// waitGen waits for the exit of run gen (or a later one).
func (r *Runtime) waitGen(ctx context.Context, id runtime.ContainerID, dir string, gen uint64) (runtime.WaitOutcome, error) {
	var out runtime.WaitOutcome
	gone := false
	ok := pollWatching(ctx, dir, 0, time.Now().Add(100*365*24*time.Hour), func() bool {
		e, ok, err := statedir.ReadExit(dir)
		if err == nil && ok && e.Run >= gen {
			out = e.Outcome
			return true
		}
		if _, err := os.Stat(filepath.Join(dir, metaFile)); err != nil {
			gone = true
			return true
		}
		return false
	})
	if gone {
		return out, fmt.Errorf("container %s: removed while waiting: %w", id, runtime.ErrNotFound)
	}
	if !ok {
		return out, fmt.Errorf("container %s: wait: %w", id, ctx.Err())
	}
	return out, nil
}

// Logs implements runtime.LogReader.
func (r *Runtime) Logs(ctx context.Context, id runtime.ContainerID, tail int) ([]runtime.LogEntry, error) {
	key, err := r.resolve(id)
	if err != nil {
		return nil, err
	}
	entries, err := logfile.Tail(filepath.Join(r.dirOf(key), statedir.LogFile), tail)
	if err != nil {
		return nil, fmt.Errorf("container %s: %w", id, err)
	}
	return entries, nil
}

// FollowLogs implements runtime.LogReader: the stream ends when the
// container is neither running nor about to run, or is removed.
func (r *Runtime) FollowLogs(ctx context.Context, id runtime.ContainerID, tail int) (runtime.Stream[runtime.LogEntry], error) {
	key, err := r.resolve(id)
	if err != nil {
		return nil, err
	}
	dir := r.dirOf(key)
	stopped := func() bool {
		s, err := load(dir)
		return err != nil || !s.running()
	}
	// The shim records the exit by a rename in dir: the watch ends the
	// stream at once instead of at the follower's next poll.
	wake, unwatch, _ := watchDir(dir, 0)
	return watchedStream{logfile.FollowWoken(ctx, filepath.Join(dir, statedir.LogFile), tail, stopped, wake), unwatch}, nil
}

// watchedStream is a log stream that stops its directory watch on Close.
type watchedStream struct {
	runtime.Stream[runtime.LogEntry]
	unwatch func()
}

// Close implements runtime.Stream.
func (w watchedStream) Close() error {
	w.unwatch()
	return w.Stream.Close()
}

var _ runtime.ProcessLister = (*Runtime)(nil)

// Processes implements runtime.ProcessLister: the processes of the
// container's cgroup (the unified hierarchy's, else the pids or memory
// controller's).
func (r *Runtime) Processes(ctx context.Context, id runtime.ContainerID) ([]int, error) {
	s, err := r.get(id)
	if err != nil {
		return nil, err
	}
	if !s.running() {
		return nil, fmt.Errorf("container %s is %s: it has no processes: %w", id, s.state, runtime.ErrFailedPrecondition)
	}
	rel := filepath.Join("switchyard", s.meta.Key)
	for _, dir := range []string{
		filepath.Join("/sys/fs/cgroup", rel),
		filepath.Join("/sys/fs/cgroup/pids", rel),
		filepath.Join("/sys/fs/cgroup/memory", rel),
	} {
		b, err := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
		if err != nil {
			continue
		}
		var pids []int
		for _, f := range strings.Fields(string(b)) {
			if pid, err := strconv.Atoi(f); err == nil && pid > 0 {
				pids = append(pids, pid)
			}
		}
		if len(pids) > 0 {
			return pids, nil
		}
	}
	return nil, fmt.Errorf("container %s: its cgroup lists no processes: %w", id, runtime.ErrFailedPrecondition)
}
