package runc

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/switchyard/switchyard/internal/proc"
	"github.com/switchyard/switchyard/internal/statedir"
	"github.com/switchyard/switchyard/internal/testutil"
	"github.com/switchyard/switchyard/runtime"
)

// A container whose shim is killed while it runs is not left running
// unseen: its workload is killed, the end recorded, and the container can
// be started again.
func TestLostShimEndsItsWorkload(t *testing.T) {
	rt := newTestRuntime(t)
	ctx := context.Background()
	id := cid("orphan")
	mustRun(t, rt, id, shSpec("orphan", untilStopped))
	pid, key, rec := runningShim(t, rt, id)
	if err := unix.Kill(rec.PID, unix.SIGKILL); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 10*time.Second, "the shim to be gone", func() bool { return !rec.alive() })
	st, err := rt.State(ctx, id)
	if err != nil || st.Status != runtime.StatusExited || st.ExitCode != 137 {
		t.Fatalf("State after the shim was killed = %+v, %v; want exited 137", st, err)
	}
	testutil.Eventually(t, 10*time.Second, "the workload to be gone", func() bool {
		// Dead: gone, or a zombie waiting for whichever subreaper it was
		// handed to (another test may have made this process one).
		b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
		if err != nil {
			return true
		}
		f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
		return len(f) > 0 && f[0] == "Z"
	})
	if _, err := os.Stat(filepath.Join(rt.runcRootDir(), key)); !os.IsNotExist(err) {
		t.Errorf("runc still knows the container: %v", err)
	}
	o, err := rt.WaitOutcome(ctx, id, runtime.WaitNotRunning)
	if err != nil || o.Reason != runtime.ReasonRuntimeError || o.Message == "" {
		t.Errorf("outcome %+v, %v; want a runtime error saying the shim was lost", o, err)
	}
	if err := rt.Start(ctx, id); err != nil {
		t.Fatalf("Start after the lost shim: %v", err)
	}
	testutil.Eventually(t, 10*time.Second, "the new run", func() bool {
		st, err := rt.State(ctx, id)
		return err == nil && st.Status == runtime.StatusRunning
	})
}

// A run the machine's restart cut short says so: its records are from
// before the boot. Simulated here by killing the shim and the workload
// and dating the shim record an hour before the boot; with a start record
// that matches, the run ends as docker reports such a container (exited
// 255); with the shim record torn (it is not fsynced), the container is
// failed, with the same reason.
func TestRunCutByARestart(t *testing.T) {
	boot, ok := proc.Booted()
	if !ok {
		t.Skip("no boot time here")
	}
	before := boot.Add(-time.Hour)
	rt := newTestRuntime(t)
	ctx := context.Background()
	for _, torn := range []bool{false, true} {
		id := cid(fmt.Sprintf("reboot%v", torn))
		mustRun(t, rt, id, shSpec(id.Service, untilStopped))
		pid, key, rec := runningShim(t, rt, id)
		dir := rt.dirOf(key)
		// The machine stops: the shim and the workload end at once.
		unix.Kill(rec.PID, unix.SIGKILL)
		unix.Kill(pid, unix.SIGKILL)
		testutil.Eventually(t, 10*time.Second, "the shim to be gone", func() bool { return !rec.alive() })
		if torn {
			if err := os.WriteFile(filepath.Join(dir, shimFile), nil, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.Chtimes(filepath.Join(dir, shimFile), before, before); err != nil {
			t.Fatal(err)
		}
		st, err := rt.State(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if torn {
			if st.Status != runtime.StatusFailed || st.Reason != statedir.MachineRestarted {
				t.Errorf("torn shim record: State = %+v; want failed, %q", st, statedir.MachineRestarted)
			}
		} else {
			if st.Status != runtime.StatusExited || st.ExitCode != 255 {
				t.Errorf("State = %+v; want exited 255", st)
			}
			o, err := rt.WaitOutcome(ctx, id, runtime.WaitNotRunning)
			if err != nil || o.Reason != runtime.ReasonRuntimeError || o.Message != statedir.MachineRestarted {
				t.Errorf("outcome %+v, %v; want a runtime error saying the machine restarted", o, err)
			}
		}
		if err := rt.Remove(ctx, id, true); err != nil {
			t.Fatalf("Remove: %v", err)
		}
	}
}

// runningShim returns the workload's pid, the key and the shim record of
// running container id.
func runningShim(t *testing.T, rt *Runtime, id runtime.ContainerID) (pid int, key string, rec shimRecord) {
	t.Helper()
	pid, err := rt.PID(context.Background(), id)
	if err != nil || pid <= 0 {
		t.Fatalf("PID = %d, %v", pid, err)
	}
	if key, err = rt.resolve(id); err != nil {
		t.Fatal(err)
	}
	if err := readJSON(filepath.Join(rt.dirOf(key), shimFile), &rec); err != nil {
		t.Fatal(err)
	}
	return pid, key, rec
}
