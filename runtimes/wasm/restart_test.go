package wasm

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/switchyard/switchyard/images"
	"github.com/switchyard/switchyard/internal/testutil"
	"github.com/switchyard/switchyard/runtime"
)

// Environment of the "agent" child: its root, the image, and the host
// directory its first module watches.
const (
	envAgentRef   = "SWITCHYARD_TEST_WASM_REF"
	envAgentWatch = "SWITCHYARD_TEST_WASM_WATCH"
)

// runAgent plays an agent: it creates and starts two containers, says
// "ready" and waits to be killed.
func runAgent() int {
	root, ref, watch := os.Getenv(envAgent), os.Getenv(envAgentRef), os.Getenv(envAgentWatch)
	store, err := images.Open(filepath.Join(root, "images"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "agent:", err)
		return 1
	}
	rt, err := New(filepath.Join(root, "wasm"), StoreModules(store, filepath.Join(root, "wasm", "modules")), hostCommand())
	if err != nil {
		fmt.Fprintln(os.Stderr, "agent:", err)
		return 1
	}
	ctx := context.Background()
	late := svc(ref, "waitfile", "/watch/go", "7")
	late.Volumes = []runtime.Volume{{Name: "watch", Path: "/watch", Source: watch, ReadOnly: true}}
	for id, s := range map[runtime.ContainerID]*runtime.CreateSpec{cid("late"): late, cid("long"): svc(ref, "sleep", "1h")} {
		if err := rt.Create(ctx, id, s); err != nil {
			fmt.Fprintln(os.Stderr, "agent:", err)
			return 1
		}
		if err := rt.Start(ctx, id); err != nil {
			fmt.Fprintln(os.Stderr, "agent:", err)
			return 1
		}
	}
	fmt.Println("ready")
	select {} // until killed
}

func TestAgentKilled(t *testing.T) {
	e := newEnv(t)
	ref := e.testImage(t)
	// The child agent opens the store; one process at a time may.
	if err := e.store.Close(); err != nil {
		t.Fatal(err)
	}
	e.store = nil
	watch := t.TempDir()

	agent := exec.Command(os.Args[0], "-test.run=^$")
	agent.Env = append(os.Environ(), envAgent+"="+e.root, envAgentRef+"="+ref, envAgentWatch+"="+watch)
	agent.Stderr = os.Stderr
	out, err := agent.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := agent.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = agent.Process.Kill(); _ = agent.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || strings.TrimSpace(line) != "ready" {
		t.Fatalf("agent said %q, %v", line, err)
	}
	if err := agent.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = agent.Wait()

	// With no agent alive, let the first module finish and wait until its
	// exit is on disk.
	if err := os.WriteFile(filepath.Join(watch, "go"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 20*time.Second, "exit recorded while the agent is down", func() bool {
		m, _ := filepath.Glob(filepath.Join(e.root, "wasm", "containers", "late-rep-0.*", "exit.json"))
		return len(m) == 1
	})

	// A new agent takes over.
	e.openStore(t)
	_ = e.rt.Close()
	e.rt = mustRuntime(t, e)
	ctx := ctxT(t)
	list, err := e.rt.List(ctx)
	if err != nil || len(list) != 2 {
		t.Fatalf("list after takeover: %+v %v", list, err)
	}
	if code, err := e.rt.Wait(ctx, cid("late")); err != nil || code != 7 {
		t.Fatalf("late exit: %d %v; want 7", code, err)
	}
	if logs := strings.Join(logText(t, e.rt, cid("late")), "\n"); !strings.Contains(logs, "file appeared") {
		t.Fatalf("late's logs lost a line: %q", logs)
	}
	if st := mustState(t, e.rt, cid("long")); st.Status != runtime.StatusRunning {
		t.Fatalf("long is %v after the agent died; want running", st)
	}
	if err := e.rt.Stop(ctx, cid("long"), time.Second); err != nil {
		t.Fatalf("the new agent cannot stop the old agent's module: %v", err)
	}
	if err := e.rt.Remove(ctx, cid("long"), false); err != nil {
		t.Fatal(err)
	}
}

func TestHostKilled(t *testing.T) {
	e := newEnv(t)
	ref := e.testImage(t)
	ctx := ctxT(t)
	victim := cid("victim")
	mustCreate(t, e.rt, victim, svc(ref, "sleep", "1h"))
	mustStart(t, e.rt, victim)
	inf, err := e.rt.HostInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(inf.PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("wasm host exited (pid %d) while the module was running", inf.PID)
	testutil.Eventually(t, 10*time.Second, "instance reported failed", func() bool {
		st := mustState(t, e.rt, victim)
		return st.Status == runtime.StatusFailed && st.Reason == want
	})
	o, err := e.rt.WaitOutcome(ctx, victim, runtime.WaitNotRunning)
	if err != nil || o.Reason != runtime.ReasonRuntimeError || o.Message != want {
		t.Fatalf("outcome %+v %v", o, err)
	}
	if o := mustRun(t, e.rt, cid("after"), svc(ref, "exit", "0")); o.ExitCode != 0 {
		t.Fatalf("run after the host died: %+v", o)
	}
	inf2, err := e.rt.HostInfo(ctx)
	if err != nil || inf2.PID == inf.PID {
		t.Fatalf("new host %+v %v", inf2, err)
	}
	// The dead run stays failed; a restart runs it on the new host.
	mustStart(t, e.rt, victim)
	if st := mustState(t, e.rt, victim); st.Status != runtime.StatusRunning {
		t.Fatalf("restarted victim is %v", st)
	}
}

func TestConcurrentHostStart(t *testing.T) {
	e := newEnv(t)
	ref := e.testImage(t)
	other, err := New(filepath.Join(e.root, "wasm"), StoreModules(e.store, filepath.Join(e.root, "wasm", "modules")), hostCommand())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = other.Close() })
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for i, rt := range []*Runtime{e.rt, other, e.rt, other} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- rt.Create(ctxT(t), runtime.ContainerID{Service: "race", Replica: uint32(i)}, svc(ref))
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("create: %v", err)
		}
	}
	log, err := os.ReadFile(filepath.Join(e.root, "wasm", "host.log"))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(log), "wasm host serving"); n != 1 {
		t.Fatalf("%d hosts started; want 1:\n%s", n, log)
	}
	a, err1 := e.rt.HostInfo(ctxT(t))
	b, err2 := other.HostInfo(ctxT(t))
	if err := errors.Join(err1, err2); err != nil || a.PID != b.PID {
		t.Fatalf("hosts %d and %d (%v)", a.PID, b.PID, err)
	}
}
