package runc

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/internal/testutil"
	"github.com/switchyard/switchyard/runtime"
)

// procMemory returns a process's resident set and its unique set (the
// private pages: what ending it would give back), in KiB.
func procMemory(t testing.TB, pid int) (rss, uss int) {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps_rollup", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		n, _ := strconv.Atoi(f[1])
		switch f[0] {
		case "Rss:":
			rss = n
		case "Private_Clean:", "Private_Dirty:":
			uss += n
		}
	}
	return rss, uss
}

// TestShimRSS measures the memory of the shim of an idle container that
// has written some output: the real switchyard-shim binary, built here
// (go build, as make build does), started as the runtime starts it. The
// goals: a resident set of at most 3 MiB, at most 1.5 MiB of it the
// shim's own. SMAPS=1 logs the resident mappings.
func TestShimRSS(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to build the shim with")
	}
	shimBin := filepath.Join(t.TempDir(), "switchyard-shim")
	build := exec.Command(goBin, "build", "-o", shimBin, "github.com/switchyard/switchyard/cmd/switchyard-shim")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build switchyard-shim: %v\n%s", err, out)
	}
	rt := newTestRuntime(t, WithShim(shimBin))
	// Two containers, as a node has: the pages of the shim's binary are
	// shared between its shims, its private pages are each one's own.
	id := cid("idle")
	for _, c := range []runtime.ContainerID{id, cid("idle2")} {
		mustRun(t, rt, c, shSpec(c.Service, "echo up; exec sleep 1000"))
		t.Cleanup(func() { rt.Remove(context.Background(), c, true) })
		testutil.Eventually(t, 20*time.Second, "the container's first line", func() bool { return logText(t, rt, c, "stdout") == "up\n" })
	}
	// The first container's shim was started for it; the second's was
	// the runtime's standby shim, started ahead and handed the container.
	for _, c := range []runtime.ContainerID{id, cid("idle2")} {
		s, err := rt.get(c)
		if err != nil {
			t.Fatal(err)
		}
		// The shim gives back what start-up and the output took once
		// the output has been quiet a while (quietAfter): measure once
		// it has.
		var rss, uss int
		settled := pollUntil(context.Background(), time.Now().Add(quietAfterShim+10*time.Second), func() bool {
			rss, uss = procMemory(t, s.shim.PID)
			return rss <= 3<<10 && uss <= 3<<9
		})
		if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps", s.shim.PID)); err == nil && os.Getenv("SMAPS") != "" {
			var head string
			for _, line := range strings.Split(string(b), "\n") {
				if f := strings.Fields(line); len(f) > 0 && strings.Contains(f[0], "-") {
					head = line
				}
				if strings.HasPrefix(line, "Rss:") && !strings.HasSuffix(line, " 0 kB") {
					t.Log(head, "|", line)
				}
			}
		}
		t.Logf("switchyard-shim of idle container %s: RSS %d KiB, USS %d KiB", c, rss, uss)
		if !settled {
			t.Errorf("the idle shim of %s takes RSS %d KiB, USS %d KiB; the goals are 3072 and 1536", c, rss, uss)
		}
	}
}

// quietAfterShim is how long the shim waits for quiet output before it
// trims again (shim's quietAfter).
const quietAfterShim = 2 * time.Second
