package runtimetest_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"testing"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/switchyard/switchyard/runtime"
	"github.com/switchyard/switchyard/runtime/runtimetest"
)

func mustCreate(t *testing.T, f *runtimetest.Fake, id runtime.ContainerID, w runtimetest.Workload) {
	t.Helper()
	if err := f.Create(t.Context(), id, runtimetest.FakeSpec(w)); err != nil {
		t.Fatalf("Create(%s): %v", id, err)
	}
}

func TestFakeIdentity(t *testing.T) {
	p := ocispec.Platform{OS: "wasip1", Architecture: "wasm"}
	f := runtimetest.NewFake("wasm", p)
	if got := f.Platforms(); f.Name() != "wasm" || len(got) != 1 || got[0].OS != p.OS || got[0].Architecture != p.Architecture {
		t.Fatalf("Name, Platforms = %q, %v", f.Name(), f.Platforms())
	}
	if got := runtimetest.NewFake("x").Platforms(); len(got) != 1 || got[0].OS == "" {
		t.Fatalf("default platforms = %v, want the host's", got)
	}
}

func TestFakeFailOnAndCalls(t *testing.T) {
	f := runtimetest.NewFake("f")
	id := runtime.ContainerID{Service: "a"}
	boom := fmt.Errorf("boom: %w", runtime.ErrUnavailable)
	f.FailOn("Create", boom)
	if err := f.Create(t.Context(), id, runtimetest.FakeSpec(runtimetest.Workload{})); !errors.Is(err, boom) {
		t.Fatalf("Create = %v, want the injected error", err)
	}
	f.FailOn("create", nil)
	mustCreate(t, f, id, runtimetest.Workload{})
	if _, err := f.Pull(t.Context(), "example/none:1", runtime.PullOptions{Policy: runtime.PullNever}); !errors.Is(err, runtime.ErrNotFound) {
		t.Fatalf("Pull(never) of an absent image = %v", err)
	}
	want := []runtimetest.Call{{Method: "create", ID: id}, {Method: "create", ID: id}, {Method: "pull", Ref: "example/none:1", Policy: runtime.PullNever}}
	if got := f.Calls(); !slices.Equal(got, want) {
		t.Fatalf("Calls = %+v, want %+v", got, want)
	}
	f.ResetCalls()
	if len(f.Calls()) != 0 {
		t.Fatal("ResetCalls kept calls")
	}
	defer func() {
		if recover() == nil {
			t.Fatal("FailOn of an unknown method did not panic")
		}
	}()
	f.FailOn("creat", boom)
}

func TestFakeExitAndWriteLog(t *testing.T) {
	f := runtimetest.NewFake("f")
	ctx := t.Context()
	id := runtime.ContainerID{Service: "a"}
	ghost := runtime.ContainerID{Service: "ghost"}
	mustCreate(t, f, id, runtimetest.Workload{UntilStopped: true})
	if err := f.Exit(id, 3); !errors.Is(err, runtime.ErrFailedPrecondition) {
		t.Fatalf("Exit of a pending container = %v", err)
	}
	if err := f.Exit(ghost, 3); !errors.Is(err, runtime.ErrNotFound) {
		t.Fatalf("Exit of an unknown container = %v", err)
	}
	if err := f.WriteLog(ghost, runtime.Stdout, "x"); !errors.Is(err, runtime.ErrNotFound) {
		t.Fatalf("WriteLog of an unknown container = %v", err)
	}
	if err := f.Start(ctx, id); err != nil {
		t.Fatal(err)
	}
	if err := f.Start(ctx, id); err != nil {
		t.Fatalf("Start of a running container: %v", err)
	}
	st, err := f.FollowLogs(ctx, id, runtime.TailAll)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.WriteLog(id, runtime.Stderr, "fed"); err != nil {
		t.Fatal(err)
	}
	if e, err := st.Recv(); err != nil || e.Text != "fed" || e.Stream != runtime.Stderr {
		t.Fatalf("Recv = %+v, %v", e, err)
	}
	if err := f.Exit(id, 3); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Recv(); !errors.Is(err, io.EOF) {
		t.Fatalf("Recv after exit = %v, want io.EOF", err)
	}
	if code, err := f.Wait(ctx, id); err != nil || code != 3 {
		t.Fatalf("Wait = %d, %v", code, err)
	}
}

