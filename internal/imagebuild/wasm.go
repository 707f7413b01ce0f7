package imagebuild

import (
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/switchyard/switchyard/runtime"
)

// Convention says how a WebAssembly module is packaged as an OCI image.
type Convention int

const (
	// ConventionArtifact is the OCI wasm artifact: config media type
	// application/vnd.wasm.config.v0+json, one layer of media type
	// application/wasm that is the module itself.
	ConventionArtifact Convention = iota
	// ConventionPlatform is the Docker+Wasm convention: an ordinary OCI image
	// of platform wasi/wasm, one tar layer holding /module.wasm, and
	// Entrypoint ["/module.wasm"].
	ConventionPlatform
)

// Media types of the wasm artifact convention.
const (
	WasmConfigV0 types.MediaType = "application/vnd.wasm.config.v0+json"
	WasmConfigV1 types.MediaType = "application/vnd.wasm.config.v1+json"
	WasmLayer    types.MediaType = "application/wasm"
	WasmLayerV1  types.MediaType = "application/vnd.wasm.content.layer.v1+wasm"
)

// ModulePath is where ConventionPlatform images keep the module.
const ModulePath = "/module.wasm"

// String names the convention.
func (c Convention) String() string {
	switch c {
	case ConventionArtifact:
		return "artifact"
	case ConventionPlatform:
		return "platform"
	}
	return fmt.Sprintf("Convention(%d)", int(c))
}

// MinimalWasm returns the smallest useful WASI command module: it exports
// an empty _start and imports nothing, so it runs and exits 0 at once.
func MinimalWasm() []byte {
	return []byte{
		0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version 1
		0x01, 0x04, 0x01, 0x60, 0x00, 0x00, // type section: () -> ()
		0x03, 0x02, 0x01, 0x00, // function section: one func of type 0
		0x07, 0x0a, 0x01, 0x06, '_', 's', 't', 'a', 'r', 't', 0x00, 0x00, // export "_start" = func 0
		0x0a, 0x04, 0x01, 0x02, 0x00, 0x0b, // code section: empty body
	}
}

// WasmImage packages an already built module in convention conv. An
// unknown convention is an error wrapping runtime.ErrInvalidArgument.
func WasmImage(module []byte, conv Convention) (v1.Image, error) {
	switch conv {
	case ConventionArtifact:
		layer := static.NewLayer(module, WasmLayer)
		digest, err := layer.Digest()
		if err != nil {
			return nil, fmt.Errorf("imagebuild: module digest: %w", err)
		}
		cfg, err := json.Marshal(map[string]any{
			"created":      epoch,
			"architecture": "wasm",
			"os":           "wasip1",
			"layerDigests": []string{digest.String()},
		})
		if err != nil {
			return nil, fmt.Errorf("imagebuild: wasm config: %w", err)
		}
		return Artifact(WasmConfigV0, cfg, layer)
	case ConventionPlatform:
		layer, err := gzipLayer(types.OCILayer, gzip.BestSpeed, file(ModulePath[1:], 0o755, module))
		if err != nil {
			return nil, err
		}
		return assemble(ociBase(), []v1.Layer{layer}, v1.Config{Entrypoint: []string{ModulePath}},
			v1.Platform{OS: "wasi", Architecture: "wasm"})
	}
	return nil, fmt.Errorf("imagebuild: wasm convention %v: want ConventionArtifact or ConventionPlatform: %w",
		conv, runtime.ErrInvalidArgument)
}

// Artifact returns an OCI manifest with the given config media type and
// config bytes, and the layers as they are (any media type, not unpacked).
func Artifact(configType types.MediaType, config []byte, layers ...v1.Layer) (v1.Image, error) {
	a := &artifact{config: config, layers: map[v1.Hash]v1.Layer{}}
	m := v1.Manifest{
		SchemaVersion: 2,
		MediaType:     types.OCIManifestSchema1,
		Config: v1.Descriptor{
			MediaType: configType,
			Size:      int64(len(config)),
			Digest:    sha256Hash(config),
		},
	}
	for _, l := range layers {
		d, err := partial.Descriptor(l)
		if err != nil {
			return nil, fmt.Errorf("imagebuild: layer descriptor: %w", err)
		}
		m.Layers = append(m.Layers, *d)
		a.layers[d.Digest] = l
	}
	raw, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("imagebuild: manifest: %w", err)
	}
	a.manifest = raw
	img, err := partial.CompressedToImage(a)
	if err != nil {
		return nil, fmt.Errorf("imagebuild: artifact image: %w", err)
	}
	return img, nil
}

// artifact is a manifest whose config is not an image config; it implements
// partial.CompressedImageCore so ggcr can push it unchanged.
type artifact struct {
	manifest, config []byte
	layers           map[v1.Hash]v1.Layer
}

func (a *artifact) RawConfigFile() ([]byte, error) { return a.config, nil }
func (a *artifact) MediaType() (types.MediaType, error) {
	return types.OCIManifestSchema1, nil
}
func (a *artifact) RawManifest() ([]byte, error) { return a.manifest, nil }
func (a *artifact) LayerByDigest(h v1.Hash) (partial.CompressedLayer, error) {
	if l, ok := a.layers[h]; ok {
		return l, nil
	}
	if h == sha256Hash(a.config) {
		return static.NewLayer(a.config, types.OCIConfigJSON), nil
	}
	return nil, fmt.Errorf("artifact blob %s: %w", h, runtime.ErrNotFound)
}

func sha256Hash(b []byte) v1.Hash {
	sum := sha256.Sum256(b)
	return v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(sum[:])}
}
