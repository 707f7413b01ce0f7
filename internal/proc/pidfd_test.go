package proc

import (
	"os/exec"
	"testing"
	"time"
)

func TestEnded(t *testing.T) {
	cmd := exec.Command("sleep", "60")
	if err := cmd.Start(); err != nil {
		t.Skip("no sleep to run:", err)
	}
	ended, stop, ok := Ended(cmd.Process.Pid)
	defer stop()
	if !ok {
		cmd.Process.Kill()
		cmd.Wait()
		t.Skip("no pidfds on this kernel")
	}
	select {
	case <-ended:
		t.Fatal("Ended closed while the process runs")
	case <-time.After(50 * time.Millisecond):
	}
	cmd.Process.Kill()
	select {
	case <-ended:
	case <-time.After(10 * time.Second):
		t.Fatal("Ended not closed after the process was killed")
	}
	cmd.Wait()

	// A process that is gone: nothing to watch.
	if _, stop, ok := Ended(cmd.Process.Pid); ok {
		stop()
		t.Error("Ended watches a reaped process")
	}
}
