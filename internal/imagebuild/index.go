package imagebuild

import (
	"compress/gzip"
	"fmt"
	"math/rand/v2"
	goruntime "runtime"
	"strconv"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/switchyard/switchyard/runtime"
)

// Index returns an OCI image index of imgs, each entry's platform read from
// the image's config (os, architecture, variant, os.version). With no imgs
// it holds three entries: Busybox (linux/<host arch>), a small linux/arm64
// image (a marker file; nothing arm64 runs here), and the minimal WASI
// module in ConventionPlatform (wasi/wasm).
func Index(imgs ...v1.Image) (v1.ImageIndex, error) {
	if len(imgs) == 0 {
		var err error
		if imgs, err = defaultIndexImages(); err != nil {
			return nil, err
		}
	}
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	for _, img := range imgs {
		p, err := PlatformOf(img)
		if err != nil {
			return nil, err
		}
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &p}})
	}
	return idx, nil
}

func defaultIndexImages() ([]v1.Image, error) {
	bb, err := Busybox()
	if err != nil {
		return nil, err
	}
	arm, err := Marker(v1.Platform{OS: "linux", Architecture: "arm64", Variant: "v8"})
	if err != nil {
		return nil, err
	}
	wasm, err := WasmImage(MinimalWasm(), ConventionPlatform)
	if err != nil {
		return nil, err
	}
	return []v1.Image{bb, arm, wasm}, nil
}

// Marker returns a one-layer image for platform p whose layer holds
// /marker with p's name; for index entries of platforms that cannot run
// here.
func Marker(p v1.Platform) (v1.Image, error) {
	name := p.OS + "/" + p.Architecture
	if p.Variant != "" {
		name += "/" + p.Variant
	}
	layer, err := gzipLayer(types.OCILayer, gzip.BestSpeed, file("marker", 0o644, []byte(name+"\n")))
	if err != nil {
		return nil, err
	}
	return assemble(ociBase(), []v1.Layer{layer}, v1.Config{Cmd: []string{"/marker"}}, p)
}

// Windows returns a Docker-media-type manifest whose config says
// windows/amd64 (os.version 10.0.20348.1), with one small layer. Nothing
// here runs it: it is for routing and route-to-peer answers.
func Windows() (v1.Image, error) {
	layer, err := gzipLayer(types.DockerLayer, gzip.BestSpeed, file("Files/hello.txt", 0o644, []byte("hello\r\n")))
	if err != nil {
		return nil, err
	}
	return assemble(empty.Image, []v1.Layer{layer},
		v1.Config{Cmd: []string{"cmd", "/c", "type", `C:\hello.txt`}},
		v1.Platform{OS: "windows", Architecture: "amd64", OSVersion: "10.0.20348.1"})
}

// Large returns a linux/<host arch> image of about totalBytes of random
// (incompressible) content spread evenly over the given number of layers,
// each layer one file /data/<n>. The content is seeded by its size and
// layer number, so the digests are the same on every run. Layers are gzip
// streams of stored blocks: random bytes would not compress, and building
// 100 MiB must stay quick. Fewer than one layer, or fewer bytes than
// layers, is an error wrapping runtime.ErrInvalidArgument.
func Large(totalBytes int64, layers int) (v1.Image, error) {
	if layers < 1 || totalBytes < int64(layers) {
		return nil, fmt.Errorf("imagebuild: large image of %d bytes in %d layers: want at least one layer and one byte per layer: %w",
			totalBytes, layers, runtime.ErrInvalidArgument)
	}
	per := totalBytes / int64(layers)
	ls := make([]v1.Layer, layers)
	for i := range ls {
		var seed [32]byte
		copy(seed[:], strconv.FormatInt(totalBytes, 10)+"/"+strconv.Itoa(i))
		data := make([]byte, per)
		_, _ = rand.NewChaCha8(seed).Read(data)
		var err error
		ls[i], err = gzipLayer(types.OCILayer, gzip.NoCompression, dir("data/", 0o755), file("data/"+strconv.Itoa(i), 0o644, data))
		if err != nil {
			return nil, err
		}
	}
	return assemble(ociBase(), ls, v1.Config{Cmd: []string{"/bin/sh"}}, v1.Platform{OS: "linux", Architecture: goruntime.GOARCH})
}
