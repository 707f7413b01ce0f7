package agent

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/switchyard/switchyard/runtime"
	"github.com/switchyard/switchyard/spec"
)

// supervisor is the restart loop of one service replica. Its goroutine is
// owned by the Agent: it ends when cancel is called (Down, convergence,
// Close) and then closes done.
type supervisor struct {
	cancel context.CancelFunc
	done   chan struct{}
	// wake (buffer 1, never closed) tells a loop that waits on a replica
	// stopped by hand that it was started again, by hand or by up.
	wake chan struct{}
	// userStopped is set while the replica was stopped by hand: the loop
	// leaves it stopped, as Docker's restart policies do. Guarded by the
	// Agent's mu.
	userStopped bool
	// policy says which exits are restarted.
	policy restartPolicy
}

// restartPolicy is a service's restart_policy, docker's: no, on_failure
// (at most max times, 0 for no bound), always or unless_stopped, the
// default. always and unless_stopped differ only across a restart of the
// daemon, which does not remember a stop by hand: both restart every exit
// but one by hand.
type restartPolicy struct {
	kind string
	max  uint32
	// onPanic is the error policy's action for an exit the restart
	// policy would restart: restart, shutdown (leave it exited) or
	// isolate (keep it, renamed, and make a new replica in its place).
	onPanic string
	// deleteOnExit removes a replica the policies leave exited.
	deleteOnExit bool
	// stoppedByHand starts the loop as after a stop by hand: it waits for
	// a start (a container an earlier agent saw stopped by hand).
	stoppedByHand bool
}

// policyOf is svc's restart and error policy.
func policyOf(svc *spec.ServiceSpec) restartPolicy {
	p := restartPolicy{kind: "unless_stopped", onPanic: "restart"}
	if svc == nil {
		return p
	}
	if svc.RestartPolicy != nil {
		p.kind = svc.RestartPolicy.Kind
		if svc.RestartPolicy.MaxAttempts != nil {
			p.max = *svc.RestartPolicy.MaxAttempts
		}
	}
	if svc.Errors != nil && svc.Errors.OnPanic.Action != "" {
		p.onPanic = svc.Errors.OnPanic.Action
	}
	p.deleteOnExit = svc.Lifecycle != nil && svc.Lifecycle.DeleteOnExit
	return p
}

// isolated is the name a replica kept for inspection takes: its service's
// with -isolated and the time, so that each one kept has its own.
func isolated(id runtime.ContainerID, at time.Time) runtime.ContainerID {
	return runtime.ContainerID{Service: id.Service + "-isolated-" + at.UTC().Format("20060102t150405"), Replica: id.Replica}
}

// restarts reports whether the policy restarts a replica that exited with
// out after attempts restarts, and if not, why.
func (p restartPolicy) restarts(out runtime.WaitOutcome, attempts uint32) (bool, string) {
	switch p.kind {
	case "no":
		return false, "restart policy no"
	case "on_failure":
		if out.ExitCode == 0 && out.Signal == "" {
			return false, "restart policy on_failure, and it exited 0"
		}
		if p.max > 0 && attempts >= p.max {
			return false, fmt.Sprintf("restart policy on_failure, and it was restarted %d times, its max_attempts", attempts)
		}
	}
	return true, ""
}

// supervise starts the restart loop of id unless one runs already or the
// agent is closed. startedAt is when the agent last started the replica;
// zero when it did not (a replica found again after a restart).
func (a *Agent) supervise(id runtime.ContainerID, startedAt time.Time, policy restartPolicy) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed.Load() || a.supervisors[id] != nil {
		return
	}
	// The loop outlives the request that deployed the replica, so its
	// context is the agent's own, cancelled only through s.cancel.
	ctx, cancel := context.WithCancel(context.Background())
	s := &supervisor{cancel: cancel, done: make(chan struct{}), wake: make(chan struct{}, 1), policy: policy, userStopped: policy.stoppedByHand}
	a.supervisors[id] = s
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		defer close(s.done)
		a.restartLoop(ctx, s, id, startedAt)
	}()
}

