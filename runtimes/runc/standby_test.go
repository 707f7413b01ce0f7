package runc

import (
	"context"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/internal/testutil"
	"github.com/switchyard/switchyard/runtime"
	"github.com/switchyard/switchyard/runtimes/runc/shim"
)

// readyStandby waits for rt's standby shim and returns its pid, leaving it
// ready for the next create.
func readyStandby(t *testing.T, rt *Runtime) int {
	t.Helper()
	var pid int
	testutil.Eventually(t, 10*time.Second, "a standby shim", func() bool {
		sb := rt.standby.take()
		if sb == nil {
			return false
		}
		pid = sb.cmd.Process.Pid
		rt.standby.ready <- sb
		return true
	})
	return pid
}

// After a create, the next container's shim is one started ahead (a
// standby): that container runs, logs and exits as any other, and a
// standby is ready again for the one after it.
func TestStandbyShimSupervisesTheNextContainer(t *testing.T) {
	rt := newTestRuntime(t)
	ctx := context.Background()
	first := cid("standby-first")
	runToShimEnd(t, rt, first, "true", 0)

	pid := readyStandby(t, rt)
	cmdline, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil {
		t.Fatal(err)
	}
	if words := strings.Split(string(cmdline), "\x00"); !containsAll(words, shim.StandbyArg, rt.root) {
		t.Errorf("the standby's command line %q does not say whose standby it is", words)
	}

	second := cid("standby-second")
	s := runToShimEnd(t, rt, second, "echo out; echo err >&2; exit 3", 3)
	if s.shim.PID != pid {
		t.Errorf("the second container's shim is pid %d, not the standby (%d)", s.shim.PID, pid)
	}
	var got []string
	logs, err := rt.Logs(ctx, second, runtime.TailAll)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range logs {
		got = append(got, string(e.Stream)+":"+e.Text)
	}
	slices.Sort(got) // two pipes: no order between the streams
	if strings.Join(got, " ") != "stderr:err stdout:out" {
		t.Errorf("logs under the standby shim = %q", got)
	}
	if next := readyStandby(t, rt); next == pid {
		t.Errorf("no new standby after the old one was taken")
	}
}

// Close ends the standby shim, and nothing is started after it.
func TestCloseEndsTheStandbyShim(t *testing.T) {
	rt := newTestRuntime(t)
	runToShimEnd(t, rt, cid("standby-close"), "true", 0)
	pid := readyStandby(t, rt)
	if err := rt.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat("/proc/" + strconv.Itoa(pid)); !os.IsNotExist(err) {
		t.Errorf("the standby (pid %d) still runs after Close: %v", pid, err)
	}
	// A create after Close starts its own shim and leaves no standby.
	runToShimEnd(t, rt, cid("after-close"), "true", 0)
	rt.standby.started.Wait()
	if sb := rt.standby.take(); sb != nil {
		sb.discard()
		t.Error("a standby was started after Close")
	}
}

// containsAll reports whether words holds each of want.
func containsAll(words []string, want ...string) bool {
	for _, w := range want {
		if !slices.Contains(words, w) {
			return false
		}
	}
	return true
}
