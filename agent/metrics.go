package agent

import (
	"context"
	"errors"
	"io"
	"net/netip"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/switchyard/switchyard/runtime"
)

// metrics are the agent's Prometheus collectors, registered on the agent's
// own registry (never the global one).
type metrics struct {
	registry *prometheus.Registry
	ops      *prometheus.CounterVec   // runtime, operation, error
	latency  *prometheus.HistogramVec // runtime, operation
	restarts *prometheus.CounterVec   // service
	replicas *prometheus.GaugeVec     // deployment
	// healthChecks counts checks by container service and outcome;
	// unhealthy counts the replicas found unhealthy (and restarted).
	healthChecks *prometheus.CounterVec // service, ok
	unhealthy    *prometheus.CounterVec // service
	// cronRuns counts a cron service's scheduled runs: started, skipped
	// (the last one still under way) or failed to start.
	cronRuns *prometheus.CounterVec // service, outcome
	// scaleDecisions counts the autoscaler's changes by direction.
	scaleDecisions *prometheus.CounterVec // service, direction
}

func newMetrics() *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		ops: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "switchyard",
			Name:      "runtime_operations_total",
			Help:      "Runtime operations by runtime, operation and error kind (\"none\" for success).",
		}, []string{"runtime", "operation", "error"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "switchyard",
			Name:      "runtime_operation_duration_seconds",
			Help:      "Latency of runtime operations by runtime and operation.",
			Buckets:   prometheus.ExponentialBuckets(0.0005, 4, 10), // 0.5 ms to ~2 min
		}, []string{"runtime", "operation"}),
		restarts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "switchyard",
			Name:      "replica_restarts_total",
			Help:      "Restarts of service replicas after they exited, by container service.",
		}, []string{"service"}),
		replicas: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: "switchyard",
			Name:      "deployment_replicas",
			Help:      "Replicas a deployment asks for, summed over its services.",
		}, []string{"deployment"}),
	}
	m.healthChecks = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "switchyard",
		Name:      "health_checks_total",
		Help:      "Health checks by container service and whether they passed.",
	}, []string{"service", "ok"})
	m.unhealthy = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "switchyard",
		Name:      "replica_unhealthy_total",
		Help:      "Replicas found unhealthy (failing their check retries times in a row), by container service.",
	}, []string{"service"})
	m.cronRuns = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "switchyard",
		Name:      "cron_runs_total",
		Help:      "Scheduled runs of cron services by container service and outcome (started, skipped, failed).",
	}, []string{"service", "outcome"})
	m.scaleDecisions = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "switchyard",
		Name:      "scale_decisions_total",
		Help:      "Adaptive scaling changes by container service and direction (up, down).",
	}, []string{"service", "direction"})
	m.registry.MustRegister(m.ops, m.latency, m.restarts, m.replicas, m.healthChecks, m.unhealthy, m.cronRuns, m.scaleDecisions,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// errorKind names the kind of err for the error label; the set is closed so
// that the label's cardinality is bounded.
func errorKind(err error) string {
	var rtp *runtime.RouteToPeerError
	switch {
	case err == nil:
		return "none"
	case errors.As(err, &rtp):
		return "route_to_peer"
	case runtime.KindOf(err) != nil:
		return runtime.KindName(err)
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, context.DeadlineExceeded):
		return "deadline_exceeded"
	}
	return "other"
}

// op numbers the contract's operations, so that the decorator finds its
// collectors by index instead of hashing label values on every call.
type op int

const (
	opCreate op = iota
	opStart
	opStop
	opKill
	opRemove
	opRename
	opSyncVolumes
	opState
	opInspect
	opList
	opStats
	opPID
	opIP
	opPortOverride
	opWait
	opWaitOutcome
	opLogs
	opFollowLogs
	opExec
	opExecStream
	opPull
	opListImages
	opRemoveImage
	opTagImage
	opPruneImages
	numOps
)

