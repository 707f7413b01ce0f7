package wasm

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/switchyard/switchyard/internal/testimages"
	"github.com/switchyard/switchyard/internal/testutil"
	"github.com/switchyard/switchyard/runtime"
)

func TestRunModules(t *testing.T) {
	e := newEnv(t)
	artifact := e.testImage(t)
	platform := e.image(t, "test.local/wasm/testmod-platform:latest", testimages.WasmModule(t, testModule, testimages.ConventionPlatform))
	for _, tc := range []struct {
		name     string
		svc      *runtime.CreateSpec
		wantCode int
		wantLogs []string
	}{
		{"hello as an artifact", svc(artifact), 0,
			[]string{"stdout: hello from wasm", "stderr: hello on stderr"}},
		{"hello as a wasi/wasm image", svc(platform), 0,
			[]string{"stdout: hello from wasm", "stderr: hello on stderr"}},
		{"exit code 0", svc(artifact, "exit", "0"), 0, []string{"stdout: exiting with 0"}},
		{"exit code 3", svc(artifact, "exit", "3"), 3, []string{"stdout: exiting with 3"}},
		{"args and env arrive", func() *runtime.CreateSpec {
			s := svc(artifact, "args", "two words")
			s.Env = []string{"GREETING=hi there"}
			return s
		}(), 0, []string{"stdout: argv=testmod.wasm,args,two words", "stdout: GREETING=hi there"}},
		{"argv[0] is the entrypoint's module name", svc(platform, "args"), 0,
			[]string{"stdout: argv=module.wasm,args", "stdout: GREETING="}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := cid(strings.NewReplacer(" ", "-", "/", "-", "[", "", "]", "", "'", "").Replace(tc.name))
			o := mustRun(t, e.rt, id, tc.svc)
			if o.ExitCode != tc.wantCode || o.Reason != runtime.ReasonExited {
				t.Fatalf("outcome %+v, want exited with %d", o, tc.wantCode)
			}
			got := logText(t, e.rt, id)
			slices.Sort(got)
			want := slices.Clone(tc.wantLogs)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Fatalf("logs %q, want %q", got, want)
			}
			if st := mustState(t, e.rt, id); st.Status != runtime.StatusExited || st.ExitCode != tc.wantCode {
				t.Fatalf("state %v", st)
			}
			if err := e.rt.Remove(ctxT(t), id, false); err != nil {
				t.Fatalf("remove: %v", err)
			}
		})
	}
}

func TestVolumes(t *testing.T) {
	e := newEnv(t)
	ref := e.testImage(t)
	data := t.TempDir()
	if err := os.WriteFile(filepath.Join(data, "in.txt"), []byte("from the host"), 0o644); err != nil {
		t.Fatal(err)
	}
	withVols := func(s *runtime.CreateSpec) *runtime.CreateSpec {
		s.Volumes = []runtime.Volume{
			{Name: "ro", Path: "/ro", Source: data, ReadOnly: true},
			{Name: "rw", Path: "/rw", Source: data},
			{Name: "own", Path: "/own"},
		}
		return s
	}
	for _, tc := range []struct {
		name     string
		args     []string
		wantCode int
		wantLog  string
	}{
		{"read-only volume is readable", []string{"read", "/ro/in.txt"}, 0, "read: from the host"},
		{"read-only volume refuses writes", []string{"write", "/ro/out.txt", "x"}, 1, "write error:"},
		{"writable volume takes writes", []string{"write", "/rw/out.txt", "written"}, 0, "wrote /rw/out.txt"},
		{"managed volume takes writes", []string{"write", "/own/f", "x"}, 0, "wrote /own/f"},
		{"scratch root takes writes", []string{"write", "/tmp/f", "x"}, 0, "wrote /tmp/f"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := cid("vol-" + tc.args[0] + "-" + filepath.Base(filepath.Dir(tc.args[1])))
			o := mustRun(t, e.rt, id, withVols(svc(ref, tc.args...)))
			logs := strings.Join(logText(t, e.rt, id), "\n")
			if o.ExitCode != tc.wantCode || !strings.Contains(logs, tc.wantLog) {
				t.Fatalf("outcome %+v logs %q; want code %d and %q", o, logs, tc.wantCode, tc.wantLog)
			}
			if err := e.rt.Remove(ctxT(t), id, false); err != nil {
				t.Fatal(err)
			}
		})
	}
	if b, err := os.ReadFile(filepath.Join(data, "out.txt")); err != nil || string(b) != "written" {
		t.Fatalf("host sees %q, %v; want the module's write", b, err)
	}
}

