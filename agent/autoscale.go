package agent

import (
	"cmp"
	"context"
	"fmt"
	"time"

	"github.com/switchyard/switchyard/runtime"
	"github.com/switchyard/switchyard/spec"
)

// The autoscaler's pace: it samples every sampleEvery, and a service with
// no cooldown of its own waits ZLayer's default between two decisions.
const (
	sampleEvery     = time.Second
	defaultCooldown = 30 * time.Second
)

// autoscaling marks the context of a change the autoscaler makes, so that
// the convergence does not restart the loop that asked for it.
type autoscaling struct{}

// scaleLoop is the autoscaler of one adaptive service.
type scaleLoop struct {
	cancel context.CancelFunc
	done   chan struct{}
}

// autoscale (re)starts the autoscaler of adaptive service name: it
// samples the replicas' CPU (percent of the service's CPU limit, else of a
// core) and memory (percent of the memory limit), and when the average is
// over a target for a whole cooldown it adds a replica, when all are under
// half their targets for a cooldown it takes one away, never outside
// min..max, and says each decision in the log and in /metrics.
func (a *Agent) autoscale(deployment, name string, svc *spec.ServiceSpec) {
	a.stopAutoscale(deployment, name)
	t := svc.Scale.Targets
	if t.CPU == nil && t.Memory == nil {
		return // nothing to scale by (rps alone is warned of)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed.Load() {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	l := &scaleLoop{cancel: cancel, done: make(chan struct{})}
	a.scalers[serviceKey(deployment, name)] = l
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		defer close(l.done)
		a.scaleLoop(ctx, deployment, name, svc)
	}()
}

// stopAutoscale ends the autoscaler of a service, if any.
func (a *Agent) stopAutoscale(deployment, name string) {
	a.mu.Lock()
	l := a.scalers[serviceKey(deployment, name)]
	delete(a.scalers, serviceKey(deployment, name))
	a.mu.Unlock()
	if l != nil {
		l.cancel()
		<-l.done
	}
}

func (a *Agent) scaleLoop(ctx context.Context, deployment, name string, svc *spec.ServiceSpec) {
	log := a.log.With("deployment", deployment, "service", name)
	cooldown := durationOr(svc.Scale.Cooldown, defaultCooldown)
	last := map[runtime.ContainerID]runtime.Stats{}
	var over, under time.Time // since when the load is over target, or well under
	lastChange := time.Now()
	for pause(ctx, sampleEvery) {
		n := a.currentReplicas(deployment, name)
		if n == 0 {
			continue
		}
		var cpuSum, memSum float64
		var cpuN, memN int
		for r := range n {
			id := replicaID(deployment, name, r)
			st, err := a.rt.Stats(ctx, id)
			if err != nil {
				continue
			}
			if prev, ok := last[id]; ok && st.CPUUsageUsec != nil && prev.CPUUsageUsec != nil && st.Timestamp.After(prev.Timestamp) {
				used := float64(*st.CPUUsageUsec-*prev.CPUUsageUsec) / float64(st.Timestamp.Sub(prev.Timestamp).Microseconds())
				cores := svc.Resources.CPU
				if cores <= 0 {
					cores = 1
				}
				cpuSum += 100 * used / cores
				cpuN++
			}
			last[id] = st
			if st.MemoryLimit > 0 {
				memSum += 100 * float64(st.MemoryBytes) / float64(st.MemoryLimit)
				memN++
			}
		}
		t := svc.Scale.Targets
		isOver, isUnder := false, true
		if t.CPU != nil && cpuN > 0 {
			avg := cpuSum / float64(cpuN)
			isOver = isOver || avg > float64(*t.CPU)
			isUnder = isUnder && avg < float64(*t.CPU)/2
		}
		if t.Memory != nil && memN > 0 {
			avg := memSum / float64(memN)
			isOver = isOver || avg > float64(*t.Memory)
			isUnder = isUnder && avg < float64(*t.Memory)/2
		}
		if cpuN == 0 && memN == 0 {
			continue // no sample yet
		}
		now := time.Now()
		if !isOver {
			over = time.Time{}
		} else if over.IsZero() {
			over = now
		}
		if !isUnder || isOver {
			under = time.Time{}
		} else if under.IsZero() {
			under = now
		}
		if now.Sub(lastChange) < cooldown {
			continue
		}
		want := n
		switch {
		case !over.IsZero() && now.Sub(over) >= cooldown && n < svc.Scale.Max:
			want = n + 1
		case !under.IsZero() && now.Sub(under) >= cooldown && n > max(svc.Scale.Min, 1):
			want = n - 1
		}
		if want == n {
			continue
		}
		direction := "up"
		if want < n {
			direction = "down"
		}
		log.Info(fmt.Sprintf("adaptive scaling: %s from %d to %d replicas", direction, n, want), "cpu_avg", avgOr(cpuSum, cpuN), "memory_avg", avgOr(memSum, memN))
		if _, err := a.scaleTo(ctx, deployment, name, want); err != nil {
			if ctx.Err() != nil {
				return
			}
			log.Warn("adaptive scaling failed", "err", err)
			continue
		}
		a.metrics.scaleDecisions.WithLabelValues(deployment+"-"+name, direction).Inc()
		lastChange, over, under = time.Now(), time.Time{}, time.Time{}
	}
}

func avgOr(sum float64, n int) float64 {
	if n == 0 {
		return 0
	}
	return sum / float64(n)
}

// currentReplicas is how many replicas the deployment's record gives a
// service.
func (a *Agent) currentReplicas(deployment, name string) uint32 {
	rec, err := a.state.get(deployment)
	if err != nil || rec.Services[name] == nil {
		return 0
	}
	return rec.Services[name].Replicas
}

// scaleTo converges a service to n replicas, taking the deploy lock with
// ctx in mind (an up or down holding it may be waiting for this loop).
func (a *Agent) scaleTo(ctx context.Context, deployment, name string, n uint32) (Result, error) {
	if !a.lockDeploy(ctx) {
		return Result{}, cmp.Or(ctx.Err(), runtime.ErrUnavailable)
	}
	defer a.deployMu.Unlock()
	return a.scaleLocked(context.WithValue(ctx, autoscaling{}, true), deployment, name, n)
}
