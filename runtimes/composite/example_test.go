package composite_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/containerd/platforms"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/switchyard/switchyard/runtime"
	"github.com/switchyard/switchyard/runtime/runtimetest"
	"github.com/switchyard/switchyard/runtimes/composite"
)

// A node with a Linux runtime and a wasm runtime: each service goes to the
// runtime of its platform, and a Windows service is answered with the way
// to run it.
func ExampleNew() {
	ctx := context.Background()
	runc := runtimetest.NewFake("runc", platforms.MustParse("linux/amd64"))
	wasm := runtimetest.NewFake("wasm", ocispec.Platform{OS: "wasip1", Architecture: "wasm"})
	rt, err := composite.New(ctx, []runtime.Containers{runc, wasm}, composite.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, p := range []string{"wasi/wasm", "linux/amd64", "windows"} {
		svc := runtimetest.FakeSpec(runtimetest.Workload{})
		os, arch, _ := strings.Cut(p, "/")
		svc.Platform = &ocispec.Platform{OS: os, Architecture: arch}
		id := runtime.ContainerID{Service: os}
		if err := rt.Create(ctx, id, svc); err != nil {
			var rp *runtime.RouteToPeerError
			if errors.As(err, &rp) {
				fmt.Printf("%s: route to a peer serving %s\n", p, rp.Platform)
			}
			continue
		}
		name, _ := rt.RuntimeOf(id)
		fmt.Printf("%s: %s\n", p, name)
	}
	// Output:
	// wasi/wasm: wasm
	// linux/amd64: runc
	// windows: route to a peer serving windows
}
