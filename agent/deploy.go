package agent

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/switchyard/switchyard/api"
	"github.com/switchyard/switchyard/runtime"
	"github.com/switchyard/switchyard/spec"
)

// replicaID is the id of replica n of a deployment's service.
func replicaID(deployment, service string, n uint32) runtime.ContainerID {
	return runtime.ContainerID{Service: deployment + "-" + service, Replica: n}
}

// isService reports whether the replicas of svc are restarted when they
// exit: those of a service are, a job's and a cron service's are not.
func isService(svc *spec.ServiceSpec) bool {
	return svc == nil || svc.RType != spec.RTypeJob && svc.RType != spec.RTypeCron
}

// replicasOf is how many replicas svc asks for; an unset scale means one.
// A cron service has none until it is run on its schedule (spec warns that
// this node does not yet); adaptive scaling runs its minimum.
func replicasOf(svc *spec.ServiceSpec) uint32 {
	switch {
	case svc.RType == spec.RTypeCron:
		return 0
	case svc.Scale.Mode == "adaptive":
		return svc.Scale.Replicas
	case svc.Scale.Replicas == 0:
		return 1
	}
	return svc.Scale.Replicas
}

// validateDeployment checks d with the spec's own rules and, beyond them,
// that every "<deployment>-<service>" can name a container. The error wraps
// runtime.ErrInvalidArgument (spec.ErrInvalid is that kind).
func validateDeployment(d *spec.Deployment) error {
	if d == nil {
		return fmt.Errorf("deployment: no spec given: %w", runtime.ErrInvalidArgument)
	}
	if err := d.Validate(); err != nil {
		return fmt.Errorf("deployment %q: %w", d.Name, err)
	}
	for _, name := range d.ServiceNames {
		if err := runtime.ValidateServiceName(d.Name + "-" + name); err != nil {
			return fmt.Errorf("deployment %s: service %s: its containers are named %s-%s-rep-N: %w", d.Name, name, d.Name, name, err)
		}
	}
	return nil
}

// specHash identifies what a replica is made from: the service spec with
// the fields that do not shape the container left out (pull policy, registry
// credentials, scale), and the image digest the pull reported, so that a
// moved tag pulled with policy always replaces the replicas too.
func specHash(name string, svc *spec.ServiceSpec, digest string) string {
	c := *svc
	c.Name = name
	// Defaults count as written, so a spec sent with them filled in (the
	// parser does) and one without them hash alike.
	c.Endpoints = slices.Clone(c.Endpoints)
	c.ApplyDefaults()
	c.Image.PullPolicy = ""
	c.RegistryAuth = nil
	c.Scale = spec.Scale{}
	if len(c.Env) == 0 {
		c.Env = nil
	}
	if c.Platform != nil {
		p := spec.Normalize(*c.Platform)
		c.Platform = &p
	}
	// The wire form has stable field names and encoding/json sorts map
	// keys, so equal specs give equal bytes.
	b, err := json.Marshal(api.FromServiceSpec(&c))
	if err != nil {
		panic(fmt.Sprintf("agent: encode service spec: %v", err)) // plain data cannot fail to encode
	}
	h := sha256.New()
	h.Write(b)
	h.Write([]byte{0})
	h.Write([]byte(digest))
	return hex.EncodeToString(h.Sum(nil))
}

// withoutAuth returns a copy of svc without registry credentials, which are
// never written to the state file.
func withoutAuth(svc *spec.ServiceSpec) *spec.ServiceSpec {
	c := *svc
	c.RegistryAuth = nil
	return &c
}

