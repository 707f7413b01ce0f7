package runtimetest

import (
	"context"
	"fmt"
	"io"
	"sync"

	"github.com/switchyard/switchyard/runtime"
)

// Wait implements runtime.Waiter.
func (f *Fake) Wait(ctx context.Context, id runtime.ContainerID) (int, error) {
	o, err := f.wait(ctx, "wait", id, runtime.WaitNotRunning)
	return o.ExitCode, err
}

// WaitOutcome implements runtime.Waiter. A pending container counts as not
// running, with a zero outcome.
func (f *Fake) WaitOutcome(ctx context.Context, id runtime.ContainerID, cond runtime.WaitCondition) (runtime.WaitOutcome, error) {
	return f.wait(ctx, "waitoutcome", id, cond)
}

func (f *Fake) wait(ctx context.Context, method string, id runtime.ContainerID, cond runtime.WaitCondition) (runtime.WaitOutcome, error) {
	cond, err := runtime.ParseWaitCondition(string(cond))
	f.mu.Lock()
	c, berr := f.begin(method, id)
	if berr != nil {
		f.mu.Unlock()
		return runtime.WaitOutcome{}, berr
	}
	if err != nil {
		f.mu.Unlock()
		return runtime.WaitOutcome{}, fmt.Errorf("container %s: %w", id, err)
	}
	exits := c.exits
	for {
		var done bool
		switch cond {
		case runtime.WaitNotRunning:
			done = c.state.Status != runtime.StatusRunning
		case runtime.WaitNextExit:
			done = c.exits > exits
			if !done && c.removed {
				f.mu.Unlock()
				return runtime.WaitOutcome{}, fmt.Errorf("container %s was removed before it exited: %w", id, runtime.ErrNotFound)
			}
		case runtime.WaitRemoved:
			done = c.removed
		}
		if done {
			var o runtime.WaitOutcome
			if c.outcome != nil {
				o = *c.outcome
			} else {
				o.Reason = runtime.ReasonExited
			}
			f.mu.Unlock()
			return o, nil
		}
		ch := c.changed
		f.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return runtime.WaitOutcome{}, fmt.Errorf("container %s: wait for %s: %w", id, cond, ctx.Err())
		}
		f.mu.Lock()
	}
}

// Logs implements runtime.LogReader.
func (f *Fake) Logs(_ context.Context, id runtime.ContainerID, tail int) ([]runtime.LogEntry, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, err := f.begin("logs", id)
	if err != nil {
		return nil, err
	}
	return append([]runtime.LogEntry(nil), c.logs[tailStart(len(c.logs), tail):]...), nil
}

// tailStart is the index of the first of the last tail of n lines.
func tailStart(n, tail int) int {
	if tail < 0 || tail >= n {
		return 0
	}
	return n - tail
}

// FollowLogs implements runtime.LogReader. The stream ends with io.EOF once
// the container is not running and every line was delivered, and with the
// context's error when ctx ends first.
func (f *Fake) FollowLogs(ctx context.Context, id runtime.ContainerID, tail int) (runtime.Stream[runtime.LogEntry], error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, err := f.begin("followlogs", id)
	if err != nil {
		return nil, err
	}
	s := &logStream{f: f, c: c, next: tailStart(len(c.logs), tail), done: make(chan struct{})}
	s.stop = context.AfterFunc(ctx, func() { s.end(ctx.Err()) })
	return s, nil
}

// logStream follows one container's log.
type logStream struct {
	f    *Fake
	c    *fakeContainer
	next int // guarded by f.mu
	stop func() bool

	once sync.Once
	done chan struct{} // closed by end
	err  error         // written once, before done is closed
}

func (s *logStream) end(err error) {
	s.once.Do(func() {
		s.err = err
		close(s.done)
	})
}

// Recv implements runtime.Stream.
func (s *logStream) Recv() (runtime.LogEntry, error) {
	s.f.mu.Lock()
	for {
		select {
		case <-s.done:
			s.f.mu.Unlock()
			if s.err != nil {
				return runtime.LogEntry{}, s.err
			}
			return runtime.LogEntry{}, io.EOF
		default:
		}
		if s.next < len(s.c.logs) {
			e := s.c.logs[s.next]
			s.next++
			s.f.mu.Unlock()
			return e, nil
		}
		if s.c.removed || s.c.state.Status != runtime.StatusRunning {
			s.f.mu.Unlock()
			return runtime.LogEntry{}, io.EOF
		}
		ch := s.c.changed
		s.f.mu.Unlock()
		select {
		case <-ch:
		case <-s.done:
		}
		s.f.mu.Lock()
	}
}

// Close implements runtime.Stream.
func (s *logStream) Close() error {
	s.stop()
	s.end(nil)
	return nil
}

// Exec implements runtime.Executor.
func (f *Fake) Exec(_ context.Context, id runtime.ContainerID, argv []string) (runtime.ExecResult, error) {
	return f.exec("exec", id, argv)
}

func (f *Fake) exec(method string, id runtime.ContainerID, argv []string) (runtime.ExecResult, error) {
	f.mu.Lock()
	c, err := f.begin(method, id)
	if err != nil {
		f.mu.Unlock()
		return runtime.ExecResult{}, err
	}
	running := c.state.Status == runtime.StatusRunning
	state, fn := c.state, f.execFunc
	f.mu.Unlock()
	if len(argv) == 0 {
		return runtime.ExecResult{}, fmt.Errorf("container %s: exec needs a command: %w", id, runtime.ErrInvalidArgument)
	}
	if !running {
		return runtime.ExecResult{}, fmt.Errorf("container %s is %s, not running: %w", id, state, runtime.ErrFailedPrecondition)
	}
	if fn != nil {
		return fn(id, argv)
	}
	if out, code, ok := execOf(argv); ok {
		return runtime.ExecResult{ExitCode: code, Stdout: out}, nil
	}
	return runtime.ExecResult{}, nil
}

// ExecStream implements runtime.Executor: the result of Exec as a stdout
// chunk, a stderr chunk (each only when not empty) and the exit event.
func (f *Fake) ExecStream(_ context.Context, id runtime.ContainerID, argv []string) (runtime.Stream[runtime.ExecEvent], error) {
	r, err := f.exec("execstream", id, argv)
	if err != nil {
		return nil, err
	}
	var evs []runtime.ExecEvent
	if r.Stdout != "" {
		evs = append(evs, runtime.ExecEvent{Kind: runtime.ExecStdout, Data: []byte(r.Stdout)})
	}
	if r.Stderr != "" {
		evs = append(evs, runtime.ExecEvent{Kind: runtime.ExecStderr, Data: []byte(r.Stderr)})
	}
	evs = append(evs, runtime.ExecEvent{Kind: runtime.ExecExit, ExitCode: r.ExitCode})
	return &sliceStream[runtime.ExecEvent]{items: evs}, nil
}

// sliceStream delivers a fixed list of values.
type sliceStream[T any] struct {
	mu     sync.Mutex
	items  []T  // guarded by mu
	closed bool // guarded by mu
}

// Recv implements runtime.Stream.
func (s *sliceStream[T]) Recv() (T, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var zero T
	if s.closed || len(s.items) == 0 {
		return zero, io.EOF
	}
	v := s.items[0]
	s.items = s.items[1:]
	return v, nil
}

// Close implements runtime.Stream.
func (s *sliceStream[T]) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	return nil
}
