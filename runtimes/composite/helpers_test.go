package composite

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"testing"

	"github.com/containerd/platforms"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/switchyard/switchyard/internal/testutil"
	"github.com/switchyard/switchyard/runtime"
	"github.com/switchyard/switchyard/runtime/runtimetest"
)

func plat(s string) ocispec.Platform { return platforms.MustParse(s) }

// node is a composite over three recording fakes, as a Windows host with a
// Linux runtime (runc), a wasm runtime, and a Windows delegate would be.
type node struct {
	c               *Runtime
	runc, wasm, win *runtimetest.Fake
	inspector       *fakeInspector
	log             *testutil.SyncBuffer
}

func newFakes() (runc, wasm, win *runtimetest.Fake) {
	return runtimetest.NewFake("runc", plat("linux/amd64"), plat("linux/arm64")),
		runtimetest.NewFake("wasm", ocispec.Platform{OS: "wasip1", Architecture: "wasm"}),
		runtimetest.NewFake("windows", ocispec.Platform{OS: "windows", Architecture: "amd64"})
}

// newNode builds a composite over rts (runc, wasm, windows fakes when none
// are given), with an inspector and a logger whose output tests can read.
func newNode(t *testing.T, rts ...*runtimetest.Fake) *node {
	t.Helper()
	n := &node{inspector: &fakeInspector{}, log: &testutil.SyncBuffer{}}
	if len(rts) == 0 {
		n.runc, n.wasm, n.win = newFakes()
		rts = []*runtimetest.Fake{n.runc, n.wasm, n.win}
	}
	list := make([]runtime.Containers, len(rts))
	for i, f := range rts {
		list[i] = f
	}
	n.c = mustNew(t, list, WithInspector(n.inspector), WithLogger(testLogger(n.log)), WithListRetryInterval(0), WithRemedy(testRemedy))
	for _, f := range rts {
		f.ResetCalls() // forget New's List and ListImages
	}
	return n
}

func mustNew(t *testing.T, rts []runtime.Containers, opts ...Option) *Runtime {
	t.Helper()
	c, err := New(context.Background(), rts, opts...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

func testLogger(buf *testutil.SyncBuffer) *slog.Logger {
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// fakeInspector answers InspectPlatforms from a table, or with err.
type fakeInspector struct {
	mu    sync.Mutex
	plats map[string][]ocispec.Platform
	err   error
	calls []string
}

func (f *fakeInspector) set(ref string, ps ...ocispec.Platform) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.plats == nil {
		f.plats = make(map[string][]ocispec.Platform)
	}
	f.plats[ref] = ps
}

func (f *fakeInspector) fail(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.err = err
}

func (f *fakeInspector) InspectPlatforms(_ context.Context, ref string, _ *runtime.RegistryAuth) ([]ocispec.Platform, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, ref)
	if f.err != nil {
		return nil, f.err
	}
	return slices.Clone(f.plats[ref]), nil
}

func svcSpec(_, image string, p *ocispec.Platform) *runtime.CreateSpec {
	s := runtimetest.FakeSpec(runtimetest.Workload{UntilStopped: true})
	s.Image = image
	s.Platform = p
	return s
}

// methodsOn returns the methods recorded on f for id, in order.
func methodsOn(f *runtimetest.Fake, id runtime.ContainerID) []string {
	var out []string
	for _, c := range f.Calls() {
		if c.ID == id {
			out = append(out, c.Method)
		}
	}
	return out
}

// pulls returns the refs f was asked to pull.
func pulls(f *runtimetest.Fake) []string {
	var out []string
	for _, c := range f.Calls() {
		if c.Method == "pull" {
			out = append(out, c.Ref)
		}
	}
	return out
}

// testRemedy is the remedy hook of the test node: it says which platform
// the node lacks, so tests can check the hook's words reach the answer.
func testRemedy(p ocispec.Platform) string { return "enable " + runtime.FormatPlatform(p) + " here" }
