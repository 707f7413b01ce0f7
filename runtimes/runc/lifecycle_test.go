package runc

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/switchyard/switchyard/internal/cgroupfs"
	"github.com/switchyard/switchyard/internal/statedir"
	"github.com/switchyard/switchyard/runtime"
	"github.com/switchyard/switchyard/runtimes/runc/shim"
)

// stalledShim is a shim that reports the container created but never runs
// runc create, and lives until killed: the state a Start cut short between
// the shim's start and runc create leaves behind, in which runc does not
// know the container while its shim lives.
func stalledShim() {
	ready := os.NewFile(shim.ReadyFD, "ready")
	statedir.WriteReady(ready, nil)
	ready.Close()
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, unix.SIGTERM)
	<-sigs
	os.Exit(1)
}

// TestRemoveUnknownToRunc checks that a container whose run runc does not
// know (its start was cut short) is removed whole: no name, no shim, no
// mount, no state, no cgroup.
func TestRemoveUnknownToRunc(t *testing.T) {
	rt := newTestRuntime(t)
	id := cid("unknown-to-runc")
	ctx := context.Background()
	mustRun(t, rt, id, shSpec(id.Service, "true"))
	mustWait(t, rt, id)

	// The same state, driven by a runtime whose shim stalls before runc
	// create: its Start fails in runc start and leaves the run pending.
	stalled, err := New(rt.root, rt.store, WithShim(os.Args[0], "shim-stalled"), WithoutStandbyShim())
	if err != nil {
		t.Fatal(err)
	}
	if err := stalled.Start(ctx, id); err == nil {
		t.Fatal("Start under a stalled shim succeeded, want runc start to fail")
	}
	s, err := stalled.get(id)
	if err != nil {
		t.Fatal(err)
	}
	if s.state.Status != runtime.StatusPending || !s.shim.alive() {
		t.Fatalf("state %v, shim alive %v; want pending with a live shim", s.state, s.shim.alive())
	}
	t.Cleanup(func() { unix.Kill(s.shim.PID, unix.SIGKILL) })

	rctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := rt.Remove(rctx, id, true); err != nil {
		t.Fatalf("Remove: %v", err)
	}
	if _, err := rt.State(ctx, id); !errors.Is(err, runtime.ErrNotFound) {
		t.Errorf("State after Remove: %v, want ErrNotFound", err)
	}
	if s.shim.alive() {
		t.Errorf("shim %d still runs after Remove", s.shim.PID)
	}
	if _, err := os.Stat(s.dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("state dir after Remove: %v, want it gone", err)
	}
	mounts, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(mounts), s.dir) {
		t.Errorf("a mount under %s is left", s.dir)
	}
	if dirs, _ := filepath.Glob(filepath.Join("/sys/fs/cgroup", "*", "switchyard", s.meta.Key)); len(dirs) > 0 {
		t.Errorf("cgroups left: %v", dirs)
	}
	if list, err := rt.List(ctx); err != nil || len(list) != 0 {
		t.Errorf("List after Remove: %v, %v; want none", list, err)
	}
}

// TestStartLeavesRuncRunning checks that a container started without
// `runc start` (through its exec FIFO) is running as runc sees it, and that
// an OCI runtime by another name is started through its command line.
func TestStartLeavesRuncRunning(t *testing.T) {
	requireRoot(t)
	runcPath, err := exec.LookPath("runc")
	if err != nil {
		t.Skip("no runc")
	}
	other := filepath.Join(t.TempDir(), "oci-runtime")
	if err := os.Symlink(runcPath, other); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		opts []Option
	}{
		{name: "runc", opts: nil},
		{name: "another name", opts: []Option{WithRuncBinary(other)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rt := newTestRuntime(t, tc.opts...)
			id := cid("fifo-" + strings.ReplaceAll(tc.name, " ", "-"))
			mustRun(t, rt, id, shSpec(id.Service, untilStoppedSaying))
			s, err := rt.get(id)
			if err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(runcPath, "state", s.meta.Key).Output()
			if err != nil {
				t.Fatalf("runc state: %v", err)
			}
			var st struct{ Status string }
			if err := json.Unmarshal(out, &st); err != nil || st.Status != "running" {
				t.Fatalf("runc state %s: %v; want running", out, err)
			}
			waitTrapSet(t, rt, id)
			if err := rt.Stop(context.Background(), id, 10*time.Second); err != nil {
				t.Fatal(err)
			}
			if o := mustWait(t, rt, id); o.ExitCode != 143 {
				t.Errorf("exit %+v, want 143", o)
			}
		})
	}
}

