package agent

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/switchyard/switchyard/api"
	"github.com/switchyard/switchyard/api/server"
	"github.com/switchyard/switchyard/runtime"
)

// The deployment API's types are the API's (package api); the agent's
// names for them read better at its call sites.
type (
	// Result is what an Up or a Down changed.
	Result = api.DeployResult
	// Status describes a deployment as the agent knows it.
	Status = api.DeploymentStatus
	// ServiceStatus describes one service of a deployment.
	ServiceStatus = api.ServiceStatus
	// ReplicaStatus is one replica's current state.
	ReplicaStatus = api.ReplicaStatus
)

// apiRuntime is the runtime the API serves: the composite, with a user's
// stop and start of a supervised replica told to its supervisor, so that a
// replica stopped by hand stays stopped until it is started by hand, up
// runs, or the agent restarts (Docker's "always" restart policy).
type apiRuntime struct {
	eventRuntime
}

// api is the runtime the agent's APIs serve.
func (a *Agent) api() apiRuntime { return apiRuntime{a.ev} }

// Stop implements runtime.Lifecycle.
func (r apiRuntime) Stop(ctx context.Context, id runtime.ContainerID, timeout time.Duration) error {
	// Marked before the stop, so the supervisor that sees the exit knows.
	r.a.setUserStopped(id, true)
	err := r.eventRuntime.Stop(ctx, id, timeout)
	if err != nil {
		r.a.setUserStopped(id, false)
		return err
	}
	if d, err := r.eventRuntime.Inspect(ctx, id); err == nil && d.Labels[runtime.LabelRestart] != "" {
		r.a.markStopped(id, true)
	}
	return nil
}

// Start implements runtime.Lifecycle. An auto-remove container is watched
// from its start until it has exited and been removed; one whose start
// failed is removed at once.
func (r apiRuntime) Start(ctx context.Context, id runtime.ContainerID) error {
	d, inspected, err := r.eventRuntime.start(ctx, id)
	switch {
	case err == nil:
		r.a.setUserStopped(id, false)
		if inspected && d.Labels[runtime.LabelRestart] != "" {
			r.a.markStopped(id, false)
			r.a.superviseByLabel(d.Container, time.Now(), false)
		}
		r.a.watchRemoval(id)
	case r.a.autoRemoves(id) && !errors.Is(err, runtime.ErrNotFound) && !errors.Is(err, runtime.ErrFailedPrecondition):
		r.a.removeFailedStart(id)
	}
	return err
}

// Create implements runtime.Lifecycle.
func (r apiRuntime) Create(ctx context.Context, id runtime.ContainerID, cs *runtime.CreateSpec) error {
	err := r.eventRuntime.Create(ctx, id, cs)
	if err == nil && cs.AutoRemove {
		r.a.noteAutoRemove(id)
	}
	return err
}

// Remove implements runtime.Lifecycle.
func (r apiRuntime) Remove(ctx context.Context, id runtime.ContainerID, force bool) error {
	d, err := r.eventRuntime.Inspect(ctx, id)
	inspected := err == nil
	restarted := inspected && d.Labels[runtime.LabelRestart] != ""
	if restarted {
		// Its restart loop ends first, or it would start it again.
		r.a.unsupervise(id)
	}
	err = r.eventRuntime.remove(ctx, id, force, d, inspected)
	switch {
	case err == nil:
		r.a.forgetAutoRemove(id)
		if restarted {
			r.a.markStopped(id, false)
		}
	case restarted && !errors.Is(err, runtime.ErrNotFound):
		// Still there (running, without force): its policy still holds.
		r.a.superviseByLabel(d.Container, time.Time{}, false)
	}
	return err
}

// Rename implements runtime.Lifecycle.
func (r apiRuntime) Rename(ctx context.Context, id, to runtime.ContainerID) error {
	d, inspected := r.eventRuntime.Inspect(ctx, id)
	restarted := inspected == nil && d.Labels[runtime.LabelRestart] != ""
	if restarted {
		r.a.unsupervise(id)
	}
	err := r.eventRuntime.Rename(ctx, id, to)
	if err == nil {
		r.a.renameAutoRemove(id, to)
		if restarted {
			_ = os.Rename(r.a.stoppedFile(id), r.a.stoppedFile(to)) // none: not stopped by hand
		}
	}
	if restarted {
		// Under its new name, or its old one when the rename failed.
		d.ID = to
		if err != nil {
			d.ID = id
		}
		r.a.superviseByLabel(d.Container, time.Time{}, false)
	}
	return err
}

