package composite_test

import (
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/switchyard/switchyard/internal/imagetest"
	"github.com/switchyard/switchyard/runtime"
	"github.com/switchyard/switchyard/runtimes/composite"
)

// partialLocal is a local runtime that implements little of the contract,
// as a new runtime does while it is being written.
type partialLocal struct{ runtime.UnsupportedContainers }

func (partialLocal) Name() string { return "local" }
func (partialLocal) Platforms() []ocispec.Platform {
	return []ocispec.Platform{{OS: "linux", Architecture: "amd64"}}
}

// A local runtime that embeds the container half of Unsupported has the
// node's images, not an image service that refuses everything.
func TestPartialLocalRuntimeGetsTheNodeImages(t *testing.T) {
	w := imagetest.New(t)
	c, err := composite.New(t.Context(), []runtime.Containers{partialLocal{}}, composite.WithImages(w.Service))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Pull(t.Context(), w.Linux, runtime.PullOptions{}); err != nil {
		t.Errorf("Pull through the node's images: %v", err)
	}
}

// Routing after a pull of one platform of an index and then a default pull
// follows the runtime order: the default pull fetched what was missing.
func TestDefaultPullAfterOnePlatformRoutesByRuntimeOrder(t *testing.T) {
	ctx := t.Context()
	w := imagetest.New(t)
	c := imagetest.Node(t, w)
	wasm := ocispec.Platform{OS: "wasip1", Architecture: "wasm"}
	if _, err := c.Pull(ctx, w.Multi, runtime.PullOptions{Platform: &wasm}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Pull(ctx, w.Multi, runtime.PullOptions{}); err != nil {
		t.Fatal(err)
	}
	id := runtime.ContainerID{Service: "svc"}
	if err := c.Create(ctx, id, &runtime.CreateSpec{Image: w.Multi}); err != nil {
		t.Fatal(err)
	}
	if rt, _ := c.RuntimeOf(id); rt != "runc" {
		t.Errorf("a default deploy of the index routes to %s, want runc (the primary)", rt)
	}
}
