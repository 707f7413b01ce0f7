package runc

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/internal/testutil"
)

// vmRSS returns a process's resident set in KiB.
func vmRSS(t testing.TB, pid int) int {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			return n
		}
	}
	t.Fatalf("no VmRSS for %d", pid)
	return 0
}

// TestShimRSS measures the resident memory of the shim of an idle
// container. SWITCHYARD_BIN names a built switchyard binary to measure its
// `switchyard shim`; without it the test binary's shim role is measured.
func TestShimRSS(t *testing.T) {
	var opts []Option
	bin := os.Getenv("SWITCHYARD_BIN")
	if bin != "" {
		opts = append(opts, WithShim(bin, "shim"))
	}
	rt := newTestRuntime(t, opts...)
	id := cid("idle")
	mustRun(t, rt, id, shSpec("idle", "echo up; exec sleep 1000"))
	testutil.Eventually(t, 20*time.Second, "the container's first line", func() bool { return logText(t, rt, id, "stdout") == "up\n" })
	s, err := rt.get(id)
	if err != nil {
		t.Fatal(err)
	}
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
	rss := vmRSS(t, s.shim.PID)
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.shim.PID)); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(line, "Rss") || strings.HasPrefix(line, "Threads") {
				t.Log(line)
			}
		}
	}
	t.Logf("shim (%s) VmRSS of an idle sleep container: %d KiB", map[bool]string{true: bin, false: "test binary"}[bin != ""], rss)
	// Only the real binary is held to a budget: the test binary carries
	// the testing packages (and the race detector, when on).
	if bin != "" && rss > 16<<10 {
		t.Errorf("shim RSS %d KiB; the budget is far lower", rss)
	}
	if err := rt.Remove(context.Background(), id, true); err != nil {
		t.Fatal(err)
	}
}