func TestStopLoopWhileAnotherRuns(t *testing.T) {
	e := newEnv(t)
	ref := e.testImage(t)
	loop, other := cid("loop"), cid("other")
	mustCreate(t, e.rt, loop, svc(ref, "loop"))
	mustCreate(t, e.rt, other, svc(ref, "sleep", "1h"))
	mustStart(t, e.rt, loop)
	mustStart(t, e.rt, other)
	testutil.Eventually(t, 10*time.Second, "loop logs", func() bool { return len(logText(t, e.rt, loop)) > 0 })

	const timeout = 2 * time.Second
	began := time.Now()
	if err := e.rt.Stop(ctxT(t), loop, timeout); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if took := time.Since(began); took > timeout {
		t.Fatalf("stop took %s, more than the %s timeout", took, timeout)
	}
	o, err := e.rt.WaitOutcome(ctxT(t), loop, runtime.WaitNotRunning)
	if err != nil || o.Reason != runtime.ReasonSignal || o.Signal != "SIGTERM" || o.ExitCode != 143 {
		t.Fatalf("loop outcome %+v, %v; want SIGTERM, 143", o, err)
	}
	if st := mustState(t, e.rt, other); st.Status != runtime.StatusRunning {
		t.Fatalf("other instance is %v, want running", st)
	}
	began = time.Now()
	if err := e.rt.Stop(ctxT(t), other, timeout); err != nil {
		t.Fatalf("stop sleeper: %v", err)
	}
	t.Logf("stopped a looping module and a sleeping one (%s)", time.Since(began))
}