// String returns the operation's label value.
func (o op) String() string {
	switch o {
	case opCreate:
		return "create"
	case opStart:
		return "start"
	case opStop:
		return "stop"
	case opKill:
		return "kill"
	case opRemove:
		return "remove"
	case opRename:
		return "rename"
	case opSyncVolumes:
		return "sync_volumes"
	case opState:
		return "state"
	case opInspect:
		return "inspect"
	case opList:
		return "list"
	case opStats:
		return "stats"
	case opPID:
		return "pid"
	case opIP:
		return "ip"
	case opPortOverride:
		return "port_override"
	case opWait:
		return "wait"
	case opWaitOutcome:
		return "wait_outcome"
	case opLogs:
		return "logs"
	case opFollowLogs:
		return "follow_logs"
	case opExec:
		return "exec"
	case opExecStream:
		return "exec_stream"
	case opPull:
		return "pull"
	case opListImages:
		return "list_images"
	case opRemoveImage:
		return "remove_image"
	case opTagImage:
		return "tag_image"
	case opPruneImages:
		return "prune_images"
	}
	return "unknown"
}

// measured decorates a runtime with operation counts and latencies. It
// forwards every call unchanged.
type measured struct {
	rt     runtime.Containers
	images runtime.ImageService // nil for a local runtime: the node's are measured apart
	name   string
	m      *metrics
	// ok and latency are the collectors of each op for this runtime,
	// resolved once: the success path then costs no label lookup.
	ok      [numOps]prometheus.Counter
	latency [numOps]prometheus.Observer
}

var (
	_ runtime.Containers = (*measured)(nil)
	_ runtime.Runtime    = measuredRuntime{}
)

// wrap measures rt. A whole runtime (a delegate, with images of its own)
// stays whole; a local runtime stays container-only, so the composite gives
// it the node's images.
func (m *metrics) wrap(rt runtime.Containers) runtime.Containers {
	r := m.measure(rt.Name())
	r.rt = rt
	if is, ok := rt.(runtime.ImageService); ok {
		r.images = is
		return measuredRuntime{r}
	}
	return r
}

// ReclaimImages forwards runtime.ImageReclaimer to the measured runtime;
// one that keeps nothing derived from images frees nothing.
func (r *measured) ReclaimImages(ctx context.Context) (runtime.PruneResult, error) {
	if rc, ok := r.rt.(runtime.ImageReclaimer); ok {
		return rc.ReclaimImages(ctx)
	}
	return runtime.PruneResult{Deleted: []string{}}, nil
}

// wrapImages measures the node's image service under the name name.
func (m *metrics) wrapImages(name string, is runtime.ImageService) runtime.ImageService {
	r := m.measure(name)
	r.images = is
	return measuredRuntime{r}
}

func (m *metrics) measure(name string) *measured {
	r := &measured{name: name, m: m}
	for o := range numOps {
		r.ok[o] = m.ops.WithLabelValues(r.name, o.String(), errorKind(nil))
		r.latency[o] = m.latency.WithLabelValues(r.name, o.String())
	}
	return r
}

// measuredRuntime is a measured runtime with images of its own.
type measuredRuntime struct{ *measured }

// done records one call of o that started at start and ended with err.
func (r *measured) done(o op, start time.Time, err error) {
	r.latency[o].Observe(time.Since(start).Seconds())
	if err == nil {
		r.ok[o].Inc()
		return
	}
	r.m.ops.WithLabelValues(r.name, o.String(), errorKind(err)).Inc()
}

// Name implements runtime.Identity.
func (r *measured) Name() string { return r.name }

// Platforms implements runtime.Identity.
func (r *measured) Platforms() []ocispec.Platform { return r.rt.Platforms() }

// Create implements runtime.Lifecycle.
func (r *measured) Create(ctx context.Context, id runtime.ContainerID, cs *runtime.CreateSpec) (err error) {
	start := time.Now()
	defer func() { r.done(opCreate, start, err) }()
	return r.rt.Create(ctx, id, cs)
}

// Start implements runtime.Lifecycle.
func (r *measured) Start(ctx context.Context, id runtime.ContainerID) (err error) {
	start := time.Now()
	defer func() { r.done(opStart, start, err) }()
	return r.rt.Start(ctx, id)
}

// Stop implements runtime.Lifecycle.
func (r *measured) Stop(ctx context.Context, id runtime.ContainerID, timeout time.Duration) (err error) {
	start := time.Now()
	defer func() { r.done(opStop, start, err) }()
	return r.rt.Stop(ctx, id, timeout)
}

// Kill implements runtime.Lifecycle.
func (r *measured) Kill(ctx context.Context, id runtime.ContainerID, signal string) (err error) {
	start := time.Now()
	defer func() { r.done(opKill, start, err) }()
	return r.rt.Kill(ctx, id, signal)
}

