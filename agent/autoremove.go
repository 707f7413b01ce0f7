package agent

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/switchyard/switchyard/runtime"
)

// autoRemoveGrace is how long an exited auto-remove container is kept for
// a log follower that has not come yet: `run --rm` opens its follower just
// after the start, and a workload that ends at once must not be removed
// before its output was read. A follower that came and went releases the
// container at once.
const autoRemoveGrace = 2 * time.Second

// autoRemoval is what the agent knows of one container created with
// AutoRemove (docker run --rm). All its fields are guarded by the Agent's
// mu.
type autoRemoval struct {
	// id is the container's current name; Rename changes it.
	id runtime.ContainerID
	// watching is set while a goroutine waits to remove the container.
	watching bool
	// followers counts the log streams open through the API, which hold the
	// container until they end.
	followers int
	// attached is set once a follower came after the start: its client
	// has read the output, so no grace is owed.
	attached bool
	// changed is closed, and replaced, on every change of followers.
	changed chan struct{}
}

func (r *autoRemoval) notify() {
	close(r.changed)
	r.changed = make(chan struct{})
}

// noteAutoRemove records that id was created with AutoRemove.
func (a *Agent) noteAutoRemove(id runtime.ContainerID) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.removals[id] == nil {
		a.removals[id] = &autoRemoval{id: id, changed: make(chan struct{})}
	}
}

// autoRemoves reports whether id was created with AutoRemove.
func (a *Agent) autoRemoves(id runtime.ContainerID) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.removals[id] != nil
}

// forgetAutoRemove drops what the agent knows of id, once it is removed.
func (a *Agent) forgetAutoRemove(id runtime.ContainerID) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if r := a.removals[id]; r != nil {
		r.notify()
		delete(a.removals, id)
	}
}

// renameAutoRemove follows a rename of id to to.
func (a *Agent) renameAutoRemove(id, to runtime.ContainerID) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if r := a.removals[id]; r != nil {
		delete(a.removals, id)
		r.id = to
		a.removals[to] = r
	}
}

// watchRemoval starts, unless one runs already or the agent is closing,
// the goroutine that removes auto-remove container id once it has exited.
func (a *Agent) watchRemoval(id runtime.ContainerID) {
	a.mu.Lock()
	defer a.mu.Unlock()
	r := a.removals[id]
	if r == nil || r.watching || a.closed.Load() {
		return
	}
	r.watching = true
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		a.removeWhenDone(a.bg, r)
		a.mu.Lock()
		r.watching = false
		a.mu.Unlock()
	}()
}

// holdRemoval keeps auto-remove container id while a log follower reads
// it; the returned release ends the hold. Containers without AutoRemove
// are not tracked.
func (a *Agent) holdRemoval(id runtime.ContainerID) (release func()) {
	a.mu.Lock()
	defer a.mu.Unlock()
	r := a.removals[id]
	if r == nil {
		return func() {}
	}
	r.followers++
	r.attached = true
	r.notify()
	return sync.OnceFunc(func() {
		a.mu.Lock()
		defer a.mu.Unlock()
		r.followers--
		r.notify()
	})
}

// removeWhenDone waits until the container r names is not running, lets
// its followers finish, and removes it; it tries again while the removal
// fails, and gives up when the container is gone or ctx ends (Close: the
// next agent on the root resumes the watch).
func (a *Agent) removeWhenDone(ctx context.Context, r *autoRemoval) {
	delay := a.opts.backoff.Initial
	for ctx.Err() == nil {
		a.mu.Lock()
		id := r.id
		a.mu.Unlock()
		log := a.log.With("container", id.String())
		out, err := a.rt.WaitOutcome(ctx, id, runtime.WaitNotRunning)
		switch {
		case ctx.Err() != nil:
			return
		case errors.Is(err, runtime.ErrNotFound):
			a.renamedOrGone(r, id)
			continue
		case err != nil:
			log.Warn("auto-remove: waiting for the exit failed; retrying", "err", err, "in", delay)
			pause(ctx, delay)
			delay = min(2*delay, a.opts.backoff.Max)
			continue
		}
		if !a.awaitFollowers(ctx, r, time.Now().Add(autoRemoveGrace)) {
			return
		}
		a.mu.Lock()
		id = r.id
		a.mu.Unlock()
		err = a.rt.Remove(ctx, id, false)
		switch {
		case err == nil:
			log.Info("removed an exited auto-remove container", "outcome", out.Reason, "exit_code", out.ExitCode)
			a.forgetAutoRemove(id)
			return
		case errors.Is(err, runtime.ErrNotFound):
			a.renamedOrGone(r, id)
		case errors.Is(err, runtime.ErrFailedPrecondition):
			// Started again meanwhile: wait for that run's end.
		case ctx.Err() == nil:
			log.Warn("auto-remove failed; retrying", "err", err, "in", delay)
			pause(ctx, delay)
			delay = min(2*delay, a.opts.backoff.Max)
		}
	}
}

// renamedOrGone handles a NotFound for id: if the container was renamed
// meanwhile the loop goes on under its new name; else it is gone, and what
// the agent knew of it is dropped.
func (a *Agent) renamedOrGone(r *autoRemoval, id runtime.ContainerID) {
	a.mu.Lock()
	renamed := r.id != id
	a.mu.Unlock()
	if !renamed {
		a.forgetAutoRemove(id)
	}
}

// awaitFollowers waits until no follower holds r and one has come, or
// deadline has passed with none open. It reports false when ctx ended.
func (a *Agent) awaitFollowers(ctx context.Context, r *autoRemoval, deadline time.Time) bool {
	for {
		a.mu.Lock()
		open, attached, ch := r.followers, r.attached, r.changed
		a.mu.Unlock()
		left := time.Until(deadline)
		if open == 0 && (attached || left <= 0) {
			return true
		}
		if open > 0 {
			left = time.Hour // only the follower's end wakes this
		}
		t := time.NewTimer(left)
		select {
		case <-ctx.Done():
			t.Stop()
			return false
		case <-ch:
		case <-t.C:
		}
		t.Stop()
	}
}

// removeFailedStart removes auto-remove container id after its start
// failed, as docker does: a container that was to be removed when done is
// done.
func (a *Agent) removeFailedStart(id runtime.ContainerID) {
	ctx, cancel := context.WithTimeout(a.bg, a.opts.shutdownTimeout+a.opts.stopTimeout)
	defer cancel()
	if err := a.rt.Remove(ctx, id, true); err != nil && !errors.Is(err, runtime.ErrNotFound) {
		a.log.Warn("auto-remove after a failed start failed", "container", id.String(), "err", err)
		return
	}
	a.forgetAutoRemove(id)
}

// heldStream is a log stream that holds an auto-remove container until it
// is closed.
type heldStream struct {
	runtime.Stream[runtime.LogEntry]
	release func()
}

// Close implements runtime.Stream.
func (h heldStream) Close() error {
	err := h.Stream.Close()
	h.release()
	return err
}
