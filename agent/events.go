package agent

import (
	"context"
	"io"
	"strconv"
	"time"

	"github.com/switchyard/switchyard/api"
	"github.com/switchyard/switchyard/runtime"
)

// eventsKept is how many events the agent keeps for clients that ask for
// the past (docker events --since).
const eventsKept = 4096

// Events returns the events recorded at or after since (none when since
// is zero), then those that follow on the channel until ctx ends.
func (a *Agent) Events(ctx context.Context, since time.Time) ([]api.Event, <-chan api.Event) {
	return a.events.Subscribe(ctx, since)
}

// Publish records an event a front door saw itself (a network or volume
// made or removed).
func (a *Agent) Publish(e api.Event) {
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	a.events.Publish(e)
}

// containerEvent records action on c.
func (a *Agent) containerEvent(c runtime.Container, action string, attrs map[string]string) {
	a.Publish(api.Event{Type: api.EventContainer, Action: action, Container: &c, Attributes: attrs})
}

// containerEventOf records action on the container id, as it is now; a
// container that is gone already records nothing.
func (a *Agent) containerEventOf(ctx context.Context, id runtime.ContainerID, action string, attrs map[string]string) {
	d, err := a.rt.Inspect(ctx, id)
	if err != nil {
		return
	}
	a.containerEvent(d.Container, action, attrs)
}

// watchDie records the die event of container id when its current run
// ends, unless a watch of that run is under way or the agent is closing.
// A watch is per run: a restart while the last run's watch ends gets a
// watch of its own.
func (a *Agent) watchDie(id runtime.ContainerID) {
	if d, err := a.rt.Inspect(a.bg, id); err == nil {
		a.watchDieOf(d)
	}
}

// watchDieOf is watchDie for a container already inspected.
func (a *Agent) watchDieOf(d runtime.Details) {
	id, run := d.ID, d.StartedAt
	if run.IsZero() {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.dying[id].Equal(run) || a.closed.Load() {
		return
	}
	a.dying[id] = run
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		defer func() {
			a.mu.Lock()
			if a.dying[id].Equal(run) {
				delete(a.dying, id)
			}
			a.mu.Unlock()
		}()
		out, err := a.rt.WaitOutcome(a.bg, id, runtime.WaitNotRunning)
		if err != nil {
			return
		}
		attrs := map[string]string{"exitCode": strconv.Itoa(out.ExitCode)}
		if out.Signal != "" {
			attrs["signal"] = out.Signal
		}
		if out.Reason == runtime.ReasonOOMKilled {
			a.containerEvent(d.Container, "oom", nil)
		}
		a.containerEvent(d.Container, "die", attrs)
	}()
}

// eventRuntime is the composite as the agent uses it: every create, start,
// stop, kill, removal and rename, and every pull, tag and image removal,
// whoever asks (an API, a deployment, a restart loop), is recorded as an
// event; each start is followed by its container's die.
type eventRuntime struct {
	runtime.Runtime
	a *Agent
}

// Create implements runtime.Lifecycle.
func (r eventRuntime) Create(ctx context.Context, id runtime.ContainerID, cs *runtime.CreateSpec) error {
	if err := r.Runtime.Create(ctx, id, cs); err != nil {
		return err
	}
	r.a.containerEventOf(ctx, id, "create", nil)
	return nil
}

// Start implements runtime.Lifecycle.
func (r eventRuntime) Start(ctx context.Context, id runtime.ContainerID) error {
	_, _, err := r.start(ctx, id)
	return err
}

// start is Start, giving the container as it is after its start (ok false
// when it could not be inspected): its one inspection serves the event,
// the watch of the run's end, and the caller.
func (r eventRuntime) start(ctx context.Context, id runtime.ContainerID) (runtime.Details, bool, error) {
	if err := r.Runtime.Start(ctx, id); err != nil {
		return runtime.Details{}, false, err
	}
	d, err := r.Runtime.Inspect(ctx, id)
	if err != nil {
		return d, false, nil
	}
	r.a.containerEvent(d.Container, "start", nil)
	r.a.watchDieOf(d)
	return d, true, nil
}

// Stop implements runtime.Lifecycle.
func (r eventRuntime) Stop(ctx context.Context, id runtime.ContainerID, timeout time.Duration) error {
	if err := r.Runtime.Stop(ctx, id, timeout); err != nil {
		return err
	}
	r.a.containerEventOf(ctx, id, "stop", nil)
	return nil
}

// Kill implements runtime.Lifecycle.
func (r eventRuntime) Kill(ctx context.Context, id runtime.ContainerID, signal string) error {
	if err := r.Runtime.Kill(ctx, id, signal); err != nil {
		return err
	}
	r.a.containerEventOf(ctx, id, "kill", map[string]string{"signal": signal})
	return nil
}