// Up deploys d, converging on what an earlier Up of the same name made:
// it pulls each service's image, creates and starts missing replicas,
// removes surplus ones, replaces the replicas of services whose spec (or
// image digest) changed and removes services no longer in d. An unchanged
// spec changes nothing. Replicas of rtype service are restarted when they
// exit; job replicas are left exited.
//
// On error the state records what exists, and the next Up or Down picks up
// from there; Result lists what was done before the error.
func (a *Agent) Up(ctx context.Context, d *spec.Deployment) (Result, error) {
	if err := validateDeployment(d); err != nil {
		return Result{}, err
	}
	d, err := a.resolveRefs(d)
	if err != nil {
		return Result{}, err
	}
	a.deployMu.Lock()
	defer a.deployMu.Unlock()
	res := Result{Deployment: d.Name}
	if a.closed.Load() {
		return res, fmt.Errorf("deployment %s: the agent is shutting down; retry when it is back: %w", d.Name, runtime.ErrUnavailable)
	}
	rec, err := a.state.get(d.Name)
	switch {
	case errIsNotFound(err):
		rec = &deploymentRecord{Name: d.Name, Services: map[string]*serviceRecord{}}
	case err != nil:
		return res, err
	}
	// Each service after those it depends on (rec.Order, which down
	// reverses, is this order too).
	order := d.StartOrder()
	rec.Order = slices.Clone(order)
	var total uint32
	for _, name := range order {
		svc := d.Services[name]
		if old := rec.Services[name]; old != nil && old.Spec != nil && svc.Scale.Mode == "manual" && old.Spec.Scale.Mode == "manual" {
			// A manual service keeps the count switchyard scale gave it.
			c := *svc
			c.Scale.Replicas = old.Replicas
			svc = &c
			d.Services[name] = svc
		}
		if old := rec.Services[name]; old != nil && old.Spec != nil && svc.Scale.Mode == "adaptive" && old.Spec.Scale.Mode == "adaptive" {
			// An adaptive one keeps what the autoscaler chose, within the
			// new bounds.
			c := *svc
			c.Scale.Replicas = min(max(old.Replicas, svc.Scale.Min), svc.Scale.Max)
			svc = &c
			d.Services[name] = svc
		}
		total += replicasOf(svc)
		if err := a.waitDependencies(ctx, d, name, &res); err != nil {
			return res, errors.Join(err, a.state.put(rec))
		}
		next, err := a.upService(ctx, d.Name, name, svc, rec.Services[name], &res)
		if next != nil {
			rec.Services[name] = next
		}
		if err != nil {
			return res, errors.Join(err, a.state.put(rec))
		}
		if err := a.state.put(rec); err != nil {
			return res, err
		}
	}
	// Services no longer in the spec, in a stable order.
	var gone []string
	for name := range rec.Services {
		if _, ok := d.Services[name]; !ok {
			gone = append(gone, name)
		}
	}
	sort.Strings(gone)
	for _, name := range gone {
		a.unscheduleCron(d.Name, name)
		a.stopAutoscale(d.Name, name)
		a.unbalance(d.Name, name)
		left, err := a.removeReplicas(ctx, d.Name, name, rec.Services[name].Spec, 0, rec.Services[name].Replicas, &res)
		if err != nil {
			rec.Services[name].Replicas = left
			rec.Services[name].Hash = ""
			return res, errors.Join(err, a.state.put(rec))
		}
		delete(rec.Services, name)
		if err := a.state.put(rec); err != nil {
			return res, err
		}
	}
	a.metrics.replicas.WithLabelValues(d.Name).Set(float64(total))
	a.log.Info("deployment up", "deployment", d.Name, "created", len(res.Created), "removed", len(res.Removed),
		"replaced", len(res.Replaced), "unchanged", len(res.Unchanged))
	return res, nil
}

