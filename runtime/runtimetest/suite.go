package runtimetest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchyard/switchyard/runtime"
)

// Harness is what a runtime supplies to run the conformance suite.
type Harness struct {
	// New returns a fresh runtime for one test; it registers its own
	// cleanup with t.Cleanup. Required. Only the container roles are
	// exercised; RunImages holds image services to the contract.
	New func(t *testing.T) runtime.Containers
	// Workload returns a fresh create request that runs w on the runtime.
	// Required.
	Workload func(t *testing.T, w Workload) *runtime.CreateSpec
	// ExecArgv returns an argv that writes stdout and exits with code inside
	// a running workload. Default: sh -c 'printf %s "$0"; exit N' stdout.
	ExecArgv func(stdout string, code int) []string
	// Caps says which optional parts of the contract the runtime supports.
	Caps Caps
	// Timeout bounds every wait of the suite. Default 30 seconds.
	Timeout time.Duration
	// Parallel runs the suite's tests in parallel with each other.
	Parallel bool
}

// Caps are the optional capabilities of a runtime. A capability that is
// off must be refused with an error that matches runtime.ErrNotSupported,
// which the suite checks before it skips the test.
type Caps struct {
	// Exec: Exec and ExecStream run commands in running containers.
	Exec bool
	// Rename: containers can be renamed.
	Rename bool
	// CPUStats: Stats reports the CPU time a Busy workload uses, rising as
	// it runs.
	CPUStats bool
}

// Run runs the conformance suite against the runtime h makes. Each test
// gets its own runtime from h.New and its own service names, and removes
// what it created.
//
// The suite holds a runtime to the contract as docker users know it:
// Create leaves a container pending; Start runs it (again, after an exit,
// keeping the earlier log lines); Wait and WaitOutcome report the exit code
// and reason (128+N and the signal's name after a signal); Stop ends a
// running workload within its timeout and succeeds on a stopped one; Kill
// refuses bad signals with ErrInvalidArgument and non-running containers
// with ErrFailedPrecondition; Remove refuses a running container without
// force (ErrFailedPrecondition); every per-container method answers an
// unknown id with ErrNotFound (optional methods may answer ErrNotSupported
// instead); a second Create of an id is ErrAlreadyExists and a nil spec or
// invalid id ErrInvalidArgument; logs keep every line, in order per stream,
// with tails; FollowLogs ends with io.EOF once the workload has exited;
// WaitOutcome honours not-running, next-exit and removed; List shows every
// container with its state and runtime name; Inspect reports the outcome;
// PID is positive while running and 0 after. Exec and Rename follow Caps.
func Run(t *testing.T, h Harness) {
	t.Helper()
	if h.New == nil || h.Workload == nil {
		t.Fatal("runtimetest.Run: Harness.New and Harness.Workload are required")
	}
	if h.Timeout <= 0 {
		h.Timeout = 30 * time.Second
	}
	if h.ExecArgv == nil {
		h.ExecArgv = func(stdout string, code int) []string {
			return []string{"sh", "-c", fmt.Sprintf(`printf %%s "$0"; exit %d`, code), stdout}
		}
	}
	tests := []struct {
		name string
		fn   func(t *testing.T, s *suite)
	}{
		{"CreateStartWait", testCreateStartWait},
		{"ExitCodes", testExitCodes},
		{"StartTwiceRunsAgain", testRestart},
		{"Logs", testLogs},
		{"LogsTail", testLogsTail},
		{"FollowLogsEndsAfterExit", testFollowLogs},
		{"FollowLogsExited", testFollowLogsExited},
		{"StopRunning", testStop},
		{"Kill", testKill},
		{"KillBadSignal", testKillBadSignal},
		{"KillNotRunning", testKillNotRunning},
		{"RemoveRunning", testRemoveRunning},
		{"RemoveExited", testRemoveExited},
		{"UnknownID", testUnknownID},
		{"CreateDuplicate", testCreateDuplicate},
		{"CreateInvalid", testCreateInvalid},
		{"Rename", testRename},
		{"WaitNotRunningExited", testWaitNotRunningExited},
		{"WaitNextExit", testWaitNextExit},
		{"WaitRemoved", testWaitRemoved},
		{"WaitRemovedFromPending", testWaitRemovedFromPending},
		{"AutoRemoveKept", testAutoRemoveKept},
		{"List", testList},
		{"Inspect", testInspect},
		{"PID", testPID},
		{"Stats", testStats},
		{"Exec", testExec},
		{"ExecStream", testExecStream},
		{"ExecNotRunning", testExecNotRunning},
	}
	var seq atomic.Int64
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if h.Parallel {
				t.Parallel()
			}
			s := &suite{h: h, rt: h.New(t), prefix: fmt.Sprintf("conf%d", seq.Add(1))}
			tc.fn(t, s)
		})
	}
}

// suite is the state of one test of the suite.
type suite struct {
	h      Harness
	rt     runtime.Containers
	prefix string
	n      int
}

// id returns a fresh container id for this test.
func (s *suite) id() runtime.ContainerID {
	s.n++
	return runtime.ContainerID{Service: fmt.Sprintf("%s-svc%d", s.prefix, s.n), Replica: uint32(s.n - 1)}
}

