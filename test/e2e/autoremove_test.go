package e2e

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestAutoRemove: --rm is the daemon's, as docker's AutoRemove is. A
// container is removed once it has exited after a start, whether the CLI
// waits (it then exits with the workload's code and prints every line),
// ran detached, was killed mid-run, or the agent was down when the
// workload ended. A container whose start failed is removed too.
func TestAutoRemove(t *testing.T) {
	e := newEnv(t)
	img := e.images
	// Pulled first: a run that pulls says so on stderr, as docker's does.
	e.ok("pull", img.busybox)
	gone := func(t *testing.T, name string) {
		t.Helper()
		waitFor(t, name+" to be removed", 30*time.Second, func() bool {
			_, ok := e.psAll()[name]
			return !ok
		})
	}

	t.Run("foreground keeps every line and the code", func(t *testing.T) {
		// A workload that ends at once: its output must not be lost to
		// an early removal.
		for range 5 {
			res := e.sy("run", "--rm", "--name", "quick", img.busybox, "sh", "-c", "echo one; echo two >&2; exit 9")
			if res.code != 9 || res.stdout != "one\n" || res.stderr != "two\n" {
				t.Fatalf("run --rm: exit %d, stdout %q, stderr %q; want 9, one, two", res.code, res.stdout, res.stderr)
			}
			if _, ok := e.psAll()["quick-rep-0"]; ok {
				t.Fatalf("run --rm returned before the container was removed")
			}
		}
		res := e.sy("run", "--rm", "--name", "wquick", img.wasm, "exit", "4")
		if res.code != 4 || res.stdout != "wasm: exiting with 4\n" {
			t.Errorf("run --rm wasm: exit %d, stdout %q; want 4 and its line", res.code, res.stdout)
		}
		if _, ok := e.psAll()["wquick-rep-0"]; ok {
			t.Errorf("run --rm (wasm) returned before the container was removed")
		}
	})

	t.Run("detached", func(t *testing.T) {
		e.ok("run", "-d", "--rm", "--name", "det", img.busybox, "sh", "-c", "sleep 0.3")
		gone(t, "det-rep-0")
		e.ok("run", "-d", "--rm", "--name", "wdet", img.wasm, "exit", "0")
		gone(t, "wdet-rep-0")
	})

	t.Run("create then start", func(t *testing.T) {
		e.ok("create", "--rm", "--name", "later", img.busybox, "true")
		if row := e.psAll()["later-rep-0"]; row.State != "pending" {
			t.Fatalf("create --rm: %+v, want a pending container that stays until it is started", row)
		}
		if !strings.Contains(e.ok("inspect", "later"), `"auto_remove": true`) {
			t.Errorf("inspect does not show auto_remove")
		}
		e.ok("start", "later")
		gone(t, "later-rep-0")
	})

	t.Run("CLI killed mid-run", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), cliTimeout)
		defer cancel()
		cmd := exec.CommandContext(ctx, build.bin, "run", "--rm", "--name", "orphan", img.busybox,
			"sh", "-c", "echo started; sleep 1")
		cmd.Env = append(os.Environ(), "SWITCHYARD_SOCKET="+e.sock)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		line, _ := bufio.NewReader(out).ReadString('\n')
		if line != "started\n" {
			t.Fatalf("run --rm printed %q first, want started", line)
		}
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if row := e.psAll()["orphan-rep-0"]; row.State != "running" {
			t.Fatalf("after the CLI was killed: %+v, want still running", row)
		}
		gone(t, "orphan-rep-0")
	})

	t.Run("exit while the agent is down", func(t *testing.T) {
		const marker = "e2e-autoremove-while-down"
		e.ok("run", "-d", "--rm", "--name", "downrm", img.busybox, "sh", "-c", "sleep 1 # "+marker)
		e.ok("create", "--rm", "--name", "notyet", img.busybox, "true")
		e.killDaemon()
		waitFor(t, "the workload to exit while the agent is down", 30*time.Second, func() bool {
			return len(pidsMentioning(marker)) == 0
		})
		e.startDaemon()
		gone(t, "downrm-rep-0")
		// A container created with --rm and never started stays.
		if row := e.psAll()["notyet-rep-0"]; row.State != "pending" {
			t.Errorf("after the restart: notyet = %+v, want it kept, pending", row)
		}
		e.ok("rm", "notyet")
	})

	t.Run("failed start", func(t *testing.T) {
		res := e.sy("run", "--rm", "--name", "nobin", img.busybox, "/no/such/binary")
		if res.code == 0 {
			t.Fatalf("run --rm of a missing binary: exit 0, want a failure")
		}
		gone(t, "nobin-rep-0")
	})
}
