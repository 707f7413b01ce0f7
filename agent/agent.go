package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchyard/switchyard/api"
	"github.com/switchyard/switchyard/api/docker"
	"github.com/switchyard/switchyard/cri"
	"github.com/switchyard/switchyard/internal/eventlog"
	"github.com/switchyard/switchyard/runtime"
	"github.com/switchyard/switchyard/runtimes/composite"
)

// Agent is a running node agent: it owns its root, serves the runtimes it
// was given through one composite runtime, deploys specs onto it and keeps
// the replicas of deployed services running.
type Agent struct {
	cfg     Config
	opts    options
	log     *slog.Logger
	lock    *RootLock
	state   *stateStore
	metrics *metrics
	rt      runtime.Runtime
	// runtimes are the composite's runtimes in preference order (as
	// wrapped for metrics), for /v1/runtimes.
	runtimes []runtime.Containers
	handler  http.Handler
	// dockerHandler is the Docker Engine API, served when the config names
	// a docker socket.
	dockerHandler http.Handler
	// cri is the Kubernetes CRI, served when the config names a CRI socket.
	cri *cri.Server

	// deployMu serialises Up and Down. It is held across runtime calls on
	// purpose: two deploys of one deployment must not interleave their
	// creates and removes. It never guards data read elsewhere.
	deployMu sync.Mutex

	mu sync.Mutex
	// supervisors holds the restart loop of every supervised replica.
	supervisors map[runtime.ContainerID]*supervisor // guarded by mu
	// crons holds the schedule loop of every cron service, by
	// deployment/service.
	crons map[string]*cronJob // guarded by mu
	// balancers holds the balancer of every public endpoint of a service
	// with more than one replica, by deployment/service/port.
	balancers map[string]*balancer // guarded by mu
	// unbalanceable are the services (deployment/service) whose replicas
	// are wasm modules, which publish their own ports.
	unbalanceable map[string]bool // guarded by mu
	// draining are the replicas taken out of their balancers before a stop.
	draining map[runtime.ContainerID]bool // guarded by mu
	// scalers holds the autoscaler of every adaptive service, by
	// deployment/service.
	scalers map[string]*scaleLoop // guarded by mu
	// monitors holds the health checks of every checked replica.
	monitors map[runtime.ContainerID]*healthMonitor // guarded by mu
	// healthClient makes the http checks: no connection is kept between
	// checks, so 100 replicas checked every second hold no sockets.
	healthClient *http.Client
	// removals holds what the agent knows of every container created with
	// AutoRemove, by current name.
	removals map[runtime.ContainerID]*autoRemoval // guarded by mu
	// wg counts running supervisor and auto-remove goroutines; Close waits
	// for them.
	wg sync.WaitGroup
	// events records what happens to containers, images, networks and
	// volumes through the APIs, for docker events.
	events *eventlog.Log[api.Event]
	// ev is rt as the type it is, for the APIs' runtime, which builds on
	// it.
	ev eventRuntime
	// dying are the containers whose end a goroutine waits for, to record
	// its die event, with the start of the run it waits for.
	dying map[runtime.ContainerID]time.Time // guarded by mu
	// bg is the context of the agent's own goroutines; Close cancels it.
	bg     context.Context
	stopBG context.CancelFunc

	closed atomic.Bool
}

