package agent

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/switchyard/switchyard/runtime"
	"github.com/switchyard/switchyard/spec"
)

// initPoll is how often a waiting init step tries again.
const initPoll = 250 * time.Millisecond

// runInit runs svc's init steps for replica id, in order, before it
// starts: ZLayer's init.wait_tcp and init.wait_http (from the agent; a
// host that names a service of the deployment is that service's first
// replica), and init.run, which runs its command in a one-off container of
// the service's image, as a Kubernetes init container, not on the node. A
// step is tried 1+retry times within its timeout; a failure acts as its
// on_failure says: fail stops the replica from starting (and up with it),
// warn and continue go on.
func (a *Agent) runInit(ctx context.Context, id runtime.ContainerID, deployment string, svc *spec.ServiceSpec) error {
	if svc.Init == nil {
		return nil
	}
	for _, step := range svc.Init.Steps {
		timeout := durationOr(step.Timeout, 0)
		if timeout == 0 {
			timeout = time.Duration(paramInt(step.With, "timeout", 30)) * time.Second
			if step.Uses == "init.run" {
				timeout = time.Duration(paramInt(step.With, "timeout", 300)) * time.Second
			}
		}
		tries := 1
		if step.Retry != nil {
			tries += int(*step.Retry)
		}
		var err error
		for try := 0; try < tries; try++ {
			sctx, cancel := context.WithTimeout(ctx, timeout)
			err = a.initStep(sctx, id, deployment, svc, step)
			cancel()
			if err == nil || ctx.Err() != nil {
				break
			}
		}
		switch {
		case err == nil:
			a.log.Debug("init step done", "container", id.String(), "step", step.ID)
		case ctx.Err() != nil:
			return ctx.Err()
		case step.OnFailure == "warn":
			a.log.Warn("init step failed; going on (on_failure: warn)", "container", id.String(), "step", step.ID, "err", err)
		case step.OnFailure == "continue":
			a.log.Info("init step failed; going on (on_failure: continue)", "container", id.String(), "step", step.ID, "err", err)
		default:
			return fmt.Errorf("init step %s (%s): %w; the replica was not started", step.ID, step.Uses, err)
		}
	}
	return nil
}

// initStep runs one step until it succeeds or ctx ends.
func (a *Agent) initStep(ctx context.Context, id runtime.ContainerID, deployment string, svc *spec.ServiceSpec, step spec.InitStep) error {
	switch step.Uses {
	case "init.wait_tcp":
		host, _ := step.With["host"].(string)
		port := paramInt(step.With, "port", 0)
		if host == "" || port <= 0 || port > 65535 {
			return fmt.Errorf("want with: {host: HOST, port: PORT}: %w", runtime.ErrInvalidArgument)
		}
		return pollInit(ctx, func() error {
			addr := net.JoinHostPort(a.initHost(ctx, deployment, host), strconv.Itoa(port))
			var d net.Dialer
			c, err := d.DialContext(ctx, "tcp", addr)
			if err != nil {
				return err
			}
			c.Close()
			return nil
		})
	case "init.wait_http":
		raw, _ := step.With["url"].(string)
		u, err := url.Parse(raw)
		if err != nil || u.Host == "" {
			return fmt.Errorf("want with: {url: http://HOST:PORT/PATH}: %w", runtime.ErrInvalidArgument)
		}
		want := paramInt(step.With, "expect_status", 200)
		if p := u.Port(); p != "" {
			u.Host = net.JoinHostPort(a.initHost(ctx, deployment, u.Hostname()), p)
		} else {
			u.Host = a.initHost(ctx, deployment, u.Hostname())
		}
		return pollInit(ctx, func() error {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
			if err != nil {
				return err
			}
			resp, err := a.healthClient.Do(req)
			if err != nil {
				return err
			}
			resp.Body.Close()
			if resp.StatusCode != want {
				return fmt.Errorf("GET %s: status %d, want %d", u, resp.StatusCode, want)
			}
			return nil
		})
	case "init.run":
		cmd, _ := step.With["command"].(string)
		if cmd == "" {
			return fmt.Errorf("want with: {command: \"a shell command\"}: %w", runtime.ErrInvalidArgument)
		}
		return a.runInitContainer(ctx, id, svc, cmd)
	}
	return fmt.Errorf("unknown action %q (this node offers init.wait_tcp, init.wait_http and init.run): %w", step.Uses, runtime.ErrNotSupported)
}

