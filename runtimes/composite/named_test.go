package composite

import (
	"errors"
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/switchyard/switchyard/runtime"
	"github.com/switchyard/switchyard/runtime/runtimetest"
)

// TestNamedRuntime: a request that names its runtime (its Runtime field,
// the switchyard.runtime label, ZLayer's isolation label where a runtime of
// that name exists, or the image's annotation) goes there, and one whose
// runtime cannot run it is an error that names both, never a fallback.
func TestNamedRuntime(t *testing.T) {
	linux := plat("linux/amd64")
	for _, tc := range []struct {
		name    string
		spec    func() *runtime.CreateSpec
		image   *runtime.ImageInfo
		want    string // runtime, or the error's words
		wantErr error
	}{
		{"request's runtime", func() *runtime.CreateSpec {
			cs := svcSpec("svc", "example/app:1", nil)
			cs.Runtime = "wasm"
			return cs
		}, nil, "wasm", nil},
		{"label", func() *runtime.CreateSpec {
			cs := svcSpec("svc", "example/app:1", nil)
			cs.Labels = map[string]string{runtime.LabelRuntime: "windows"}
			return cs
		}, nil, "windows", nil},
		{"ZLayer's isolation label of a runtime here", func() *runtime.CreateSpec {
			cs := svcSpec("svc", "example/app:1", nil)
			cs.Labels = map[string]string{runtime.LabelZLayerIsolation: "wasm"}
			return cs
		}, nil, "wasm", nil},
		{"ZLayer's isolation label of a runtime elsewhere is ZLayer's", func() *runtime.CreateSpec {
			cs := svcSpec("svc", "example/app:1", &linux)
			cs.Labels = map[string]string{runtime.LabelZLayerIsolation: "vz"}
			return cs
		}, nil, "runc", nil},
		{"image annotation", func() *runtime.CreateSpec { return svcSpec("svc", "example/annotated:1", nil) },
			&runtime.ImageInfo{Reference: "example/annotated:1", Platforms: []ocispec.Platform{linux, {OS: "wasip1", Architecture: "wasm"}}, Annotations: map[string]string{runtime.AnnotationRuntime: "wasm"}}, "wasm", nil},
		{"image without the annotation", func() *runtime.CreateSpec { return svcSpec("svc", "example/plain:1", nil) },
			&runtime.ImageInfo{Reference: "example/plain:1", Platforms: []ocispec.Platform{linux, {OS: "wasip1", Architecture: "wasm"}}}, "runc", nil},
		{"no such runtime", func() *runtime.CreateSpec {
			cs := svcSpec("svc", "example/app:1", nil)
			cs.Runtime = "crun"
			return cs
		}, nil, `names runtime "crun", and this node has none of that name (it has runc, wasm, windows)`, runtime.ErrInvalidArgument},
		{"runtime that cannot run the declared platform", func() *runtime.CreateSpec {
			cs := svcSpec("svc", "example/app:1", &linux)
			cs.Runtime = "wasm"
			return cs
		}, nil, "names runtime wasm, which cannot run the declared platform linux/amd64", runtime.ErrNotSupported},
		{"runtime that cannot run the image", func() *runtime.CreateSpec {
			cs := svcSpec("svc", "example/linux:1", nil)
			cs.Labels = map[string]string{runtime.LabelRuntime: "wasm"}
			return cs
		}, &runtime.ImageInfo{Reference: "example/linux:1", Platforms: []ocispec.Platform{linux}}, "names runtime wasm, which cannot run image example/linux:1 (built for linux/amd64", runtime.ErrNotSupported},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := newNode(t)
			if tc.image != nil {
				n.runc.AddImage(*tc.image)
			}
			id := runtime.ContainerID{Service: "svc"}
			err := n.c.Create(t.Context(), id, tc.spec())
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("Create: %v; want %v containing %q", err, tc.wantErr, tc.want)
				}
				if _, ok := n.c.RuntimeOf(id); ok {
					t.Error("a refused create left a dispatch record")
				}
				return
			}
			if err != nil {
				t.Fatalf("Create: %v", err)
			}
			if got, _ := n.c.RuntimeOf(id); got != tc.want {
				t.Errorf("ran on %s, want %s", got, tc.want)
			}
		})
	}
}

// TestOSVersionTakesPartInMatching: a platform that names a Windows build
// family matches a runtime of that family, or one that names none, and not
// a runtime of another family; without one, os and arch decide.
func TestOSVersionTakesPartInMatching(t *testing.T) {
	ltsc2019 := ocispec.Platform{OS: "windows", Architecture: "amd64", OSVersion: "10.0.17763"}
	ltsc2022 := ocispec.Platform{OS: "windows", Architecture: "amd64", OSVersion: "10.0.20348"}
	for _, tc := range []struct {
		name      string
		runtime   ocispec.Platform
		requested ocispec.Platform
		want      bool
	}{
		{"same family, another revision", ltsc2019, ocispec.Platform{OS: "windows", Architecture: "amd64", OSVersion: "10.0.17763.6054"}, true},
		{"another family", ltsc2022, ltsc2019, false},
		{"a runtime that does not say", ocispec.Platform{OS: "windows", Architecture: "amd64"}, ltsc2019, true},
		{"a request that does not say", ltsc2022, ocispec.Platform{OS: "windows", Architecture: "amd64"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, wasm, _ := newFakes()
			n := newNode(t, runtimetest.NewFake("windows", tc.runtime), wasm)
			err := n.c.Create(t.Context(), runtime.ContainerID{Service: "svc"}, svcSpec("svc", "example/win:1", &tc.requested))
			var rtp *runtime.RouteToPeerError
			if got := err == nil; got != tc.want || !tc.want && !errors.As(err, &rtp) {
				t.Errorf("Create: %v; want matched=%v (a route-to-peer answer otherwise)", err, tc.want)
			}
		})
	}
}
