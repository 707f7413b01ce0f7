package testimages

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/validate"

	"github.com/switchyard/switchyard/internal/imagebuild"
)

// TestImagesRoundTrip pushes every kind of image through the wrappers to
// the in-process registry and checks that what comes back is valid and
// unchanged. The builders themselves are tested in imagebuild.
func TestImagesRoundTrip(t *testing.T) {
	host := Serve(t)
	for _, tc := range []struct {
		name string
		img  v1.Image
		want v1.Platform
	}{
		{"busybox", Busybox(t), v1.Platform{OS: "linux", Architecture: "amd64"}},
		{"wasm artifact", WasmImage(t, MinimalWasm(), ConventionArtifact), v1.Platform{OS: "wasip1", Architecture: "wasm"}},
		{"wasm platform", WasmImage(t, MinimalWasm(), ConventionPlatform), v1.Platform{OS: "wasi", Architecture: "wasm"}},
		{"windows", Windows(t), v1.Platform{OS: "windows", Architecture: "amd64", OSVersion: "10.0.20348.1"}},
		{"large", Large(t, 1<<20, 3), v1.Platform{OS: "linux", Architecture: "amd64"}},
		{"marker", Marker(t, v1.Platform{OS: "linux", Architecture: "arm64"}), v1.Platform{OS: "linux", Architecture: "arm64"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := imagebuild.PlatformOf(tc.img)
			if err != nil {
				t.Fatal(err)
			}
			if got.OS != tc.want.OS || got.Architecture != tc.want.Architecture || got.OSVersion != tc.want.OSVersion {
				t.Errorf("platform = %+v, want %+v", got, tc.want)
			}
			ref := Push(t, host, "test/"+strings.ReplaceAll(tc.name, " ", "-"), tc.img)
			back, err := remote.Image(mustRef(t, ref))
			if err != nil {
				t.Fatalf("pull back %s: %v", ref, err)
			}
			opts := []validate.Option{}
			if tc.name == "wasm artifact" {
				opts = append(opts, validate.Fast) // the artifact's config is not an image config
			}
			if err := validate.Image(back, opts...); err != nil {
				t.Errorf("validate %s: %v", ref, err)
			}
			wantDigest, _ := tc.img.Digest()
			gotDigest, _ := back.Digest()
			if wantDigest != gotDigest {
				t.Errorf("digest after push = %s, want %s", gotDigest, wantDigest)
			}
		})
	}
}

func TestPushTagsAndIndex(t *testing.T) {
	host := Serve(t)
	for _, tc := range []struct {
		name, repo, wantSuffix string
	}{
		{"default tag", "multi", "/multi:latest"},
		{"explicit tag", "multi:v1", "/multi:v1"},
		{"nested repo", "a/b/multi:v2", "/a/b/multi:v2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ref := Push(t, host, tc.repo, Index(t))
			if ref != host+tc.wantSuffix {
				t.Errorf("ref = %s, want %s%s", ref, host, tc.wantSuffix)
			}
			if _, err := remote.Index(mustRef(t, ref)); err != nil {
				t.Fatalf("pull index back: %v", err)
			}
		})
	}
}

func TestWasmModule(t *testing.T) {
	src := "package main\n\nfunc main() {}\n"
	img := WasmModule(t, src, ConventionArtifact)
	layers, err := img.Layers()
	if err != nil || len(layers) != 1 {
		t.Fatalf("layers = %d, %v", len(layers), err)
	}
	want, err := imagebuild.WasmImage(CompileWasm(t, src), ConventionArtifact)
	if err != nil {
		t.Fatal(err)
	}
	d1, _ := img.Digest()
	d2, _ := want.Digest()
	if d1 != d2 {
		t.Errorf("WasmModule digest %s, want %s", d1, d2)
	}
}

func mustRef(t *testing.T, s string) name.Reference {
	t.Helper()
	ref, err := name.ParseReference(s)
	if err != nil {
		t.Fatal(err)
	}
	return ref
}

// fatalRecorder is a testing.TB whose Fatalf only records, so that the
// failure path of the wrappers can be seen without failing this test.
type fatalRecorder struct {
	testing.TB
	msg string
}

func (r *fatalRecorder) Helper() {}
func (r *fatalRecorder) Fatalf(format string, args ...any) {
	r.msg = fmt.Sprintf(format, args...)
}

func TestWrapperFailsTheTest(t *testing.T) {
	rec := &fatalRecorder{TB: t}
	Large(rec, 1, 2)
	if !strings.Contains(rec.msg, "testimages:") || !strings.Contains(rec.msg, "one byte per layer") {
		t.Errorf("Fatalf message = %q", rec.msg)
	}
}
