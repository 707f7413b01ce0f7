package registry

import (
	"encoding/json"
	"fmt"
	"mime"
	"slices"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/switchyard/switchyard/images"
	"github.com/switchyard/switchyard/runtime"
)

// Media types that decide how a manifest is read.
const (
	mtOCIIndex     = "application/vnd.oci.image.index.v1+json"
	mtDockerList   = "application/vnd.docker.distribution.manifest.list.v2+json"
	mtOCIManifest  = "application/vnd.oci.image.manifest.v1+json"
	mtDockerV2     = "application/vnd.docker.distribution.manifest.v2+json"
	mtDockerV1     = "application/vnd.docker.distribution.manifest.v1+json"
	mtDockerV1Sig  = "application/vnd.docker.distribution.manifest.v1+prettyjws"
	mtOCIConfig    = "application/vnd.oci.image.config.v1+json"
	mtDockerConfig = "application/vnd.docker.container.image.v1+json"
	mtWasmConfigV0 = "application/vnd.wasm.config.v0+json"
	mtWasmConfigV1 = "application/vnd.wasm.config.v1+json"
	mtWasmLayer    = "application/wasm"
	mtWasmLayerV1  = "application/vnd.wasm.content.layer.v1+wasm"
)

// maxManifestSize bounds what PlatformsFromManifest decodes; the
// distribution spec recommends registries accept at least 4 MiB.
const maxManifestSize = 4 << 20

// WasmPlatform returns the one platform WebAssembly modules are normalised
// to, wasip1/wasm.
func WasmPlatform() ocispec.Platform { return ocispec.Platform{OS: "wasip1", Architecture: "wasm"} }

// manifestDoc is the union of the fields of an image manifest and an image
// index that platform inspection reads.
type manifestDoc struct {
	SchemaVersion int                  `json:"schemaVersion"`
	MediaType     string               `json:"mediaType"`
	ArtifactType  string               `json:"artifactType"`
	Config        *ocispec.Descriptor  `json:"config"`
	Layers        []ocispec.Descriptor `json:"layers"`
	Manifests     []ocispec.Descriptor `json:"manifests"`
}

// configDoc is the part of an image config that names its platform.
type configDoc struct {
	OS           string   `json:"os"`
	Architecture string   `json:"architecture"`
	Variant      string   `json:"variant"`
	OSVersion    string   `json:"os.version"`
	OSFeatures   []string `json:"os.features"`
}

// PlatformsFromManifest returns the platforms of a manifest or index as
// fetched from a registry: contentType is the response's Content-Type (may
// be empty or wrong; the document's own mediaType is the fallback) and raw
// its body. For an image manifest whose config is an image config, config
// is called once to fetch the config blob; it may be nil, in which case such
// a manifest's platform is unknown.
//
//   - an index or manifest list: every entry's platform, normalised, in
//     order, without duplicates, skipping attestation entries
//     (unknown/unknown, or annotated as attestation manifests);
//   - a WebAssembly artifact (wasm config media type, or wasm layers):
//     WasmPlatform();
//   - an image manifest: the config's os, architecture and variant;
//   - nothing usable: an empty slice and no error.
//
// Content that is not a manifest at all is an error wrapping ErrBadContent;
// a schema 1 manifest is an error wrapping runtime.ErrNotSupported.
func PlatformsFromManifest(contentType string, raw []byte, config func(ocispec.Descriptor) ([]byte, error)) ([]ocispec.Platform, error) {
	doc, index, err := decodeManifest(contentType, raw)
	if err != nil {
		return nil, err
	}
	if index {
		return indexPlatforms(doc.Manifests), nil
	}
	return manifestPlatforms(doc, config)
}

