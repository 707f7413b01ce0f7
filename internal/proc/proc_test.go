package proc

import (
	"os"
	"os/exec"
	"testing"
)

// A live process has a start time that does not change; a process that
// has ended (reaped) has none.
func TestStart(t *testing.T) {
	a, ok := Start(os.Getpid())
	if !ok || a == 0 {
		t.Fatalf("Start(self) = %d, %v", a, ok)
	}
	if b, _ := Start(os.Getpid()); b != a {
		t.Fatalf("the start time moved: %d, %d", a, b)
	}
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Skip("no true(1) to run")
	}
	if _, ok := Start(cmd.Process.Pid); ok {
		// The pid may have been taken again already; only a match of the
		// old process would be wrong, and it is gone.
		t.Logf("pid %d was taken by another process", cmd.Process.Pid)
	}
	if _, ok := Start(-1); ok {
		t.Fatal("Start(-1) found a process")
	}
}
