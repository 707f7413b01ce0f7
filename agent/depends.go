package agent

import (
	"context"
	"fmt"
	"time"

	"github.com/switchyard/switchyard/runtime"
	"github.com/switchyard/switchyard/spec"
)

// dependencyPoll is how often up looks at a dependency it waits for, and
// dependencyReport how often it says in the log what it waits for.
const (
	dependencyPoll   = 200 * time.Millisecond
	dependencyReport = 5 * time.Second
)

// waitDependencies waits, before service name is deployed, for each of
// its dependencies to reach its condition: started (every replica
// running), healthy or ready (every replica healthy; for a service without
// a health check, started; for a job, exited 0). A timeout acts as
// on_timeout says: fail stops up, warn and continue go on.
func (a *Agent) waitDependencies(ctx context.Context, d *spec.Deployment, name string, res *Result) error {
	svc := d.Services[name]
	if svc == nil {
		return nil
	}
	for _, dep := range svc.Depends {
		target := d.Services[dep.Service]
		if target == nil {
			continue // refused by validation
		}
		timeout := durationOr(dep.Timeout, 5*time.Minute)
		what := fmt.Sprintf("%s to be %s", dep.Service, dep.Condition)
		t0 := time.Now()
		ok, err := a.waitCondition(ctx, d.Name, dep, target, t0, t0.Add(timeout), what)
		if err != nil {
			return err
		}
		took := time.Since(t0).Round(10 * time.Millisecond)
		switch {
		case ok:
			res.Waits = append(res.Waits, fmt.Sprintf("%s (%s)", what, took))
		case dep.OnTimeout == "fail":
			return fmt.Errorf("deployment %s: service %s waited %s for %s, and it is not; fix %s (switchyard logs, inspect) and run up again, or set on_timeout: warn or continue: %w",
				d.Name, name, timeout, what, dep.Service, runtime.ErrUnavailable)
		case dep.OnTimeout == "warn":
			a.log.Warn("dependency not met in time; going on", "deployment", d.Name, "service", name, "waited_for", what, "timeout", timeout)
			res.Waits = append(res.Waits, fmt.Sprintf("%s: not after %s; going on (on_timeout: warn)", what, timeout))
		default:
			res.Waits = append(res.Waits, fmt.Sprintf("%s: not after %s; going on (on_timeout: continue)", what, timeout))
		}
	}
	return nil
}

// waitCondition polls target's replicas until dep's condition holds
// (true), the deadline passes (false), or ctx ends (its error).
func (a *Agent) waitCondition(ctx context.Context, deployment string, dep spec.Dependency, target *spec.ServiceSpec, since, deadline time.Time, what string) (bool, error) {
	lastReport := time.Now()
	for {
		if a.conditionHolds(ctx, deployment, dep, target) {
			return true, nil
		}
		now := time.Now()
		if now.After(deadline) {
			return false, nil
		}
		if now.Sub(lastReport) >= dependencyReport {
			lastReport = now
			a.log.Info(fmt.Sprintf("waiting for %s (%s of %s)", what, now.Sub(since).Round(time.Second), deadline.Sub(since)), "deployment", deployment)
		}
		if !pause(ctx, dependencyPoll) {
			return false, fmt.Errorf("deployment %s: waiting for %s: %w", deployment, what, ctx.Err())
		}
	}
}

// conditionHolds reports whether every replica of target meets dep's
// condition now.
func (a *Agent) conditionHolds(ctx context.Context, deployment string, dep spec.Dependency, target *spec.ServiceSpec) bool {
	n := replicasOf(target)
	if n == 0 {
		return true // nothing to wait for (a cron service, adaptive from 0)
	}
	for r := range n {
		id := replicaID(deployment, dep.Service, r)
		st, err := a.rt.State(ctx, id)
		if err != nil {
			return false
		}
		switch {
		case !isService(target):
			// A job is started once it ran, ready once it succeeded.
			if dep.Condition == "started" {
				if st.Status == runtime.StatusPending {
					return false
				}
				continue
			}
			if st.Status != runtime.StatusExited || st.ExitCode != 0 {
				return false
			}
		case st.Status != runtime.StatusRunning:
			return false
		case dep.Condition != "started" && target.Health != nil:
			if h, ok := a.healthOf(id); !ok || h.Status != runtime.HealthHealthy {
				return false
			}
		}
	}
	return true
}
