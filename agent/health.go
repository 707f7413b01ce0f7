package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/switchyard/switchyard/runtime"
	"github.com/switchyard/switchyard/spec"
)

// ZLayer's defaults for a health check's timings.
const (
	defaultStartGrace    = 5 * time.Second
	defaultCheckInterval = 10 * time.Second
	defaultCheckTimeout  = 5 * time.Second
	// healthLogSize is how many checks Inspect shows, as docker's five.
	healthLogSize = 5
)

// healthMonitor checks one replica, for as long as it is deployed.
type healthMonitor struct {
	cancel context.CancelFunc
	done   chan struct{}
	// restarted (buffer 1) tells the loop that the replica was started
	// again, so that it looks at the new run before its next check.
	restarted chan struct{}

	mu     sync.Mutex
	status runtime.HealthStatus // guarded by mu
	// run is the start of the run status is about. Guarded by mu.
	run time.Time
	// keep records status and run when they change (savedHealth).
	keep func(savedHealth)
}

// savedHealth is a replica's health as the agent keeps it on disk, so
// that a restarted agent goes on from it (a healthy replica stays
// healthy, a failing streak goes on) rather than from starting, as dockerd
// keeps a container's health across its restart.
type savedHealth struct {
	// Run is the start of the run the status is about: a status of
	// another run does not count.
	Run    time.Time            `json:"run"`
	Status runtime.HealthStatus `json:"status"`
}

// healthFile is where replica id's health is kept.
func (a *Agent) healthFile(id runtime.ContainerID) string {
	return filepath.Join(a.cfg.Root, "health", id.String()+".json")
}

// loadHealth reads what an earlier agent kept of id's health.
func (a *Agent) loadHealth(id runtime.ContainerID) (savedHealth, bool) {
	b, err := os.ReadFile(a.healthFile(id))
	if err != nil {
		return savedHealth{}, false
	}
	var h savedHealth
	if json.Unmarshal(b, &h) != nil || h.Run.IsZero() {
		return savedHealth{}, false
	}
	return h, true
}

// saveHealth keeps id's health. It replaces the file whole but does not
// sync it: a crash of the machine loses at most a verdict the next check
// makes again.
func (a *Agent) saveHealth(id runtime.ContainerID, h savedHealth) {
	p := a.healthFile(id)
	b, err := json.Marshal(h)
	if err == nil {
		err = os.MkdirAll(filepath.Dir(p), 0o700)
	}
	if err == nil {
		tmp := p + ".tmp"
		if err = os.WriteFile(tmp, b, 0o600); err == nil {
			err = os.Rename(tmp, p)
		}
	}
	if err != nil {
		a.log.Debug("cannot keep a replica's health", "container", id.String(), "err", err)
	}
}

// snapshot is the monitor's status, copied.
func (m *healthMonitor) snapshot() runtime.HealthStatus {
	m.mu.Lock()
	defer m.mu.Unlock()
	st := m.status
	st.Log = append([]runtime.HealthResult(nil), m.status.Log...)
	return st
}

// record sets the status of the run that started at run, with the check
// res (nil for none); a change of verdict or streak is kept on disk.
func (m *healthMonitor) record(run time.Time, status string, streak int, res *runtime.HealthResult) {
	m.mu.Lock()
	changed := m.status.Status != status || m.status.FailingStreak != streak || !m.run.Equal(run)
	m.status.Status, m.status.FailingStreak, m.run = status, streak, run
	if res != nil {
		m.status.Log = append(m.status.Log, *res)
		if len(m.status.Log) > healthLogSize {
			m.status.Log = m.status.Log[len(m.status.Log)-healthLogSize:]
		}
	}
	var saved savedHealth
	if changed && m.keep != nil && !run.IsZero() {
		saved = savedHealth{Run: run, Status: m.status}
		saved.Status.Log = append([]runtime.HealthResult(nil), m.status.Log...)
	}
	m.mu.Unlock()
	if !saved.Run.IsZero() {
		m.keep(saved)
	}
}

