package runtimetest

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/switchyard/switchyard/runtime"
)

func testCreateStartWait(t *testing.T, s *suite) {
	id := s.create(t, Workload{Stdout: []string{"hello"}, ExitCode: 3})
	if st := s.state(t, id); st.Status != runtime.StatusPending {
		t.Fatalf("state after Create = %s, want pending", st)
	}
	if err := s.rt.Start(t.Context(), id); err != nil {
		t.Fatalf("Start: %v", err)
	}
	if code := s.wait(t, id); code != 3 {
		t.Fatalf("Wait = %d, want 3", code)
	}
	if st := s.state(t, id); st.Status != runtime.StatusExited || st.ExitCode != 3 {
		t.Fatalf("state after exit = %s, want exited(3)", st)
	}
	o, err := s.rt.WaitOutcome(t.Context(), id, runtime.WaitNotRunning)
	if err != nil {
		t.Fatalf("WaitOutcome: %v", err)
	}
	if o.ExitCode != 3 || o.Reason != runtime.ReasonExited {
		t.Fatalf("outcome = %+v, want exit code 3, reason exited", o)
	}
}

func testExitCodes(t *testing.T, s *suite) {
	for _, code := range []int{0, 1, 42} {
		id := s.start(t, Workload{ExitCode: code})
		if got := s.wait(t, id); got != code {
			t.Errorf("workload exiting %d: Wait = %d", code, got)
		}
	}
}

func testRestart(t *testing.T, s *suite) {
	id := s.start(t, Workload{Stdout: []string{"run"}, ExitCode: 5})
	if code := s.wait(t, id); code != 5 {
		t.Fatalf("first run: Wait = %d, want 5", code)
	}
	if err := s.rt.Start(t.Context(), id); err != nil {
		t.Fatalf("Start of an exited container: %v", err)
	}
	s.eventually(t, "second run to exit", func() (bool, error) {
		logs, err := s.rt.Logs(t.Context(), id, runtime.TailAll)
		st, serr := s.rt.State(t.Context(), id)
		if err == nil {
			err = serr
		}
		return len(texts(logs, runtime.Stdout)) >= 2 && st.Status == runtime.StatusExited, err
	})
	if st := s.state(t, id); st.ExitCode != 5 {
		t.Fatalf("second run: state = %s, want exited(5)", st)
	}
}

func testStop(t *testing.T, s *suite) {
	id := s.running(t)
	const timeout = 5 * time.Second
	begin := time.Now()
	if err := s.rt.Stop(t.Context(), id, timeout); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if took := time.Since(begin); took > timeout+10*time.Second {
		t.Errorf("Stop took %s with a %s timeout", took, timeout)
	}
	s.eventually(t, "stopped workload to be exited", func() (bool, error) {
		st, err := s.rt.State(t.Context(), id)
		return st.Status == runtime.StatusExited, err
	})
	if err := s.rt.Stop(t.Context(), id, timeout); err != nil {
		t.Errorf("Stop of a stopped container: %v, want success", err)
	}
}

func testKill(t *testing.T, s *suite) {
	id := s.running(t)
	if err := s.rt.Kill(t.Context(), id, "KILL"); err != nil {
		t.Fatalf("Kill(KILL): %v", err)
	}
	if code := s.wait(t, id); code != 137 {
		t.Fatalf("Wait after SIGKILL = %d, want 137", code)
	}
	o, err := s.rt.WaitOutcome(t.Context(), id, runtime.WaitNotRunning)
	if err != nil {
		t.Fatalf("WaitOutcome: %v", err)
	}
	if o.Reason != runtime.ReasonSignal || o.Signal != "SIGKILL" {
		t.Fatalf("outcome = %+v, want reason signal, SIGKILL", o)
	}
}

func testKillBadSignal(t *testing.T, s *suite) {
	id := s.running(t)
	for _, sig := range []string{"SIGNOPE", "99", "-1", "RTMIN+99"} {
		err := s.rt.Kill(t.Context(), id, sig)
		wantErr(t, "Kill("+sig+")", err, runtime.ErrInvalidArgument)
	}
	if st := s.state(t, id); st.Status != runtime.StatusRunning {
		t.Fatalf("state after bad kills = %s, want running", st)
	}
}

func testKillNotRunning(t *testing.T, s *suite) {
	id := s.create(t, Workload{})
	wantErr(t, "Kill of a pending container", s.rt.Kill(t.Context(), id, "TERM"), runtime.ErrFailedPrecondition)
}

func testRemoveRunning(t *testing.T, s *suite) {
	id := s.running(t)
	wantErr(t, "Remove of a running container without force", s.rt.Remove(t.Context(), id, false), runtime.ErrFailedPrecondition)
	if st := s.state(t, id); st.Status != runtime.StatusRunning {
		t.Fatalf("state after refused remove = %s, want running", st)
	}
	if err := s.rt.Remove(t.Context(), id, true); err != nil {
		t.Fatalf("Remove(force): %v", err)
	}
	_, err := s.rt.State(t.Context(), id)
	wantErr(t, "State after Remove", err, runtime.ErrNotFound)
}

