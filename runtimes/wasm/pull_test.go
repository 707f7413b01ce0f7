package wasm

import (
	"path/filepath"
	"testing"

	"github.com/switchyard/switchyard/internal/testimages"
	"github.com/switchyard/switchyard/registry"
	"github.com/switchyard/switchyard/runtime"
)

// TestPullAndRun pulls both wasm conventions from a registry on loopback
// through the node's image service, and runs them.
func TestPullAndRun(t *testing.T) {
	e := newEnv(t)
	rt, err := New(e.rt.root, StoreModules(e.store, filepath.Join(e.rt.root, "modules")), hostCommand())
	is := registry.NewImageService(e.store, registry.WithPlatforms(Platform()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rt.Close() })
	reg := testimages.Serve(t)
	for _, tc := range []struct {
		name string
		conv testimages.Convention
	}{
		{"artifact", testimages.ConventionArtifact},
		{"platform", testimages.ConventionPlatform},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ref := testimages.Push(t, reg, "wasm/"+tc.name, testimages.WasmModule(t, testModule, tc.conv))
			info, err := is.Pull(ctxT(t), ref, runtime.PullOptions{Policy: runtime.PullAlways})
			if err != nil {
				t.Fatalf("pull: %v", err)
			}
			if len(info.Platforms) == 0 || info.Platforms[0].Architecture != "wasm" {
				t.Fatalf("pulled %+v", info)
			}
			if o := mustRun(t, rt, cid("pulled-"+tc.name), svc(ref, "exit", "4")); o.ExitCode != 4 {
				t.Fatalf("outcome %+v", o)
			}
			list, err := is.ListImages(ctxT(t))
			if err != nil || len(list) == 0 {
				t.Fatalf("images: %+v %v", list, err)
			}
		})
	}
}