// TestEndedRunIsDeletedByItsShim checks the exit path: once a run has
// ended and its shim is gone, runc's state of the container and its cgroup
// are gone too, before any Remove (the shim deletes them itself when the
// OCI runtime is runc, after it recorded the exit); and the exit was
// recorded first.
func TestEndedRunIsDeletedByItsShim(t *testing.T) {
	rt := newTestRuntime(t)
	if !rt.oci.isRunc {
		t.Skip("the OCI runtime here is not runc")
	}
	ctx := context.Background()
	id := cid("deleted")
	if err := rt.Create(ctx, id, shSpec(id.Service, "exit 3")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rt.Remove(context.Background(), id, true) })
	s, err := rt.get(id)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(rt.runcRootDir(), s.meta.Key)); err != nil {
		t.Fatalf("runc has no state for the created container: %v", err)
	}
	if err := rt.Start(ctx, id); err != nil {
		t.Fatal(err)
	}
	if code, err := rt.Wait(ctx, id); err != nil || code != 3 {
		t.Fatalf("Wait = %d, %v; want 3", code, err)
	}
	if !pollWatching(ctx, s.dir, s.shim.PID, time.Now().Add(10*time.Second), func() bool { return !s.shim.alive() }) {
		t.Fatal("the shim did not end after its container")
	}
	if _, err := os.Stat(filepath.Join(rt.runcRootDir(), s.meta.Key)); !os.IsNotExist(err) {
		t.Errorf("runc state left after the run: %v", err)
	}
	if dirs := cgroupfs.Dirs(cgroupfs.Root, cgroupPath(s.meta.Key)); len(dirs) > 0 {
		t.Errorf("cgroup left after the run: %v", dirs)
	}
	if b, _ := os.ReadFile(filepath.Join(s.dir, shimLogFile)); len(b) > 0 {
		t.Errorf("the shim complained: %s", b)
	}
	if st, err := rt.State(ctx, id); err != nil || st.Status != runtime.StatusExited || st.ExitCode != 3 {
		t.Errorf("State = %+v, %v; want exited(3)", st, err)
	}
}

// TestRestartAfterAShimThatDidNotDelete: a shim killed after it recorded
// the exit leaves the OCI runtime's container behind; the next start
// deletes it and runs.
func TestRestartAfterAShimThatDidNotDelete(t *testing.T) {
	rt := newTestRuntime(t)
	ctx := context.Background()
	id := cid("undeleted")
	s := runToShimEnd(t, rt, id, "exit 4", 4)
	// What a shim killed between its exit record and its delete leaves:
	// runc's container of the run, created and never started.
	// Its init keeps runc's standard streams: they go nowhere, so that
	// nothing here waits for them to close.
	create := exec.Command(rt.opt.runc, "create", "--bundle", filepath.Join(s.dir, "bundle"), s.meta.Key)
	if err := create.Run(); err != nil {
		t.Fatalf("runc create: %v", err)
	}
	if err := rt.Start(ctx, id); err != nil {
		t.Fatalf("Start over a container runc still holds: %v", err)
	}
	if code, err := rt.Wait(ctx, id); err != nil || code != 4 {
		t.Fatalf("Wait after the restart = %d, %v; want 4", code, err)
	}
}

// TestRunNumbersOutliveATornShimRecord: the shim record (which carries the
// run's number) is not durable; when a crash of the machine tore it, the
// next run is still numbered past the durable exit record's, so that the
// old exit is not taken for the new run's.
func TestRunNumbersOutliveATornShimRecord(t *testing.T) {
	rt := newTestRuntime(t)
	ctx := context.Background()
	id := cid("torn")
	s := runToShimEnd(t, rt, id, "test -e /ran && exec sleep 1000; touch /ran; exit 2", 2)
	if err := os.WriteFile(filepath.Join(s.dir, shimFile), nil, 0o640); err != nil {
		t.Fatal(err)
	}
	if err := rt.Start(ctx, id); err != nil {
		t.Fatal(err)
	}
	if st, err := rt.State(ctx, id); err != nil || st.Status != runtime.StatusRunning {
		t.Fatalf("State after the start = %+v, %v; want running (the old exit taken for the new run?)", st, err)
	}
}

// runToShimEnd runs script in container id until it exits with want and
// its shim has ended, and returns the container's state then. The
// container is removed when the test ends.
func runToShimEnd(t *testing.T, rt *Runtime, id runtime.ContainerID, script string, want int) *snapshot {
	t.Helper()
	ctx := context.Background()
	mustRun(t, rt, id, shSpec(id.Service, script))
	t.Cleanup(func() { rt.Remove(context.Background(), id, true) })
	if code, err := rt.Wait(ctx, id); err != nil || code != want {
		t.Fatalf("Wait = %d, %v; want %d", code, err, want)
	}
	s, err := rt.get(id)
	if err != nil {
		t.Fatal(err)
	}
	if !pollWatching(ctx, s.dir, s.shim.PID, time.Now().Add(10*time.Second), func() bool { return !s.shim.alive() }) {
		t.Fatal("the shim did not end")
	}
	return s
}
