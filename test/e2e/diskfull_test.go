package e2e

import (
	"strings"
	"syscall"
	"testing"
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
}