func TestFakeFollowLogsEnds(t *testing.T) {
	f := runtimetest.NewFake("f")
	id := runtime.ContainerID{Service: "a"}
	mustCreate(t, f, id, runtimetest.Workload{UntilStopped: true})
	if err := f.Start(t.Context(), id); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	st, err := f.FollowLogs(ctx, id, 0)
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	if _, err := st.Recv(); !errors.Is(err, context.Canceled) {
		t.Fatalf("Recv after cancel = %v, want context.Canceled", err)
	}
	st2, err := f.FollowLogs(t.Context(), id, 0)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { _, err := st2.Recv(); done <- err }()
	if err := st2.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; !errors.Is(err, io.EOF) {
		t.Fatalf("Recv after Close = %v, want io.EOF", err)
	}
}

func TestFakeKillSignals(t *testing.T) {
	for _, tc := range []struct {
		sig     string
		running bool
		code    int
	}{{"WINCH", true, 0}, {"CHLD", true, 0}, {"HUP", false, 129}, {"", false, 137}, {"USR1", false, 138}} {
		t.Run(tc.sig, func(t *testing.T) {
			f := runtimetest.NewFake("f")
			id := runtime.ContainerID{Service: "a"}
			mustCreate(t, f, id, runtimetest.Workload{UntilStopped: true})
			if err := f.Start(t.Context(), id); err != nil {
				t.Fatal(err)
			}
			if err := f.Kill(t.Context(), id, tc.sig); err != nil {
				t.Fatal(err)
			}
			st, _ := f.State(t.Context(), id)
			if (st.Status == runtime.StatusRunning) != tc.running || (!tc.running && st.ExitCode != tc.code) {
				t.Fatalf("state after %s = %s", tc.sig, st)
			}
		})
	}
}

func TestFakeWaitEdges(t *testing.T) {
	f := runtimetest.NewFake("f")
	ctx := t.Context()
	id := runtime.ContainerID{Service: "a"}
	mustCreate(t, f, id, runtimetest.Workload{})
	o, err := f.WaitOutcome(ctx, id, "")
	if err != nil || o.Reason != runtime.ReasonExited || o.ExitCode != 0 {
		t.Fatalf("WaitOutcome of a pending container = %+v, %v", o, err)
	}
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if _, err := f.WaitOutcome(short, id, runtime.WaitNextExit); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WaitOutcome(next-exit) with a deadline = %v", err)
	}
	done := make(chan error, 1)
	go func() { _, err := f.WaitOutcome(ctx, id, runtime.WaitNextExit); done <- err }()
	// Removal of a container that never exits again ends a next-exit wait;
	// until the waiter is blocked, Remove may come first, which is fine too.
	if err := f.Remove(ctx, id, false); err != nil {
		t.Fatal(err)
	}
	if err := <-done; !errors.Is(err, runtime.ErrNotFound) {
		t.Fatalf("WaitOutcome(next-exit) across a removal = %v, want ErrNotFound", err)
	}
}

func TestFakeInspectAndList(t *testing.T) {
	f := runtimetest.NewFake("f")
	id := runtime.ContainerID{Service: "a"}
	svc := runtimetest.FakeSpec(runtimetest.Workload{ExitCode: 1})
	svc.Env = []string{"A=1", "B=2"}
	svc.Platform = &ocispec.Platform{OS: "linux", Architecture: "arm64"}
	if err := f.Create(t.Context(), id, svc); err != nil {
		t.Fatal(err)
	}
	d, err := f.Inspect(t.Context(), id)
	if err != nil || !slices.Equal(d.Env, []string{"A=1", "B=2"}) || d.Platform.Architecture != "arm64" || d.Runtime != "f" {
		t.Fatalf("Inspect = %+v, %v", d, err)
	}
	if d.Command[0] != runtimetest.FakeEntrypoint {
		t.Fatalf("Command = %v", d.Command)
	}
	plain := runtime.ContainerID{Service: "b"}
	if err := f.Create(t.Context(), plain, &runtime.CreateSpec{Image: "example.com/plain:1"}); err != nil {
		t.Fatal(err)
	}
	if err := f.Start(t.Context(), plain); err != nil {
		t.Fatal(err)
	}
	list, err := f.List(t.Context())
	if err != nil || len(list) != 2 || list[0].ID != id || list[1].State.Status != runtime.StatusRunning {
		t.Fatalf("List = %+v, %v (a spec that is not a Fake workload runs until stopped)", list, err)
	}
}