// List implements runtime.Inspector, with the health of checked replicas.
func (r apiRuntime) List(ctx context.Context) ([]runtime.Container, error) {
	cs, err := r.eventRuntime.List(ctx)
	for i := range cs {
		cs[i].Ports = append(cs[i].Ports, r.a.balancedPorts(cs[i].ID)...)
		if h, ok := r.a.healthOf(cs[i].ID); ok && cs[i].State.Status == runtime.StatusRunning {
			cs[i].Health = h.Status
		}
	}
	return cs, err
}

// Inspect implements runtime.Inspector, with the health checks of a
// checked replica.
func (r apiRuntime) Inspect(ctx context.Context, id runtime.ContainerID) (runtime.Details, error) {
	d, err := r.eventRuntime.Inspect(ctx, id)
	if err != nil {
		return d, err
	}
	r.decorate(&d)
	return d, nil
}

// ListDetails implements runtime.DetailLister, with what Inspect adds.
func (r apiRuntime) ListDetails(ctx context.Context) ([]runtime.Details, error) {
	ds, err := r.eventRuntime.ListDetails(ctx)
	for i := range ds {
		r.decorate(&ds[i])
	}
	return ds, err
}

// decorate adds to d what the agent knows of it: the public ports its
// balancer holds and a checked replica's health.
func (r apiRuntime) decorate(d *runtime.Details) {
	if bp := r.a.balancedPorts(d.ID); len(bp) > 0 {
		d.Ports = append(d.Ports, bp...)
		if d.Network != nil {
			d.Network.Ports = append(d.Network.Ports, bp...)
		}
	}
	if h, ok := r.a.healthOf(d.ID); ok {
		if d.State.Status == runtime.StatusRunning {
			d.Health = h.Status
		}
		d.HealthCheck = &h
	}
}

// FollowLogs implements runtime.LogReader: an auto-remove container is
// kept until the stream is closed, so that its follower reads every line.
func (r apiRuntime) FollowLogs(ctx context.Context, id runtime.ContainerID, tail int) (runtime.Stream[runtime.LogEntry], error) {
	release := r.a.holdRemoval(id)
	s, err := r.eventRuntime.FollowLogs(ctx, id, tail)
	if err != nil {
		release()
		return nil, err
	}
	return heldStream{Stream: s, release: release}, nil
}

// newHandler builds the agent's HTTP API (package api/server): the
// container and image API over the combined runtime, the deployment
// endpoints over the agent, the runtimes' health, image loads and
// /metrics.
func (a *Agent) newHandler() (http.Handler, error) {
	opts := []server.Option{
		server.WithLogger(a.log),
		server.WithVersion(a.opts.version),
		server.WithDeployer(a),
		server.WithRuntimeLister(a),
		server.WithMetrics(promhttp.HandlerFor(a.metrics.registry, promhttp.HandlerOpts{ErrorLog: slogPrinter{a}})),
	}
	if a.opts.loader != nil {
		opts = append(opts, server.WithLoader(server.LoaderFunc(a.opts.loader), filepath.Join(a.cfg.Root, "tmp")))
	}
	if a.opts.networks != nil {
		opts = append(opts, server.WithNetworks(networks{a.opts.networks}))
	}
	if a.opts.secrets != nil {
		opts = append(opts, server.WithSecrets(secretStore{a.opts.secrets}))
	}
	if a.opts.logins != nil {
		opts = append(opts, server.WithLogins(a.opts.logins))
	}
	return server.New(a.api(), append(opts, a.opts.serverOpts...)...)
}

// Runtimes implements server.RuntimeLister: the node's runtimes in
// preference order. (Up, Down and Deployments make the agent the server's
// Deployer.)
func (a *Agent) Runtimes() []runtime.Containers { return a.runtimes }

// slogPrinter adapts the agent's logger to promhttp's error log.
type slogPrinter struct{ a *Agent }

func (p slogPrinter) Println(v ...any) { p.a.log.Error("metrics: " + fmt.Sprint(v...)) }