// upService converges one service and returns its new record (nil when a
// new service failed before anything was made). On error the
// record is marked dirty (empty hash, so the next Up replaces every replica)
// and counts every replica that may exist.
func (a *Agent) upService(ctx context.Context, deployment, name string, svc *spec.ServiceSpec, old *serviceRecord, res *Result) (*serviceRecord, error) {
	var had uint32
	if old != nil {
		had = old.Replicas
	}
	want := replicasOf(svc)
	dirty := &serviceRecord{Replicas: max(had, want), Spec: withoutAuth(svc)}
	switch {
	case ctx.Value(autoscaling{}) != nil:
		// The autoscaler's own change: its loop goes on.
	case svc.Scale.Mode == "adaptive" && isService(svc):
		defer a.autoscale(deployment, name, svc)
	default:
		a.stopAutoscale(deployment, name)
	}
	if svc.RType == spec.RTypeCron {
		// A cron service's replica is made by its first run; up keeps the
		// last run's (its logs) while the spec is the same. Its schedule
		// starts once the replicas are converged (deployMu is held: the
		// loop's runs wait for this up).
		defer a.scheduleCron(deployment, name, svc, lastRunOf(old))
	} else {
		a.unscheduleCron(deployment, name)
	}
	info, err := a.rt.Pull(ctx, svc.Image.Name, runtime.PullOptions{
		Policy: svc.Image.PullPolicy, Auth: svc.RegistryAuth, Platform: svc.Platform,
	})
	if err != nil {
		// Nothing was touched: keep what was recorded (nil for a new service).
		return old, fmt.Errorf("deployment %s: service %s: pull %s: %w", deployment, name, svc.Image.Name, err)
	}
	a.noteWasm(deployment, name, isWasmImage(svc, info.Platforms))
	next := &serviceRecord{Hash: specHash(name, svc, info.Digest), Replicas: want, Spec: withoutAuth(svc), ImageDigest: info.Digest}
	dirty.ImageDigest = info.Digest
	if old != nil {
		next.Runs, dirty.Runs = old.Runs, old.Runs
	}
	same := old != nil && old.Hash == next.Hash
	if svc.RType == spec.RTypeCron && same {
		want, next.Replicas, next.LastRun = had, had, old.LastRun
	}
	for n := range max(had, want) {
		id := replicaID(deployment, name, n)
		var err error
		switch {
		case n >= want: // surplus
			_, err = a.removeReplicas(ctx, deployment, name, oldSpec(old, svc), n, n+1, res)
		case n >= had: // new: made together, below
			continue
		case same:
			err = a.keepReplica(ctx, id, deployment, name, svc, res)
		default: // changed: replace
			if err = a.removeReplica(ctx, id, a.stopTimeoutOf(oldSpec(old, svc))); err == nil {
				if err = a.createReplica(ctx, id, deployment, name, svc); err == nil {
					res.Replaced = append(res.Replaced, id.String())
					if svc.RType == spec.RTypeJob {
						a.watchRun(id, deployment, name, "up")
					}
					// One at a time, each new replica healthy before the
					// next old one goes: the others serve meanwhile.
					if isService(svc) && svc.Health != nil && min(had, want) > 1 {
						err = a.waitHealthy(ctx, id, svc, n, min(had, want))
					}
				}
			}
		}
		if err != nil {
			return dirty, fmt.Errorf("deployment %s: service %s: %w", deployment, name, err)
		}
	}
	if err := a.createReplicas(ctx, deployment, name, svc, had, want, res); err != nil {
		return dirty, fmt.Errorf("deployment %s: service %s: %w", deployment, name, err)
	}
	if err := a.balance(deployment, name, svc); err != nil {
		return next, fmt.Errorf("deployment %s: %w", deployment, err)
	}
	return next, nil
}

// replicaStarts bounds how many new replicas of one service are created
// and started at once: a start is mostly runc's and the kernel's work, so
// a few overlap well on a small machine, and more only queue.
const replicaStarts = 4

// createReplicas creates and starts the new replicas from..to-1 of a
// service, replicaStarts at a time, and lists the ones made in res in
// replica order. Once every start under way has ended, the first error
// is returned (with how many failed); the replicas made are listed all
// the same.
func (a *Agent) createReplicas(ctx context.Context, deployment, name string, svc *spec.ServiceSpec, from, to uint32, res *Result) error {
	if from >= to {
		return nil
	}
	errs := make([]error, to-from)
	sem := make(chan struct{}, replicaStarts)
	var wg sync.WaitGroup
	for n := from; n < to; n++ {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			errs[n-from] = a.createReplica(ctx, replicaID(deployment, name, n), deployment, name, svc)
		}()
	}
	wg.Wait()
	var first error
	failed := 0
	for n := from; n < to; n++ {
		if errs[n-from] != nil {
			if first == nil {
				first = errs[n-from]
			}
			failed++
			continue
		}
		id := replicaID(deployment, name, n)
		res.Created = append(res.Created, id.String())
		if svc.RType == spec.RTypeJob {
			a.watchRun(id, deployment, name, "up")
		}
	}
	if failed > 1 {
		return fmt.Errorf("%d of %d new replicas failed; the first: %w", failed, to-from, first)
	}
	return first
}

