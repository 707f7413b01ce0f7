package e2e

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/internal/testutil"
	"github.com/switchyard/switchyard/runtimes/runc"
	"github.com/switchyard/switchyard/runtimes/wasm"
)

// An agent SIGKILLed at any step boundary of a create or a removal leaves,
// once it is started again, the container either whole and manageable or
// gone, its name free, and nothing of it behind: no shim, no mount, no
// state directory, no use of its image (the image removes cleanly at the
// end). Each runtime's steps come from the runtime itself, so a step added
// there is tested here.
func TestCrashAtEveryStep(t *testing.T) {
	e := newEnv(t)
	e.ok("pull", e.images.busybox)
	e.ok("pull", e.images.wasm)
	for _, rt := range []struct {
		name         string
		create, rm   []string
		image        string
		short, sleep []string
		// kept are the steps after which the container is still there:
		// a create's last, a removal's before its commit point.
		kept []string
	}{
		{"runc", runc.CreateSteps(), runc.RemoveSteps(), e.images.busybox, []string{"true"}, []string{"sleep", "1000"},
			[]string{"create:done", "remove:killed"}},
		{"wasm", wasm.CreateSteps(), wasm.RemoveSteps(), e.images.wasm, []string{"exit", "0"}, []string{"sleep"},
			[]string{"create:done", "remove:killed", "remove:forgotten"}},
	} {
		check := func(name, step string) {
			t.Helper()
			if whole := e.checkWholeOrGone(name, rt.image, rt.short); whole != slices.Contains(rt.kept, step) {
				t.Errorf("%s: after a crash at %s the container is whole: %v; want %v", rt.name, step, whole, !whole)
			}
		}
		for _, step := range rt.create {
			name := "crash-" + rt.name + "-" + strings.ReplaceAll(step, ":", "-")
			e.crashAt(rt.name+":"+step, append([]string{"create", "--pull", "never", "--name", name, rt.image}, rt.sleep...)...)
			check(name, step)
		}
		for _, step := range rt.rm {
			name := "crash-" + rt.name + "-" + strings.ReplaceAll(step, ":", "-")
			e.ok(append([]string{"run", "-d", "--pull", "never", "--name", name, rt.image}, rt.sleep...)...)
			e.crashAt(rt.name+":"+step, "rm", "-f", name)
			check(name, step)
		}
	}
	// No container holds either image any more.
	e.ok("rmi", e.images.busybox, e.images.wasm)
	e.ok("image", "prune")
}

// crashAt restarts the agent so that it kills itself at step, runs the
// CLI with args (which the crash cuts short), and starts the agent again
// as usual.
func (e *env) crashAt(step string, args ...string) {
	t := e.t
	t.Helper()
	e.stopDaemon()
	plain := e.daemonArgs
	e.daemonArgs = append(append([]string(nil), plain...), "--crash-at", step)
	e.startDaemon()
	e.daemonArgs = plain
	exited := e.exited
	res := e.sy(args...)
	select {
	case <-exited:
	case <-time.After(30 * time.Second):
		t.Fatalf("%s: the agent did not reach the step (the command said: exit %d, %s%s)", step, res.code, res.stdout, res.stderr)
	}
	e.daemon = nil
	if res.code == 0 {
		t.Errorf("%s: %v succeeded though the agent died during it", step, args)
	}
	e.startDaemon()
}

// checkWholeOrGone checks that the container name is either there and
// manageable (it starts and removes) or gone, that its name is free
// afterwards (a new container of the name runs short), and that nothing of
// it is left. It reports whether the container was whole.
func (e *env) checkWholeOrGone(name, image string, short []string) (whole bool) {
	t := e.t
	t.Helper()
	if res := e.sy("inspect", name); res.code == 0 {
		whole = true
		e.ok("start", name)
		e.ok("rm", "-f", name)
	} else if !strings.Contains(res.stderr, "no such container") {
		t.Errorf("%s: after the restart inspect says %q; want it whole or `no such container`", name, res.stderr)
	}
	if _, listed := e.psAll()[name+"-rep-0"]; listed {
		t.Errorf("%s: still listed after its removal", name)
	}
	e.ok(append([]string{"run", "--rm", "--pull", "never", "--name", name, image}, short...)...)
	leftovers := func() []string {
		var out []string
		out = append(out, mountsUnder(e.root)...)
		for _, dir := range []string{"runc/containers", "runc/names", "wasm/containers"} {
			ents, _ := os.ReadDir(filepath.Join(e.root, dir))
			for _, ent := range ents {
				out = append(out, dir+"/"+ent.Name())
			}
		}
		for _, pid := range pidsMentioning(filepath.Join(e.root, "runc", "containers") + "/") {
			out = append(out, "shim pid "+strconv.Itoa(pid))
		}
		return out
	}
	if !testutil.Poll(20*time.Second, func() bool { return len(leftovers()) == 0 }) {
		t.Errorf("%s: left behind: %v", name, leftovers())
	}
	return whole
}
