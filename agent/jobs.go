package agent

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/switchyard/switchyard/api"
	"github.com/switchyard/switchyard/runtime"
	"github.com/switchyard/switchyard/spec"
)

// RunJob runs job (or cron) service of deployment once more and waits for
// the run to end: its replica is started again, or made when there is
// none yet (a cron service's). A run under way is an error, not a second
// run beside it.
func (a *Agent) RunJob(ctx context.Context, deployment, service string) (api.JobRun, error) {
	id, err := a.startJob(ctx, deployment, service, false)
	if err != nil {
		return api.JobRun{}, err
	}
	started := time.Now().UTC()
	out, err := a.rt.WaitOutcome(ctx, id, runtime.WaitNotRunning)
	if err != nil {
		return api.JobRun{Container: id.String()}, fmt.Errorf("job %s: waiting for the run: %w", id, err)
	}
	run := api.JobRun{Container: id.String(), Trigger: "job run", Started: started, Finished: time.Now().UTC(), ExitCode: out.ExitCode, Reason: string(out.Reason)}
	a.recordRun(context.WithoutCancel(ctx), deployment, service, run)
	return run, nil
}

// JobRuns lists a job's or cron service's last runs, oldest first.
func (a *Agent) JobRuns(_ context.Context, deployment, service string) ([]api.JobRun, error) {
	rec, err := a.state.get(deployment)
	if errIsNotFound(err) {
		return nil, fmt.Errorf("deployment %s is not deployed on this node: %w", deployment, runtime.ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	svc := rec.Services[service]
	if svc == nil || svc.Spec == nil {
		return nil, fmt.Errorf("deployment %s has no service %s: %w", deployment, service, runtime.ErrNotFound)
	}
	return append([]api.JobRun{}, svc.Runs...), nil
}

// watchRun records the run of job replica id that trigger just started,
// once it ends.
func (a *Agent) watchRun(id runtime.ContainerID, deployment, service, trigger string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed.Load() {
		return
	}
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		started := time.Now().UTC()
		out, err := a.rt.WaitOutcome(a.bg, id, runtime.WaitNotRunning)
		if err != nil {
			return // removed, or the agent closes
		}
		a.recordRun(a.bg, deployment, service, api.JobRun{Container: id.String(), Trigger: trigger, Started: started, Finished: time.Now().UTC(), ExitCode: out.ExitCode, Reason: string(out.Reason)})
	}()
}

// recordRun adds run to the service's record, keeping the last maxRuns.
func (a *Agent) recordRun(ctx context.Context, deployment, service string, run api.JobRun) {
	if !a.lockDeploy(ctx) {
		return
	}
	defer a.deployMu.Unlock()
	rec, err := a.state.get(deployment)
	if err != nil || rec.Services[service] == nil {
		return
	}
	svc := rec.Services[service]
	// In the order the runs started, whichever got here first.
	i := sort.Search(len(svc.Runs), func(i int) bool { return svc.Runs[i].Started.After(run.Started) })
	svc.Runs = slices.Insert(svc.Runs, i, run)
	if len(svc.Runs) > maxRuns {
		svc.Runs = svc.Runs[len(svc.Runs)-maxRuns:]
	}
	if err := a.state.put(rec); err != nil {
		a.log.Warn("cannot record a job run", "container", run.Container, "err", err)
	}
}

// startJob starts a run of the job and returns its replica; a scheduled
// run is recorded as the cron service's last.
func (a *Agent) startJob(ctx context.Context, deployment, service string, scheduled bool) (runtime.ContainerID, error) {
	if !a.lockDeploy(ctx) {
		return runtime.ContainerID{}, fmt.Errorf("job %s %s: %w", deployment, service, cmp.Or(ctx.Err(), runtime.ErrUnavailable))
	}
	defer a.deployMu.Unlock()
	rec, err := a.state.get(deployment)
	if errIsNotFound(err) {
		return runtime.ContainerID{}, fmt.Errorf("deployment %s is not deployed on this node: %w", deployment, runtime.ErrNotFound)
	}
	if err != nil {
		return runtime.ContainerID{}, err
	}
	svc := rec.Services[service]
	if svc == nil || svc.Spec == nil {
		return runtime.ContainerID{}, fmt.Errorf("deployment %s has no service %s: %w", deployment, service, runtime.ErrNotFound)
	}
	if svc.Spec.RType == spec.RTypeService {
		return runtime.ContainerID{}, fmt.Errorf("%s of %s is a service, which runs all the time; only a job or a cron service is run on demand: %w", service, deployment, runtime.ErrFailedPrecondition)
	}
	id := replicaID(deployment, service, 0)
	if scheduled {
		defer func() {
			svc.LastRun = time.Now().UTC()
			if err := a.state.put(rec); err != nil {
				a.log.Warn("cannot record a cron run", "container", id.String(), "err", err)
			}
		}()
	}
	st, err := a.rt.State(ctx, id)
	switch {
	case errors.Is(err, runtime.ErrNotFound):
		// Resolved as up resolves it: the stored spec holds $S: references.
		d, rerr := a.resolveRefs(&spec.Deployment{Name: deployment, Services: map[string]*spec.ServiceSpec{service: svc.Spec}})
		if rerr != nil {
			return id, rerr
		}
		if err := a.createReplica(ctx, id, deployment, service, d.Services[service]); err != nil {
			return id, err
		}
		if svc.Replicas == 0 {
			svc.Replicas = 1
			if err := a.state.put(rec); err != nil {
				return id, err
			}
		}
		return id, nil
	case err != nil:
		return id, fmt.Errorf("job %s: %w", id, err)
	case st.Status == runtime.StatusRunning || st.Status == runtime.StatusStopping:
		return id, fmt.Errorf("job %s: a run is under way; wait for it (switchyard wait %s) before the next: %w", id, id, runtime.ErrFailedPrecondition)
	}
	if err := a.rt.Start(ctx, id); err != nil {
		return id, fmt.Errorf("job %s: start: %w", id, err)
	}
	return id, nil
}

// Scale sets the number of replicas of a deployed service and converges to
// it, as up would: docker compose's scale, ZLayer's manual mode. A service
// of scale mode manual keeps the count across later ups of its file; a
// fixed one goes back to the file's count at the next up. An adaptive
// service's count is the agent's to choose.
func (a *Agent) Scale(ctx context.Context, deployment, service string, replicas uint32) (Result, error) {
	a.deployMu.Lock()
	defer a.deployMu.Unlock()
	return a.scaleLocked(ctx, deployment, service, replicas)
}

// scaleLocked is Scale with the deploy lock held.
func (a *Agent) scaleLocked(ctx context.Context, deployment, service string, replicas uint32) (Result, error) {
	res := Result{Deployment: deployment}
	if replicas > spec.MaxReplicas {
		return res, fmt.Errorf("scale %s %s: %d replicas is more than the %d a service may have: %w", deployment, service, replicas, spec.MaxReplicas, runtime.ErrInvalidArgument)
	}
	rec, err := a.state.get(deployment)
	if errIsNotFound(err) {
		return res, fmt.Errorf("deployment %s is not deployed on this node: %w", deployment, runtime.ErrNotFound)
	}
	if err != nil {
		return res, err
	}
	old := rec.Services[service]
	if old == nil || old.Spec == nil {
		return res, fmt.Errorf("deployment %s has no service %s: %w", deployment, service, runtime.ErrNotFound)
	}
	if old.Spec.RType != spec.RTypeService {
		return res, fmt.Errorf("%s of %s is a %s; only a service is scaled: %w", service, deployment, old.Spec.RType, runtime.ErrFailedPrecondition)
	}
	svc := *old.Spec
	svc.Scale.Replicas = replicas
	next, err := a.upService(ctx, deployment, service, &svc, old, &res)
	if next != nil {
		rec.Services[service] = next
	}
	return res, errors.Join(err, a.state.put(rec))
}
