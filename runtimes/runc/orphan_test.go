package runc

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

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
	pid, err := rt.PID(ctx, id)
	if err != nil || pid <= 0 {
		t.Fatalf("PID = %d, %v", pid, err)
	}
	key, err := rt.resolve(id)
	if err != nil {
		t.Fatal(err)
	}
	var rec shimRecord
	if err := readJSON(filepath.Join(rt.dirOf(key), shimFile), &rec); err != nil {
		t.Fatal(err)
	}
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
