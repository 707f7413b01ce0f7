package runc

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// hostState is what containers could leak on the host.
type hostState struct {
	mounts  int      // mount points under the runtime's root
	cgroups []string // container cgroups under any hierarchy's switchyard/
	shims   int      // live processes running this binary as a shim
	zombies int      // unreaped children of this process
}

// sample looks at what containers named with prefix, of the runtime at
// root, could have left (other tests may run containers meanwhile).
func sample(t testing.TB, root, prefix string) hostState {
	t.Helper()
	h := hostState{mounts: mountsUnder(t, root)}
	for _, pattern := range []string{"/sys/fs/cgroup/*/switchyard/" + prefix + "*", "/sys/fs/cgroup/switchyard/" + prefix + "*"} {
		m, _ := filepath.Glob(pattern)
		for _, d := range m {
			if fi, err := os.Stat(d); err == nil && fi.IsDir() {
				h.cgroups = append(h.cgroups, d)
			}
		}
	}
	procs, _ := filepath.Glob("/proc/[0-9]*")
	me := strconv.Itoa(os.Getpid())
	for _, p := range procs {
		if cmd, err := os.ReadFile(filepath.Join(p, "cmdline")); err == nil {
			args := strings.Split(string(cmd), "\x00")
			if len(args) > 2 && args[0] == os.Args[0] && args[1] == "shim" && strings.Contains(string(cmd), root) {
				h.shims++
			}
		}
		if st, err := os.ReadFile(filepath.Join(p, "stat")); err == nil {
			s := string(st)
			f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
			if len(f) > 1 && f[0] == "Z" && f[1] == me {
				h.zombies++
			}
		}
	}
	return h
}

// TestNoLeaks creates and removes 200 containers, in every state a
// container can be removed in, and checks that nothing stays behind.
func TestNoLeaks(t *testing.T) {
	if testing.Short() {
		t.Skip("200 containers take minutes")
	}
	rt := newTestRuntime(t)
	prefix := fmt.Sprintf("leak%d-", os.Getpid())
	before := sample(t, rt.root, prefix)
	const total, workers = 200, 8
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, total)
	next := make(chan int)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				errs <- cycle(ctx, rt, prefix, i)
			}
		}()
	}
	for i := 0; i < total; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	// The standby shim kept for the next create goes with the runtime;
	// a shim of a container left behind would stay.
	rt.Close()
	after := sample(t, rt.root, prefix)
	if after.mounts != before.mounts || len(after.cgroups) != len(before.cgroups) || after.shims != before.shims || after.zombies != before.zombies {
		t.Errorf("before %+v\nafter  %+v", before, after)
	}
	if ents, _ := os.ReadDir(filepath.Join(rt.root, "containers")); len(ents) != 0 {
		t.Errorf("%d state dirs left", len(ents))
	}
	if ents, _ := os.ReadDir(filepath.Join(rt.root, "names")); len(ents) != 0 {
		t.Errorf("%d names left", len(ents))
	}
}

// cycle creates container i and removes it: created only, exited, or
// running (forced), by i mod 3.
func cycle(ctx context.Context, rt *Runtime, prefix string, i int) (err error) {
	id := cid(fmt.Sprintf("%s%d", prefix, i))
	defer func() {
		if err != nil {
			rt.Remove(ctx, id, true) // leave nothing for the next check
		}
	}()
	script := "exit 0"
	if i%3 == 2 {
		script = untilStopped
	}
	if err := rt.Create(ctx, id, shSpec(id.Service, script)); err != nil {
		return err
	}
	if i%3 != 0 {
		if err := rt.Start(ctx, id); err != nil {
			return err
		}
	}
	if i%3 == 1 {
		if _, err := rt.Wait(ctx, id); err != nil {
			return err
		}
	}
	return rt.Remove(ctx, id, true)
}
