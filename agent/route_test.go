package agent

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/containerd/platforms"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/switchyard/switchyard/internal/testutil"
	"github.com/switchyard/switchyard/runtime"
	"github.com/switchyard/switchyard/runtime/runtimetest"
	"github.com/switchyard/switchyard/spec"
)

// recordingInspector answers every image with its platforms and records
// the references it was asked about.
type recordingInspector struct {
	plats []ocispec.Platform
	mu    sync.Mutex
	refs  []string // guarded by mu
}

func (r *recordingInspector) InspectPlatforms(_ context.Context, ref string, _ *spec.RegistryAuth) ([]ocispec.Platform, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.refs = append(r.refs, ref)
	return r.plats, nil
}

func TestDeploymentRoutesByPlatform(t *testing.T) {
	linux := runtimetest.NewFake("runc", platforms.MustParse("linux/amd64"))
	wasm := runtimetest.NewFake("wasm", platforms.MustParse("wasip1/wasm"))
	insp := &recordingInspector{plats: []ocispec.Platform{platforms.MustParse("wasip1/wasm")}}
	cfg := testConfig(t)
	a, err := New(t.Context(), cfg, []runtime.Containers{linux, wasm}, WithInspector(insp), WithRestartBackoff(fastBackoff))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })

	declared := service("api", 1, forever)
	p := platforms.MustParse("linux/amd64")
	declared.Platform = &p
	fromImage := service("fn", 2, forever) // the inspector says wasip1/wasm
	fromImage.Image.Name = "example/fn:1"
	mustUp(t, a, deployment("shop", declared, fromImage))

	has := func(f *runtimetest.Fake, id runtime.ContainerID) bool {
		_, err := f.State(t.Context(), id)
		return err == nil
	}
	if !has(linux, replicaID("shop", "api", 0)) {
		t.Error("the linux/amd64 service is not on the runc runtime")
	}
	for n := range uint32(2) {
		if id := replicaID("shop", "fn", n); !has(wasm, id) || has(linux, id) {
			t.Errorf("%s is not (only) on the wasm runtime", id)
		}
	}
	insp.mu.Lock()
	asked := slices.Clone(insp.refs)
	insp.mu.Unlock()
	if !slices.Contains(asked, "example/fn:1") {
		t.Errorf("the inspector was asked about %v, want example/fn:1 among them", asked)
	}
	// A crash on the second runtime is supervised just the same.
	id := replicaID("shop", "fn", 1)
	if err := wasm.Exit(id, 1); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 10*time.Second, "the wasm replica to be restarted", func() bool {
		st, err := wasm.State(t.Context(), id)
		return err == nil && st.Status == runtime.StatusRunning && countCalls(wasm, "start", id) == 2
	})
	// Down reaches both runtimes.
	if _, err := a.Down(t.Context(), "shop"); err != nil {
		t.Fatal(err)
	}
	for _, f := range []*runtimetest.Fake{linux, wasm} {
		if cs, _ := f.List(t.Context()); len(cs) != 0 {
			t.Errorf("%s still has %v", f.Name(), cs)
		}
	}
}