// watchHealth starts checking replica id of svc, when svc has a health
// check and no monitor checks id yet.
func (a *Agent) watchHealth(id runtime.ContainerID, svc *spec.ServiceSpec) {
	if svc == nil || svc.Health == nil || !isService(svc) {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed.Load() || a.monitors[id] != nil {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	m := &healthMonitor{cancel: cancel, done: make(chan struct{}), restarted: make(chan struct{}, 1), status: runtime.HealthStatus{Status: runtime.HealthStarting},
		keep: func(h savedHealth) { a.saveHealth(id, h) }}
	// An earlier agent's verdict on the run goes on; the loop drops it if
	// the replica runs another run now.
	if saved, ok := a.loadHealth(id); ok {
		m.status, m.run = saved.Status, saved.Run
	}
	a.monitors[id] = m
	h := *svc.Health
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		defer close(m.done)
		a.healthLoop(ctx, m, id, h, svc.Endpoints)
	}()
}

// unwatchHealth stops checking id and waits for its monitor to end.
func (a *Agent) unwatchHealth(id runtime.ContainerID) {
	a.mu.Lock()
	m := a.monitors[id]
	delete(a.monitors, id)
	a.mu.Unlock()
	if m != nil {
		m.cancel()
		<-m.done
	}
	// The replica is going: what was kept of its health goes too.
	_ = os.Remove(a.healthFile(id))
}

// healthRestarted tells id's monitor, if any, that id was started again.
func (a *Agent) healthRestarted(id runtime.ContainerID) {
	a.mu.Lock()
	m := a.monitors[id]
	a.mu.Unlock()
	if m != nil {
		select {
		case m.restarted <- struct{}{}:
		default:
		}
	}
}

// healthOf is the health of id, and whether the agent checks it.
func (a *Agent) healthOf(id runtime.ContainerID) (runtime.HealthStatus, bool) {
	a.mu.Lock()
	m := a.monitors[id]
	a.mu.Unlock()
	if m == nil {
		return runtime.HealthStatus{}, false
	}
	return m.snapshot(), true
}

// durationOr is d, or def when d is unset.
func durationOr(d *spec.Duration, def time.Duration) time.Duration {
	if d == nil {
		return def
	}
	return time.Duration(*d)
}

// healthLoop checks id every interval. A run's first start_grace does not
// count failures; retries failures in a row make the replica unhealthy, and
// an unhealthy replica is stopped, for its supervisor to start again (the
// error policy restart, ZLayer's default). A new run starts over.
func (a *Agent) healthLoop(ctx context.Context, m *healthMonitor, id runtime.ContainerID, h spec.Health, eps []spec.Endpoint) {
	log := a.log.With("container", id.String())
	grace := durationOr(h.StartGrace, defaultStartGrace)
	interval := durationOr(h.Interval, defaultCheckInterval)
	timeout := durationOr(h.Timeout, defaultCheckTimeout)
	retries := max(int(h.Retries), 1)
	// run is the start of the run being checked; streak its failures in
	// a row: what an earlier agent kept, until the replica shows another
	// run.
	m.mu.Lock()
	run, streak := m.run, m.status.FailingStreak
	m.mu.Unlock()
	var d runtime.Details
	// look reads the replica's state and address: before the first check,
	// after a restart and after a failure, not before every check, so that
	// checking a healthy replica costs the check alone. It reports whether
	// the replica runs, and starts over for a new run.
	look := func() bool {
		var err error
		d, err = a.rt.Inspect(ctx, id)
		if err != nil || d.State.Status != runtime.StatusRunning {
			if !run.IsZero() {
				m.record(time.Time{}, runtime.HealthStarting, 0, nil)
			}
			run, streak = time.Time{}, 0
			return false
		}
		if !d.StartedAt.Equal(run) {
			run, streak = d.StartedAt, 0
			m.record(run, runtime.HealthStarting, 0, nil)
		}
		return true
	}
	fresh := false
	if !run.IsZero() {
		// A verdict an earlier agent kept on the run the replica still
		// runs stands until the next check is due, so that a restarted
		// agent does not check all its replicas at once.
		if cur, err := a.rt.Inspect(ctx, id); err == nil && cur.State.Status == runtime.StatusRunning && cur.StartedAt.Equal(run) {
			if !pause(ctx, interval) {
				return
			}
		}
	}
	for {
		select {
		case <-m.restarted:
			fresh = false
		default:
		}
		if !fresh {
			if fresh = look(); !fresh {
				if ctx.Err() != nil || !pause(ctx, min(interval, time.Second)) {
					return
				}
				continue
			}
		}
		res := runtime.HealthResult{Start: time.Now()}
		cctx, cancel := context.WithTimeout(ctx, timeout)
		out, err := a.check(cctx, id, d, h.Check, eps)
		cancel()
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			// A failure may be a new run's (a restart between looks): it
			// counts only against the run it was made on.
			before := run
			if fresh = look(); !fresh || !run.Equal(before) {
				continue
			}
		}
		res.End, res.OK, res.Output = time.Now(), err == nil, out
		if err != nil {
			res.Output = err.Error()
		}
		a.metrics.healthChecks.WithLabelValues(id.Service, strconv.FormatBool(res.OK)).Inc()
		inGrace := time.Since(run) < grace
		switch {
		case res.OK:
			streak = 0
			m.record(run, runtime.HealthHealthy, 0, &res)
		case inGrace:
			m.record(run, runtime.HealthStarting, 0, &res)
		default:
			streak++
			if streak < retries {
				m.record(run, m.snapshot().Status, streak, &res)
				break
			}
			m.record(run, runtime.HealthUnhealthy, streak, &res)
			if streak == retries {
				log.Warn("replica is unhealthy; restarting it", "failures", streak, "last", res.Output)
				a.metrics.unhealthy.WithLabelValues(id.Service).Inc()
				// Stopped, not by hand: its supervisor starts it again.
				if err := a.rt.Stop(ctx, id, a.opts.stopTimeout); err != nil && ctx.Err() == nil {
					log.Warn("stopping an unhealthy replica failed", "err", err)
				}
				fresh = false
			}
		}
		if !pause(ctx, interval) {
			return
		}
	}
}

