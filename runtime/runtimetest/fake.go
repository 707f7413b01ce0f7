package runtimetest

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/containerd/platforms"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/switchyard/switchyard/runtime"
)

var _ runtime.Runtime = (*Fake)(nil)

// Call is one recorded call to a Fake.
type Call struct {
	// Method is the method's name in lower case: "create", "start",
	// "waitoutcome", "pull", "listimages", ...
	Method string
	// ID is the container the call was about; zero for image and list calls.
	ID runtime.ContainerID
	// Ref is the image reference of an image call (the source for tagimage).
	Ref string
	// Policy is the pull policy a pull call passed through.
	Policy runtime.PullPolicy
}

// methodNames are the names FailOn accepts, so that a typo fails loudly.
const methodNames = "create start stop kill remove rename syncvolumes " +
	"state inspect list stats pid ip portoverride " +
	"wait waitoutcome logs followlogs exec execstream " +
	"pull listimages removeimage tagimage pruneimages"

// Fake is an in-memory runtime.Runtime for tests. Its containers follow the
// contract's state machine (create → pending, start → running, stop and kill
// → exited with 128+signal, remove), run the workloads FakeSpec describes,
// and keep logs that tests can add to. Every call is recorded, and any
// method can be made to fail. A Fake is safe for concurrent use.
type Fake struct {
	name      string
	platforms []ocispec.Platform

	mu         sync.Mutex
	containers map[runtime.ContainerID]*fakeContainer // guarded by mu
	images     []runtime.ImageInfo                    // guarded by mu
	failures   map[string]error                       // guarded by mu
	calls      []Call                                 // guarded by mu
	execFunc   ExecFunc                               // guarded by mu
	nextPID    int                                    // guarded by mu
}

// ExecFunc answers a Fake's Exec and ExecStream for a running container.
type ExecFunc func(id runtime.ContainerID, argv []string) (runtime.ExecResult, error)

// fakeContainer is one container's state. Every change closes changed and
// replaces it, which wakes waiters and log followers.
type fakeContainer struct {
	id       runtime.ContainerID
	spec     *runtime.CreateSpec
	created  time.Time
	state    runtime.State
	outcome  *runtime.WaitOutcome
	exits    int // number of exits so far, for WaitNextExit
	removed  bool
	pid      int
	started  time.Time
	finished time.Time
	logs     []runtime.LogEntry
	changed  chan struct{}
}

// NewFake returns a Fake named name that serves plats (the host's default
// platform when none are given).
func NewFake(name string, plats ...ocispec.Platform) *Fake {
	if len(plats) == 0 {
		plats = []ocispec.Platform{platforms.DefaultSpec()}
	}
	return &Fake{
		name:       name,
		platforms:  slices.Clone(plats),
		containers: make(map[runtime.ContainerID]*fakeContainer),
		failures:   make(map[string]error),
		nextPID:    1000,
	}
}

// Name implements runtime.Identity.
func (f *Fake) Name() string { return f.name }

// Platforms implements runtime.Identity.
func (f *Fake) Platforms() []ocispec.Platform {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.platforms)
}

// SetPlatforms changes what the Fake serves from now on, as a delegate's
// list changes when it comes back or is upgraded.
func (f *Fake) SetPlatforms(plats ...ocispec.Platform) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.platforms = slices.Clone(plats)
}

// FailOn makes every later call of method (a Call.Method name, any case)
// return err; a nil err clears it. It panics on a method the Fake does not
// have, because that is a mistake in the test.
func (f *Fake) FailOn(method string, err error) {
	m := strings.ToLower(method)
	if !slices.Contains(strings.Fields(methodNames), m) {
		panic(fmt.Sprintf("runtimetest: FailOn(%q): no such method; use one of: %s", method, methodNames))
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if err == nil {
		delete(f.failures, m)
		return
	}
	f.failures[m] = err
}

// Calls returns the calls made so far, oldest first.
func (f *Fake) Calls() []Call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

// ResetCalls forgets the calls recorded so far.
func (f *Fake) ResetCalls() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = nil
}

// SetExec makes fn answer Exec and ExecStream on running containers. Without
// it the Fake answers FakeExecArgv commands as they ask, and anything else
// with exit code 0 and no output.
func (f *Fake) SetExec(fn ExecFunc) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.execFunc = fn
}

// Exit makes the running container id exit by itself with code, as if its
// workload had ended.
func (f *Fake) Exit(id runtime.ContainerID, code int) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.containers[id]
	if !ok {
		return notFound(id)
	}
	if c.state.Status != runtime.StatusRunning {
		return fmt.Errorf("container %s is %s, not running: %w", id, c.state, runtime.ErrFailedPrecondition)
	}
	c.exit(runtime.OutcomeFromExitCode(code, time.Now()))
	return nil
}