func TestMemoryLimit(t *testing.T) {
	e := newEnv(t)
	ref := e.testImage(t)

	t.Run("growth past the limit fails clearly", func(t *testing.T) {
		s := svc(ref, "grow", "256")
		s.Resources.MemoryBytes = 64 << 20
		o := mustRun(t, e.rt, cid("grow"), s)
		if o.Reason != runtime.ReasonOOMKilled || !strings.Contains(o.Message, "64.0 MiB") {
			t.Fatalf("outcome %+v, want oom_killed naming the 64 MiB limit", o)
		}
		st := mustState(t, e.rt, cid("grow"))
		if st.Status != runtime.StatusFailed || !strings.Contains(st.Reason, "limit") {
			t.Fatalf("state %v", st)
		}
		t.Logf("outcome: %s", o.Message)
	})
	t.Run("growth within the limit works", func(t *testing.T) {
		s := svc(ref, "grow", "16")
		s.Resources.MemoryBytes = 64 << 20
		if o := mustRun(t, e.rt, cid("grow-ok"), s); o.ExitCode != 0 {
			t.Fatalf("outcome %+v", o)
		}
	})
	t.Run("stats report linear memory and the limit", func(t *testing.T) {
		s := svc(ref, "sleep", "1h")
		s.Resources.MemoryBytes = 64 << 20
		id := cid("stats")
		mustCreate(t, e.rt, id, s)
		mustStart(t, e.rt, id)
		var st runtime.Stats
		testutil.Eventually(t, 10*time.Second, "memory in stats", func() bool {
			var err error
			st, err = e.rt.Stats(ctxT(t), id)
			return err == nil && st.MemoryBytes > 0
		})
		if st.MemoryLimit != 64<<20 || st.CPUUsageUsec != nil {
			t.Fatalf("stats %+v", st)
		}
		t.Logf("a sleeping Go module has %d KiB of linear memory", st.MemoryBytes>>10)
		if err := e.rt.Remove(ctxT(t), id, true); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("a limit below one page is refused", func(t *testing.T) {
		s := svc(ref)
		s.Resources.MemoryBytes = 1000
		if err := e.rt.Create(ctxT(t), cid("tiny"), s); !errors.Is(err, runtime.ErrInvalidArgument) {
			t.Fatalf("create: %v, want invalid argument", err)
		}
	})
}

func TestComponentRefused(t *testing.T) {
	e := newEnv(t)
	component := append([]byte{0x00, 'a', 's', 'm', 0x0d, 0x00, 0x01, 0x00}, make([]byte, 32)...)
	ref := e.image(t, "test.local/wasm/component:latest", testimages.WasmImage(t, component, testimages.ConventionArtifact))
	err := e.rt.Create(ctxT(t), cid("component"), svc(ref))
	if !errors.Is(err, runtime.ErrNotSupported) || !strings.Contains(err.Error(), "preview 2") {
		t.Fatalf("create: %v; want not supported, naming preview 2", err)
	}
	if _, err := e.rt.State(ctxT(t), cid("component")); !errors.Is(err, runtime.ErrNotFound) {
		t.Fatalf("a refused create left a container: %v", err)
	}
}

func TestCompiledOnceForManyInstances(t *testing.T) {
	e := newEnv(t)
	ref := e.testImage(t)
	const n = 8
	for i := range n {
		id := runtime.ContainerID{Service: "many", Replica: uint32(i)}
		mustCreate(t, e.rt, id, svc(ref, "exit", "0"))
	}
	began := time.Now()
	for i := range n {
		mustStart(t, e.rt, runtime.ContainerID{Service: "many", Replica: uint32(i)})
	}
	for i := range n {
		if code, err := e.rt.Wait(ctxT(t), runtime.ContainerID{Service: "many", Replica: uint32(i)}); err != nil || code != 0 {
			t.Fatalf("wait: %d, %v", code, err)
		}
	}
	took := time.Since(began)
	inf, err := e.rt.HostInfo(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	if inf.Compiles != 1 || inf.Modules != 1 {
		t.Fatalf("host info %+v: want one compilation for %d instances", inf, n)
	}
	t.Logf("%d instances of one module: 1 compilation (%s); %d starts to exit in %s", n, inf.CompileTime, n, took)
}

func TestLifecycleErrors(t *testing.T) {
	e := newEnv(t)
	ref := e.testImage(t)
	id := cid("life")
	mustCreate(t, e.rt, id, svc(ref, "sleep", "1h"))
	ctx := ctxT(t)

	if err := e.rt.Create(ctx, id, svc(ref)); !errors.Is(err, runtime.ErrAlreadyExists) {
		t.Fatalf("second create: %v", err)
	}
	if err := e.rt.Kill(ctx, id, "TERM"); !errors.Is(err, runtime.ErrFailedPrecondition) {
		t.Fatalf("kill of a created container: %v", err)
	}
	if o, err := e.rt.WaitOutcome(ctx, id, runtime.WaitNotRunning); err != nil || o.ExitCode != 0 {
		t.Fatalf("wait not-running on a created container: %+v %v", o, err)
	}
	mustStart(t, e.rt, id)
	if err := e.rt.Start(ctx, id); err != nil {
		t.Fatalf("starting a running container again: %v", err)
	}
	for _, tc := range []struct {
		name, signal string
		want         error
	}{
		{"unknown signal", "SIGFOO", runtime.ErrInvalidArgument},
		{"bad number", "99", runtime.ErrInvalidArgument},
		{"signal a module cannot get", "SIGUSR1", runtime.ErrNotSupported},
		{"SIGHUP", "HUP", runtime.ErrNotSupported},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := e.rt.Kill(ctx, id, tc.signal); !errors.Is(err, tc.want) {
				t.Fatalf("kill %s: %v, want %v", tc.signal, err, tc.want)
			}
		})
	}
	if _, err := e.rt.Exec(ctx, id, []string{"sh"}); !errors.Is(err, runtime.ErrNotSupported) || !strings.Contains(err.Error(), "single process") {
		t.Fatalf("exec: %v", err)
	}
	if _, err := e.rt.ExecStream(ctx, id, []string{"sh"}); !errors.Is(err, runtime.ErrNotSupported) {
		t.Fatalf("exec stream: %v", err)
	}
	if err := e.rt.Remove(ctx, id, false); !errors.Is(err, runtime.ErrFailedPrecondition) {
		t.Fatalf("remove running: %v", err)
	}
	if pid, err := e.rt.PID(ctx, id); err != nil || pid == 0 {
		t.Fatalf("pid: %d %v", pid, err)
	}
	renamed := cid("life2")
	if err := e.rt.Rename(ctx, id, renamed); err != nil {
		t.Fatalf("rename running: %v", err)
	}
	if _, err := e.rt.State(ctx, id); !errors.Is(err, runtime.ErrNotFound) {
		t.Fatalf("old name still answers: %v", err)
	}
	if st := mustState(t, e.rt, renamed); st.Status != runtime.StatusRunning {
		t.Fatalf("renamed container is %v", st)
	}
	d, err := e.rt.Inspect(ctx, renamed)
	if err != nil || d.ID != renamed || d.Runtime != "wasm" || d.Platform.OS != "wasip1" || len(d.Command) != 3 || d.StartedAt.IsZero() {
		t.Fatalf("inspect: %+v %v", d, err)
	}
	if err := e.rt.Kill(ctx, renamed, "SIGKILL"); err != nil {
		t.Fatalf("kill: %v", err)
	}
	o, err := e.rt.WaitOutcome(ctx, renamed, runtime.WaitNotRunning)
	if err != nil || o.Signal != "SIGKILL" || o.ExitCode != 137 {
		t.Fatalf("outcome after SIGKILL: %+v %v", o, err)
	}
	list, err := e.rt.List(ctx)
	if err != nil || len(list) != 1 || list[0].ID != renamed || list[0].State.ExitCode != 137 {
		t.Fatalf("list: %+v %v", list, err)
	}
	if err := e.rt.Remove(ctx, renamed, false); err != nil {
		t.Fatalf("remove: %v", err)
	}
	if _, err := e.rt.State(ctx, renamed); !errors.Is(err, runtime.ErrNotFound) {
		t.Fatalf("state after remove: %v", err)
	}
}

func TestWaitConditions(t *testing.T) {
	e := newEnv(t)
	ref := e.testImage(t)
	ctx := ctxT(t)
	id := cid("waiter")
	mustCreate(t, e.rt, id, svc(ref, "exit", "5"))

	next := make(chan runtime.WaitOutcome, 1)
	go func() {
		o, _ := e.rt.WaitOutcome(ctx, id, runtime.WaitNextExit)
		next <- o
	}()
	// The waiter has nothing to see until the start; start it afterwards.
	mustStart(t, e.rt, id)
	if o := <-next; o.ExitCode != 5 {
		t.Fatalf("next-exit: %+v", o)
	}
	// Once more, from exited: next-exit waits for the restart's exit.
	go func() {
		o, _ := e.rt.WaitOutcome(ctx, id, runtime.WaitNextExit)
		next <- o
	}()
	mustStart(t, e.rt, id)
	if o := <-next; o.ExitCode != 5 {
		t.Fatalf("next-exit after restart: %+v", o)
	}
	removed := make(chan error, 1)
	go func() {
		_, err := e.rt.WaitOutcome(ctx, id, runtime.WaitRemoved)
		removed <- err
	}()
	if err := e.rt.Remove(ctx, id, false); err != nil {
		t.Fatal(err)
	}
	if err := <-removed; err != nil {
		t.Fatalf("wait removed: %v", err)
	}
	if _, err := e.rt.WaitOutcome(ctx, id, "sometime"); !errors.Is(err, runtime.ErrInvalidArgument) {
		t.Fatalf("bad condition: %v", err)
	}
}

func TestFollowLogs(t *testing.T) {
	e := newEnv(t)
	ref := e.testImage(t)
	id := cid("follow")
	mustCreate(t, e.rt, id, svc(ref, "sleep", "200ms"))
	mustStart(t, e.rt, id)
	s, err := e.rt.FollowLogs(ctxT(t), id, runtime.TailAll)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var got []string
	for {
		le, err := s.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("recv: %v", err)
		}
		got = append(got, le.Text)
	}
	if !slices.Equal(got, []string{"sleeping 200ms", "slept"}) {
		t.Fatalf("followed %q", got)
	}
	if tail, err := e.rt.Logs(ctxT(t), id, 1); err != nil || len(tail) != 1 || tail[0].Text != "slept" {
		t.Fatalf("tail 1: %+v %v", tail, err)
	}
}

