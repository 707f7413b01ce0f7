package agent

import (
	"context"
	"errors"
	"time"

	"github.com/switchyard/switchyard/runtime"
	"github.com/switchyard/switchyard/spec"
)

// cronJob is the schedule loop of one cron service.
type cronJob struct {
	cancel context.CancelFunc
	done   chan struct{}
}

// serviceKey names a deployment's service in the agent's per-service maps
// (schedules, autoscalers, what cannot be balanced).
func serviceKey(deployment, service string) string { return deployment + "/" + service }

// scheduleCron (re)starts the schedule of cron service name of deployment;
// last is when it last ran, zero for never. A run that falls due while the
// previous one is still under way is skipped, never run beside it.
func (a *Agent) scheduleCron(deployment, name string, svc *spec.ServiceSpec, last time.Time) {
	a.unscheduleCron(deployment, name)
	sched, err := spec.ParseSchedule(svc.Schedule)
	if err != nil {
		a.log.Error("cron service has a schedule that does not parse; not scheduled", "deployment", deployment, "service", name, "schedule", svc.Schedule, "err", err)
		return
	}
	log := a.log.With("deployment", deployment, "service", name)
	if !last.IsZero() {
		if due := sched.Next(last); due.Before(time.Now()) {
			log.Warn("a scheduled run fell due while the agent was down; skipped", "last_run", last, "missed", due)
		}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed.Load() {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	j := &cronJob{cancel: cancel, done: make(chan struct{})}
	a.crons[serviceKey(deployment, name)] = j
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		defer close(j.done)
		for {
			next := sched.Next(time.Now())
			if !pause(ctx, time.Until(next)) {
				return
			}
			id, err := a.startJob(ctx, deployment, name, true)
			switch {
			case errors.Is(err, runtime.ErrFailedPrecondition):
				log.Warn("scheduled run skipped: the last one is still under way", "container", id.String())
				a.metrics.cronRuns.WithLabelValues(deployment+"-"+name, "skipped").Inc()
			case err != nil:
				if ctx.Err() != nil {
					return
				}
				log.Warn("scheduled run failed to start", "err", err)
				a.metrics.cronRuns.WithLabelValues(deployment+"-"+name, "failed").Inc()
			default:
				log.Info("scheduled run started", "container", id.String())
				a.watchRun(id, deployment, name, "schedule")
				a.metrics.cronRuns.WithLabelValues(deployment+"-"+name, "started").Inc()
			}
		}
	}()
}

// unscheduleCron stops the schedule of a cron service, if any, and waits
// for its loop to end.
func (a *Agent) unscheduleCron(deployment, name string) {
	a.mu.Lock()
	j := a.crons[serviceKey(deployment, name)]
	delete(a.crons, serviceKey(deployment, name))
	a.mu.Unlock()
	if j != nil {
		j.cancel()
		<-j.done
	}
}
