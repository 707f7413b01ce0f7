package runtimetest

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/switchyard/switchyard/runtime"
)

func errorsIsNotSupported(err error) bool { return errors.Is(err, runtime.ErrNotSupported) }

func testLogs(t *testing.T, s *suite) {
	w := Workload{Stdout: []string{"one", "two words", ""}, Stderr: []string{"oops"}, ExitCode: 0}
	id := s.start(t, w)
	s.wait(t, id)
	// A workload's last lines may reach the log just after it exits.
	var logs []runtime.LogEntry
	s.eventually(t, "every line in the log", func() (bool, error) {
		var err error
		logs, err = s.rt.Logs(t.Context(), id, runtime.TailAll)
		return len(logs) >= 4, err
	})
	if got := texts(logs, runtime.Stdout); !slices.Equal(got, w.Stdout) {
		t.Errorf("stdout lines = %q, want %q", got, w.Stdout)
	}
	if got := texts(logs, runtime.Stderr); !slices.Equal(got, w.Stderr) {
		t.Errorf("stderr lines = %q, want %q", got, w.Stderr)
	}
	for _, e := range logs {
		if e.Time.IsZero() {
			t.Errorf("log line %q has no time", e.Text)
		}
	}
}

func testLogsTail(t *testing.T, s *suite) {
	id := s.start(t, Workload{Stdout: []string{"a", "b", "c"}})
	s.wait(t, id)
	s.eventually(t, "three lines in the log", func() (bool, error) {
		logs, err := s.rt.Logs(t.Context(), id, runtime.TailAll)
		return len(logs) >= 3, err
	})
	for _, tc := range []struct {
		tail int
		want []string
	}{{0, nil}, {1, []string{"c"}}, {2, []string{"b", "c"}}, {10, []string{"a", "b", "c"}}, {runtime.TailAll, []string{"a", "b", "c"}}} {
		logs, err := s.rt.Logs(t.Context(), id, tc.tail)
		if err != nil {
			t.Fatalf("Logs(tail %d): %v", tc.tail, err)
		}
		if got := texts(logs, runtime.Stdout); !slices.Equal(got, tc.want) {
			t.Errorf("Logs(tail %d) = %q, want %q", tc.tail, got, tc.want)
		}
	}
}

func testFollowLogs(t *testing.T, s *suite) {
	id := s.running(t)
	st, err := s.rt.FollowLogs(t.Context(), id, runtime.TailAll)
	if err != nil {
		t.Fatalf("FollowLogs: %v", err)
	}
	defer st.Close()
	first, err := st.Recv()
	if err != nil || first.Text != "ready" {
		t.Fatalf("first followed line = %q, %v; want ready", first.Text, err)
	}
	if err := s.rt.Stop(t.Context(), id, 5*time.Second); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	// The stream must end with io.EOF now that the workload has exited.
	collect(t, s, st)
}

func testFollowLogsExited(t *testing.T, s *suite) {
	id := s.start(t, Workload{Stdout: []string{"x", "y"}})
	s.wait(t, id)
	s.eventually(t, "two lines in the log", func() (bool, error) {
		logs, err := s.rt.Logs(t.Context(), id, runtime.TailAll)
		return len(logs) >= 2, err
	})
	st, err := s.rt.FollowLogs(t.Context(), id, 1)
	if err != nil {
		t.Fatalf("FollowLogs: %v", err)
	}
	defer st.Close()
	got := collect(t, s, st)
	if texts(got, runtime.Stdout); len(got) != 1 || got[0].Text != "y" {
		t.Fatalf("FollowLogs(tail 1) of an exited container = %+v, want just y then io.EOF", got)
	}
}