// runInitContainer runs cmd with sh in a container of svc's image, its
// volumes and network, removed afterwards.
func (a *Agent) runInitContainer(ctx context.Context, id runtime.ContainerID, svc *spec.ServiceSpec, cmd string) error {
	cs := svc.CreateSpec()
	if err := a.withSecrets(cs, svc); err != nil {
		return err
	}
	cs.Entrypoint, cs.Args = []string{"sh", "-c", cmd}, nil
	cs.Network.Ports, cs.Network.Aliases = nil, nil
	initID := runtime.ContainerID{Service: id.Service + "-init", Replica: id.Replica}
	cleanup := func() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if err := a.rt.Remove(rctx, initID, true); err != nil && !errors.Is(err, runtime.ErrNotFound) {
			a.log.Warn("removing an init container failed", "container", initID.String(), "err", err)
		}
	}
	cleanup() // one a crash left behind
	if err := a.rt.Create(ctx, initID, cs); err != nil {
		return fmt.Errorf("init container: %w", err)
	}
	defer cleanup()
	if err := a.rt.Start(ctx, initID); err != nil {
		return fmt.Errorf("init container: %w", err)
	}
	out, err := a.rt.WaitOutcome(ctx, initID, runtime.WaitNotRunning)
	if err != nil {
		return fmt.Errorf("init container: %w", err)
	}
	if out.ExitCode != 0 {
		var tail []string
		if entries, err := a.rt.Logs(context.WithoutCancel(ctx), initID, 5); err == nil {
			for _, e := range entries {
				tail = append(tail, e.Text)
			}
		}
		return fmt.Errorf("%q exited %d: %s", cmd, out.ExitCode, strings.Join(tail, " | "))
	}
	return nil
}

// initHost maps a host an init step names to where the agent reaches it:
// a service of the deployment (name, name.service or name.DEPLOYMENT) is
// its first replica's address; anything else is resolved as it is.
func (a *Agent) initHost(ctx context.Context, deployment, host string) string {
	name := strings.TrimSuffix(strings.TrimSuffix(host, ".service"), "."+deployment)
	if d, err := a.rt.Inspect(ctx, replicaID(deployment, name, 0)); err == nil && d.Network != nil && d.Network.Address.IsValid() {
		return d.Network.Address.Addr().String()
	}
	return host
}

// pollInit tries f until it succeeds or ctx ends, returning its last error.
func pollInit(ctx context.Context, f func() error) error {
	for {
		err := f()
		if err == nil {
			return nil
		}
		if !pause(ctx, initPoll) {
			return fmt.Errorf("%w (gave up: %w)", err, ctx.Err())
		}
	}
}

// paramInt reads an integer parameter of an init step, def when absent.
func paramInt(with map[string]any, key string, def int) int {
	switch v := with[key].(type) {
	case int:
		return v
	case uint64:
		return int(v)
	case float64:
		return int(v)
	case string:
		if n, err := strconv.Atoi(v); err == nil {
			return n
		}
	}
	return def
}

// initFailureAction is svc's errors.on_init_failure action: fail (the
// default), restart or backoff.
func initFailureAction(svc *spec.ServiceSpec) string {
	if svc.Errors == nil || svc.Errors.OnInitFailure.Action == "" {
		return "fail"
	}
	return svc.Errors.OnInitFailure.Action
}

// retryInit tries replica id's init again in the background, every second
// (restart) or after a doubling delay (backoff, the agent's restart
// back-off), and starts and supervises the replica once it succeeds. It
// ends when the replica is gone (down, or a new up) or the agent closes.
func (a *Agent) retryInit(id runtime.ContainerID, deployment string, svc *spec.ServiceSpec, action string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed.Load() {
		return
	}
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		ctx := a.bg
		b := a.opts.backoff
		delay := time.Second
		if action == "backoff" {
			delay = b.Initial
		}
		for attempt := 2; ; attempt++ {
			if !pause(ctx, delay) {
				return
			}
			if action == "backoff" {
				delay = min(2*delay, b.Max)
			}
			if st, err := a.rt.State(ctx, id); err != nil || st.Status != runtime.StatusPending {
				return // removed, or started by someone else
			}
			if err := a.runInit(ctx, id, deployment, svc); err != nil {
				a.log.Warn("init failed again", "container", id.String(), "attempt", attempt, "next_in", delay, "err", err)
				continue
			}
			if err := a.rt.Start(ctx, id); err != nil {
				a.log.Warn("starting the replica after its init failed", "container", id.String(), "err", err)
				return
			}
			a.log.Info("init succeeded; replica started", "container", id.String(), "attempt", attempt)
			a.supervise(id, time.Now(), policyOf(svc))
			a.watchHealth(id, svc)
			return
		}
	}()
}
