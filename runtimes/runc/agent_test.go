package runc

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/switchyard/switchyard/images"
	"github.com/switchyard/switchyard/internal/testimages"
	"github.com/switchyard/switchyard/internal/testutil"
	"github.com/switchyard/switchyard/runtime"
)

// agentMain is the test binary as an agent: it creates the takeover test's
// containers, says "ready" and waits to be killed.
func agentMain(args []string) int {
	if len(args) != 2 {
		fmt.Fprintln(os.Stderr, "agent: want STORE STATE")
		return 2
	}
	ctx := context.Background()
	st, err := images.Open(args[0])
	if err != nil {
		fmt.Fprintln(os.Stderr, "agent:", err)
		return 1
	}
	rt, err := New(args[1], st, testShim())
	if err != nil {
		fmt.Fprintln(os.Stderr, "agent:", err)
		return 1
	}
	for _, c := range []struct {
		name, script string
		start        bool
	}{
		{"ticker", `i=0; trap 'exit 143' TERM; while :; do echo tick$i; i=$((i+1)); sleep 0.05 & wait $!; done`, true},
		{"exiter", `echo begin; while [ ! -e /tmp/go ]; do sleep 0.05; done; echo end; exit 7`, true},
		{"pending", "exit 0", false},
	} {
		id := cid(c.name)
		if err := rt.Create(ctx, id, shSpec(c.name, c.script)); err != nil {
			fmt.Fprintln(os.Stderr, "agent:", err)
			return 1
		}
		if c.start {
			if err := rt.Start(ctx, id); err != nil {
				fmt.Fprintln(os.Stderr, "agent:", err)
				return 1
			}
		}
	}
	fmt.Println("ready")
	select {} // until killed
}

// TestAgentKilled kills the process that owns a runtime and takes its
// containers over with a new runtime over the same state.
func TestAgentKilled(t *testing.T) {
	requireRoot(t)
	// Shims orphaned by the agent's death become this process's children,
	// so that Remove can reap them; without it they would be init's.
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	storeDir, stateDir := filepath.Join(dir, "images"), filepath.Join(dir, "state")
	st, err := images.Open(storeDir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Write(context.Background(), busyboxRef, testimages.Busybox(t), images.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	st.Close()

	agent := exec.Command(os.Args[0], "agent", storeDir, stateDir)
	agent.Stderr = os.Stderr
	out, err := agent.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := agent.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || line != "ready\n" {
		agent.Process.Kill()
		agent.Wait()
		t.Fatalf("agent said %q, %v", line, err)
	}
	if err := agent.Process.Signal(unix.SIGKILL); err != nil {
		t.Fatal(err)
	}
	agent.Wait()

	st2 := mustStoreAt(t, storeDir)
	rt, err := New(stateDir, st2, testShim())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { removeAll(t, rt) })
	ctx := context.Background()

	list, err := rt.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	states := map[string]runtime.Status{}
	for _, c := range list {
		states[c.ID.Service] = c.State.Status
	}
	want := map[string]runtime.Status{"ticker": runtime.StatusRunning, "exiter": runtime.StatusRunning, "pending": runtime.StatusPending}
	if fmt.Sprint(states) != fmt.Sprint(want) {
		t.Fatalf("after takeover List = %v, want %v", states, want)
	}

	// Logs keep being written with no agent.
	n := len(logText(t, rt, cid("ticker"), runtime.Stdout))
	testutil.Eventually(t, 20*time.Second, "more ticks in the log", func() bool { return len(logText(t, rt, cid("ticker"), runtime.Stdout)) > n+20 })

	// An exit while no one watches is recorded with its real code.
	if _, err := rt.Exec(ctx, cid("exiter"), []string{"touch", "/tmp/go"}); err != nil {
		t.Fatal(err)
	}
	if o := mustWait(t, rt, cid("exiter")); o.ExitCode != 7 || o.Reason != runtime.ReasonExited {
		t.Errorf("exiter outcome %+v, want exit code 7", o)
	}
	if got := logText(t, rt, cid("exiter"), runtime.Stdout); got != "begin\nend\n" {
		t.Errorf("exiter stdout %q", got)
	}

	d, err := rt.Inspect(ctx, cid("ticker"))
	if err != nil || d.PID == 0 || d.StartedAt.IsZero() {
		t.Errorf("Inspect(ticker) = %+v, %v", d, err)
	}
	if err := rt.Stop(ctx, cid("ticker"), 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if o := mustWait(t, rt, cid("ticker")); o.ExitCode != 143 {
		t.Errorf("ticker outcome %+v, want 143 after stop", o)
	}
	var shims []int
	for _, name := range []string{"ticker", "exiter", "pending"} {
		s, err := rt.get(cid(name))
		if err != nil {
			t.Fatal(err)
		}
		shims = append(shims, s.shim.PID)
		if err := rt.Remove(ctx, cid(name), true); err != nil {
			t.Errorf("Remove(%s): %v", name, err)
		}
	}
	for _, pid := range shims {
		if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err == nil {
			b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
			t.Errorf("shim %d is still there: %s", pid, strings.SplitN(string(b), "\n", 4)[:3])
		}
	}
	if ents, _ := os.ReadDir(filepath.Join(stateDir, "containers")); len(ents) != 0 {
		t.Errorf("state left: %v", ents)
	}
}

// mustStoreAt opens the store at dir, closed at the end of the test.
func mustStoreAt(t testing.TB, dir string) *images.Store {
	t.Helper()
	st, err := images.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}