func testWaitNotRunningExited(t *testing.T, s *suite) {
	id := s.start(t, Workload{ExitCode: 9})
	s.wait(t, id)
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	o, err := s.rt.WaitOutcome(ctx, id, runtime.WaitNotRunning)
	if err != nil {
		t.Fatalf("WaitOutcome(not-running) of an exited container: %v (it must return at once)", err)
	}
	if o.ExitCode != 9 || o.Reason != runtime.ReasonExited {
		t.Fatalf("outcome = %+v, want exit code 9, reason exited", o)
	}
	_, err = s.rt.WaitOutcome(ctx, id, "sometime")
	wantErr(t, "WaitOutcome with a bad condition", err, runtime.ErrInvalidArgument)
}

// waitAsync runs WaitOutcome in the background.
func waitAsync(ctx context.Context, rt runtime.Waiter, id runtime.ContainerID, cond runtime.WaitCondition) <-chan waitResult {
	ch := make(chan waitResult, 1)
	go func() {
		o, err := rt.WaitOutcome(ctx, id, cond)
		ch <- waitResult{o, err}
	}()
	return ch
}

type waitResult struct {
	o   runtime.WaitOutcome
	err error
}

func testWaitNextExit(t *testing.T, s *suite) {
	id := s.start(t, Workload{ExitCode: 4})
	s.wait(t, id)
	ctx, cancel := context.WithTimeout(t.Context(), s.h.Timeout)
	defer cancel()
	// An exited container: next-exit must wait for the exit of a new run.
	ch := waitAsync(ctx, s.rt, id, runtime.WaitNextExit)
	select {
	case r := <-ch:
		t.Fatalf("WaitOutcome(next-exit) returned before a new run: %+v, %v", r.o, r.err)
	case <-time.After(200 * time.Millisecond):
	}
	// The waiter may not have been registered when the run ended; each
	// further run is another next exit, so a few runs settle it.
	for range 5 {
		if err := s.rt.Start(t.Context(), id); err != nil {
			t.Fatalf("Start: %v", err)
		}
		select {
		case r := <-ch:
			if r.err != nil || r.o.ExitCode != 4 {
				t.Fatalf("WaitOutcome(next-exit) = %+v, %v; want exit code 4", r.o, r.err)
			}
			return
		case <-time.After(s.h.Timeout / 5):
		}
		s.wait(t, id)
	}
	t.Fatal("WaitOutcome(next-exit) did not return after five runs")
}

func testWaitRemoved(t *testing.T, s *suite) {
	// The waiter can only be sure to be registered before the removal if it
	// is still blocked; a waiter that comes too late gets ErrNotFound, and
	// then the test tries again with a new container.
	for range 5 {
		id := s.start(t, Workload{})
		s.wait(t, id)
		ctx, cancel := context.WithTimeout(t.Context(), s.h.Timeout)
		ch := waitAsync(ctx, s.rt, id, runtime.WaitRemoved)
		select {
		case r := <-ch:
			cancel()
			t.Fatalf("WaitOutcome(removed) returned before the removal: %+v, %v", r.o, r.err)
		case <-time.After(100 * time.Millisecond):
		}
		if err := s.rt.Remove(t.Context(), id, false); err != nil {
			cancel()
			t.Fatalf("Remove: %v", err)
		}
		r := <-ch
		cancel()
		if errors.Is(r.err, runtime.ErrNotFound) {
			continue
		}
		if r.err != nil {
			t.Fatalf("WaitOutcome(removed): %v", r.err)
		}
		return
	}
	t.Fatal("WaitOutcome(removed) never saw a removal in five tries")
}

// testWaitRemovedFromPending is how docker run --rm waits: the removed wait
// is made before the start, and it must report the run's exit, not the
// pending state it began in.
func testWaitRemovedFromPending(t *testing.T, s *suite) {
	id := s.create(t, Workload{ExitCode: 3})
	ctx, cancel := context.WithTimeout(t.Context(), s.h.Timeout)
	defer cancel()
	ch := waitAsync(ctx, s.rt, id, runtime.WaitRemoved)
	// The waiter must be registered before the removal: give it a moment,
	// during which it must not return.
	select {
	case r := <-ch:
		t.Fatalf("WaitOutcome(removed) returned before the start: %+v, %v", r.o, r.err)
	case <-time.After(100 * time.Millisecond):
	}
	if err := s.rt.Start(t.Context(), id); err != nil {
		t.Fatalf("Start: %v", err)
	}
	if code := s.wait(t, id); code != 3 {
		t.Fatalf("Wait = %d, want 3", code)
	}
	if err := s.rt.Remove(t.Context(), id, false); err != nil {
		t.Fatalf("Remove: %v", err)
	}
	r := <-ch
	if r.err != nil {
		t.Fatalf("WaitOutcome(removed): %v", r.err)
	}
	if r.o.ExitCode != 3 || r.o.Reason != runtime.ReasonExited {
		t.Fatalf("WaitOutcome(removed) = %+v, want exited with code 3", r.o)
	}
}

