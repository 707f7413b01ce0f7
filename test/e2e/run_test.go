package e2e

import (
	"bufio"
	"context"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestRun drives run, exec, logs, stop and rm on both runtimes, and the
// answers for what cannot run here.
func TestRun(t *testing.T) {
	e := newEnv(t)
	img := e.images

	// The image is not here yet: the create says so, run pulls it and
	// asks again; the next run finds it and pulls nothing.
	t.Run("pulls what the node lacks, once", func(t *testing.T) {
		first := e.sy("run", "--rm", img.busybox, "echo", "first")
		if first.code != 0 || first.stdout != "first\n" || !strings.Contains(first.stderr, "pulling") {
			t.Errorf("first run: exit %d, stdout %q, stderr %q; want it pulled, then run", first.code, first.stdout, first.stderr)
		}
		again := e.sy("run", "--rm", img.busybox, "echo", "again")
		if again.code != 0 || again.stdout != "again\n" || again.stderr != "" {
			t.Errorf("second run: exit %d, stdout %q, stderr %q; want it run without a pull", again.code, again.stdout, again.stderr)
		}
	})

	t.Run("foreground", func(t *testing.T) {
		for _, tc := range []struct {
			name       string
			args       []string
			wantCode   int
			wantStdout string
		}{
			{"runc echo", []string{img.busybox, "echo", "hi"}, 0, "hi\n"},
			{"runc exit code", []string{img.busybox, "sh", "-c", "echo bye; exit 7"}, 7, "bye\n"},
			{"runc env", []string{"-e", "WHO=e2e", img.busybox, "sh", "-c", "echo $WHO"}, 0, "e2e\n"},
			{"wasm greeting", []string{"-e", "NAME=e2e", img.wasm}, 0, "hello from wasm, e2e\n"},
			{"wasm exit code", []string{img.wasm, "exit", "3"}, 3, "wasm: exiting with 3\n"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				before := e.psAll()
				res := e.sy(append([]string{"run", "--rm"}, tc.args...)...)
				if res.code != tc.wantCode || res.stdout != tc.wantStdout {
					t.Errorf("run --rm %s: exit %d, stdout %q; want exit %d, stdout %q (stderr %q)",
						strings.Join(tc.args, " "), res.code, res.stdout, tc.wantCode, tc.wantStdout, res.stderr)
				}
				// --rm: the container is gone once the command returns.
				if after := e.psAll(); len(after) != len(before) {
					t.Errorf("run --rm left containers: before %v, after %v", names(before, ""), names(after, ""))
				}
			})
		}
	})

	t.Run("detached runc", func(t *testing.T) {
		out := e.ok("run", "-d", "--name", "web", img.busybox,
			"sh", "-c", `i=0; while true; do i=$((i+1)); echo "tick $i"; sleep 0.2; done`)
		if strings.TrimSpace(out) != "web-rep-0" {
			t.Errorf("run -d --name web printed %q, want web-rep-0", out)
		}
		row := e.psAll()["web-rep-0"]
		if row.State != "running" || row.Runtime != "runc" {
			t.Errorf("ps: web-rep-0 = %+v, want running on runc", row)
		}
		// ps -q prints the names alone, as docker ps -q prints ids.
		if got := e.ok("ps", "-q"); !slices.Contains(strings.Fields(got), "web-rep-0") || strings.Contains(got, "NAME") {
			t.Errorf("ps -q = %q, want the names alone, web-rep-0 among them", got)
		}

		if got := e.ok("exec", "web", "echo", "inside"); got != "inside\n" {
			t.Errorf("exec echo: stdout %q, want %q", got, "inside\n")
		}
		if res := e.sy("exec", "web", "sh", "-c", "echo oops >&2; exit 4"); res.code != 4 || res.stderr != "oops\n" {
			t.Errorf("exec exit 4: exit %d, stderr %q; want 4, %q", res.code, res.stderr, "oops\n")
		}

		// logs -f follows new lines and ends when the container stops.
		follow := e.follow("web")
		follow.waitLine(t, "tick 3")
		e.ok("stop", "-t", "1", "web")
		follow.waitEnd(t)
		if row := e.psAll()["web-rep-0"]; row.State != "exited" {
			t.Errorf("after stop: %+v, want exited", row)
		}
		if got := e.ok("logs", "--tail", "1", "web"); !strings.HasPrefix(got, "tick ") || strings.Count(got, "\n") != 1 {
			t.Errorf("logs --tail 1: %q, want one tick line", got)
		}
		e.ok("rm", "web")
		if _, ok := e.psAll()["web-rep-0"]; ok {
			t.Errorf("web-rep-0 still listed after rm")
		}
	})

	t.Run("detached wasm", func(t *testing.T) {
		e.ok("run", "-d", "--name", "wz", img.wasm, "sleep")
		row := e.psAll()["wz-rep-0"]
		if row.State != "running" || row.Runtime != "wasm" || row.Platform != "wasip1/wasm" {
			t.Errorf("ps: wz-rep-0 = %+v, want running on wasm, platform wasip1/wasm", row)
		}
		follow := e.follow("wz")
		follow.waitLine(t, "wasm: tick 1")

		res := e.sy("exec", "wz", "ls")
		if res.code == 0 || !strings.Contains(res.stderr, "not supported") || strings.Count(res.stderr, "\n") != 1 {
			t.Errorf("exec on wasm: exit %d, stderr %q; want non-zero and one line saying it is not supported", res.code, res.stderr)
		}

		e.ok("stop", "-t", "1", "wz")
		follow.waitEnd(t)
		if row := e.psAll()["wz-rep-0"]; row.State != "exited" {
			t.Errorf("after stop: %+v, want exited", row)
		}
		if got := e.ok("logs", "wz"); !strings.HasPrefix(got, "wasm: sleeping\nwasm: tick 1\n") {
			t.Errorf("logs wz: %q, want the module's lines", got)
		}
		e.ok("rm", "wz")
	})

	t.Run("tagged image keeps its runtime", func(t *testing.T) {
		e.ok("pull", img.wasm)
		copyRef := strings.TrimSuffix(img.wasm, ":latest") + "-copy:v1"
		e.ok("tag", img.wasm, copyRef)
		res := e.sy("run", "--rm", "--pull", "never", copyRef, "exit", "2")
		if res.code != 2 || res.stdout != "wasm: exiting with 2\n" {
			t.Errorf("run of the tag %s: exit %d, stdout %q, stderr %q; want the module's exit 2", copyRef, res.code, res.stdout, res.stderr)
		}
		e.ok("rmi", copyRef)
	})

	t.Run("route to peer", func(t *testing.T) {
		res := e.sy("run", "--rm", img.windows)
		if res.code == 0 {
			t.Fatalf("run of a windows/amd64 image exited 0; stdout %q", res.stdout)
		}
		for _, want := range []string{"windows/amd64", img.windows, "--delegate", "peer"} {
			if !strings.Contains(res.stderr, want) {
				t.Errorf("stderr lacks %q:\n%s", want, res.stderr)
			}
		}
	})

	t.Run("errors", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			args []string
			sock string // overrides the agent's socket when set
			want string // in stderr
		}{
			{"unknown container logs", []string{"logs", "nosuch"}, "", "nosuch"},
			{"unknown container stop", []string{"stop", "nosuch"}, "", "nosuch"},
			{"unknown container exec", []string{"exec", "nosuch", "true"}, "", "nosuch"},
			{"bad flag", []string{"ps", "--no-such-flag"}, "", "no-such-flag"},
			{"bad name", []string{"logs", "Not/A/Name"}, "", "Not/A/Name"},
			{"daemon not running", []string{"ps"}, e.dir + "/absent.sock", "switchyard daemon"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				res := e.syWithSocket(tc.sock, tc.args...)
				t.Logf("stderr: %s", res.stderr)
				if res.code == 0 {
					t.Fatalf("switchyard %s exited 0", strings.Join(tc.args, " "))
				}
				if !strings.Contains(res.stderr, tc.want) {
					t.Errorf("stderr %q does not mention %q", res.stderr, tc.want)
				}
				if tc.name != "bad flag" && strings.Count(strings.TrimSpace(res.stderr), "\n") != 0 {
					t.Errorf("stderr is not one line:\n%s", res.stderr)
				}
			})
		}
	})
}