func testRemoveExited(t *testing.T, s *suite) {
	id := s.start(t, Workload{})
	s.wait(t, id)
	if err := s.rt.Remove(t.Context(), id, false); err != nil {
		t.Fatalf("Remove of an exited container: %v", err)
	}
	_, err := s.rt.State(t.Context(), id)
	wantErr(t, "State after Remove", err, runtime.ErrNotFound)
	wantErr(t, "second Remove", s.rt.Remove(t.Context(), id, false), runtime.ErrNotFound)
}

func testUnknownID(t *testing.T, s *suite) {
	ctx := t.Context()
	id := runtime.ContainerID{Service: s.prefix + "-never-created", Replica: 7}
	// optional is set for methods that a runtime may refuse outright.
	calls := []struct {
		name     string
		optional bool
		call     func() error
	}{
		{"Start", false, func() error { return s.rt.Start(ctx, id) }},
		{"Stop", false, func() error { return s.rt.Stop(ctx, id, time.Second) }},
		{"Kill", false, func() error { return s.rt.Kill(ctx, id, "TERM") }},
		{"Remove", false, func() error { return s.rt.Remove(ctx, id, true) }},
		{"Rename", !s.h.Caps.Rename, func() error {
			return s.rt.Rename(ctx, id, runtime.ContainerID{Service: s.prefix + "-other"})
		}},
		{"SyncVolumes", true, func() error { return s.rt.SyncVolumes(ctx, id) }},
		{"State", false, func() error { _, err := s.rt.State(ctx, id); return err }},
		{"Inspect", false, func() error { _, err := s.rt.Inspect(ctx, id); return err }},
		{"Stats", true, func() error { _, err := s.rt.Stats(ctx, id); return err }},
		{"PID", false, func() error { _, err := s.rt.PID(ctx, id); return err }},
		{"IP", true, func() error { _, err := s.rt.IP(ctx, id); return err }},
		{"PortOverride", true, func() error { _, err := s.rt.PortOverride(ctx, id); return err }},
		{"Wait", false, func() error { _, err := s.rt.Wait(ctx, id); return err }},
		{"WaitOutcome", false, func() error {
			_, err := s.rt.WaitOutcome(ctx, id, runtime.WaitNextExit)
			return err
		}},
		{"Logs", false, func() error { _, err := s.rt.Logs(ctx, id, runtime.TailAll); return err }},
		{"FollowLogs", false, func() error { return closeStream(s.rt.FollowLogs(ctx, id, runtime.TailAll)) }},
		{"Exec", !s.h.Caps.Exec, func() error { _, err := s.rt.Exec(ctx, id, s.h.ExecArgv("x", 0)); return err }},
		{"ExecStream", !s.h.Caps.Exec, func() error { return closeStream(s.rt.ExecStream(ctx, id, s.h.ExecArgv("x", 0))) }},
	}
	for _, c := range calls {
		t.Run(c.name, func(t *testing.T) {
			err := c.call()
			if c.optional && errorsIsNotSupported(err) {
				return
			}
			wantErr(t, c.name+" of an unknown container", err, runtime.ErrNotFound)
		})
	}
}

func closeStream[T any](st runtime.Stream[T], err error) error {
	if err == nil {
		_ = st.Close()
	}
	return err
}

func testCreateDuplicate(t *testing.T, s *suite) {
	id := s.create(t, Workload{})
	cs := s.h.Workload(t, Workload{})
	wantErr(t, "second Create of "+id.String(), s.rt.Create(t.Context(), id, cs), runtime.ErrAlreadyExists)
	if st := s.state(t, id); st.Status != runtime.StatusPending {
		t.Fatalf("state of the first container after a duplicate create = %s, want pending", st)
	}
}

func testCreateInvalid(t *testing.T, s *suite) {
	id := s.id()
	bad := runtime.ContainerID{Service: "-bad/name"}
	// Should the runtime wrongly accept either, the test still cleans up.
	t.Cleanup(func() { s.cleanup(t, id) })
	t.Cleanup(func() {
		err := s.rt.Remove(context.Background(), bad, true)
		if err != nil && !errors.Is(err, runtime.ErrNotFound) && !errors.Is(err, runtime.ErrInvalidArgument) {
			t.Errorf("cleanup: Remove(%s, force): %v", bad, err)
		}
	})
	wantErr(t, "Create with a nil spec", s.rt.Create(t.Context(), id, nil), runtime.ErrInvalidArgument)
	cs := s.h.Workload(t, Workload{})
	wantErr(t, "Create with an invalid id", s.rt.Create(t.Context(), bad, cs), runtime.ErrInvalidArgument)
	_, err := s.rt.State(t.Context(), id)
	wantErr(t, "State after a refused Create", err, runtime.ErrNotFound)
}