// check runs one check of id. The check's localhost is the replica
// itself: a tcp or http check goes to its address on its network (the
// host's loopback for one on the host's network, a published port for a
// wasm module), a command check runs inside it.
func (a *Agent) check(ctx context.Context, id runtime.ContainerID, d runtime.Details, c spec.HealthCheck, eps []spec.Endpoint) (string, error) {
	switch c.Type {
	case "command":
		res, err := a.rt.Exec(ctx, id, []string{"sh", "-c", c.Command})
		if err != nil {
			return "", err
		}
		out := strings.TrimSpace(res.Stdout + res.Stderr)
		if len(out) > 512 {
			out = out[:512]
		}
		if res.ExitCode != 0 {
			return out, fmt.Errorf("command exited %d: %s", res.ExitCode, out)
		}
		return out, nil
	case "tcp":
		port := c.Port
		if port == 0 {
			port = firstHTTPPort(eps)
		}
		addr, err := reachOf(d, port)
		if err != nil {
			return "", err
		}
		var dl net.Dialer
		conn, err := dl.DialContext(ctx, "tcp", addr)
		if err != nil {
			return "", err
		}
		conn.Close()
		return "connected to " + addr, nil
	case "http":
		u, err := url.Parse(c.URL)
		if err != nil || u.Host == "" {
			return "", fmt.Errorf("health url %q: want http://localhost:PORT/PATH", c.URL)
		}
		port := uint16(80)
		if u.Scheme == "https" {
			port = 443
		}
		if p := u.Port(); p != "" {
			n, err := strconv.ParseUint(p, 10, 16)
			if err != nil {
				return "", fmt.Errorf("health url %q: bad port", c.URL)
			}
			port = uint16(n)
		}
		if h := u.Hostname(); h == "localhost" || h == "127.0.0.1" || h == "::1" {
			addr, err := reachOf(d, port)
			if err != nil {
				return "", err
			}
			u.Host = addr
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
		if err != nil {
			return "", err
		}
		resp, err := a.healthClient.Do(req)
		if err != nil {
			return "", err
		}
		resp.Body.Close()
		want := int(c.ExpectStatus)
		if want == 0 {
			want = http.StatusOK
		}
		if resp.StatusCode != want {
			return "", fmt.Errorf("GET %s: status %d, want %d", u, resp.StatusCode, want)
		}
		return fmt.Sprintf("GET %s: %d", u, resp.StatusCode), nil
	}
	return "", fmt.Errorf("unknown check type %q", c.Type)
}

// reachOf is where a replica's port is reached from the agent.
func reachOf(d runtime.Details, port uint16) (string, error) {
	for _, p := range d.Ports {
		// A wasm module listens on its published host ports.
		if d.Runtime == "wasm" && p.ContainerPort == port && p.Proto() == "tcp" {
			host := "127.0.0.1"
			if p.HostIP.IsValid() && !p.HostIP.IsUnspecified() {
				host = p.HostIP.String()
			}
			return net.JoinHostPort(host, strconv.Itoa(int(p.HostPort))), nil
		}
	}
	n := d.Network
	switch {
	case n == nil:
		return "", errors.New("the replica has no network to check it on")
	case n.Mode == runtime.NetworkHost:
		return net.JoinHostPort("127.0.0.1", strconv.Itoa(int(port))), nil
	case n.Address.IsValid():
		return netip.AddrPortFrom(n.Address.Addr(), port).String(), nil
	case d.Runtime == "wasm":
		return "", fmt.Errorf("a wasm module is reached on its published ports, and port %d is not one", port)
	}
	return "", errors.New("the replica has no address to check it on (network none?)")
}

// firstHTTPPort is the port a tcp check of port 0 means, as ZLayer's: the
// first http endpoint's, else 8080.
func firstHTTPPort(eps []spec.Endpoint) uint16 {
	for _, e := range eps {
		if e.Protocol == "http" || e.Protocol == "https" || e.Protocol == "websocket" {
			if e.TargetPort != 0 {
				return e.TargetPort
			}
			return e.Port
		}
	}
	return 8080
}

// waitHealthy waits for replica id, just made by a rollout (the n-th of
// of), to turn healthy: for its start grace and retries checks more. One
// that does not stops the rollout, the old replicas after it kept.
func (a *Agent) waitHealthy(ctx context.Context, id runtime.ContainerID, svc *spec.ServiceSpec, n, of uint32) error {
	h := svc.Health
	limit := durationOr(h.StartGrace, defaultStartGrace) + time.Duration(max(int(h.Retries), 1)+1)*(durationOr(h.Interval, defaultCheckInterval)+durationOr(h.Timeout, defaultCheckTimeout))
	deadline := time.Now().Add(limit)
	for {
		st, ok := a.healthOf(id)
		switch {
		case ok && st.Status == runtime.HealthHealthy:
			return nil
		case ok && st.Status == runtime.HealthUnhealthy, time.Now().After(deadline):
			why := "did not turn healthy within " + limit.Round(time.Second).String()
			if ok && len(st.Log) > 0 {
				why += " (last check: " + st.Log[len(st.Log)-1].Output + ")"
			}
			kept := "the old replicas after it keep running the old spec"
			if n+1 == of {
				kept = "it was the last to replace"
			}
			return fmt.Errorf("rollout stopped at replica %s of %d: the new replica %s; %s; fix the service and run up again: %w", id, of, why, kept, runtime.ErrUnavailable)
		}
		if !pause(ctx, 100*time.Millisecond) {
			return ctx.Err()
		}
	}
}