// keepReplica leaves an existing replica of an unchanged service as it is,
// recreating it when it has disappeared and making sure a service replica
// is supervised.
func (a *Agent) keepReplica(ctx context.Context, id runtime.ContainerID, deployment, name string, svc *spec.ServiceSpec, res *Result) error {
	_, err := a.rt.State(ctx, id)
	switch {
	case errors.Is(err, runtime.ErrNotFound):
		if err := a.createReplica(ctx, id, deployment, name, svc); err != nil {
			return err
		}
		res.Created = append(res.Created, id.String())
		return nil
	case err != nil:
		return fmt.Errorf("container %s: state: %w", id, err)
	}
	if isService(svc) {
		a.supervise(id, time.Time{}, policyOf(svc))
		a.watchHealth(id, svc)
		// up declares the replica running: one stopped by hand starts again.
		a.setUserStopped(id, false)
	}
	res.Unchanged = append(res.Unchanged, id.String())
	return nil
}

// createReplica creates and starts one replica of service name of
// deployment, and supervises it when it is a service replica. On its
// network the deployment's containers find it by the service's name too,
// as compose and ZLayer services find each other.
func (a *Agent) createReplica(ctx context.Context, id runtime.ContainerID, deployment, name string, svc *spec.ServiceSpec) error {
	// A loop still watching a replica of this name that vanished would keep
	// the new one from getting its own; end it first.
	a.unsupervise(id)
	cs := svc.CreateSpec()
	if err := a.withSecrets(cs, svc); err != nil {
		return fmt.Errorf("container %s: %w", id, err)
	}
	if svc.Lifecycle != nil && svc.Lifecycle.DeleteOnExit && !isService(svc) {
		// A job's run is removed once it has ended, as run --rm.
		cs.AutoRemove = true
	}
	if a.balancedHere(deployment, name, svc) {
		// One host port, one holder: the agent's balancer holds a
		// service's tcp endpoints and spreads their connections over
		// the replicas; what is left (udp, port_mappings) the first
		// replica publishes (spec warns of it for more than one).
		var keep []runtime.PortMapping
		for _, p := range cs.Network.Ports {
			if p.Proto() == "udp" || !isBalancedPort(svc, p) {
				keep = append(keep, p)
			}
		}
		cs.Network.Ports = keep
	}
	if id.Replica > 0 {
		cs.Network.Ports = nil
	}
	// Found by its service's name by the deployment's own containers.
	cs.Network.Aliases = append(cs.Network.Aliases, name)
	cs.Network.Group = deployment
	if err := a.rt.Create(ctx, id, cs); err != nil {
		if errors.Is(err, runtime.ErrAlreadyExists) {
			return fmt.Errorf("container %s: create: %w (a container of that name exists that this deployment did not make; remove it with `switchyard rm -f %s` and run up again)", id, err, id)
		}
		return fmt.Errorf("container %s: create: %w", id, err)
	}
	if err := a.runInit(ctx, id, deployment, svc); err != nil {
		if action := initFailureAction(svc); isService(svc) && (action == "restart" || action == "backoff") {
			// The replica waits, made but not started, while its init is
			// tried again; up goes on.
			a.log.Warn("init failed; trying it again before the replica starts", "container", id.String(), "on_init_failure", action, "err", err)
			a.retryInit(id, deployment, svc, action)
			return nil
		}
		return fmt.Errorf("container %s: %w", id, err)
	}
	if svc.Health != nil && svc.Health.Check.Type == "command" {
		// Checked before the start: a wasm module has no shell to run it.
		if d, err := a.rt.Inspect(ctx, id); err == nil && d.Runtime == "wasm" {
			return fmt.Errorf("container %s: health check: a command check runs in the container, and a wasm module has no shell to run it in; use a tcp or http check: %w", id, runtime.ErrNotSupported)
		}
	}
	if err := a.rt.Start(ctx, id); err != nil {
		return fmt.Errorf("container %s: start: %w", id, err)
	}
	if isService(svc) {
		a.supervise(id, time.Now(), policyOf(svc))
		a.watchHealth(id, svc)
	}
	a.log.Debug("replica created", "container", id.String(), "image", svc.Image.Name)
	return nil
}

