package e2e

import (
	"fmt"
	"math/rand/v2"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/internal/testutil"
)

// TestSoak runs mixed operations against one agent and kills the agent
// (SIGKILL) at random moments, restarting it, then checks what a user
// relies on: every container listed can be inspected and removed, the
// name of every removed container is free again, and nothing is left once
// all are removed (no shim, no mount). It prints what it did and found.
//
// Not in CI: SWITCHYARD_SOAK=N runs N operations (scripts/soak runs 1,000).
func TestSoak(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("SWITCHYARD_SOAK"))
	if n <= 0 {
		t.Skip("set SWITCHYARD_SOAK=N to run N operations")
	}
	e := newEnv(t)
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	counts := map[string]int{}
	failures := map[string][]string{}
	names := map[string]bool{} // names we believe exist
	name := func() string { return fmt.Sprintf("s%d", rng.IntN(40)) }
	note := func(op string, res result) {
		counts[op]++
		if res.code != 0 {
			key := op + ": " + firstLine(res.stderr)
			failures[key] = append(failures[key], "")
		}
	}
	kills := 0
	start := time.Now()
	for i := 0; i < n; i++ {
		switch op := rng.IntN(100); {
		case op < 3:
			// SIGKILL the agent now, and start a new one.
			e.killDaemon()
			e.startDaemon()
			kills++
			counts["agent kill"]++
		case op < 25:
			nm := name()
			res := e.sy("run", "-d", "--name", nm, e.images.busybox, "sh", "-c", "trap 'exit 0' TERM; while :; do echo tick; sleep 0.2; done")
			note("run -d", res)
			if res.code == 0 {
				names[nm] = true
			}
		case op < 35:
			note("run --rm", e.sy("run", "--rm", e.images.busybox, "echo", "hi"))
		case op < 50:
			note("stop", e.sy("stop", "-t", "1", name()))
		case op < 65:
			nm := name()
			res := e.sy("rm", "-f", nm)
			note("rm -f", res)
			if res.code == 0 {
				delete(names, nm)
			}
		case op < 75:
			note("start", e.sy("start", name()))
		case op < 85:
			note("exec", e.sy("exec", name(), "true"))
		case op < 92:
			note("logs", e.sy("logs", "--tail", "3", name()))
		default:
			note("ps", e.sy("ps", "-a"))
		}
	}
	took := time.Since(start)

	// What a user relies on after all that.
	rows := e.psAll()
	var problems []string
	for nm := range rows {
		if res := e.sy("inspect", nm); res.code != 0 {
			problems = append(problems, "inspect "+nm+": "+firstLine(res.stderr))
		}
		if res := e.sy("rm", "-f", nm); res.code != 0 {
			problems = append(problems, "rm -f "+nm+": "+firstLine(res.stderr))
		}
	}
	if left := e.psAll(); len(left) != 0 {
		problems = append(problems, fmt.Sprintf("%d containers left after rm -f of all", len(left)))
	}
	for i := 0; i < 40; i++ {
		nm := fmt.Sprintf("s%d", i)
		if res := e.sy("create", "--name", nm, e.images.busybox, "true"); res.code != 0 {
			problems = append(problems, "name "+nm+" not free: "+firstLine(res.stderr))
			continue
		}
		e.sy("rm", "-f", nm)
	}
	if !testutil.Poll(20*time.Second, func() bool { return len(shimsOf(e)) == 0 }) {
		problems = append(problems, fmt.Sprintf("shims still running with no container: %v", shimsOf(e)))
	}
	if m := mountsUnder(e.root); len(m) != 0 {
		problems = append(problems, fmt.Sprintf("mounts left: %v", m))
	}

	var b strings.Builder
	fmt.Fprintf(&b, "soak: %d operations and %d agent kills in %v\n", n, kills, took.Round(time.Second))
	var ops []string
	for op := range counts {
		ops = append(ops, op)
	}
	sort.Strings(ops)
	for _, op := range ops {
		fmt.Fprintf(&b, "  %-12s %d\n", op, counts[op])
	}
	var keys []string
	for k := range failures {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	fmt.Fprintf(&b, "commands that failed (an expected failure, such as a stop of a name that does not exist, counts too):\n")
	for _, k := range keys {
		fmt.Fprintf(&b, "  %4d × %s\n", len(failures[k]), k)
	}
	fmt.Fprintf(&b, "problems after the run: %d\n", len(problems))
	for _, p := range problems {
		fmt.Fprintf(&b, "  %s\n", p)
	}
	t.Log(b.String())
	if len(problems) > 0 {
		t.Errorf("%d problems after the soak", len(problems))
	}
}

// firstLine is the first line of s, for grouping messages.
func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	// Names vary; group by what was said.
	for i := 0; i < 40; i++ {
		s = strings.ReplaceAll(s, fmt.Sprintf("s%d-rep-0", i), "sN-rep-0")
	}
	return s
}

// shimsOf lists the shim processes of e's root.
func shimsOf(e *env) []int {
	return pidsMentioning(e.root + "/runc/containers/")
}
