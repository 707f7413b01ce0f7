package testimages

import (
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/switchyard/switchyard/internal/imagebuild"
)

// BusyboxPath is where the host's static busybox is read from (Debian's
// busybox-static package).
const BusyboxPath = imagebuild.BusyboxPath

// DefaultPath is the PATH in the Busybox image's environment.
const DefaultPath = imagebuild.DefaultPath

// Convention says how a WebAssembly module is packaged as an OCI image.
type Convention = imagebuild.Convention

const (
	// ConventionArtifact is the OCI wasm artifact (see imagebuild).
	ConventionArtifact = imagebuild.ConventionArtifact
	// ConventionPlatform is the Docker+Wasm convention, platform wasi/wasm
	// (see imagebuild).
	ConventionPlatform = imagebuild.ConventionPlatform
)

// Media types of the wasm artifact convention.
const (
	WasmConfigV0 types.MediaType = imagebuild.WasmConfigV0
	WasmConfigV1 types.MediaType = imagebuild.WasmConfigV1
	WasmLayer    types.MediaType = imagebuild.WasmLayer
	WasmLayerV1  types.MediaType = imagebuild.WasmLayerV1
)

// ModulePath is where ConventionPlatform images keep the module.
const ModulePath = imagebuild.ModulePath

// orFatal takes a builder's results and returns a function that fails the
// test on the error, or gives the value: orFatal(build())(t). The two steps
// let a call with two results feed it directly.
func orFatal[T any](v T, err error) func(testing.TB) T {
	return func(t testing.TB) T {
		t.Helper()
		if err != nil {
			t.Fatalf("testimages: %v", err)
		}
		return v
	}
}

// Busybox returns imagebuild.Busybox: linux/<host arch>, the host's static
// busybox with a symlink per applet, /etc/passwd, /etc/group, /tmp, Cmd
// ["sh"]. It fails the test when busybox is missing (install
// busybox-static).
func Busybox(t testing.TB) v1.Image {
	t.Helper()
	return orFatal(imagebuild.Busybox())(t)
}

// WasmModule compiles goMainSource (the text of one Go file of package main,
// standard library only) with GOOS=wasip1 GOARCH=wasm and packages the
// module in convention conv. Built modules are cached by source hash, so a
// second call costs no compilation.
func WasmModule(t testing.TB, goMainSource string, conv Convention) v1.Image {
	t.Helper()
	return WasmImage(t, CompileWasm(t, goMainSource), conv)
}

// CompileWasm compiles goMainSource for wasip1/wasm and returns the module
// (imagebuild.CompileWasm).
func CompileWasm(t testing.TB, goMainSource string) []byte {
	t.Helper()
	return orFatal(imagebuild.CompileWasm(t.Context(), goMainSource))(t)
}

// MinimalWasm returns the smallest useful WASI command module: it exports
// an empty _start and imports nothing, so it runs and exits 0 at once.
func MinimalWasm() []byte { return imagebuild.MinimalWasm() }

// WasmImage packages an already built module in convention conv.
func WasmImage(t testing.TB, module []byte, conv Convention) v1.Image {
	t.Helper()
	return orFatal(imagebuild.WasmImage(module, conv))(t)
}

// Artifact returns an OCI manifest with the given config media type and
// config bytes, and the layers as they are (any media type, not unpacked).
func Artifact(t testing.TB, configType types.MediaType, config []byte, layers ...v1.Layer) v1.Image {
	t.Helper()
	return orFatal(imagebuild.Artifact(configType, config, layers...))(t)
}

// Index returns an OCI image index of imgs, each entry's platform read from
// the image's config. With no imgs it holds Busybox (linux/<host arch>), a
// linux/arm64/v8 marker image and the minimal WASI module in
// ConventionPlatform (wasi/wasm).
func Index(t testing.TB, imgs ...v1.Image) v1.ImageIndex {
	t.Helper()
	return orFatal(imagebuild.Index(imgs...))(t)
}

// Marker returns a one-layer image for platform p whose layer holds
// /marker with p's name; for index entries of platforms that cannot run
// here.
func Marker(t testing.TB, p v1.Platform) v1.Image {
	t.Helper()
	return orFatal(imagebuild.Marker(p))(t)
}

// Windows returns a Docker-media-type manifest whose config says
// windows/amd64 (os.version 10.0.20348.1), with one small layer.
func Windows(t testing.TB) v1.Image {
	t.Helper()
	return orFatal(imagebuild.Windows())(t)
}

// Large returns a linux/<host arch> image of about totalBytes of seeded
// random content spread evenly over the given number of layers
// (imagebuild.Large); the same arguments give the same digests.
func Large(t testing.TB, totalBytes int64, layers int) v1.Image {
	t.Helper()
	return orFatal(imagebuild.Large(totalBytes, layers))(t)
}