// New takes the root's lock, opens the deployment state, wraps each runtime
// in the metrics decorator and combines them (in the given order; the first
// is the primary), finds the workloads that survived a previous agent and
// resumes supervising the replicas of deployed services.
//
// cfg must have passed Validate. A second agent on the same root fails at
// once with an error wrapping runtime.ErrFailedPrecondition. Close the
// Agent (or let Serve return) to release the root.
func New(ctx context.Context, cfg Config, runtimes []runtime.Containers, opts ...Option) (*Agent, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if len(runtimes) == 0 {
		return nil, fmt.Errorf("agent: no runtimes: enable at least one, such as runc or wasm: %w", runtime.ErrInvalidArgument)
	}
	o := defaultOptions()
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	if o.logger == nil {
		o.logger = cfg.Logger(os.Stderr)
	}
	lock := o.lock
	if lock == nil {
		l, err := LockRoot(cfg.Root)
		if err != nil {
			return nil, err
		}
		lock = l
	}
	a := &Agent{
		cfg:           cfg,
		opts:          o,
		log:           o.logger,
		lock:          lock,
		metrics:       newMetrics(),
		supervisors:   map[runtime.ContainerID]*supervisor{},
		monitors:      map[runtime.ContainerID]*healthMonitor{},
		crons:         map[string]*cronJob{},
		scalers:       map[string]*scaleLoop{},
		balancers:     map[string]*balancer{},
		draining:      map[runtime.ContainerID]bool{},
		unbalanceable: map[string]bool{},
		removals:      map[runtime.ContainerID]*autoRemoval{},
		dying:         map[runtime.ContainerID]time.Time{},
		events:        eventlog.New(eventsKept, func(e api.Event) time.Time { return e.Time }),
		healthClient: &http.Client{
			Transport:     &http.Transport{DisableKeepAlives: true, Proxy: nil},
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
	a.bg, a.stopBG = context.WithCancel(context.Background())
	if err := a.init(ctx, runtimes); err != nil {
		if a.state != nil {
			_ = a.state.close()
		}
		_ = lock.Release()
		a.stopBG()
		return nil, err
	}
	return a, nil
}

func (a *Agent) init(ctx context.Context, runtimes []runtime.Containers) error {
	seen := map[string]bool{}
	wrapped := make([]runtime.Containers, 0, len(runtimes))
	for _, rt := range runtimes {
		if rt == nil {
			return fmt.Errorf("agent: runtime %d is nil: %w", len(wrapped), runtime.ErrInvalidArgument)
		}
		if seen[rt.Name()] {
			return fmt.Errorf("agent: two runtimes are named %q; give each a distinct name: %w", rt.Name(), runtime.ErrInvalidArgument)
		}
		seen[rt.Name()] = true
		wrapped = append(wrapped, a.metrics.wrap(rt))
	}
	copts := []composite.Option{composite.WithLogger(a.log), composite.WithRemedy(daemonRemedy)}
	if a.opts.images != nil {
		copts = append(copts, composite.WithImages(a.metrics.wrapImages("images", a.opts.images)))
	}
	if a.opts.inspector != nil {
		copts = append(copts, composite.WithInspector(a.opts.inspector))
	}
	// composite.New lists every runtime's containers, so the dispatch
	// records of workloads a previous agent made are back before resume.
	rt, err := composite.New(ctx, wrapped, copts...)
	if err != nil {
		return fmt.Errorf("agent: combine runtimes: %w", err)
	}
	// Everything the agent does to containers and images is an event.
	a.ev = eventRuntime{Runtime: rt, a: a}
	a.rt = a.ev
	a.runtimes = wrapped
	if a.state, err = openState(a.cfg.Root); err != nil {
		return err
	}
	if a.handler, err = a.newHandler(); err != nil {
		return fmt.Errorf("agent: API: %w", err)
	}
	dopts := []docker.Option{docker.WithLogger(a.log), docker.WithVersion(a.opts.version),
		docker.WithRoot(a.cfg.Root), docker.WithRuntimeLister(a), docker.WithEvents(a)}
	if a.opts.networks != nil {
		dopts = append(dopts, docker.WithNetworks(networks{a.opts.networks}))
	}
	if a.opts.volumes != nil {
		dopts = append(dopts, docker.WithVolumes(nodeVolumes{a}))
	}
	if a.dockerHandler, err = docker.New(a.api(), dopts...); err != nil {
		return fmt.Errorf("agent: Docker API: %w", err)
	}
	criOpts := []cri.Option{cri.WithLogger(a.log), cri.WithVersion(a.opts.version), cri.WithRoot(a.cfg.Root), cri.WithRuntimeLister(a), cri.WithEvents(a)}
	if a.opts.networks != nil {
		criOpts = append(criOpts, cri.WithNetworks(a.opts.networks))
	}
	criOpts = append(criOpts, a.opts.criOptions...)
	if a.cri, err = cri.New(a.api(), criOpts...); err != nil {
		return fmt.Errorf("agent: CRI: %w", err)
	}
	return a.resume(ctx)
}

// Runtime returns the combined runtime the agent serves, for callers in the
// same process.
func (a *Agent) Runtime() runtime.Runtime { return a.rt }

// Handler returns the agent's whole HTTP API: the container and image API,
// /metrics and the deployment endpoints. Serve serves it on the unix socket;
// use it directly to serve elsewhere (TLS) or in tests.
func (a *Agent) Handler() http.Handler { return a.handler }

// Close stops every supervisor, closes the state and releases the root. It
// leaves workloads running: their shims own them, and the next agent on the
// root resumes supervising them. Close is idempotent.
func (a *Agent) Close() error {
	if !a.closed.CompareAndSwap(false, true) {
		return nil
	}
	// Wait for an Up or Down in flight: it may still start supervisors and
	// write the state.
	a.deployMu.Lock()
	defer a.deployMu.Unlock()
	a.mu.Lock()
	for _, s := range a.supervisors {
		s.cancel()
	}
	for _, m := range a.monitors {
		m.cancel()
	}
	for _, j := range a.crons {
		j.cancel()
	}
	for _, l := range a.scalers {
		l.cancel()
	}
	for _, b := range a.balancers {
		b.ln.Close() // its connections end with their clients
	}
	a.mu.Unlock()
	a.stopBG()
	a.wg.Wait()
	return errors.Join(a.state.close(), a.lock.Release())
}