// trapWasm's _start executes unreachable; missingImportWasm imports a
// function no host provides, so it cannot be instantiated.
var (
	trapWasm = []byte{
		0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
		0x01, 0x04, 0x01, 0x60, 0x00, 0x00,
		0x03, 0x02, 0x01, 0x00,
		0x07, 0x0a, 0x01, 0x06, '_', 's', 't', 'a', 'r', 't', 0x00, 0x00,
		0x0a, 0x05, 0x01, 0x03, 0x00, 0x00, 0x0b,
	}
	missingImportWasm = []byte{
		0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
		0x01, 0x04, 0x01, 0x60, 0x00, 0x00,
		0x02, 0x09, 0x01, 0x03, 'e', 'n', 'v', 0x01, 'f', 0x00, 0x00,
		0x03, 0x02, 0x01, 0x00,
		0x07, 0x0a, 0x01, 0x06, '_', 's', 't', 'a', 'r', 't', 0x00, 0x01,
		0x0a, 0x04, 0x01, 0x02, 0x00, 0x0b,
	}
)

func TestRuntimeErrors(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		name, want string
		module     []byte
	}{
		{"trap", "unreachable", trapWasm},
		{"failed instantiation", "env", missingImportWasm},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ref := e.image(t, "test.local/wasm/"+strings.ReplaceAll(tc.name, " ", "-")+":latest",
				testimages.WasmImage(t, tc.module, testimages.ConventionArtifact))
			id := cid(strings.ReplaceAll(tc.name, " ", "-"))
			o := mustRun(t, e.rt, id, svc(ref))
			if o.Reason != runtime.ReasonRuntimeError || !strings.Contains(o.Message, tc.want) {
				t.Fatalf("outcome %+v; want runtime_error mentioning %q", o, tc.want)
			}
			if st := mustState(t, e.rt, id); st.Status != runtime.StatusFailed || st.Reason != o.Message {
				t.Fatalf("state %v", st)
			}
			t.Logf("%s: %s", tc.name, o.Message)
		})
	}
	t.Run("not a module", func(t *testing.T) {
		ref := e.image(t, "test.local/wasm/garbage:latest", testimages.WasmImage(t, []byte("#!/bin/sh\n"), testimages.ConventionArtifact))
		if err := e.rt.Create(ctxT(t), cid("garbage"), svc(ref)); !errors.Is(err, runtime.ErrInvalidArgument) {
			t.Fatalf("create: %v", err)
		}
	})
	t.Run("platform the runtime does not serve", func(t *testing.T) {
		s := svc("test.local/none:latest")
		s.Platform = &ocispec.Platform{OS: "linux", Architecture: "amd64"}
		if err := e.rt.Create(ctxT(t), cid("linux"), s); !errors.Is(err, runtime.ErrNotSupported) {
			t.Fatalf("create: %v", err)
		}
	})
	t.Run("image not in the store", func(t *testing.T) {
		if err := e.rt.Create(ctxT(t), cid("absent"), svc("test.local/absent:latest")); !errors.Is(err, runtime.ErrNotFound) {
			t.Fatalf("create: %v", err)
		}
	})
}
