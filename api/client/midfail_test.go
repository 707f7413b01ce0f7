package client_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/switchyard/switchyard/api/client"
	"github.com/switchyard/switchyard/api/server"
	"github.com/switchyard/switchyard/runtime"
	"github.com/switchyard/switchyard/runtime/runtimetest"
)

// scriptStream delivers items, then fails with err.
type scriptStream[T any] struct {
	items []T
	err   error
}

func (s *scriptStream[T]) Recv() (T, error) {
	var zero T
	if len(s.items) == 0 {
		return zero, s.err
	}
	v := s.items[0]
	s.items = s.items[1:]
	return v, nil
}

func (s *scriptStream[T]) Close() error { return nil }

// failingLate is a Fake whose streams and long calls fail after they have
// begun sending.
type failingLate struct {
	*runtimetest.Fake
	err     error
	release chan struct{} // closed to let Wait fail
}

func (f *failingLate) FollowLogs(context.Context, runtime.ContainerID, int) (runtime.Stream[runtime.LogEntry], error) {
	return &scriptStream[runtime.LogEntry]{items: []runtime.LogEntry{{Stream: runtime.Stdout, Text: "last words"}}, err: f.err}, nil
}

func (f *failingLate) ExecStream(context.Context, runtime.ContainerID, []string) (runtime.Stream[runtime.ExecEvent], error) {
	return &scriptStream[runtime.ExecEvent]{items: []runtime.ExecEvent{{Kind: runtime.ExecStdout, Data: []byte("x")}}, err: f.err}, nil
}

func (f *failingLate) Wait(ctx context.Context, _ runtime.ContainerID) (int, error) {
	select {
	case <-f.release:
		return 0, f.err
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

func (f *failingLate) Pull(_ context.Context, ref string, opts runtime.PullOptions) (runtime.ImageInfo, error) {
	opts.Progress(runtime.PullProgress{ID: ref, Status: "resolving"})
	return runtime.ImageInfo{}, f.err
}

// TestStreamsFailMidway: a stream or long call that fails after it began
// ends with the error, which keeps its kind and message on the client.
func TestStreamsFailMidway(t *testing.T) {
	rt := &failingLate{
		Fake:    runtimetest.NewFake("fake"),
		err:     fmt.Errorf("container web-rep-0: log file vanished: %w", runtime.ErrUnavailable),
		release: make(chan struct{}),
	}
	c := mustClient(t, mustServe(t, rt, server.WithHeartbeat(10*time.Millisecond)), client.WithIdleTimeout(10*time.Second)) // the watchdog is not under test here
	ctx := t.Context()
	id := runtime.ContainerID{Service: "web"}
	check := func(what string, err error) {
		t.Helper()
		if !errors.Is(err, runtime.ErrUnavailable) || errors.Is(err, io.EOF) || err.Error() != rt.err.Error() {
			t.Errorf("%s ended with %v, want the runtime's error %q", what, err, rt.err)
		}
	}

	logs, err := c.FollowLogs(ctx, id, runtime.TailAll)
	if err != nil {
		t.Fatalf("FollowLogs: %v", err)
	}
	defer logs.Close()
	if e, err := runtimetest.RecvWithin(t, logs, 5*time.Second); err != nil || e.Text != "last words" {
		t.Fatalf("Recv = %+v, %v; want the line before the failure", e, err)
	}
	_, err = runtimetest.RecvWithin(t, logs, 5*time.Second)
	check("follow logs", err)

	ex, err := c.ExecStream(ctx, id, []string{"true"})
	if err != nil {
		t.Fatalf("ExecStream: %v", err)
	}
	defer ex.Close()
	if _, err := runtimetest.RecvWithin(t, ex, 5*time.Second); err != nil {
		t.Fatalf("first exec event: %v", err)
	}
	_, err = runtimetest.RecvWithin(t, ex, 5*time.Second)
	check("exec stream", err)

	// The wait fails after several heartbeats: the error arrives as a frame.
	time.AfterFunc(100*time.Millisecond, func() { close(rt.release) })
	_, err = c.Wait(ctx, id)
	check("wait", err)

	var progress int
	_, err = c.Pull(ctx, "busybox", runtime.PullOptions{Progress: func(runtime.PullProgress) { progress++ }})
	check("pull", err)
	if progress != 1 {
		t.Errorf("pull progress events = %d, want 1 before the failure", progress)
	}
}
