package runc

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/images"
	"github.com/switchyard/switchyard/internal/testimages"
	"github.com/switchyard/switchyard/internal/testutil"
	"github.com/switchyard/switchyard/runtime"
	"github.com/switchyard/switchyard/runtimes/runc/shim"
)

// TestMain lets the test binary be the shim (and the agent of the takeover
// test) when re-executed with a role as its first argument.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case "shim":
			os.Exit(shim.Main(os.Args[2:]))
		case "agent":
			os.Exit(agentMain(os.Args[2:]))
		case "shim-stalled":
			stalledShim()
		case "shim-old":
			os.Exit(oldShim(os.Args[2:]))
		}
	}
	os.Exit(m.Run())
}

// busyboxRef is the reference tests store the busybox image under.
const busyboxRef = "test.invalid/busybox:latest"

// requireRoot skips tests that need to run containers.
func requireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("running containers needs root")
	}
}

// mustStore opens an image store under dir holding the busybox image.
func mustStore(t testing.TB, dir string) *images.Store {
	t.Helper()
	st, err := images.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.Write(context.Background(), busyboxRef, testimages.Busybox(t), images.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	return st
}

// testShim is the shim command of tests: this test binary in its shim role.
func testShim() Option { return WithShim(os.Args[0], "shim") }

// newTestRuntime returns a runtime over a fresh state root and store; every
// container left at the end is removed.
func newTestRuntime(t testing.TB, opts ...Option) *Runtime {
	t.Helper()
	requireRoot(t)
	dir := t.TempDir()
	st := mustStore(t, filepath.Join(dir, "images"))
	rt, err := New(filepath.Join(dir, "state"), st, append([]Option{testShim()}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		removeAll(t, rt)
		rt.Close()
	})
	return rt
}

// removeAll force-removes every container of rt.
func removeAll(t testing.TB, rt *Runtime) {
	t.Helper()
	list, err := rt.List(context.Background())
	if err != nil {
		t.Errorf("cleanup: List: %v", err)
		return
	}
	for _, c := range list {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		if err := rt.Remove(ctx, c.ID, true); err != nil && !errors.Is(err, runtime.ErrNotFound) {
			t.Errorf("cleanup: Remove(%s): %v", c.ID, err)
		}
		cancel()
	}
}

// shSpec is a service spec that runs script with busybox sh.
func shSpec(_, script string) *runtime.CreateSpec {
	return &runtime.CreateSpec{Image: busyboxRef, Entrypoint: []string{"sh", "-c", script}}
}

// untilStopped is a script tail that runs until SIGTERM, and ends at once
// then.
const untilStopped = `trap 'exit 143' TERM; while :; do sleep 1 & wait $!; done`

// untilStoppedSaying is untilStopped that says when it has set its trap.
const untilStoppedSaying = `trap 'exit 143' TERM; echo trap-set; while :; do sleep 1 & wait $!; done`

// waitTrapSet waits until an untilStoppedSaying workload has set its trap:
// a SIGTERM before that finds a PID 1 that ignores it.
func waitTrapSet(t testing.TB, rt *Runtime, id runtime.ContainerID) {
	t.Helper()
	testutil.Eventually(t, 10*time.Second, "the workload to set its trap", func() bool {
		return strings.Contains(logText(t, rt, id, runtime.Stdout), "trap-set")
	})
}

// mustRun creates and starts svc as id.
func mustRun(t testing.TB, rt *Runtime, id runtime.ContainerID, svc *runtime.CreateSpec) {
	t.Helper()
	ctx := context.Background()
	if err := rt.Create(ctx, id, svc); err != nil {
		t.Fatalf("Create(%s): %v", id, err)
	}
	if err := rt.Start(ctx, id); err != nil {
		t.Fatalf("Start(%s): %v", id, err)
	}
}

// mustWait waits for id's run to end.
func mustWait(t testing.TB, rt *Runtime, id runtime.ContainerID) runtime.WaitOutcome {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	o, err := rt.WaitOutcome(ctx, id, runtime.WaitNotRunning)
	if err != nil {
		t.Fatalf("WaitOutcome(%s): %v", id, err)
	}
	return o
}

// logText joins a container's log lines of one stream.
func logText(t testing.TB, rt *Runtime, id runtime.ContainerID, stream runtime.LogStream) string {
	t.Helper()
	entries, err := rt.Logs(context.Background(), id, runtime.TailAll)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, e := range entries {
		if e.Stream == stream {
			fmt.Fprintln(&b, e.Text)
		}
	}
	return b.String()
}

func cid(service string) runtime.ContainerID { return runtime.ContainerID{Service: service} }