// syWithSocket is sy with SWITCHYARD_SOCKET set to sock, when not empty.
func (e *env) syWithSocket(sock string, args ...string) result {
	e.t.Helper()
	if sock == "" {
		return e.sy(args...)
	}
	saved := e.sock
	e.sock = sock
	defer func() { e.sock = saved }()
	return e.sy(args...)
}

// following is a running `switchyard logs -f`.
type following struct {
	lines chan string   // each line of its stdout; closed at its end
	done  chan struct{} // closed when the command has exited
	cmd   *exec.Cmd
}

// follow starts `logs -f name`; the test's cleanup ends it if it is still
// running.
func (e *env) follow(name string) *following {
	e.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, build.bin, "logs", "-f", name)
	cmd.Env = append(cmd.Environ(), "SWITCHYARD_SOCKET="+e.sock)
	out, err := cmd.StdoutPipe()
	if err != nil {
		e.t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	f := &following{lines: make(chan string, 1024), done: make(chan struct{}), cmd: cmd}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			f.lines <- sc.Text()
		}
		close(f.lines)
		_ = cmd.Wait()
		close(f.done)
	}()
	e.t.Cleanup(func() {
		cancel()
		<-f.done
	})
	return f
}

// waitLine waits until the followed output shows want.
func (f *following) waitLine(t *testing.T, want string) {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		select {
		case line, ok := <-f.lines:
			if !ok {
				t.Fatalf("logs -f ended before %q", want)
			}
			if line == want {
				return
			}
		case <-deadline:
			t.Fatalf("logs -f: no line %q within 30 s", want)
		}
	}
}

// waitEnd waits until logs -f has exited 0 by itself.
func (f *following) waitEnd(t *testing.T) {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for open := true; open; {
		select {
		case _, open = <-f.lines: // drain, so that the reader can finish
		case <-deadline:
			t.Fatalf("logs -f did not end within 30 s of the container stopping")
		}
	}
	select {
	case <-f.done:
	case <-deadline:
		t.Fatalf("logs -f did not exit within 30 s of the container stopping")
	}
	if code := f.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("logs -f exited %d, want 0", code)
	}
}