func TestFakeExec(t *testing.T) {
	f := runtimetest.NewFake("f")
	id := runtime.ContainerID{Service: "a"}
	mustCreate(t, f, id, runtimetest.Workload{UntilStopped: true})
	if err := f.Start(t.Context(), id); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Exec(t.Context(), id, nil); !errors.Is(err, runtime.ErrInvalidArgument) {
		t.Fatalf("Exec(nil) = %v", err)
	}
	if r, err := f.Exec(t.Context(), id, []string{"true"}); err != nil || r != (runtime.ExecResult{}) {
		t.Fatalf("Exec(true) = %+v, %v", r, err)
	}
	if r, err := f.Exec(t.Context(), id, []string{runtimetest.FakeEntrypoint, "exec", "x", "out"}); err != nil || r.ExitCode != 0 {
		t.Fatalf("Exec with a bad code = %+v, %v", r, err)
	}
	f.SetExec(func(runtime.ContainerID, []string) (runtime.ExecResult, error) {
		return runtime.ExecResult{ExitCode: 1, Stdout: "o", Stderr: "e"}, nil
	})
	st, err := f.ExecStream(t.Context(), id, []string{"x"})
	if err != nil {
		t.Fatal(err)
	}
	var kinds []runtime.ExecEventKind
	for {
		e, err := st.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		kinds = append(kinds, e.Kind)
	}
	if !slices.Equal(kinds, []runtime.ExecEventKind{runtime.ExecStdout, runtime.ExecStderr, runtime.ExecExit}) {
		t.Fatalf("events = %v", kinds)
	}
	_ = st.Close()
	if _, err := st.Recv(); !errors.Is(err, io.EOF) {
		t.Fatalf("Recv after Close = %v", err)
	}
	if _, err := f.ExecStream(t.Context(), runtime.ContainerID{Service: "x"}, []string{"x"}); !errors.Is(err, runtime.ErrNotFound) {
		t.Fatalf("ExecStream of an unknown container = %v", err)
	}
}

func TestFakeImages(t *testing.T) {
	ctx := t.Context()
	f := runtimetest.NewFake("f")
	arm := ocispec.Platform{OS: "linux", Architecture: "arm64"}
	for _, tc := range []struct {
		name   string
		policy runtime.PullPolicy
		err    error
	}{{"never absent", runtime.PullNever, runtime.ErrNotFound}, {"bad policy", "sometimes", runtime.ErrInvalidArgument}, {"if not present", "", nil}, {"always", runtime.PullAlways, nil}, {"never present", runtime.PullNever, nil}} {
		t.Run(tc.name, func(t *testing.T) {
			info, err := f.Pull(ctx, "example/a:1", runtime.PullOptions{Policy: tc.policy, Platform: &arm})
			if !errors.Is(err, tc.err) || (err == nil && (info.Digest == "" || info.Platforms[0].Architecture != arm.Architecture)) {
				t.Fatalf("Pull = %+v, %v; want %v", info, err, tc.err)
			}
		})
	}
	if _, err := f.Pull(ctx, "", runtime.PullOptions{}); !errors.Is(err, runtime.ErrInvalidArgument) {
		t.Fatalf("Pull(\"\") = %v", err)
	}
	if err := f.TagImage(ctx, "example/a:1", "example/a:2"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		err  error
		call func() error
	}{
		{"tag missing", runtime.ErrNotFound, func() error { return f.TagImage(ctx, "nope", "x") }},
		{"tag empty", runtime.ErrInvalidArgument, func() error { return f.TagImage(ctx, "example/a:1", "") }},
		{"remove missing", runtime.ErrNotFound, func() error { return f.RemoveImage(ctx, "nope", false) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.call(); !errors.Is(err, tc.err) {
				t.Fatalf("got %v, want %v", err, tc.err)
			}
		})
	}
	svc := runtimetest.FakeSpec(runtimetest.Workload{})
	svc.Image = "example/a:1"
	if err := f.Create(ctx, runtime.ContainerID{Service: "user"}, svc); err != nil {
		t.Fatal(err)
	}
	if err := f.RemoveImage(ctx, "example/a:1", false); !errors.Is(err, runtime.ErrFailedPrecondition) {
		t.Fatalf("RemoveImage of an image in use = %v", err)
	}
	res, err := f.PruneImages(ctx)
	if err != nil || !slices.Equal(res.Deleted, []string{"example/a:2"}) || res.SpaceReclaimed != 1024 {
		t.Fatalf("PruneImages = %+v, %v", res, err)
	}
	if err := f.RemoveImage(ctx, "example/a:1", true); err != nil {
		t.Fatal(err)
	}
	if imgs, err := f.ListImages(ctx); err != nil || len(imgs) != 0 {
		t.Fatalf("ListImages = %+v, %v", imgs, err)
	}
}