// Remove implements runtime.Lifecycle.
func (r *measured) Remove(ctx context.Context, id runtime.ContainerID, force bool) (err error) {
	start := time.Now()
	defer func() { r.done(opRemove, start, err) }()
	return r.rt.Remove(ctx, id, force)
}

// Rename implements runtime.Lifecycle.
func (r *measured) Rename(ctx context.Context, id, to runtime.ContainerID) (err error) {
	start := time.Now()
	defer func() { r.done(opRename, start, err) }()
	return r.rt.Rename(ctx, id, to)
}

// SyncVolumes implements runtime.Lifecycle.
func (r *measured) SyncVolumes(ctx context.Context, id runtime.ContainerID) (err error) {
	start := time.Now()
	defer func() { r.done(opSyncVolumes, start, err) }()
	return r.rt.SyncVolumes(ctx, id)
}

// State implements runtime.Inspector.
func (r *measured) State(ctx context.Context, id runtime.ContainerID) (_ runtime.State, err error) {
	start := time.Now()
	defer func() { r.done(opState, start, err) }()
	return r.rt.State(ctx, id)
}

// Inspect implements runtime.Inspector.
func (r *measured) Inspect(ctx context.Context, id runtime.ContainerID) (_ runtime.Details, err error) {
	start := time.Now()
	defer func() { r.done(opInspect, start, err) }()
	return r.rt.Inspect(ctx, id)
}

// List implements runtime.Inspector.
func (r *measured) List(ctx context.Context) (_ []runtime.Container, err error) {
	start := time.Now()
	defer func() { r.done(opList, start, err) }()
	return r.rt.List(ctx)
}

// Stats implements runtime.Inspector.
func (r *measured) Stats(ctx context.Context, id runtime.ContainerID) (_ runtime.Stats, err error) {
	start := time.Now()
	defer func() { r.done(opStats, start, err) }()
	return r.rt.Stats(ctx, id)
}

// PID implements runtime.Inspector.
func (r *measured) PID(ctx context.Context, id runtime.ContainerID) (_ int, err error) {
	start := time.Now()
	defer func() { r.done(opPID, start, err) }()
	return r.rt.PID(ctx, id)
}

// IP implements runtime.Inspector.
func (r *measured) IP(ctx context.Context, id runtime.ContainerID) (_ netip.Addr, err error) {
	start := time.Now()
	defer func() { r.done(opIP, start, err) }()
	return r.rt.IP(ctx, id)
}

// PortOverride implements runtime.Inspector.
func (r *measured) PortOverride(ctx context.Context, id runtime.ContainerID) (_ uint16, err error) {
	start := time.Now()
	defer func() { r.done(opPortOverride, start, err) }()
	return r.rt.PortOverride(ctx, id)
}

// Wait implements runtime.Waiter.
func (r *measured) Wait(ctx context.Context, id runtime.ContainerID) (_ int, err error) {
	start := time.Now()
	defer func() { r.done(opWait, start, err) }()
	return r.rt.Wait(ctx, id)
}

// WaitOutcome implements runtime.Waiter.
func (r *measured) WaitOutcome(ctx context.Context, id runtime.ContainerID, cond runtime.WaitCondition) (_ runtime.WaitOutcome, err error) {
	start := time.Now()
	defer func() { r.done(opWaitOutcome, start, err) }()
	return r.rt.WaitOutcome(ctx, id, cond)
}

// Logs implements runtime.LogReader.
func (r *measured) Logs(ctx context.Context, id runtime.ContainerID, tail int) (_ []runtime.LogEntry, err error) {
	start := time.Now()
	defer func() { r.done(opLogs, start, err) }()
	return r.rt.Logs(ctx, id, tail)
}

// FollowLogs implements runtime.LogReader.
func (r *measured) FollowLogs(ctx context.Context, id runtime.ContainerID, tail int) (_ runtime.Stream[runtime.LogEntry], err error) {
	start := time.Now()
	defer func() { r.done(opFollowLogs, start, err) }()
	return r.rt.FollowLogs(ctx, id, tail)
}

