// Package imagetest builds the world the ImageService conformance suite
// (runtimetest.RunImages) runs in: a node image store, a registry on
// loopback holding the suite's images, and the node's image service over
// them. Tests of the services that front the node's (the API client, the
// remote runtime, the composite) wrap its Images.
package imagetest

import (
	"context"
	"log/slog"
	goruntime "runtime"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/switchyard/switchyard/images"
	"github.com/switchyard/switchyard/internal/testimages"
	"github.com/switchyard/switchyard/registry"
	"github.com/switchyard/switchyard/runtime"
	"github.com/switchyard/switchyard/runtime/runtimetest"
	"github.com/switchyard/switchyard/runtimes/composite"
)

// World is the suite's world with the store behind it.
type World struct {
	runtimetest.ImageWorld
	// Store is the node's image store.
	Store *images.Store
	// Service is the node's image service over Store (Images, until a
	// test wraps it); it also inspects the registry.
	Service *registry.ImageService
	// Dir is the store's directory, to open it again as a restarted agent
	// does.
	Dir string
}

// New opens a store under a temporary directory, serves the suite's images
// from a registry on 127.0.0.1, and returns the node's image service over
// them, pulling for this machine's Linux platform and wasip1/wasm.
func New(t *testing.T) World {
	t.Helper()
	dir := t.TempDir()
	st, err := images.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	host := ocispec.Platform{OS: "linux", Architecture: goruntime.GOARCH}
	wasm := ocispec.Platform{OS: "wasip1", Architecture: "wasm"}
	reg := testimages.Serve(t)
	linux := testimages.Busybox(t)
	module := testimages.WasmImage(t, testimages.MinimalWasm(), testimages.ConventionArtifact)
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	for _, e := range []struct {
		img v1.Image
		p   v1.Platform
	}{
		{linux, v1.Platform{OS: host.OS, Architecture: host.Architecture}},
		{module, v1.Platform{OS: "wasi", Architecture: "wasm"}},
		{testimages.Windows(t), v1.Platform{OS: "windows", Architecture: "amd64"}},
	} {
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: e.img, Descriptor: v1.Descriptor{Platform: &e.p}})
	}
	w := World{Store: st, Dir: dir, Service: registry.NewImageService(st, registry.WithPlatforms(host, wasm))}
	w.Images = w.Service
	w.Host = host
	w.Linux = testimages.Push(t, reg, "conformance/linux:1", linux)
	w.Wasm = testimages.Push(t, reg, "conformance/wasm:1", module)
	w.Multi = testimages.Push(t, reg, "conformance/multi:1", idx)
	w.Use = func(t *testing.T, key, ref string, p ocispec.Platform) func() {
		t.Helper()
		if _, err := st.Acquire(context.Background(), key, ref, []ocispec.Platform{p}); err != nil {
			t.Fatalf("Acquire(%s, %s): %v", key, ref, err)
		}
		return func() {
			if err := st.Release(context.Background(), key); err != nil {
				t.Errorf("Release(%s): %v", key, err)
			}
		}
	}
	return w
}

// Node returns what a daemon serves over w: a composite of two local
// runtimes (fakes of runc and wasm that run no containers of their own
// images) and w's node image service, which also inspects the registry.
func Node(t *testing.T, w World) *composite.Runtime {
	t.Helper()
	return NodeWith(t, w.Service, w.Service, w.Host)
}

// NodeWith is Node over any node image service and inspector.
func NodeWith(t *testing.T, is runtime.ImageService, in composite.Inspector, host ocispec.Platform) *composite.Runtime {
	t.Helper()
	local := func(name string, p ocispec.Platform) runtime.Containers {
		// Only the container roles: the images are the node's.
		return struct{ runtime.Containers }{runtimetest.NewFake(name, p)}
	}
	c, err := composite.New(context.Background(),
		[]runtime.Containers{local("runc", host), local("wasm", ocispec.Platform{OS: "wasip1", Architecture: "wasm"})},
		composite.WithImages(is), composite.WithInspector(in), composite.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	return c
}
