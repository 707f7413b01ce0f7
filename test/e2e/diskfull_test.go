package e2e

import (
	"encoding/json"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A workload that fills the disk of the agent's root does not lose its
// exit: run --rm exits with the workload's code, not "shim lost".
func TestFullDiskKeepsTheExit(t *testing.T) {
	var root string
	e := newEnvOn(t, func(dir string) {
		root = dir
		if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=24m"); err != nil {
			t.Skipf("mount a small tmpfs for the root: %v", err)
		}
	})
	// Unmounted after the env's cleanup (cleanups run last first).
	t.Cleanup(func() { _ = syscall.Unmount(root, syscall.MNT_DETACH) })
	res := e.sy("run", "--rm", e.images.busybox, "sh", "-c", "dd if=/dev/zero of=/big bs=1M count=40 2>/dev/null; echo dd-rc=$?; exit 3")
	if res.code != 3 {
		t.Fatalf("run --rm on a full disk: exit %d (stdout %q, stderr %q), want the workload's 3", res.code, res.stdout, res.stderr)
	}
	if strings.Contains(res.stderr, "shim lost") {
		t.Errorf("the exit was lost: %s", res.stderr)
	}
	// Lines written while the disk is full are lost; inspect says how many.
	e.ok("run", "-d", "--name", "full", e.images.busybox, "sh", "-c",
		"dd if=/dev/zero of=/big bs=1M count=40 2>/dev/null; i=0; while [ $i -lt 200 ]; do echo line $i; i=$((i+1)); done")
	waitFor(t, "the workload to exit", time.Minute, func() bool { return e.psAll()["full-rep-0"].exited(0) })
	var d []struct {
		LogsDropped int64 `json:"logs_dropped"`
	}
	if err := json.Unmarshal([]byte(e.ok("inspect", "full")), &d); err != nil || len(d) != 1 || d[0].LogsDropped == 0 {
		t.Errorf("inspect after lines lost to a full disk: %+v, %v; want logs_dropped counted", d, err)
	}
	e.ok("rm", "-f", "full")
}
