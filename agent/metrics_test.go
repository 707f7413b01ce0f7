package agent

import (
	"context"
	"errors"
	"fmt"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/switchyard/switchyard/runtime"
	"github.com/switchyard/switchyard/runtime/runtimetest"
)

func TestErrorKind(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{nil, "none"},
		{fmt.Errorf("container x: %w", runtime.ErrNotFound), "not_found"},
		{fmt.Errorf("x: %w", runtime.ErrAlreadyExists), "already_exists"},
		{fmt.Errorf("x: %w", runtime.ErrNotSupported), "not_supported"},
		{fmt.Errorf("x: %w", runtime.ErrInvalidArgument), "invalid_argument"},
		{fmt.Errorf("x: %w", runtime.ErrFailedPrecondition), "failed_precondition"},
		{fmt.Errorf("x: %w", runtime.ErrUnavailable), "unavailable"},
		{&runtime.RouteToPeerError{Service: "web", Platform: "windows"}, "route_to_peer"},
		{context.Canceled, "canceled"},
		{fmt.Errorf("wait: %w", context.DeadlineExceeded), "deadline_exceeded"},
		{errors.New("boom"), "other"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			if got := errorKind(tc.err); got != tc.want {
				t.Errorf("errorKind(%v) = %q, want %q", tc.err, got, tc.want)
			}
		})
	}
}

// nopRuntime answers State at once, so that a benchmark measures only what
// wraps it.
type nopRuntime struct{ runtime.Unsupported }

func (nopRuntime) Name() string                  { return "nop" }
func (nopRuntime) Platforms() []ocispec.Platform { return nil }
func (nopRuntime) State(context.Context, runtime.ContainerID) (runtime.State, error) {
	return runtime.State{Status: runtime.StatusRunning}, nil
}

// BenchmarkMeasuredState compares a State call with and without the
// metrics decorator, to show what the decorator costs per call.
func BenchmarkMeasuredState(b *testing.B) {
	id := runtime.ContainerID{Service: "web", Replica: 0}
	for _, bc := range []struct {
		name string
		rt   runtime.Containers
	}{
		{"bare", nopRuntime{}},
		{"measured", newMetrics().wrap(nopRuntime{})},
	} {
		b.Run(bc.name, func(b *testing.B) {
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := bc.rt.State(ctx, id); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestMeasuredCountsEveryOperation calls every method through the decorator
// and checks that each is forwarded and counted once under its own label.
func TestMeasuredCountsEveryOperation(t *testing.T) {
	f := runtimetest.NewFake("fake")
	m := newMetrics()
	r := m.wrap(f).(runtime.Runtime) // a fake has images of its own: it stays whole
	ctx := t.Context()
	id := runtime.ContainerID{Service: "web", Replica: 0}
	to := runtime.ContainerID{Service: "web", Replica: 1}
	svc := service("web", 1, forever).CreateSpec()
	calls := []func(){
		func() { r.Create(ctx, id, svc) },
		func() { r.Start(ctx, id) },
		func() { r.Stop(ctx, id, 0) },
		func() { r.Kill(ctx, id, "TERM") },
		func() { r.Rename(ctx, id, to) },
		func() { r.Remove(ctx, to, true) },
		func() { r.SyncVolumes(ctx, id) },
		func() { r.State(ctx, id) },
		func() { r.Inspect(ctx, id) },
		func() { r.List(ctx) },
		func() { r.Stats(ctx, id) },
		func() { r.PID(ctx, id) },
		func() { r.IP(ctx, id) },
		func() { r.PortOverride(ctx, id) },
		func() { r.Wait(ctx, id) },
		func() { r.WaitOutcome(ctx, id, runtime.WaitNotRunning) },
		func() { r.Logs(ctx, id, runtime.TailAll) },
		func() {
			if s, err := r.FollowLogs(ctx, id, 0); err == nil {
				s.Close()
			}
		},
		func() { r.Exec(ctx, id, []string{"true"}) },
		func() {
			if s, err := r.ExecStream(ctx, id, []string{"true"}); err == nil {
				s.Close()
			}
		},
		func() { r.Pull(ctx, "busybox", runtime.PullOptions{}) },
		func() { r.ListImages(ctx) },
		func() { r.TagImage(ctx, "busybox", "box") },
		func() { r.RemoveImage(ctx, "box", false) },
		func() { r.PruneImages(ctx) },
	}
	if len(calls) != int(numOps) {
		t.Fatalf("test calls %d operations, the decorator has %d", len(calls), numOps)
	}
	for _, call := range calls {
		call()
	}
	if r.Name() != "fake" || len(r.Platforms()) != 1 {
		t.Errorf("identity not forwarded: %q %v", r.Name(), r.Platforms())
	}
	mfs, err := m.registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	counted := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != "switchyard_runtime_operations_total" {
			continue
		}
		for _, mt := range mf.GetMetric() {
			for _, l := range mt.GetLabel() {
				if l.GetName() == "operation" {
					counted[l.GetValue()] += mt.GetCounter().GetValue()
				}
			}
		}
	}
	recorded := map[string]int{}
	for _, c := range f.Calls() {
		recorded[c.Method]++
	}
	for o := range numOps {
		if counted[o.String()] != 1 {
			t.Errorf("operation %s counted %v times, want 1", o, counted[o.String()])
		}
	}
	if len(f.Calls()) != int(numOps) {
		t.Errorf("the fake saw %d calls, want %d: %v", len(f.Calls()), numOps, recorded)
	}
}