func TestFakeMethodsFailOnDemand(t *testing.T) {
	f := runtimetest.NewFake("f")
	ctx := t.Context()
	id := runtime.ContainerID{Service: "a"}
	mustCreate(t, f, id, runtimetest.Workload{UntilStopped: true})
	boom := errors.New("boom")
	calls := map[string]func() error{
		"start":        func() error { return f.Start(ctx, id) },
		"stop":         func() error { return f.Stop(ctx, id, 0) },
		"kill":         func() error { return f.Kill(ctx, id, "") },
		"remove":       func() error { return f.Remove(ctx, id, true) },
		"rename":       func() error { return f.Rename(ctx, id, runtime.ContainerID{Service: "b"}) },
		"syncvolumes":  func() error { return f.SyncVolumes(ctx, id) },
		"state":        func() error { _, err := f.State(ctx, id); return err },
		"inspect":      func() error { _, err := f.Inspect(ctx, id); return err },
		"list":         func() error { _, err := f.List(ctx); return err },
		"stats":        func() error { _, err := f.Stats(ctx, id); return err },
		"pid":          func() error { _, err := f.PID(ctx, id); return err },
		"ip":           func() error { _, err := f.IP(ctx, id); return err },
		"portoverride": func() error { _, err := f.PortOverride(ctx, id); return err },
		"wait":         func() error { _, err := f.Wait(ctx, id); return err },
		"waitoutcome":  func() error { _, err := f.WaitOutcome(ctx, id, ""); return err },
		"logs":         func() error { _, err := f.Logs(ctx, id, 1); return err },
		"followlogs":   func() error { _, err := f.FollowLogs(ctx, id, 1); return err },
		"exec":         func() error { _, err := f.Exec(ctx, id, []string{"x"}); return err },
		"execstream":   func() error { _, err := f.ExecStream(ctx, id, []string{"x"}); return err },
		"pull":         func() error { _, err := f.Pull(ctx, "x", runtime.PullOptions{}); return err },
		"listimages":   func() error { _, err := f.ListImages(ctx); return err },
		"removeimage":  func() error { return f.RemoveImage(ctx, "x", false) },
		"tagimage":     func() error { return f.TagImage(ctx, "x", "y") },
		"pruneimages":  func() error { _, err := f.PruneImages(ctx); return err },
	}
	for m, call := range calls {
		t.Run(m, func(t *testing.T) {
			f.FailOn(m, boom)
			defer f.FailOn(m, nil)
			if err := call(); !errors.Is(err, boom) {
				t.Fatalf("%s = %v, want the injected error", m, err)
			}
		})
	}
	if err := f.Rename(ctx, id, runtime.ContainerID{Service: "-bad"}); !errors.Is(err, runtime.ErrInvalidArgument) {
		t.Fatalf("Rename to an invalid id = %v", err)
	}
	if _, err := f.WaitOutcome(ctx, id, "soon"); !errors.Is(err, runtime.ErrInvalidArgument) {
		t.Fatalf("WaitOutcome with a bad condition = %v", err)
	}
}
