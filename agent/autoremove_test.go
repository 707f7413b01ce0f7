package agent

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/switchyard/switchyard/api/client"
	"github.com/switchyard/switchyard/internal/testutil"
	"github.com/switchyard/switchyard/runtime"
	"github.com/switchyard/switchyard/runtime/runtimetest"
)

func autoRemoveSpec() *runtime.CreateSpec {
	cs := runtimetest.FakeSpec(runtimetest.Workload{UntilStopped: true})
	cs.AutoRemove = true
	return cs
}

// startAutoRemove creates id with AutoRemove through the API and starts it.
func startAutoRemove(t *testing.T, c *client.Client, id runtime.ContainerID) {
	t.Helper()
	if err := c.Create(t.Context(), id, autoRemoveSpec()); err != nil {
		t.Fatal(err)
	}
	if err := c.Start(t.Context(), id); err != nil {
		t.Fatal(err)
	}
}

func gone(f *runtimetest.Fake, id runtime.ContainerID) func() bool {
	return func() bool {
		_, err := f.State(context.Background(), id)
		return errors.Is(err, runtime.ErrNotFound)
	}
}

// TestAutoRemoveWaitsForItsFollower: an exited auto-remove container is
// kept while a follower holds it (the API's log stream does, until it has
// sent the last line), past the grace, and removed once it lets go.
func TestAutoRemoveWaitsForItsFollower(t *testing.T) {
	f := runtimetest.NewFake("fake")
	a := mustNew(t, testConfig(t), f)
	c, _ := newHTTPClient(t, a)
	id := runtime.ContainerID{Service: "rm", Replica: 0}
	startAutoRemove(t, c, id)
	release := a.holdRemoval(id)
	if err := f.Exit(id, 3); err != nil {
		t.Fatal(err)
	}
	if testutil.Poll(autoRemoveGrace+500*time.Millisecond, gone(f, id)) {
		t.Fatal("the container was removed while a follower held it")
	}
	release()
	release() // idempotent: a stream may be closed twice
	testutil.Eventually(t, 5*time.Second, "removal once the follower let go", gone(f, id))
}

func TestAutoRemoveAfterGraceWithoutFollower(t *testing.T) {
	f := runtimetest.NewFake("fake")
	a := mustNew(t, testConfig(t), f)
	c, _ := newHTTPClient(t, a)
	id := runtime.ContainerID{Service: "rm", Replica: 0}
	plain := runtime.ContainerID{Service: "keep", Replica: 0}
	if err := c.Create(t.Context(), id, autoRemoveSpec()); err != nil {
		t.Fatal(err)
	}
	if err := c.Create(t.Context(), plain, runtimetest.FakeSpec(runtimetest.Workload{UntilStopped: true})); err != nil {
		t.Fatal(err)
	}
	for _, x := range []runtime.ContainerID{id, plain} {
		if err := c.Start(t.Context(), x); err != nil {
			t.Fatal(err)
		}
	}
	removed := make(chan runtime.WaitOutcome, 1)
	go func() {
		o, _ := c.WaitOutcome(t.Context(), id, runtime.WaitRemoved)
		removed <- o
	}()
	exited := time.Now()
	for _, x := range []runtime.ContainerID{id, plain} {
		if err := f.Exit(x, 5); err != nil {
			t.Fatal(err)
		}
	}
	testutil.Eventually(t, autoRemoveGrace+5*time.Second, "removal after the grace", gone(f, id))
	if d := time.Since(exited); d < autoRemoveGrace-100*time.Millisecond {
		t.Errorf("removed %v after the exit, before the grace of %v for a follower to come", d, autoRemoveGrace)
	}
	select {
	case o := <-removed:
		if o.ExitCode != 5 {
			t.Errorf("WaitOutcome(removed) = %+v, want exit code 5", o)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("WaitOutcome(removed) did not return after the removal")
	}
	if _, err := f.State(t.Context(), plain); err != nil {
		t.Errorf("a container without AutoRemove was touched: %v", err)
	}
}

func TestAutoRemoveAfterFailedStart(t *testing.T) {
	f := runtimetest.NewFake("fake")
	a := mustNew(t, testConfig(t), f)
	c, _ := newHTTPClient(t, a)
	id := runtime.ContainerID{Service: "rm", Replica: 0}
	if err := c.Create(t.Context(), id, autoRemoveSpec()); err != nil {
		t.Fatal(err)
	}
	f.FailOn("start", errors.New("boom"))
	if err := c.Start(t.Context(), id); err == nil {
		t.Fatal("Start succeeded, want the injected failure")
	}
	if !gone(f, id)() {
		t.Fatal("an auto-remove container whose start failed was kept")
	}
}

func TestAutoRemoveResumesAfterRestart(t *testing.T) {
	f := runtimetest.NewFake("fake")
	cfg := testConfig(t)
	a := mustNew(t, cfg, f)
	c, _ := newHTTPClient(t, a)
	ran := runtime.ContainerID{Service: "ran", Replica: 0}
	pending := runtime.ContainerID{Service: "pending", Replica: 0}
	for _, id := range []runtime.ContainerID{ran, pending} {
		if err := c.Create(t.Context(), id, autoRemoveSpec()); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Start(t.Context(), ran); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Exit(ran, 0); err != nil { // while no agent runs
		t.Fatal(err)
	}
	mustNew(t, cfg, f)
	testutil.Eventually(t, autoRemoveGrace+5*time.Second, "the restarted agent to remove the exited container", gone(f, ran))
	if st, err := f.State(t.Context(), pending); err != nil || st.Status != runtime.StatusPending {
		t.Errorf("a never-started auto-remove container after the restart: %v, %v; want it kept, pending", st, err)
	}
}

func TestAutoRemoveFollowsARename(t *testing.T) {
	f := runtimetest.NewFake("fake")
	a := mustNew(t, testConfig(t), f)
	c, _ := newHTTPClient(t, a)
	id := runtime.ContainerID{Service: "old", Replica: 0}
	to := runtime.ContainerID{Service: "new", Replica: 0}
	startAutoRemove(t, c, id)
	if err := c.Rename(t.Context(), id, to); err != nil {
		t.Fatal(err)
	}
	if err := f.Exit(to, 0); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, autoRemoveGrace+5*time.Second, "the renamed container to be removed", gone(f, to))
}