// unsupervise stops the restart loop of id, if any, and waits until it has
// ended, so that the caller may stop or remove the replica without the loop
// starting it again.
func (a *Agent) unsupervise(id runtime.ContainerID) {
	a.mu.Lock()
	s := a.supervisors[id]
	delete(a.supervisors, id)
	a.mu.Unlock()
	if s != nil {
		s.cancel()
		<-s.done
	}
}

// setUserStopped records that the user stopped id by hand (or, with false,
// started it again) and wakes a loop that waits for that. Replicas that no
// loop supervises are left alone.
func (a *Agent) setUserStopped(id runtime.ContainerID, stopped bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	s := a.supervisors[id]
	if s == nil {
		return
	}
	s.userStopped = stopped
	if !stopped {
		select {
		case s.wake <- struct{}{}:
		default: // a wake is pending already
		}
	}
}

// userStopped reports whether id was stopped by hand.
func (a *Agent) userStopped(s *supervisor) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return s.userStopped
}

// supervised reports whether a restart loop runs for id.
func (a *Agent) supervised(id runtime.ContainerID) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.supervisors[id] != nil
}

// restartLoop keeps id running: each time the replica is found not running
// it is started again after the back-off. It returns when ctx is done or the
// replica no longer exists.
func (a *Agent) restartLoop(ctx context.Context, s *supervisor, id runtime.ContainerID, startedAt time.Time) {
	log := a.log.With("container", id.String())
	b := a.opts.backoff
	delay := b.Initial
	var attempts uint32
	// leave ends the loop for a replica its policy does not restart: it
	// stays exited, to be inspected, until up or a start by hand.
	leave := func(why string) {
		log.Info("replica exited; not restarting it", "why", why)
		a.forget(id, s)
		if s.policy.deleteOnExit {
			a.unwatchHealth(id)
			if err := a.rt.Remove(context.WithoutCancel(ctx), id, true); err != nil && !errors.Is(err, runtime.ErrNotFound) {
				log.Warn("lifecycle delete_on_exit: removing the exited replica failed", "err", err)
			}
		}
	}
	for ctx.Err() == nil {
		st, err := a.rt.State(ctx, id)
		switch {
		case ctx.Err() != nil:
			return
		case errors.Is(err, runtime.ErrNotFound):
			log.Warn("supervised replica is gone; the next up recreates it")
			a.forget(id, s)
			return
		case err != nil:
			log.Warn("cannot read replica state; retrying", "err", err, "in", delay)
			if !pause(ctx, delay) {
				return
			}
			delay = min(2*delay, b.Max)
			continue
		}
		if st.Status != runtime.StatusRunning && st.Status != runtime.StatusStopping && a.userStopped(s) {
			log.Info("replica was stopped by hand; leaving it stopped until it is started again or up runs")
			select {
			case <-ctx.Done():
				return
			case <-s.wake:
				continue
			}
		}
		switch st.Status {
		case runtime.StatusPending:
			// Created but never started (an agent stopped between create
			// and start, or a start failed): not a crash, but started the
			// same way.
			log.Info("replica was created but not started; starting", "in", delay)
		default:
			// Running, or found exited (an exit before this loop waited, or
			// while no agent ran): the same policies judge the exit.
			out, err := a.waitExit(ctx, id)
			if err != nil {
				continue // re-read the state: cancelled, gone, or a transient error
			}
			if a.userStopped(s) {
				continue // stopped by hand: the check above waits
			}
			if ok, why := s.policy.restarts(out, attempts); !ok {
				leave(why)
				return
			}
			switch s.policy.onPanic {
			case "shutdown":
				leave("error policy on_panic: shutdown")
				return
			case "isolate":
				a.isolate(ctx, id, s, out)
				return
			}
			// A replica found running after an agent restart has no known
			// start; it counts as having run long.
			ran := time.Since(startedAt)
			if startedAt.IsZero() || ran >= b.Reset {
				delay = b.Initial
			}
			log.Info("replica exited; restarting", "outcome", out.Reason, "exit_code", out.ExitCode, "signal", out.Signal, "in", delay)
		}
		if !pause(ctx, delay) {
			return
		}
		delay = min(2*delay, b.Max)
		if err := a.rt.Start(ctx, id); err != nil {
			if ctx.Err() == nil {
				log.Warn("restart failed; will retry", "err", err)
			}
			continue
		}
		startedAt = time.Now()
		attempts++
		a.healthRestarted(id)
		a.metrics.restarts.WithLabelValues(id.Service).Inc()
		log.Debug("replica restarted")
	}
}