// Exec implements runtime.Executor.
func (r *measured) Exec(ctx context.Context, id runtime.ContainerID, argv []string) (_ runtime.ExecResult, err error) {
	start := time.Now()
	defer func() { r.done(opExec, start, err) }()
	return r.rt.Exec(ctx, id, argv)
}

// ExecStream implements runtime.Executor.
func (r *measured) ExecStream(ctx context.Context, id runtime.ContainerID, argv []string) (_ runtime.Stream[runtime.ExecEvent], err error) {
	start := time.Now()
	defer func() { r.done(opExecStream, start, err) }()
	return r.rt.ExecStream(ctx, id, argv)
}

// Pull implements runtime.ImageService.
func (r measuredRuntime) Pull(ctx context.Context, ref string, opts runtime.PullOptions) (_ runtime.ImageInfo, err error) {
	start := time.Now()
	defer func() { r.done(opPull, start, err) }()
	return r.images.Pull(ctx, ref, opts)
}

// ListImages implements runtime.ImageService.
func (r measuredRuntime) ListImages(ctx context.Context) (_ []runtime.ImageInfo, err error) {
	start := time.Now()
	defer func() { r.done(opListImages, start, err) }()
	return r.images.ListImages(ctx)
}

// RemoveImage implements runtime.ImageService.
func (r measuredRuntime) RemoveImage(ctx context.Context, ref string, force bool) (err error) {
	start := time.Now()
	defer func() { r.done(opRemoveImage, start, err) }()
	return r.images.RemoveImage(ctx, ref, force)
}

// TagImage implements runtime.ImageService.
func (r measuredRuntime) TagImage(ctx context.Context, src, dst string) (err error) {
	start := time.Now()
	defer func() { r.done(opTagImage, start, err) }()
	return r.images.TagImage(ctx, src, dst)
}

// PruneImages implements runtime.ImageService.
func (r measuredRuntime) PruneImages(ctx context.Context) (_ runtime.PruneResult, err error) {
	start := time.Now()
	defer func() { r.done(opPruneImages, start, err) }()
	return r.images.PruneImages(ctx)
}

// ConnectNetwork forwards runtime.NetworkConnector to the measured runtime.
func (r *measured) ConnectNetwork(ctx context.Context, id runtime.ContainerID, network string, aliases []string) error {
	return runtime.ConnectNetwork(ctx, r.rt, r.rt.Name(), id, network, aliases)
}

// DisconnectNetwork forwards runtime.NetworkConnector to the measured
// runtime.
func (r *measured) DisconnectNetwork(ctx context.Context, id runtime.ContainerID, network string) error {
	return runtime.DisconnectNetwork(ctx, r.rt, r.rt.Name(), id, network)
}

// ExecStreamWith forwards runtime.ExecOptioner to the measured runtime.
func (r *measured) ExecStreamWith(ctx context.Context, id runtime.ContainerID, argv []string, opts runtime.ExecOptions) (runtime.Stream[runtime.ExecEvent], error) {
	return runtime.ExecWith(ctx, r.rt, r.rt.Name(), id, argv, opts)
}

// AttachStdin forwards runtime.Attacher to the measured runtime.
func (r *measured) AttachStdin(ctx context.Context, id runtime.ContainerID) (io.WriteCloser, error) {
	return runtime.AttachStdin(ctx, r.rt, r.rt.Name(), id)
}

// ResizeTerminal forwards runtime.Attacher to the measured runtime.
func (r *measured) ResizeTerminal(ctx context.Context, id runtime.ContainerID, rows, cols uint16) error {
	return runtime.ResizeTerminal(ctx, r.rt, r.rt.Name(), id, rows, cols)
}

// Processes forwards runtime.ProcessLister to the measured runtime.
func (r *measured) Processes(ctx context.Context, id runtime.ContainerID) ([]int, error) {
	return runtime.Processes(ctx, r.rt, r.rt.Name(), id)
}

// ListDetails forwards runtime.DetailLister to the measured runtime.
func (r *measured) ListDetails(ctx context.Context) ([]runtime.Details, error) {
	return runtime.ListDetails(ctx, r.rt)
}

// UpdateResources forwards runtime.ResourceUpdater to the measured runtime.
func (r *measured) UpdateResources(ctx context.Context, id runtime.ContainerID, res runtime.Resources) error {
	return runtime.UpdateResources(ctx, r.rt, r.rt.Name(), id, res)
}
