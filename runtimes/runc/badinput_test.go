package runc

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/internal/testutil"
	"github.com/switchyard/switchyard/runtime"
)

func TestMissingRuncBinary(t *testing.T) {
	requireRoot(t)
	dir := t.TempDir()
	st := mustStore(t, filepath.Join(dir, "images"))
	_, err := New(filepath.Join(dir, "state"), st, WithRuncBinary(filepath.Join(dir, "no-runc")), testShim())
	if !errors.Is(err, runtime.ErrUnavailable) || !strings.Contains(err.Error(), "install runc") {
		t.Errorf("New with a missing runc: %v, want unavailable saying what to do", err)
	}
}

// mountsUnder counts the mounts whose mount point is under dir.
func mountsUnder(t testing.TB, dir string) int {
	t.Helper()
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) > 4 && strings.HasPrefix(f[4], dir) {
			n++
		}
	}
	return n
}

func TestBadInputs(t *testing.T) {
	rt := newTestRuntime(t)
	ctx := context.Background()
	existing := cid("existing")
	if err := rt.Create(ctx, existing, shSpec("existing", "exit 0")); err != nil {
		t.Fatal(err)
	}
	stopped := cid("stopped")
	mustRun(t, rt, stopped, shSpec("stopped", "exit 0"))
	mustWait(t, rt, stopped)

	withMem := func(svc *runtime.CreateSpec, n int64) *runtime.CreateSpec { svc.Resources.MemoryBytes = n; return svc }
	withWorkdir := func(svc *runtime.CreateSpec, d string) *runtime.CreateSpec { svc.Workdir = d; return svc }
	withImage := func(svc *runtime.CreateSpec, ref string) *runtime.CreateSpec { svc.Image = ref; return svc }
	for _, tc := range []struct {
		name   string
		id     runtime.ContainerID
		svc    *runtime.CreateSpec
		call   func(id runtime.ContainerID, svc *runtime.CreateSpec) error
		kind   error
		saying string
	}{
		{name: "memory under the minimum", id: cid("tinymem"), svc: withMem(shSpec("tinymem", "true"), 1), kind: runtime.ErrInvalidArgument, saying: "minimum is 6 MiB"},
		{name: "more CPUs than the node has", id: cid("manycpu"), svc: func() *runtime.CreateSpec { s := shSpec("manycpu", "true"); s.Resources.CPU = 1000; return s }(), kind: runtime.ErrInvalidArgument, saying: "this node has"},
		{name: "entrypoint that does not exist", id: cid("noentry"), svc: &runtime.CreateSpec{Image: busyboxRef, Entrypoint: []string{"/bin/nope"}}, kind: runtime.ErrInvalidArgument, saying: "does not exist"},
		{name: "entrypoint not in PATH", id: cid("nopath"), svc: &runtime.CreateSpec{Image: busyboxRef, Entrypoint: []string{"nope"}}, kind: runtime.ErrInvalidArgument, saying: "PATH"},
		{name: "working dir that does not exist", id: cid("nowd"), svc: withWorkdir(shSpec("nowd", "true"), "/no/such/dir"), kind: runtime.ErrInvalidArgument, saying: "working dir"},
		{name: "memory limit too small to start", id: cid("tiny"), svc: withMem(shSpec("tiny", "true"), 64<<10), kind: runtime.ErrInvalidArgument, saying: "minimum is 6 MiB"},
		{name: "image not in the store", id: cid("noimage"), svc: withImage(shSpec("noimage", "true"), "test.invalid/none:1"), kind: runtime.ErrNotFound, saying: "none"},
		{name: "name that exists", id: existing, svc: shSpec("existing", "true"), kind: runtime.ErrAlreadyExists},
		{name: "exec in a stopped container", id: stopped, call: func(id runtime.ContainerID, _ *runtime.CreateSpec) error {
			_, err := rt.Exec(ctx, id, []string{"true"})
			return err
		}, kind: runtime.ErrFailedPrecondition, saying: "running"},
		{name: "stop of an unknown container", id: cid("unknown"), call: func(id runtime.ContainerID, _ *runtime.CreateSpec) error {
			return rt.Stop(ctx, id, time.Second)
		}, kind: runtime.ErrNotFound, saying: "unknown-rep-0"},
		{name: "bad signal", id: existing, call: func(id runtime.ContainerID, _ *runtime.CreateSpec) error {
			return rt.Kill(ctx, id, "SIGNOPE")
		}, kind: runtime.ErrInvalidArgument, saying: "SIGNOPE"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before, _ := os.ReadDir(filepath.Join(rt.root, "containers"))
			mounts := mountsUnder(t, rt.root)
			call := tc.call
			if call == nil {
				call = func(id runtime.ContainerID, svc *runtime.CreateSpec) error { return rt.Create(ctx, id, svc) }
			}
			err := call(tc.id, tc.svc)
			t.Logf("error: %v", err)
			if !errors.Is(err, tc.kind) || !strings.Contains(err.Error(), tc.saying) {
				t.Fatalf("got %v, want an error matching %q that says %q", err, tc.kind, tc.saying)
			}
			after, _ := os.ReadDir(filepath.Join(rt.root, "containers"))
			if len(after) != len(before) || mountsUnder(t, rt.root) != mounts {
				t.Errorf("state left behind: %d containers (was %d), %d mounts (was %d)", len(after), len(before), mountsUnder(t, rt.root), mounts)
			}
			if tc.id != existing && tc.id != stopped {
				if _, err := rt.State(ctx, tc.id); !errors.Is(err, runtime.ErrNotFound) {
					t.Errorf("State after failure: %v, want not found", err)
				}
			}
		})
	}
}

// A command that cannot start exits with a shell's code, as docker exec
// does: 127 for a program that is not there, 126 for one not executable.
func TestExecOfAMissingProgram(t *testing.T) {
	rt := newTestRuntime(t)
	id := cid("execcodes")
	mustRun(t, rt, id, shSpec("execcodes", "touch /tmp/plain; "+untilStopped))
	testutil.Eventually(t, 20*time.Second, "the file to exist", func() bool {
		res, err := rt.Exec(context.Background(), id, []string{"test", "-e", "/tmp/plain"})
		return err == nil && res.ExitCode == 0
	})
	for _, tc := range []struct {
		argv []string
		code int
	}{
		{[]string{"no-such-program"}, 127},
		{[]string{"/no/such/path"}, 127},
		{[]string{"/tmp/plain"}, 126},
	} {
		res, err := rt.Exec(context.Background(), id, tc.argv)
		if err != nil || res.ExitCode != tc.code || res.Stderr == "" {
			t.Errorf("Exec(%v) = %+v, %v; want exit %d with a message", tc.argv, res, err, tc.code)
		}
	}
}
