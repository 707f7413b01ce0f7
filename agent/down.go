package agent

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/switchyard/switchyard/runtime"
	"github.com/switchyard/switchyard/spec"
)

// Down stops (SIGTERM, then SIGKILL after the stop timeout, 10 s by
// default) and removes every replica an Up of name made, all of them at
// once (at most removeParallel at a time), and forgets the deployment. A
// caller that goes away does not cut the removals short. The error wraps runtime.ErrNotFound when nothing of that name
// is deployed. When a replica cannot be removed, the deployment is kept
// with what remains, so that Down can be run again.
func (a *Agent) Down(ctx context.Context, name string) (Result, error) {
	if err := runtime.ValidateServiceName(name); err != nil {
		return Result{}, fmt.Errorf("deployment %q: name: %w", name, err)
	}
	a.deployMu.Lock()
	defer a.deployMu.Unlock()
	res := Result{Deployment: name}
	if a.closed.Load() {
		return res, fmt.Errorf("deployment %s: the agent is shutting down; retry when it is back: %w", name, runtime.ErrUnavailable)
	}
	rec, err := a.state.get(name)
	if errIsNotFound(err) {
		return res, fmt.Errorf("deployment %s is not deployed on this node (see `switchyard up -f FILE`): %w", name, runtime.ErrNotFound)
	}
	if err != nil {
		return res, err
	}
	for svc := range rec.Services {
		a.unscheduleCron(name, svc)
		a.stopAutoscale(name, svc)
		a.unbalance(name, svc)
	}
	// Every service at once, the replicas of all of them bounded together:
	// a down takes about one stop grace period, not one per replica.
	order := recordOrder(rec)
	type outcome struct {
		res  Result
		left uint32
		err  error
	}
	outs := make([]outcome, len(order))
	sem := make(chan struct{}, removeParallel)
	var wg sync.WaitGroup
	for i, svc := range order {
		wg.Add(1)
		go func() {
			defer wg.Done()
			outs[i].left, outs[i].err = a.removeReplicasWith(ctx, sem, name, svc, rec.Services[svc].Spec, 0, rec.Services[svc].Replicas, &outs[i].res)
		}()
	}
	wg.Wait()
	var errs []error
	for i, svc := range order {
		res.Removed = append(res.Removed, outs[i].res.Removed...)
		if err := outs[i].err; err != nil {
			rec.Services[svc].Replicas = outs[i].left
			rec.Services[svc].Hash = ""
			errs = append(errs, err)
			continue
		}
		delete(rec.Services, svc)
	}
	if len(errs) > 0 {
		return res, errors.Join(append(errs, a.state.put(rec))...)
	}
	if err := a.state.delete(name); err != nil {
		return res, err
	}
	a.metrics.replicas.DeleteLabelValues(name)
	a.log.Info("deployment down", "deployment", name, "removed", len(res.Removed))
	return res, nil
}

// recordOrder lists the services of rec: those of the last spec in its
// order, then any others (left by a failed Up), so that nothing is missed.
func recordOrder(rec *deploymentRecord) []string {
	var out []string
	seen := map[string]bool{}
	for _, name := range rec.Order {
		if rec.Services[name] != nil && !seen[name] {
			out = append(out, name)
			seen[name] = true
		}
	}
	for name := range rec.Services {
		if !seen[name] {
			out = append(out, name)
			seen[name] = true
		}
	}
	return out
}

// Deployments lists every deployment with the current state of each
// replica, ordered by name.
func (a *Agent) Deployments(ctx context.Context) ([]Status, error) {
	if a.closed.Load() {
		return nil, fmt.Errorf("deployments: the agent is shutting down; retry when it is back: %w", runtime.ErrUnavailable)
	}
	recs, err := a.state.list()
	if err != nil {
		return nil, err
	}
	out := make([]Status, 0, len(recs))
	for _, rec := range recs {
		st := Status{Name: rec.Name, Updated: rec.Updated}
		for _, name := range recordOrder(rec) {
			svc := rec.Services[name]
			ss := ServiceStatus{Name: name, Replicas: svc.Replicas, ImageDigest: svc.ImageDigest, RType: spec.RTypeService}
			if svc.Spec != nil {
				ss.Image = svc.Spec.Image.Name
				if svc.Spec.RType != "" {
					ss.RType = svc.Spec.RType
				}
			}
			for n := range svc.Replicas {
				id := replicaID(rec.Name, name, n)
				rs := ReplicaStatus{ID: id.String(), Supervised: a.supervised(id)}
				if rs.State, err = a.rt.State(ctx, id); err != nil {
					rs.Error = err.Error()
				}
				ss.Containers = append(ss.Containers, rs)
			}
			st.Services = append(st.Services, ss)
		}
		out = append(out, st)
	}
	return out, nil
}