func testRename(t *testing.T, s *suite) {
	id := s.create(t, Workload{Stdout: []string{"renamed"}})
	to := s.id()
	err := s.rt.Rename(t.Context(), id, to)
	if unsupported(t, s.h.Caps.Rename, "Rename", err) {
		t.Skip("runtime does not support Rename")
	}
	if err != nil {
		t.Fatalf("Rename(%s, %s): %v", id, to, err)
	}
	t.Cleanup(func() { s.cleanup(t, to) })
	_, err = s.rt.State(t.Context(), id)
	wantErr(t, "State of the old name", err, runtime.ErrNotFound)
	if err := s.rt.Start(t.Context(), to); err != nil {
		t.Fatalf("Start of the renamed container: %v", err)
	}
	if code := s.wait(t, to); code != 0 {
		t.Fatalf("Wait of the renamed container = %d, want 0", code)
	}
	other := s.create(t, Workload{})
	wantErr(t, "Rename onto an existing container", s.rt.Rename(t.Context(), other, to), runtime.ErrAlreadyExists)
}

func testList(t *testing.T, s *suite) {
	pending := s.create(t, Workload{})
	running := s.running(t)
	list, err := s.rt.List(t.Context())
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	for _, want := range []struct {
		id     runtime.ContainerID
		status runtime.Status
	}{{pending, runtime.StatusPending}, {running, runtime.StatusRunning}} {
		i := slices.IndexFunc(list, func(c runtime.Container) bool { return c.ID == want.id })
		if i < 0 {
			t.Errorf("List does not show %s", want.id)
			continue
		}
		if list[i].State.Status != want.status {
			t.Errorf("List shows %s as %s, want %s", want.id, list[i].State, want.status)
		}
		if list[i].Runtime == "" {
			t.Errorf("List shows %s without the runtime that runs it", want.id)
		}
	}
}

func testInspect(t *testing.T, s *suite) {
	id := s.start(t, Workload{ExitCode: 2})
	s.wait(t, id)
	d, err := s.rt.Inspect(t.Context(), id)
	if err != nil {
		t.Fatalf("Inspect: %v", err)
	}
	if d.ID != id {
		t.Errorf("Inspect ID = %s, want %s", d.ID, id)
	}
	if d.State.Status != runtime.StatusExited || d.State.ExitCode != 2 {
		t.Errorf("Inspect state = %s, want exited(2)", d.State)
	}
	if d.Outcome == nil || d.Outcome.ExitCode != 2 {
		t.Errorf("Inspect outcome = %+v, want exit code 2", d.Outcome)
	}
}

func testPID(t *testing.T, s *suite) {
	id := s.running(t)
	pid, err := s.rt.PID(t.Context(), id)
	if err != nil || pid <= 0 {
		t.Fatalf("PID of a running container = %d, %v; want > 0", pid, err)
	}
	if err := s.rt.Kill(t.Context(), id, "KILL"); err != nil {
		t.Fatalf("Kill: %v", err)
	}
	s.wait(t, id)
	if pid, err := s.rt.PID(t.Context(), id); err != nil || pid != 0 {
		t.Fatalf("PID of an exited container = %d, %v; want 0", pid, err)
	}
}

func testStats(t *testing.T, s *suite) {
	const limit = 64 << 20
	id := s.start(t, Workload{Stdout: []string{"ready"}, UntilStopped: true, Busy: true},
		func(cs *runtime.CreateSpec) { cs.Resources.MemoryBytes = limit })
	s.eventually(t, "workload running", func() (bool, error) {
		st, err := s.rt.State(t.Context(), id)
		return err == nil && st.Status == runtime.StatusRunning, err
	})
	first, err := s.rt.Stats(t.Context(), id)
	if errorsIsNotSupported(err) {
		t.Skip("runtime does not support Stats")
	}
	if err != nil {
		t.Fatalf("Stats: %v", err)
	}
	if first.Timestamp.IsZero() {
		t.Errorf("Stats has no timestamp")
	}
	if first.MemoryLimit != limit {
		t.Errorf("memory limit %d, want the %d the container was created with", first.MemoryLimit, limit)
	}
	if first.MemoryBytes > first.MemoryLimit {
		t.Errorf("memory in use %d is over the limit %d", first.MemoryBytes, first.MemoryLimit)
	}
	if !s.h.Caps.CPUStats {
		return
	}
	if first.CPUUsageUsec == nil {
		t.Fatalf("Stats reports no CPU time; the harness says the runtime does")
	}
	s.eventually(t, "the busy workload's CPU time to rise", func() (bool, error) {
		st, err := s.rt.Stats(t.Context(), id)
		return err == nil && st.CPUUsageUsec != nil && *st.CPUUsageUsec > *first.CPUUsageUsec && !st.Timestamp.Before(first.Timestamp), err
	})
}