// decodeManifest decodes raw and says whether it is an index (or manifest
// list) rather than an image manifest. The content type decides; when it
// is not a manifest type, the document's own mediaType, and then its shape.
func decodeManifest(contentType string, raw []byte) (manifestDoc, bool, error) {
	var doc manifestDoc
	if len(raw) > maxManifestSize {
		return doc, false, fmt.Errorf("manifest is %d bytes, over the %d byte limit: %w", len(raw), maxManifestSize, ErrBadContent)
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return doc, false, fmt.Errorf("manifest (content type %q) is not JSON: %w: %w", contentType, ErrBadContent, err)
	}
	mt, _, _ := mime.ParseMediaType(contentType)
	if !knownManifestType(mt) {
		mt = doc.MediaType
	}
	switch {
	case mt == mtDockerV1 || mt == mtDockerV1Sig || doc.SchemaVersion == 1:
		return doc, false, fmt.Errorf("docker schema 1 manifests are not supported; rebuild or re-push the image with a current client: %w", runtime.ErrNotSupported)
	case mt == mtOCIIndex || mt == mtDockerList || mt == "" && doc.Manifests != nil && doc.Config == nil:
		return doc, true, nil
	case mt == mtOCIManifest || mt == mtDockerV2 || mt == "" && doc.Config != nil:
		return doc, false, nil
	}
	return doc, false, fmt.Errorf("content type %q, media type %q: not an image manifest or index: %w", contentType, doc.MediaType, ErrBadContent)
}

func knownManifestType(mt string) bool {
	switch mt {
	case mtOCIIndex, mtDockerList, mtOCIManifest, mtDockerV2, mtDockerV1, mtDockerV1Sig:
		return true
	}
	return false
}

func indexPlatforms(entries []ocispec.Descriptor) []ocispec.Platform {
	out := []ocispec.Platform{}
	for _, d := range entries {
		if d.Platform == nil || d.Platform.OS == "" || images.IsAttestation(d) {
			continue
		}
		p := runtime.NormalizePlatform(*d.Platform)
		if !slices.ContainsFunc(out, func(q ocispec.Platform) bool { return samePlatform(p, q) }) {
			out = append(out, p)
		}
	}
	return out
}

func manifestPlatforms(doc manifestDoc, config func(ocispec.Descriptor) ([]byte, error)) ([]ocispec.Platform, error) {
	if isWasm(doc) {
		return []ocispec.Platform{WasmPlatform()}, nil
	}
	if doc.Config == nil || config == nil {
		return []ocispec.Platform{}, nil
	}
	switch doc.Config.MediaType {
	case mtOCIConfig, mtDockerConfig, "":
	default:
		// An artifact of some other kind (a chart, a signature): nothing here
		// says which platform, and fetching its config would not tell.
		return []ocispec.Platform{}, nil
	}
	b, err := config(*doc.Config)
	if err != nil {
		return nil, err
	}
	var cfg configDoc
	if err := json.Unmarshal(b, &cfg); err != nil {
		return nil, fmt.Errorf("image config %s is not JSON: %w: %w", doc.Config.Digest, ErrBadContent, err)
	}
	if cfg.OS == "" {
		return []ocispec.Platform{}, nil
	}
	p := runtime.NormalizePlatform(ocispec.Platform{OS: cfg.OS, Architecture: cfg.Architecture, Variant: cfg.Variant,
		OSVersion: cfg.OSVersion, OSFeatures: cfg.OSFeatures})
	return []ocispec.Platform{p}, nil
}

func isWasm(doc manifestDoc) bool {
	if doc.Config != nil && (doc.Config.MediaType == mtWasmConfigV0 || doc.Config.MediaType == mtWasmConfigV1) {
		return true
	}
	if doc.ArtifactType == mtWasmConfigV0 || doc.ArtifactType == mtWasmConfigV1 {
		return true
	}
	for _, l := range doc.Layers {
		if l.MediaType == mtWasmLayer || l.MediaType == mtWasmLayerV1 {
			return true
		}
	}
	return false
}

func samePlatform(a, b ocispec.Platform) bool {
	return a.OS == b.OS && a.Architecture == b.Architecture && a.Variant == b.Variant && a.OSVersion == b.OSVersion
}
