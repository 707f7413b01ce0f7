package composite

import (
	"context"
	"net/netip"
	"time"

	"github.com/switchyard/switchyard/runtime"
)

// State implements runtime.Inspector.
func (c *Runtime) State(ctx context.Context, id runtime.ContainerID) (runtime.State, error) {
	_, rt, err := c.lookup(ctx, id)
	if err != nil {
		return runtime.State{}, err
	}
	return rt.State(ctx, id)
}

// Inspect implements runtime.Inspector; Details.Runtime names the runtime
// that runs the container.
func (c *Runtime) Inspect(ctx context.Context, id runtime.ContainerID) (runtime.Details, error) {
	_, rt, err := c.lookup(ctx, id)
	if err != nil {
		return runtime.Details{}, err
	}
	d, err := rt.Inspect(ctx, id)
	if err == nil && d.Runtime == "" {
		d.Runtime = rt.Name()
	}
	return d, err
}

// List implements runtime.Inspector: every runtime's containers, with
// Container.Runtime naming the runtime. A runtime whose List fails is
// logged and left out; only when all fail is the first error returned.
// Containers of a runtime whose List failed before get their dispatch
// records here.
func (c *Runtime) List(ctx context.Context) ([]runtime.Container, error) {
	return listAll(c, func(rt runtime.Containers) ([]runtime.Container, error) { return rt.List(ctx) },
		func(ct *runtime.Container) *runtime.Container { return ct })
}

// listAll merges what list gives of every runtime, as List describes;
// container is the container an item describes.
func listAll[T any](c *Runtime, list func(runtime.Containers) ([]T, error), container func(*T) *runtime.Container) ([]T, error) {
	var out []T
	var firstErr error
	failed := 0
	for i, rt := range c.runtimes {
		items, err := list(rt)
		if err != nil {
			c.log.Warn("cannot list a runtime's containers; listing the others", "runtime", rt.Name(), "err", err)
			if firstErr == nil {
				firstErr = err
			}
			failed++
			// Its containers still exist as far as anyone knows: show them,
			// in an unknown state that says why, rather than hide them.
			for _, id := range c.records.ownedBy(i) {
				var item T
				*container(&item) = runtime.Container{ID: id, Runtime: rt.Name(),
					State: runtime.State{Status: runtime.StatusUnknown, Reason: err.Error()}}
				out = append(out, item)
			}
			continue
		}
		if c.unlisted.Load() && c.isPending(i) {
			cs := make([]runtime.Container, len(items))
			for j := range items {
				cs[j] = *container(&items[j])
			}
			c.adopt(i, cs)
			c.setPending([]int{i}, nil)
		}
		for j := range items {
			if ct := container(&items[j]); ct.Runtime == "" {
				ct.Runtime = rt.Name()
			}
			out = append(out, items[j])
		}
	}
	if failed == len(c.runtimes) {
		return nil, firstErr
	}
	return out, nil
}

// Stats implements runtime.Inspector.
func (c *Runtime) Stats(ctx context.Context, id runtime.ContainerID) (runtime.Stats, error) {
	_, rt, err := c.lookup(ctx, id)
	if err != nil {
		return runtime.Stats{}, err
	}
	return rt.Stats(ctx, id)
}

// PID implements runtime.Inspector.
func (c *Runtime) PID(ctx context.Context, id runtime.ContainerID) (int, error) {
	_, rt, err := c.lookup(ctx, id)
	if err != nil {
		return 0, err
	}
	return rt.PID(ctx, id)
}

// IP implements runtime.Inspector.
func (c *Runtime) IP(ctx context.Context, id runtime.ContainerID) (netip.Addr, error) {
	_, rt, err := c.lookup(ctx, id)
	if err != nil {
		return netip.Addr{}, err
	}
	return rt.IP(ctx, id)
}

// PortOverride implements runtime.Inspector.
func (c *Runtime) PortOverride(ctx context.Context, id runtime.ContainerID) (uint16, error) {
	_, rt, err := c.lookup(ctx, id)
	if err != nil {
		return 0, err
	}
	return rt.PortOverride(ctx, id)
}

// Wait implements runtime.Waiter.
func (c *Runtime) Wait(ctx context.Context, id runtime.ContainerID) (int, error) {
	_, rt, err := c.lookup(ctx, id)
	if err != nil {
		return 0, err
	}
	return rt.Wait(ctx, id)
}

