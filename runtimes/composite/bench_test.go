package composite

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/switchyard/switchyard/runtime"
)

// trivialRuntime answers the calls the benchmark makes at no cost, so that
// the benchmark measures the composite's lookup and forward alone.
type trivialRuntime struct{ runtime.Unsupported }

func (trivialRuntime) Name() string { return "trivial" }
func (trivialRuntime) Platforms() []ocispec.Platform {
	return []ocispec.Platform{{OS: "linux", Architecture: "amd64"}}
}
func (trivialRuntime) List(context.Context) ([]runtime.Container, error)       { return nil, nil }
func (trivialRuntime) ListImages(context.Context) ([]runtime.ImageInfo, error) { return nil, nil }
func (trivialRuntime) Create(context.Context, runtime.ContainerID, *runtime.CreateSpec) error {
	return nil
}
func (trivialRuntime) PID(context.Context, runtime.ContainerID) (int, error) { return 1, nil }

// BenchmarkDispatch measures a per-container call through the composite:
// the dispatch lookup among 10,000 containers and the forward to the owning
// runtime. It must not allocate.
func BenchmarkDispatch(b *testing.B) {
	ctx := context.Background()
	c, err := New(ctx, []runtime.Containers{trivialRuntime{}, trivialRuntime{}}, WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		b.Fatal(err)
	}
	ids := make([]runtime.ContainerID, 10_000)
	svc := &runtime.CreateSpec{Image: "example/app:1"}
	for i := range ids {
		ids[i] = runtime.ContainerID{Service: fmt.Sprintf("service-%d", i%100), Replica: uint32(i)}
		if err := c.Create(ctx, ids[i], svc); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		defer reportCPU(b)()
		i := 0
		for b.Loop() {
			if _, err := c.PID(ctx, ids[i]); err != nil {
				b.Fatal(err)
			}
			i++
			if i == len(ids) {
				i = 0
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		defer reportCPU(b)()
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				if _, err := c.PID(ctx, ids[i]); err != nil {
					b.Error(err)
					return
				}
				i = (i + 7) % len(ids)
			}
		})
	})
}

// reportCPU adds cpu-ns/op, the process's CPU time per operation, beside the
// wall-clock ns/op: on a shared, loaded machine the latter also counts the
// time the benchmark waited for a CPU.
func reportCPU(b *testing.B) func() {
	start := cpuTime(b)
	return func() {
		if b.N > 0 {
			b.ReportMetric(float64(cpuTime(b)-start)/float64(b.N), "cpu-ns/op")
		}
	}
}

func cpuTime(b *testing.B) time.Duration {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestDispatchDoesNotAllocate holds the hot path to its promise: a
// per-container call to a known container allocates nothing in the
// composite (BenchmarkDispatch only reports it).
func TestDispatchDoesNotAllocate(t *testing.T) {
	ctx := context.Background()
	c, err := New(ctx, []runtime.Containers{trivialRuntime{}, trivialRuntime{}}, WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]runtime.ContainerID, 1000)
	for i := range ids {
		ids[i] = runtime.ContainerID{Service: fmt.Sprintf("service-%d", i%10), Replica: uint32(i)}
		if err := c.Create(ctx, ids[i], &runtime.CreateSpec{Image: "example/app:1"}); err != nil {
			t.Fatal(err)
		}
	}
	i := 0
	allocs := testing.AllocsPerRun(10_000, func() {
		if _, err := c.PID(ctx, ids[i]); err != nil {
			t.Fatal(err)
		}
		i = (i + 1) % len(ids)
	})
	if allocs != 0 {
		t.Errorf("a dispatched call allocates %.1f times; the lookup must not allocate", allocs)
	}
}
