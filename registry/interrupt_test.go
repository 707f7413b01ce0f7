package registry

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/switchyard/switchyard/internal/testimages"
	"github.com/switchyard/switchyard/runtime"
)

// A multi-platform pull that loses the registry half-way records nothing:
// not the reference, not the index, not the manifest that did arrive. The
// next pull resumes and records it whole.
func TestInterruptedMultiPlatformPull(t *testing.T) {
	ctx := context.Background()
	module := testimages.WasmImage(t, testimages.MinimalWasm(), testimages.ConventionPlatform)
	layers, err := module.Layers()
	if err != nil {
		t.Fatal(err)
	}
	d, err := layers[0].Digest()
	if err != nil {
		t.Fatal(err)
	}
	// Fixed before the registry serves: its handlers only read it.
	wasmLayer := d.String()
	var broken atomic.Bool // set once the image is pushed
	host := testimages.ServeHandler(t, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if broken.Load() && strings.HasSuffix(r.URL.Path, "/blobs/"+wasmLayer) {
				http.Error(w, "the registry went away", http.StatusServiceUnavailable)
				return
			}
			h.ServeHTTP(w, r)
		})
	})
	busybox := testimages.Busybox(t)
	linuxManifest, err := busybox.Digest()
	if err != nil {
		t.Fatal(err)
	}
	ref := testimages.Push(t, host, "multi", testimages.Index(t, busybox, module))
	broken.Store(true)

	st := mustStore(t)
	svc := NewImageService(st, noKeychain, WithPlatforms(linuxAMD64, wasm))
	if _, err := svc.Pull(ctx, ref, runtime.PullOptions{Policy: runtime.PullAlways}); err == nil {
		t.Fatal("a pull whose wasm layer fails succeeded")
	}
	if _, err := st.Get(ctx, ref); !errors.Is(err, runtime.ErrNotFound) {
		t.Errorf("after the failed pull Get = %v, want ErrNotFound: nothing half-recorded", err)
	}
	// The linux manifest arrived whole; it must not be recorded either.
	if _, err := st.Get(ctx, linuxManifest.String()); !errors.Is(err, runtime.ErrNotFound) {
		t.Errorf("after the failed pull the linux manifest that did arrive is recorded: %v", err)
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

// A node that serves linux and wasm and pulled only the wasm entry of an
// index gets the linux one with the next if_not_present pull.
func TestIfNotPresentFetchesEveryWantedPlatform(t *testing.T) {
	ctx := context.Background()
	host := testimages.Serve(t)
	module := testimages.WasmImage(t, testimages.MinimalWasm(), testimages.ConventionPlatform)
	ref := testimages.Push(t, host, "multi", testimages.Index(t, testimages.Busybox(t), module))
	svc := NewImageService(mustStore(t), noKeychain, WithPlatforms(linuxAMD64, wasm))
	w := wasm
	if _, err := svc.Pull(ctx, ref, runtime.PullOptions{Platform: &w}); err != nil {
		t.Fatal(err)
	}
	info, err := svc.Pull(ctx, ref, runtime.PullOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := platformStrings(info.PresentPlatforms()); got != "linux/amd64,wasip1/wasm" {
		t.Errorf("present = %s, want both wanted platforms", got)
	}
	// And then it is satisfied: no third fetch is needed to say so.
	again, err := svc.Pull(ctx, ref, runtime.PullOptions{Policy: runtime.PullNever})
	if err != nil || platformStrings(again.PresentPlatforms()) != "linux/amd64,wasip1/wasm" {
		t.Errorf("never after both = %+v, %v", again, err)
	}
}