// WaitOutcome implements runtime.Waiter.
//
// A wait for the removal returns once the dispatch record is gone too, so
// that the name is free for a create when it returns.
func (c *Runtime) WaitOutcome(ctx context.Context, id runtime.ContainerID, cond runtime.WaitCondition) (runtime.WaitOutcome, error) {
	i, rt, err := c.lookup(ctx, id)
	if err != nil {
		return runtime.WaitOutcome{}, err
	}
	out, err := rt.WaitOutcome(ctx, id, cond)
	if cond, perr := runtime.ParseWaitCondition(string(cond)); err == nil && perr == nil && cond == runtime.WaitRemoved {
		c.awaitForgotten(ctx, id, i)
	}
	return out, err
}

// forgetBound bounds how long a removal wait waits for the dispatch record
// after the runtime reported the removal: a Remove through the composite
// drops it just after; a removal that did not go through it leaves the
// record to the next lookup.
const forgetBound = 5 * time.Second

// awaitForgotten waits until runtime i no longer owns id's record, or
// forgetBound has passed.
func (c *Runtime) awaitForgotten(ctx context.Context, id runtime.ContainerID, i int) {
	t := time.NewTimer(forgetBound)
	defer t.Stop()
	for {
		ch := c.records.removals()
		if j, ok := c.records.get(id); !ok || j != i {
			return
		}
		select {
		case <-ch:
		case <-t.C:
			return
		case <-ctx.Done():
			return
		}
	}
}

// Logs implements runtime.LogReader.
func (c *Runtime) Logs(ctx context.Context, id runtime.ContainerID, tail int) ([]runtime.LogEntry, error) {
	_, rt, err := c.lookup(ctx, id)
	if err != nil {
		return nil, err
	}
	return rt.Logs(ctx, id, tail)
}

// FollowLogs implements runtime.LogReader.
func (c *Runtime) FollowLogs(ctx context.Context, id runtime.ContainerID, tail int) (runtime.Stream[runtime.LogEntry], error) {
	_, rt, err := c.lookup(ctx, id)
	if err != nil {
		return nil, err
	}
	return rt.FollowLogs(ctx, id, tail)
}

// Exec implements runtime.Executor.
func (c *Runtime) Exec(ctx context.Context, id runtime.ContainerID, argv []string) (runtime.ExecResult, error) {
	_, rt, err := c.lookup(ctx, id)
	if err != nil {
		return runtime.ExecResult{}, err
	}
	return rt.Exec(ctx, id, argv)
}

// ExecStream implements runtime.Executor.
func (c *Runtime) ExecStream(ctx context.Context, id runtime.ContainerID, argv []string) (runtime.Stream[runtime.ExecEvent], error) {
	_, rt, err := c.lookup(ctx, id)
	if err != nil {
		return nil, err
	}
	return rt.ExecStream(ctx, id, argv)
}

var _ runtime.ProcessLister = (*Runtime)(nil)

// Processes implements runtime.ProcessLister through the runtime that owns
// the container.
func (c *Runtime) Processes(ctx context.Context, id runtime.ContainerID) ([]int, error) {
	_, rt, err := c.lookup(ctx, id)
	if err != nil {
		return nil, err
	}
	return runtime.Processes(ctx, rt, rt.Name(), id)
}

var _ runtime.DetailLister = (*Runtime)(nil)

// ListDetails implements runtime.DetailLister over every runtime, as List
// does: a runtime that cannot list is logged and its containers are shown
// in an unknown state that says why.
func (c *Runtime) ListDetails(ctx context.Context) ([]runtime.Details, error) {
	return listAll(c, func(rt runtime.Containers) ([]runtime.Details, error) { return runtime.ListDetails(ctx, rt) },
		func(d *runtime.Details) *runtime.Container { return &d.Container })
}

var _ runtime.ResourceUpdater = (*Runtime)(nil)

// UpdateResources implements runtime.ResourceUpdater through the runtime
// that owns the container.
func (c *Runtime) UpdateResources(ctx context.Context, id runtime.ContainerID, res runtime.Resources) error {
	_, rt, err := c.lookup(ctx, id)
	if err != nil {
		return err
	}
	return runtime.UpdateResources(ctx, rt, rt.Name(), id, res)
}