// waitExit waits until the replica, last seen running, is not running and
// returns how it ended.
//
// It waits for WaitNotRunning rather than WaitNextExit on purpose: a
// replica that crashes right after it started may exit between the state
// read and the wait reaching the runtime, and a next-exit wait would then
// miss that exit and hang until the one after, which never comes. A
// not-running wait returns at once in that case, with the same outcome.
func (a *Agent) waitExit(ctx context.Context, id runtime.ContainerID) (runtime.WaitOutcome, error) {
	out, err := a.rt.WaitOutcome(ctx, id, runtime.WaitNotRunning)
	if err != nil && ctx.Err() == nil {
		a.log.Warn("waiting for replica failed", "container", id.String(), "err", err)
		// Do not spin on a runtime that fails every wait at once.
		pause(ctx, a.opts.backoff.Initial)
	}
	return out, err
}

// forget drops s, the supervisor of id, from inside its own loop; an entry
// that is no longer s is left alone.
func (a *Agent) forget(id runtime.ContainerID, s *supervisor) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.supervisors[id] == s {
		delete(a.supervisors, id)
	}
}

// pause waits for d or until ctx is done; it reports whether d passed.
func pause(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// resume finds the workloads a previous agent left and restarts the
// supervision of every deployed service replica.
func (a *Agent) resume(ctx context.Context) error {
	recs, err := a.state.list()
	if err != nil {
		return err
	}
	existing := map[runtime.ContainerID]bool{}
	cs, err := a.rt.List(ctx)
	if err != nil {
		// Supervision still works per replica; the loop reads each state.
		a.log.Warn("cannot list workloads", "err", err)
	}
	for _, c := range cs {
		existing[c.ID] = true
		a.superviseByLabel(c, time.Time{}, true)
		if c.State.Status == runtime.StatusRunning {
			// Its end is an event, as if this agent had started it.
			a.watchDie(c.ID)
		}
		if c.AutoRemove {
			a.noteAutoRemove(c.ID)
			if c.State.Status != runtime.StatusPending {
				a.watchRemoval(c.ID)
			}
		}
	}
	a.log.Info("found workloads", "containers", len(cs), "deployments", len(recs))
	for _, rec := range recs {
		var total uint32
		for name, svc := range rec.Services {
			if svc.Spec != nil && svc.Spec.RType == spec.RTypeCron {
				a.scheduleCron(rec.Name, name, svc.Spec, svc.LastRun)
			}
			if svc.Spec != nil && svc.Spec.Scale.Mode == "adaptive" && isService(svc.Spec) {
				a.autoscale(rec.Name, name, svc.Spec)
			}
			if svc.Spec != nil && balanced(svc.Spec) {
				// Only a service a balancer could serve needs its runtime.
				if d, err := a.rt.Inspect(ctx, replicaID(rec.Name, name, 0)); err == nil {
					a.noteWasm(rec.Name, name, d.Runtime == "wasm")
				}
				c := *svc.Spec
				c.Scale.Replicas = svc.Replicas
				if err := a.balance(rec.Name, name, &c); err != nil {
					a.log.Warn("cannot serve a public endpoint again", "deployment", rec.Name, "service", name, "err", err)
				}
			}
			total += svc.Replicas
			for n := range svc.Replicas {
				id := replicaID(rec.Name, name, n)
				if err == nil && !existing[id] {
					a.log.Warn("deployed replica is missing; the next up recreates it", "container", id.String())
					continue
				}
				if isService(svc.Spec) {
					a.supervise(id, time.Time{}, policyOf(svc.Spec))
					a.watchHealth(id, svc.Spec)
				}
			}
		}
		a.metrics.replicas.WithLabelValues(rec.Name).Set(float64(total))
	}
	return nil
}

// superviseByLabel starts the restart loop of c when c has a restart
// policy of its own (LabelRestart: docker run --restart), as dockerd
// restarts such a container. found marks a container found by a starting
// agent: one created and never started is left alone, and one stopped by
// hand (stoppedFile) stays stopped unless its policy is always, as
// dockerd does at its own start.
func (a *Agent) superviseByLabel(c runtime.Container, startedAt time.Time, found bool) {
	v := c.Labels[runtime.LabelRestart]
	if v == "" {
		return
	}
	p, err := runtime.ParseRestartPolicy(v)
	if err != nil {
		a.log.Warn("a container's restart policy cannot be read; it is not restarted", "container", c.ID.String(), "policy", v, "err", err)
		return
	}
	kind := map[string]string{"no": "no", "always": "always", "unless-stopped": "unless_stopped", "on-failure": "on_failure"}[p.Name]
	if kind == "no" {
		return
	}
	policy := restartPolicy{kind: kind, max: uint32(p.MaxRetries), onPanic: "restart"}
	if found {
		if c.State.Status == runtime.StatusPending {
			return
		}
		if _, err := os.Stat(a.stoppedFile(c.ID)); err == nil && kind != "always" {
			policy.stoppedByHand = true
		}
	}
	a.supervise(c.ID, startedAt, policy)
}

// stoppedFile marks a container with a restart policy of its own that was
// stopped by hand, for the next agent.
func (a *Agent) stoppedFile(id runtime.ContainerID) string {
	return filepath.Join(a.cfg.Root, "stopped", id.String())
}

// markStopped records (or, with false, forgets) that id, which has a
// restart policy of its own, was stopped by hand.
func (a *Agent) markStopped(id runtime.ContainerID, stopped bool) {
	p := a.stoppedFile(id)
	if !stopped {
		_ = os.Remove(p)
		return
	}
	err := os.MkdirAll(filepath.Dir(p), 0o700)
	if err == nil {
		err = os.WriteFile(p, nil, 0o600)
	}
	if err != nil {
		a.log.Warn("cannot record a stop by hand; the next agent may restart the container", "container", id.String(), "err", err)
	}
}

// isolate keeps replica id, which just failed, for inspection under a name
// of its own, and has the next up (or this one, through its recorded spec)
// make a new replica in its place: the error policy's isolate.
func (a *Agent) isolate(ctx context.Context, id runtime.ContainerID, s *supervisor, out runtime.WaitOutcome) {
	a.forget(id, s)
	to := isolated(id, time.Now())
	if err := a.rt.Rename(ctx, id, to); err != nil {
		a.log.Warn("error policy isolate: cannot keep the failed replica aside; leaving it as it is", "container", id.String(), "err", err)
		return
	}
	a.log.Warn("error policy isolate: the failed replica is kept for inspection; a new one takes its place",
		"container", id.String(), "kept_as", to.String(), "exit_code", out.ExitCode, "outcome", out.Reason)
	a.unwatchHealth(id)
	deployment, service, ok := a.replicaOf(id)
	if !ok {
		return
	}
	if !a.lockDeploy(ctx) {
		return
	}
	defer a.deployMu.Unlock()
	rec, err := a.state.get(deployment)
	if err != nil || rec.Services[service] == nil || rec.Services[service].Spec == nil {
		return
	}
	d, err := a.resolveRefs(&spec.Deployment{Name: deployment, Services: map[string]*spec.ServiceSpec{service: rec.Services[service].Spec}})
	if err == nil {
		err = a.createReplica(ctx, id, deployment, service, d.Services[service])
	}
	if err != nil {
		a.log.Warn("error policy isolate: the new replica failed; the next up makes it", "container", id.String(), "err", err)
	}
}

// replicaOf finds the deployment and service a replica belongs to.
func (a *Agent) replicaOf(id runtime.ContainerID) (string, string, bool) {
	recs, err := a.state.list()
	if err != nil {
		return "", "", false
	}
	for _, rec := range recs {
		for name := range rec.Services {
			if replicaID(rec.Name, name, id.Replica) == id {
				return rec.Name, name, true
			}
		}
	}
	return "", "", false
}