// Remove implements runtime.Lifecycle.
func (r eventRuntime) Remove(ctx context.Context, id runtime.ContainerID, force bool) error {
	d, err := r.Runtime.Inspect(ctx, id)
	return r.remove(ctx, id, force, d, err == nil)
}

// remove is Remove of the container d describes when inspected (as the
// caller found it just before).
func (r eventRuntime) remove(ctx context.Context, id runtime.ContainerID, force bool, d runtime.Details, inspected bool) error {
	if inspected && force && (d.State.Status == runtime.StatusRunning || d.State.Status == runtime.StatusStopping) {
		// A forced removal kills, as docker rm -f reports it.
		r.a.containerEvent(d.Container, "kill", map[string]string{"signal": "SIGKILL"})
	}
	if err := r.Runtime.Remove(ctx, id, force); err != nil {
		return err
	}
	if inspected {
		r.a.containerEvent(d.Container, "destroy", nil)
	}
	return nil
}

// Rename implements runtime.Lifecycle.
func (r eventRuntime) Rename(ctx context.Context, id, to runtime.ContainerID) error {
	if err := r.Runtime.Rename(ctx, id, to); err != nil {
		return err
	}
	r.a.containerEventOf(ctx, to, "rename", map[string]string{"oldName": id.String()})
	return nil
}

// Pull implements runtime.ImageService.
func (r eventRuntime) Pull(ctx context.Context, ref string, opts runtime.PullOptions) (runtime.ImageInfo, error) {
	info, err := r.Runtime.Pull(ctx, ref, opts)
	if err == nil {
		r.a.Publish(api.Event{Type: api.EventImage, Action: "pull", ID: ref})
	}
	return info, err
}

// TagImage implements runtime.ImageService.
func (r eventRuntime) TagImage(ctx context.Context, src, dst string) error {
	err := r.Runtime.TagImage(ctx, src, dst)
	if err == nil {
		r.a.Publish(api.Event{Type: api.EventImage, Action: "tag", ID: dst, Attributes: map[string]string{"source": src}})
	}
	return err
}

// RemoveImage implements runtime.ImageService.
func (r eventRuntime) RemoveImage(ctx context.Context, ref string, force bool) error {
	err := r.Runtime.RemoveImage(ctx, ref, force)
	if err == nil {
		r.a.Publish(api.Event{Type: api.EventImage, Action: "untag", ID: ref})
	}
	return err
}

// ExecStreamWith implements runtime.ExecOptioner.
func (r eventRuntime) ExecStreamWith(ctx context.Context, id runtime.ContainerID, argv []string, opts runtime.ExecOptions) (runtime.Stream[runtime.ExecEvent], error) {
	return runtime.ExecWith(ctx, r.Runtime, "node", id, argv, opts)
}

// AttachStdin implements runtime.Attacher.
func (r eventRuntime) AttachStdin(ctx context.Context, id runtime.ContainerID) (io.WriteCloser, error) {
	return runtime.AttachStdin(ctx, r.Runtime, "node", id)
}

// ResizeTerminal implements runtime.Attacher.
func (r eventRuntime) ResizeTerminal(ctx context.Context, id runtime.ContainerID, rows, cols uint16) error {
	return runtime.ResizeTerminal(ctx, r.Runtime, "node", id, rows, cols)
}

// ConnectNetwork implements runtime.NetworkConnector.
func (r eventRuntime) ConnectNetwork(ctx context.Context, id runtime.ContainerID, network string, aliases []string) error {
	return runtime.ConnectNetwork(ctx, r.Runtime, "node", id, network, aliases)
}

// DisconnectNetwork implements runtime.NetworkConnector.
func (r eventRuntime) DisconnectNetwork(ctx context.Context, id runtime.ContainerID, network string) error {
	return runtime.DisconnectNetwork(ctx, r.Runtime, "node", id, network)
}

// Processes implements runtime.ProcessLister.
func (r eventRuntime) Processes(ctx context.Context, id runtime.ContainerID) ([]int, error) {
	return runtime.Processes(ctx, r.Runtime, "node", id)
}

// ListDetails implements runtime.DetailLister.
func (r eventRuntime) ListDetails(ctx context.Context) ([]runtime.Details, error) {
	return runtime.ListDetails(ctx, r.Runtime)
}

// UpdateResources implements runtime.ResourceUpdater.
func (r eventRuntime) UpdateResources(ctx context.Context, id runtime.ContainerID, res runtime.Resources) error {
	return runtime.UpdateResources(ctx, r.Runtime, "node", id, res)
}