// removeReplica stops supervising id, stops it (SIGTERM, then SIGKILL after
// the stop timeout) and removes it. A replica that is already gone is not
// an error.
func (a *Agent) removeReplica(ctx context.Context, id runtime.ContainerID, timeout time.Duration) error {
	a.drain(id)
	defer a.undrain(id)
	a.unwatchHealth(id)
	a.unsupervise(id)
	err := a.rt.Stop(ctx, id, timeout)
	if errors.Is(err, runtime.ErrNotFound) {
		return nil
	}
	if err != nil {
		a.log.Warn("stop failed; removing by force", "container", id.String(), "err", err)
	}
	if err := a.rt.Remove(ctx, id, true); err != nil && !errors.Is(err, runtime.ErrNotFound) {
		return fmt.Errorf("container %s: remove: %w", id, err)
	}
	a.log.Debug("replica removed", "container", id.String())
	return nil
}

// removeReplicas removes replicas from to to-1 of a service, at most
// removeParallel at once, so that a down takes about one stop grace period
// however many replicas there are, and returns how many replicas may still
// exist (one more than the highest that failed). A removal, once begun, is
// finished even when the caller goes away (a CLI interrupted mid-down):
// half of one would leave a container that nothing tracks.
func (a *Agent) removeReplicas(ctx context.Context, deployment, service string, svc *spec.ServiceSpec, from, to uint32, res *Result) (uint32, error) {
	return a.removeReplicasWith(ctx, make(chan struct{}, removeParallel), deployment, service, svc, from, to, res)
}

// stopTimeoutOf is how long a stop of svc's replicas waits before it kills:
// the service's stop_grace_period, else the agent's default.
func (a *Agent) stopTimeoutOf(svc *spec.ServiceSpec) time.Duration {
	if svc != nil && svc.StopGracePeriod != nil {
		return time.Duration(*svc.StopGracePeriod)
	}
	return a.opts.stopTimeout
}

// oldSpec is the spec the running replicas were made from, when the record
// has it, else the new one.
func oldSpec(old *serviceRecord, svc *spec.ServiceSpec) *spec.ServiceSpec {
	if old != nil && old.Spec != nil {
		return old.Spec
	}
	return svc
}

// removeReplicasWith is removeReplicas sharing sem, the bound on removals
// at once, with other services' removals.
func (a *Agent) removeReplicasWith(ctx context.Context, sem chan struct{}, deployment, service string, svc *spec.ServiceSpec, from, to uint32, res *Result) (uint32, error) {
	ctx = context.WithoutCancel(ctx)
	if to <= from {
		return from, nil
	}
	errs := make([]error, to-from)
	var wg sync.WaitGroup
	for n := to; n > from; n-- {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			errs[n-1-from] = a.removeReplica(ctx, replicaID(deployment, service, n-1), a.stopTimeoutOf(svc))
		}()
	}
	wg.Wait()
	left := from
	var failed []error
	for n := to; n > from; n-- {
		id := replicaID(deployment, service, n-1)
		if err := errs[n-1-from]; err != nil {
			left = max(left, n)
			failed = append(failed, err)
			continue
		}
		res.Removed = append(res.Removed, id.String())
	}
	if len(failed) > 0 {
		return left, fmt.Errorf("deployment %s: service %s: %w", deployment, service, errors.Join(failed...))
	}
	return from, nil
}

// removeParallel bounds the replicas removed at once.
const removeParallel = 16

// lockDeploy takes deployMu for a goroutine of the agent's own (a
// schedule, an autoscaler, a supervisor) unless ctx ends or the agent
// closes first: an up, a down or Close that holds it may be waiting for
// that very goroutine to end.
func (a *Agent) lockDeploy(ctx context.Context) bool {
	for !a.deployMu.TryLock() {
		if a.closed.Load() || !pause(ctx, 10*time.Millisecond) {
			return false
		}
	}
	return true
}

// isBalancedPort reports whether p is a public endpoint the balancer
// serves.
func isBalancedPort(svc *spec.ServiceSpec, p runtime.PortMapping) bool {
	for _, e := range balancedEndpoints(svc) {
		if e.Port == p.HostPort {
			return true
		}
	}
	return false
}
