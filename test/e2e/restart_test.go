package e2e

import (
	"strings"
	"testing"
	"time"
)

// TestAgentKilled SIGKILLs the agent while a Linux container and a
// WebAssembly module run and a third container is about to exit, lets that
// exit happen while no agent runs, and checks that an agent started again
// on the same root finds everything: states, the exit code, logs, and can
// stop both kinds of workload.
func TestAgentKilled(t *testing.T) {
	e := newEnv(t)
	// The marker names the short workload's process, so that the test can
	// see it end while the agent is down.
	const marker = "e2e-short-lived-workload"
	e.ok("run", "-d", "--name", "long", e.images.busybox, "sh", "-c", sleeper)
	e.ok("run", "-d", "--name", "wlong", e.images.wasm, "sleep")
	e.ok("run", "-d", "--name", "short", e.images.busybox,
		"sh", "-c", "echo short; sleep 2; exit 5 # "+marker)
	follow := e.follow("wlong")
	follow.waitLine(t, "wasm: sleeping")
	waitFor(t, "long's first line", 30*time.Second, func() bool { return e.ok("logs", "long") == "up\n" })
	rows := e.psAll()
	for _, n := range []string{"long-rep-0", "wlong-rep-0", "short-rep-0"} {
		if rows[n].State != "running" {
			t.Fatalf("before the kill: %s is %+v, want running", n, rows[n])
		}
	}

	e.killDaemon()
	if res := e.sy("ps"); res.code == 0 || !strings.Contains(res.stderr, "switchyard daemon") {
		t.Errorf("ps with the agent dead: exit %d, stderr %q; want an error saying how to start the daemon", res.code, res.stderr)
	}
	waitFor(t, "the short workload to exit while the agent is down", 30*time.Second, func() bool {
		return len(pidsMentioning(marker)) == 0
	})

	e.startDaemon()
	// The shim records the exit just after the workload ends; the state
	// settles within the deadline.
	waitFor(t, "short-rep-0 to show exited (5)", 30*time.Second, func() bool {
		return e.psAll()["short-rep-0"].exited(5)
	})
	rows = e.psAll()
	for _, tc := range []struct{ name, runtime, state string }{
		{"long-rep-0", "runc", "running"},
		{"wlong-rep-0", "wasm", "running"},
		{"short-rep-0", "runc", "exited"},
	} {
		if r := rows[tc.name]; r.Runtime != tc.runtime || r.State != tc.state {
			t.Errorf("after the restart: %s = %+v, want %s on %s", tc.name, r, tc.state, tc.runtime)
		}
	}
	for _, tc := range []struct{ name, prefix string }{
		{"long", "up\n"},
		{"wlong", "wasm: sleeping\n"},
		{"short", "short\n"},
	} {
		if got := e.ok("logs", tc.name); !strings.HasPrefix(got, tc.prefix) {
			t.Errorf("logs %s after the restart: %q, want it to start with %q", tc.name, got, tc.prefix)
		}
	}
	// The module kept running while no agent ran: its ticks went on.
	waitFor(t, "wlong to keep ticking", 30*time.Second, func() bool {
		return strings.Contains(e.ok("logs", "wlong"), "wasm: tick 2\n")
	})

	e.ok("stop", "-t", "1", "long", "wlong")
	rows = e.psAll()
	for _, n := range []string{"long-rep-0", "wlong-rep-0"} {
		if rows[n].State != "exited" {
			t.Errorf("after stop: %s is %+v, want exited", n, rows[n])
		}
	}
	e.ok("rm", "long", "wlong", "short")
	if left := e.psAll(); len(left) != 0 {
		t.Errorf("after rm: ps -a shows %v", names(left, ""))
	}
}