// create creates a container running w and removes it when the test ends;
// adjust, when given, changes the request first.
func (s *suite) create(t *testing.T, w Workload, adjust ...func(*runtime.CreateSpec)) runtime.ContainerID {
	t.Helper()
	id := s.id()
	cs := s.h.Workload(t, w)
	for _, a := range adjust {
		a(cs)
	}
	if err := s.rt.Create(t.Context(), id, cs); err != nil {
		t.Fatalf("Create(%s): %v", id, err)
	}
	t.Cleanup(func() { s.cleanup(t, id) })
	return id
}

// cleanup removes id, wherever renames have left it; a container the test
// removed already is fine.
func (s *suite) cleanup(t *testing.T, id runtime.ContainerID) {
	ctx, cancel := context.WithTimeout(context.Background(), s.h.Timeout)
	defer cancel()
	if err := s.rt.Remove(ctx, id, true); err != nil && !errors.Is(err, runtime.ErrNotFound) {
		t.Errorf("cleanup: Remove(%s, force): %v", id, err)
	}
}

// start creates and starts a container running w.
func (s *suite) start(t *testing.T, w Workload, adjust ...func(*runtime.CreateSpec)) runtime.ContainerID {
	t.Helper()
	id := s.create(t, w, adjust...)
	if err := s.rt.Start(t.Context(), id); err != nil {
		t.Fatalf("Start(%s): %v", id, err)
	}
	return id
}

// running starts a workload that writes "ready" and runs until stopped, and
// returns once the runtime reports it running and its line is in the log.
func (s *suite) running(t *testing.T) runtime.ContainerID {
	t.Helper()
	id := s.start(t, Workload{Stdout: []string{"ready"}, UntilStopped: true})
	s.eventually(t, "workload running with its first line logged", func() (bool, error) {
		st, err := s.rt.State(t.Context(), id)
		if err != nil || st.Status != runtime.StatusRunning {
			return false, err
		}
		logs, err := s.rt.Logs(t.Context(), id, runtime.TailAll)
		return slices.ContainsFunc(logs, func(e runtime.LogEntry) bool { return e.Text == "ready" }), err
	})
	return id
}

// wait waits for id to stop running and returns its exit code.
func (s *suite) wait(t *testing.T, id runtime.ContainerID) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), s.h.Timeout)
	defer cancel()
	code, err := s.rt.Wait(ctx, id)
	if err != nil {
		t.Fatalf("Wait(%s): %v", id, err)
	}
	return code
}

// eventually polls cond until it holds or the harness timeout passes.
func (s *suite) eventually(t *testing.T, what string, cond func() (bool, error)) {
	t.Helper()
	deadline := time.Now().Add(s.h.Timeout)
	for {
		ok, err := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s (last error: %v)", s.h.Timeout, what, err)
		}
		select {
		case <-t.Context().Done():
			t.Fatalf("waiting for %s: %v", what, t.Context().Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// state returns id's state or fails the test.
func (s *suite) state(t *testing.T, id runtime.ContainerID) runtime.State {
	t.Helper()
	st, err := s.rt.State(t.Context(), id)
	if err != nil {
		t.Fatalf("State(%s): %v", id, err)
	}
	return st
}

// texts returns the texts of the entries of one stream.
func texts(entries []runtime.LogEntry, stream runtime.LogStream) []string {
	var out []string
	for _, e := range entries {
		if e.Stream == stream {
			out = append(out, e.Text)
		}
	}
	return out
}

// collect reads a stream to its end, failing the test on any error but
// io.EOF or if it does not end in time.
func collect[T any](t *testing.T, s *suite, st runtime.Stream[T]) []T {
	t.Helper()
	type item struct {
		v   T
		err error
	}
	ch := make(chan item)
	go func() {
		defer close(ch)
		for {
			v, err := st.Recv()
			ch <- item{v, err}
			if err != nil {
				return
			}
		}
	}()
	timeout := time.NewTimer(s.h.Timeout)
	defer timeout.Stop()
	var out []T
	for {
		select {
		case it := <-ch:
			if errors.Is(it.err, io.EOF) {
				return out
			}
			if it.err != nil {
				t.Fatalf("Recv: %v", it.err)
			}
			out = append(out, it.v)
		case <-timeout.C:
			_ = st.Close()
			t.Fatalf("stream did not end within %s; got %d values", s.h.Timeout, len(out))
		}
	}
}

// wantErr fails the test unless err matches kind.
func wantErr(t *testing.T, what string, err, kind error) {
	t.Helper()
	if !errors.Is(err, kind) {
		t.Fatalf("%s: got error %v, want one matching %q", what, err, kind)
	}
}

// unsupported reports whether a capability is off; then it checks the
// runtime refused with ErrNotSupported.
func unsupported(t *testing.T, on bool, what string, err error) bool {
	t.Helper()
	if on {
		return false
	}
	if !errors.Is(err, runtime.ErrNotSupported) {
		t.Fatalf("%s is not a capability of this runtime, so it must fail with ErrNotSupported; got %v", what, err)
	}
	return true
}