// testAutoRemoveKept: a runtime keeps the create request's AutoRemove and
// lists it, so that a restarted agent knows which containers to remove.
func testAutoRemoveKept(t *testing.T, s *suite) {
	plain := s.create(t, Workload{})
	auto := s.create(t, Workload{}, func(cs *runtime.CreateSpec) { cs.AutoRemove = true })
	cs, err := s.rt.List(t.Context())
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	got := map[runtime.ContainerID]bool{}
	for _, c := range cs {
		got[c.ID] = c.AutoRemove
	}
	if v, ok := got[plain]; !ok || v {
		t.Errorf("List: %s auto_remove = %v (listed %v), want false", plain, v, ok)
	}
	if v, ok := got[auto]; !ok || !v {
		t.Errorf("List: %s auto_remove = %v (listed %v), want true", auto, v, ok)
	}
	d, err := s.rt.Inspect(t.Context(), auto)
	if err != nil {
		t.Fatalf("Inspect: %v", err)
	}
	if !d.AutoRemove {
		t.Errorf("Inspect: auto_remove = false, want true")
	}
}

func testExec(t *testing.T, s *suite) {
	id := s.running(t)
	for _, tc := range []struct {
		out  string
		code int
	}{{"hello", 0}, {"", 3}} {
		r, err := s.rt.Exec(t.Context(), id, s.h.ExecArgv(tc.out, tc.code))
		if unsupported(t, s.h.Caps.Exec, "Exec", err) {
			t.Skip("runtime does not support Exec")
		}
		if err != nil {
			t.Fatalf("Exec: %v", err)
		}
		if r.ExitCode != tc.code || r.Stdout != tc.out {
			t.Errorf("Exec = %+v, want exit code %d, stdout %q", r, tc.code, tc.out)
		}
	}
}

func testExecStream(t *testing.T, s *suite) {
	id := s.running(t)
	st, err := s.rt.ExecStream(t.Context(), id, s.h.ExecArgv("streamed", 2))
	if unsupported(t, s.h.Caps.Exec, "ExecStream", err) {
		t.Skip("runtime does not support Exec")
	}
	if err != nil {
		t.Fatalf("ExecStream: %v", err)
	}
	defer st.Close()
	evs := collect(t, s, st)
	var out []byte
	exits := 0
	for i, e := range evs {
		switch e.Kind {
		case runtime.ExecStdout:
			out = append(out, e.Data...)
		case runtime.ExecExit:
			exits++
			if i != len(evs)-1 || e.ExitCode != 2 {
				t.Errorf("exit event %+v at %d of %d, want code 2 as the last event", e, i, len(evs))
			}
		}
	}
	if exits != 1 || string(out) != "streamed" {
		t.Fatalf("ExecStream gave stdout %q and %d exit events, want %q and 1", out, exits, "streamed")
	}
}

func testExecNotRunning(t *testing.T, s *suite) {
	id := s.start(t, Workload{})
	s.wait(t, id)
	_, err := s.rt.Exec(t.Context(), id, s.h.ExecArgv("x", 0))
	if unsupported(t, s.h.Caps.Exec, "Exec", err) {
		t.Skip("runtime does not support Exec")
	}
	wantErr(t, "Exec in an exited container", err, runtime.ErrFailedPrecondition)
}