// WriteLog appends a line to the container's log as if its workload had
// written it.
func (f *Fake) WriteLog(id runtime.ContainerID, stream runtime.LogStream, text string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.containers[id]
	if !ok {
		return notFound(id)
	}
	c.log(stream, text)
	return nil
}

// record notes a call and returns the error FailOn set for it. The caller
// holds f.mu.
func (f *Fake) record(c Call) error {
	f.calls = append(f.calls, c)
	return f.failures[c.Method]
}

// begin records a per-container call and finds its container. The caller
// holds f.mu.
func (f *Fake) begin(method string, id runtime.ContainerID) (*fakeContainer, error) {
	if err := f.record(Call{Method: method, ID: id}); err != nil {
		return nil, err
	}
	c, ok := f.containers[id]
	if !ok {
		return nil, notFound(id)
	}
	return c, nil
}

func notFound(id runtime.ContainerID) error {
	return fmt.Errorf("container %s: %w", id, runtime.ErrNotFound)
}

// notify wakes everyone waiting on a change of c.
func (c *fakeContainer) notify() {
	close(c.changed)
	c.changed = make(chan struct{})
}

func (c *fakeContainer) log(stream runtime.LogStream, text string) {
	c.logs = append(c.logs, runtime.LogEntry{Time: time.Now(), Stream: stream, Text: text})
	c.notify()
}

func (c *fakeContainer) exit(o runtime.WaitOutcome) {
	c.state = runtime.State{Status: runtime.StatusExited, ExitCode: o.ExitCode}
	c.outcome = &o
	c.exits++
	c.pid = 0
	c.finished = o.FinishedAt
	c.notify()
}

// Create implements runtime.Lifecycle.
func (f *Fake) Create(_ context.Context, id runtime.ContainerID, cs *runtime.CreateSpec) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record(Call{Method: "create", ID: id}); err != nil {
		return err
	}
	if err := id.Validate(); err != nil {
		return fmt.Errorf("container %s: %w", id, err)
	}
	if err := cs.Validate(); err != nil {
		return fmt.Errorf("container %s: %w", id, err)
	}
	if _, ok := f.containers[id]; ok {
		return fmt.Errorf("container %s: %w", id, runtime.ErrAlreadyExists)
	}
	f.containers[id] = &fakeContainer{
		id:      id,
		spec:    cs,
		created: time.Now(),
		state:   runtime.State{Status: runtime.StatusPending},
		changed: make(chan struct{}),
	}
	return nil
}

// Start implements runtime.Lifecycle. The workload writes its output at once
// and, unless it runs until stopped, exits at once.
func (f *Fake) Start(_ context.Context, id runtime.ContainerID) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, err := f.begin("start", id)
	if err != nil {
		return err
	}
	if c.state.Status == runtime.StatusRunning {
		return nil
	}
	f.nextPID++
	c.pid = f.nextPID
	c.state = runtime.State{Status: runtime.StatusRunning}
	c.outcome = nil
	c.started = time.Now()
	c.notify()
	w := workloadOf(c.spec)
	for _, l := range w.Stdout {
		c.log(runtime.Stdout, l)
	}
	for _, l := range w.Stderr {
		c.log(runtime.Stderr, l)
	}
	if !w.UntilStopped {
		c.exit(runtime.OutcomeFromExitCode(w.ExitCode, time.Now()))
	}
	return nil
}

// Stop implements runtime.Lifecycle: a running workload ends with SIGTERM
// (exit code 143) at once. Stopping a stopped container succeeds.
func (f *Fake) Stop(_ context.Context, id runtime.ContainerID, _ time.Duration) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, err := f.begin("stop", id)
	if err != nil {
		return err
	}
	if c.state.Status == runtime.StatusRunning {
		c.exit(runtime.OutcomeFromExitCode(128+int(runtime.SIGTERM), time.Now()))
	}
	return nil
}

// Kill implements runtime.Lifecycle: the workload ends with 128+signal,
// except for the signals whose default action is to be ignored.
func (f *Fake) Kill(_ context.Context, id runtime.ContainerID, signal string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, err := f.begin("kill", id)
	if err != nil {
		return err
	}
	sig, err := runtime.ParseSignal(signal)
	if err != nil {
		return fmt.Errorf("container %s: %w", id, err)
	}
	if c.state.Status != runtime.StatusRunning {
		return fmt.Errorf("container %s is %s, not running: %w", id, c.state, runtime.ErrFailedPrecondition)
	}
	switch sig {
	case 17, 18, 23, 28: // SIGCHLD, SIGCONT, SIGURG, SIGWINCH are ignored by default.
		return nil
	}
	c.exit(runtime.OutcomeFromExitCode(128+int(sig), time.Now()))
	return nil
}

