package wasm

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/switchyard/switchyard/internal/statedir"
	"github.com/switchyard/switchyard/runtime"
)

// recheck is how often a waiter looks at the disk for what another process
// (a second runtime on the same root) did; changes made by this runtime
// wake waiters at once.
const recheck = 100 * time.Millisecond

// Wait implements runtime.Waiter.
func (r *Runtime) Wait(ctx context.Context, id runtime.ContainerID) (int, error) {
	o, err := r.WaitOutcome(ctx, id, runtime.WaitNotRunning)
	return o.ExitCode, err
}

// WaitOutcome implements runtime.Waiter. A container that was created but
// never started is not running: WaitNotRunning returns at once with code 0.
func (r *Runtime) WaitOutcome(ctx context.Context, id runtime.ContainerID, cond runtime.WaitCondition) (runtime.WaitOutcome, error) {
	cond, err := runtime.ParseWaitCondition(string(cond))
	if err != nil {
		return runtime.WaitOutcome{}, fmt.Errorf("container %s: %w", id, err)
	}
	e, rec, err := r.lookup(id)
	if err != nil {
		return runtime.WaitOutcome{}, err
	}
	switch cond {
	case runtime.WaitNextExit:
		return r.waitNextExit(ctx, id, rec)
	case runtime.WaitRemoved:
		return r.waitRemoved(ctx, id, e)
	}
	return r.waitNotRunning(ctx, rec)
}

// waitRemoved waits until id is removed and returns how its last run
// ended, as last seen before the removal: a container created but not yet
// started may run, and end, before it is removed.
func (r *Runtime) waitRemoved(ctx context.Context, id runtime.ContainerID, e *entry) (runtime.WaitOutcome, error) {
	var last runtime.WaitOutcome
	err := r.poll(ctx, func() (bool, error) {
		r.mu.Lock()
		final := e.final
		r.mu.Unlock()
		if final != nil {
			last = *final
			return true, nil
		}
		// Removed by another process on this root (a later runtime).
		if cur, _, err := r.lookup(id); errors.Is(err, runtime.ErrNotFound) || cur != e {
			return true, nil
		}
		return false, nil
	})
	return last, err
}

func (r *Runtime) waitNotRunning(ctx context.Context, rec *record) (runtime.WaitOutcome, error) {
	obs, err := r.observe(ctx, rec)
	switch {
	case err != nil:
		return runtime.WaitOutcome{}, err
	case obs.exit != nil:
		return obs.exit.Outcome, nil
	case !obs.started:
		return runtime.WaitOutcome{Reason: runtime.ReasonExited}, nil
	}
	x, err := r.waitRun(ctx, rec, obs.start.Run)
	return x.Outcome, err
}

// waitNextExit waits for the end of the current run or, when none runs,
// of the next one.
func (r *Runtime) waitNextExit(ctx context.Context, id runtime.ContainerID, rec *record) (runtime.WaitOutcome, error) {
	obs, err := r.observe(ctx, rec)
	if err != nil {
		return runtime.WaitOutcome{}, err
	}
	run := obs.start.Run
	if !obs.running() {
		run++
		err := r.poll(ctx, func() (bool, error) {
			if _, _, err := r.lookup(id); err != nil {
				return false, err
			}
			st, ok, err := statedir.ReadStart(r.dir(rec.Key))
			return ok && st.Run >= run, err
		})
		if err != nil {
			return runtime.WaitOutcome{}, err
		}
	}
	x, err := r.waitRun(ctx, rec, run)
	return x.Outcome, err
}

// waitRun waits until run has ended and returns its exit record. While the
// host runs the instance it answers the wait; if the host goes away, the
// next observation records the loss.
func (r *Runtime) waitRun(ctx context.Context, rec *record, run uint64) (statedir.Exit, error) {
	for {
		obs, err := r.observe(ctx, rec)
		if err != nil {
			return statedir.Exit{}, err
		}
		if obs.exit != nil && obs.exit.Run >= run {
			return *obs.exit, nil
		}
		if !obs.running() {
			return statedir.Exit{}, fmt.Errorf("container %s: run %d has not started: %w", rec.ID, run, runtime.ErrFailedPrecondition)
		}
		x, err := r.client.Wait(ctx, rec.Key, obs.start.Run)
		if err == nil && x.Run >= run {
			return x, nil
		}
		if ctx.Err() != nil {
			return statedir.Exit{}, ctx.Err()
		}
	}
}

// poll calls done whenever this runtime changes a container, and every
// recheck for changes made by another process, until it reports true.
func (r *Runtime) poll(ctx context.Context, done func() (bool, error)) error {
	t := time.NewTicker(recheck)
	defer t.Stop()
	for {
		ch := r.changes()
		if ok, err := done(); ok || err != nil {
			return err
		}
		select {
		case <-ch:
		case <-t.C:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
