package testimages

import (
	"compress/gzip"
	"encoding/json"
	"math/rand/v2"
	goruntime "runtime"
	"strconv"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Index returns an OCI image index of imgs, each entry's platform read from
// the image's config (os, architecture, variant, os.version). With no imgs
// it holds three entries: Busybox (linux/<host arch>), a small linux/arm64
// image (a marker file; nothing arm64 runs here), and the minimal WASI
// module in ConventionPlatform (wasi/wasm).
func Index(t testing.TB, imgs ...v1.Image) v1.ImageIndex {
	t.Helper()
	if len(imgs) == 0 {
		imgs = []v1.Image{
			Busybox(t),
			Marker(t, v1.Platform{OS: "linux", Architecture: "arm64", Variant: "v8"}),
			WasmImage(t, MinimalWasm(), ConventionPlatform),
		}
	}
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	for _, img := range imgs {
		p := platformOf(t, img)
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &p}})
	}
	return idx
}

// platformOf reads an image's platform from its config, which for the wasm
// artifact is its own JSON with the same os and architecture fields.
func platformOf(t testing.TB, img v1.Image) v1.Platform {
	t.Helper()
	raw, err := img.RawConfigFile()
	if err != nil {
		t.Fatalf("testimages: config: %v", err)
	}
	var cf struct {
		OS           string `json:"os"`
		Architecture string `json:"architecture"`
		Variant      string `json:"variant"`
		OSVersion    string `json:"os.version"`
	}
	if err := json.Unmarshal(raw, &cf); err != nil {
		t.Fatalf("testimages: decode config: %v", err)
	}
	return v1.Platform{OS: cf.OS, Architecture: cf.Architecture, Variant: cf.Variant, OSVersion: cf.OSVersion}
}

// Marker returns a one-layer image for platform p whose layer holds
// /marker with p's name; for index entries of platforms that cannot run
// here.
func Marker(t testing.TB, p v1.Platform) v1.Image {
	t.Helper()
	name := p.OS + "/" + p.Architecture
	if p.Variant != "" {
		name += "/" + p.Variant
	}
	layer := gzipLayer(t, types.OCILayer, gzip.BestSpeed, file("marker", 0o644, []byte(name+"\n")))
	return image(t, []v1.Layer{layer}, v1.Config{Cmd: []string{"/marker"}}, p)
}

// Windows returns a Docker-media-type manifest whose config says
// windows/amd64 (os.version 10.0.20348.1), with one small layer.
func Windows(t testing.TB) v1.Image {
	t.Helper()
	layer := gzipLayer(t, types.DockerLayer, gzip.BestSpeed, file("Files/hello.txt", 0o644, []byte("hello\r\n")))
	img, err := mutate.AppendLayers(empty.Image, layer)
	if err != nil {
		t.Fatalf("testimages: append layers: %v", err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatalf("testimages: config file: %v", err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.OSVersion = "windows", "amd64", "10.0.20348.1"
	cf.Config.Cmd = []string{"cmd", "/c", "type", `C:\hello.txt`}
	cf.Created = v1.Time{Time: epoch}
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		t.Fatalf("testimages: set config: %v", err)
	}
	return img
}

// Large returns a linux/<host arch> image of about totalBytes of random
// (incompressible) content spread evenly over the given number of layers,
// each layer one file /data/<n>. The content is seeded by its size and
// layer number, so the digests are the same on every run. Layers are gzip
// streams of stored blocks: random bytes would not compress, and building
// 100 MiB must stay quick.
func Large(t testing.TB, totalBytes int64, layers int) v1.Image {
	t.Helper()
	if layers < 1 || totalBytes < int64(layers) {
		t.Fatalf("testimages: Large(%d bytes, %d layers): want at least one byte per layer", totalBytes, layers)
	}
	per := totalBytes / int64(layers)
	ls := make([]v1.Layer, layers)
	for i := range ls {
		var seed [32]byte
		copy(seed[:], strconv.FormatInt(totalBytes, 10)+"/"+strconv.Itoa(i))
		data := make([]byte, per)
		_, _ = rand.NewChaCha8(seed).Read(data)
		ls[i] = gzipLayer(t, types.OCILayer, gzip.NoCompression, dir("data/", 0o755), file("data/"+strconv.Itoa(i), 0o644, data))
	}
	return image(t, ls, v1.Config{Cmd: []string{"/bin/sh"}}, v1.Platform{OS: "linux", Architecture: goruntime.GOARCH})
}
