package agent

import (
	"context"
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
// ends, unless a watch runs already or the agent is closing.
func (a *Agent) watchDie(id runtime.ContainerID) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.dying[id] || a.closed.Load() {
		return
	}
	a.dying[id] = true
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		defer func() {
			a.mu.Lock()
			delete(a.dying, id)
			a.mu.Unlock()
		}()
		d, err := a.rt.Inspect(a.bg, id)
		if err != nil {
			return
		}
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
