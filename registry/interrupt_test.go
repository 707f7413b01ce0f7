package registry

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/switchyard/switchyard/internal/testimages"
	"github.com/switchyard/switchyard/runtime"
)

// A multi-platform pull that loses the registry half-way records nothing:
// not the reference, not the index, not the manifest that did arrive. The
// next pull resumes and records it whole.
func TestInterruptedMultiPlatformPull(t *testing.T) {
	ctx := context.Background()
	wasmLayer := ""
	var broken atomic.Bool
	broken.Store(true)
	host := testimages.ServeHandler(t, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if broken.Load() && wasmLayer != "" && strings.HasSuffix(r.URL.Path, "/blobs/"+wasmLayer) {
				http.Error(w, "the registry went away", http.StatusServiceUnavailable)
				return
			}
			h.ServeHTTP(w, r)
		})
	})
	module := testimages.WasmImage(t, testimages.MinimalWasm(), testimages.ConventionPlatform)
	layers, err := module.Layers()
	if err != nil {
		t.Fatal(err)
	}
	d, err := layers[0].Digest()
	if err != nil {
		t.Fatal(err)
	}
	ref := testimages.Push(t, host, "multi", testimages.Index(t, testimages.Busybox(t), module))
	wasmLayer = d.String()

	st := mustStore(t)
	svc := NewImageService(st, noKeychain, WithPlatforms(linuxAMD64, wasm))
	if _, err := svc.Pull(ctx, ref, runtime.PullOptions{Policy: runtime.PullAlways}); err == nil {
		t.Fatal("a pull whose wasm layer fails succeeded")
	}
	if _, err := st.Get(ctx, ref); !errors.Is(err, runtime.ErrNotFound) {
		t.Errorf("after the failed pull Get = %v, want ErrNotFound: nothing half-recorded", err)
	}
	if _, err := st.Resolve(ctx, ref, []ocispec.Platform{linuxAMD64}); !errors.Is(err, runtime.ErrNotFound) {
		t.Errorf("after the failed pull the linux entry resolves: %v", err)
	}
	broken.Store(false)
	info, err := svc.Pull(ctx, ref, runtime.PullOptions{Policy: runtime.PullAlways})
	if err != nil {
		t.Fatalf("the retry: %v", err)
	}
	if got := platformStrings(info.PresentPlatforms()); got != "linux/amd64,wasip1/wasm" {
		t.Errorf("after the retry present = %s, want both", got)
	}
}