// Remove implements runtime.Lifecycle.
func (f *Fake) Remove(_ context.Context, id runtime.ContainerID, force bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, err := f.begin("remove", id)
	if err != nil {
		return err
	}
	if c.state.Status == runtime.StatusRunning {
		if !force {
			return fmt.Errorf("container %s is running; stop it first or remove with force: %w", id, runtime.ErrFailedPrecondition)
		}
		c.exit(runtime.OutcomeFromExitCode(128+int(runtime.SIGKILL), time.Now()))
	}
	c.removed = true
	c.notify()
	delete(f.containers, id)
	return nil
}

// Rename implements runtime.Lifecycle.
func (f *Fake) Rename(_ context.Context, id, to runtime.ContainerID) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, err := f.begin("rename", id)
	if err != nil {
		return err
	}
	if err := to.Validate(); err != nil {
		return fmt.Errorf("container %s: rename to %s: %w", id, to, err)
	}
	if _, ok := f.containers[to]; ok {
		return fmt.Errorf("container %s: rename to %s: %w", id, to, runtime.ErrAlreadyExists)
	}
	delete(f.containers, id)
	c.id = to
	f.containers[to] = c
	return nil
}

// SyncVolumes implements runtime.Lifecycle; the Fake has nothing to copy.
func (f *Fake) SyncVolumes(_ context.Context, id runtime.ContainerID) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, err := f.begin("syncvolumes", id)
	return err
}

// State implements runtime.Inspector.
func (f *Fake) State(_ context.Context, id runtime.ContainerID) (runtime.State, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, err := f.begin("state", id)
	if err != nil {
		return runtime.State{}, err
	}
	return c.state, nil
}

// Inspect implements runtime.Inspector.
func (f *Fake) Inspect(_ context.Context, id runtime.ContainerID) (runtime.Details, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, err := f.begin("inspect", id)
	if err != nil {
		return runtime.Details{}, err
	}
	d := runtime.Details{
		Container:  f.container(c),
		Workdir:    c.spec.Workdir,
		StartedAt:  c.started,
		FinishedAt: c.finished,
		PID:        c.pid,
		Resources:  c.spec.Resources,
	}
	d.Env = slices.Clone(c.spec.Env)
	if c.outcome != nil {
		o := *c.outcome
		d.Outcome = &o
	}
	return d, nil
}

// container reports c as List does. The caller holds f.mu.
func (f *Fake) container(c *fakeContainer) runtime.Container {
	var p ocispec.Platform
	if len(f.platforms) > 0 {
		p = f.platforms[0]
	}
	if c.spec.Platform != nil {
		p = *c.spec.Platform
	}
	return runtime.Container{
		ID: c.id, Image: c.spec.Image, Platform: p, Runtime: f.name,
		State: c.state, Created: c.created, AutoRemove: c.spec.AutoRemove,
		Ports:   slices.Clone(c.spec.Network.Ports),
		Command: append(slices.Clone(c.spec.Entrypoint), c.spec.Args...),
		Labels:  c.spec.Labels,
	}
}

// List implements runtime.Inspector, in id order.
func (f *Fake) List(context.Context) ([]runtime.Container, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record(Call{Method: "list"}); err != nil {
		return nil, err
	}
	out := make([]runtime.Container, 0, len(f.containers))
	for _, c := range f.containers {
		out = append(out, f.container(c))
	}
	slices.SortFunc(out, func(a, b runtime.Container) int { return strings.Compare(a.ID.String(), b.ID.String()) })
	return out, nil
}

// Stats implements runtime.Inspector with a zero sample.
func (f *Fake) Stats(_ context.Context, id runtime.ContainerID) (runtime.Stats, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, err := f.begin("stats", id)
	if err != nil {
		return runtime.Stats{}, err
	}
	var cpu uint64
	return runtime.Stats{CPUUsageUsec: &cpu, MemoryLimit: uint64(max(c.spec.Resources.MemoryBytes, 0)), Timestamp: time.Now()}, nil
}

// PID implements runtime.Inspector: a made-up process id while running.
func (f *Fake) PID(_ context.Context, id runtime.ContainerID) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, err := f.begin("pid", id)
	if err != nil {
		return 0, err
	}
	return c.pid, nil
}

// IP implements runtime.Inspector; Fake containers have no address.
func (f *Fake) IP(_ context.Context, id runtime.ContainerID) (netip.Addr, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, err := f.begin("ip", id)
	return netip.Addr{}, err
}

// PortOverride implements runtime.Inspector; Fake containers have none.
func (f *Fake) PortOverride(_ context.Context, id runtime.ContainerID) (uint16, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, err := f.begin("portoverride", id)
	return 0, err
}
