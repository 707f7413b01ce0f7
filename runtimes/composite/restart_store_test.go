package composite_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/switchyard/switchyard/images"
	"github.com/switchyard/switchyard/internal/imagetest"
	"github.com/switchyard/switchyard/registry"
	"github.com/switchyard/switchyard/runtime"
	"github.com/switchyard/switchyard/runtimes/composite"
)

// refusingInspector counts calls and answers none: a registry out of reach.
type refusingInspector struct{ calls atomic.Int32 }

func (r *refusingInspector) InspectPlatforms(context.Context, string, *runtime.RegistryAuth) ([]ocispec.Platform, error) {
	r.calls.Add(1)
	return nil, errors.New("the registry must not be asked after a restart")
}

// A restarted agent makes the same routing decision for every stored
// reference that it made before, from its store alone.
func TestRestartRoutesEveryImageAsBefore(t *testing.T) {
	ctx := t.Context()
	w := imagetest.New(t)
	before := imagetest.Node(t, w)
	wasm := ocispec.Platform{OS: "wasip1", Architecture: "wasm"}
	pulls := []struct {
		ref      string
		platform *ocispec.Platform
	}{
		{w.Linux, nil}, {w.Wasm, nil}, {w.Multi, nil},
	}
	for _, p := range pulls {
		if _, err := before.Pull(ctx, p.ref, runtime.PullOptions{Platform: p.platform}); err != nil {
			t.Fatalf("Pull(%s): %v", p.ref, err)
		}
	}
	// A tag routes as what it names.
	alias := "example.com/restart/alias:1"
	if err := before.TagImage(ctx, w.Multi, alias); err != nil {
		t.Fatal(err)
	}
	routes := func(c *composite.Runtime, tag string) map[string]string {
		out := map[string]string{}
		for i, ref := range []string{w.Linux, w.Wasm, w.Multi, alias} {
			id := runtime.ContainerID{Service: "svc" + tag, Replica: uint32(i)}
			svc := &runtime.CreateSpec{Image: ref}
			if err := c.Create(ctx, id, svc); err != nil {
				t.Fatalf("Create(%s): %v", ref, err)
			}
			out[ref], _ = c.RuntimeOf(id)
		}
		return out
	}
	first := routes(before, "a")
	want := map[string]string{w.Linux: "runc", w.Wasm: "wasm", w.Multi: "runc", alias: "runc"}
	for ref, rt := range want {
		if first[ref] != rt {
			t.Errorf("before the restart %s routes to %s, want %s", ref, first[ref], rt)
		}
	}

	// Restart: the store is opened again; the registry is out of reach.
	if err := w.Store.Close(); err != nil {
		t.Fatal(err)
	}
	st, err := images.Open(w.Dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	in := &refusingInspector{}
	after := imagetest.NodeWith(t, registry.NewImageService(st, registry.WithPlatforms(w.Host, wasm)), in, w.Host)
	// What `run` does first: a pull with the default policy, which must be
	// answered from the store.
	for _, ref := range []string{w.Linux, w.Wasm, w.Multi, alias} {
		if _, err := after.Pull(ctx, ref, runtime.PullOptions{}); err != nil {
			t.Fatalf("if_not_present Pull(%s) after the restart: %v", ref, err)
		}
	}
	second := routes(after, "b")
	for ref, rt := range first {
		if second[ref] != rt {
			t.Errorf("after the restart %s routes to %s, before to %s", ref, second[ref], rt)
		}
	}
	if n := in.calls.Load(); n != 0 {
		t.Errorf("routing after the restart asked the registry %d times", n)
	}
}
