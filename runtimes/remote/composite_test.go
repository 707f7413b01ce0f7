package remote_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/containerd/platforms"

	"github.com/switchyard/switchyard/runtime"
	"github.com/switchyard/switchyard/runtime/runtimetest"
	"github.com/switchyard/switchyard/runtimes/composite"
	"github.com/switchyard/switchyard/runtimes/remote"
)

// TestCompositeWithDownDelegate: in a composite, a delegate that is down
// still claims its platform, so a create for it fails naming the delegate
// instead of landing on another runtime; the local runtime's work and
// image list go on; when the delegate is back, the same composite creates
// on it.
func TestCompositeWithDownDelegate(t *testing.T) {
	local := runtimetest.NewFake("wasm", platforms.MustParse("wasip1/wasm"))
	local.AddImage(runtime.ImageInfo{Reference: "example.com/hello:wasm", Platforms: local.Platforms()})
	remoteFake := runtimetest.NewFake("runc", amd64)
	a := mustUnixAgent(t, remoteFake)
	a.stop()

	wsl := mustRemote(t, "wsl", a.url(), remote.WithPlatforms(amd64), remote.WithProbeTimeout(time.Second))
	comp, err := composite.New(t.Context(), []runtime.Containers{local, wsl})
	if err != nil {
		t.Fatalf("composite.New with a delegate down: %v", err)
	}

	linux := runtimetest.FakeSpec(runtimetest.Workload{UntilStopped: true})
	linux.Platform = &amd64
	id := runtime.ContainerID{Service: "web"}
	err = comp.Create(t.Context(), id, linux)
	if !errors.Is(err, runtime.ErrUnavailable) || !strings.Contains(err.Error(), "delegate wsl (") {
		t.Fatalf("Create for linux/amd64 with its delegate down = %v, want ErrUnavailable naming delegate wsl", err)
	}
	for _, c := range local.Calls() {
		if strings.EqualFold(c.Method, "create") {
			t.Fatalf("the create fell back to the local runtime: %v", local.Calls())
		}
	}

	wasm := runtimetest.FakeSpec(runtimetest.Workload{UntilStopped: true})
	wasmPlat := platforms.MustParse("wasip1/wasm")
	wasm.Platform = &wasmPlat
	if err := comp.Create(t.Context(), runtime.ContainerID{Service: "hello"}, wasm); err != nil {
		t.Errorf("Create on the local runtime with the delegate down: %v", err)
	}
	imgs, err := comp.ListImages(t.Context())
	if err != nil || len(imgs) != 1 {
		t.Errorf("ListImages with the delegate down = %+v, %v; want the local image", imgs, err)
	}

	a.start()
	if err := comp.Create(t.Context(), id, linux); err != nil {
		t.Fatalf("Create after the delegate came back: %v", err)
	}
	list, err := comp.List(t.Context())
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	for _, c := range list {
		if c.ID == id && c.Runtime != "remote:wsl" {
			t.Errorf("List shows %s on %q, want remote:wsl", id, c.Runtime)
		}
	}
}
