package imagebuild

import (
	"encoding/json"
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// ociBase is the empty image with OCI media types; empty.Image itself
// speaks Docker's.
func ociBase() v1.Image {
	return mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
}

// assemble appends layers to base and sets its config to cfg for platform
// p, created at the fixed epoch.
func assemble(base v1.Image, layers []v1.Layer, cfg v1.Config, p v1.Platform) (v1.Image, error) {
	img, err := mutate.AppendLayers(base, layers...)
	if err != nil {
		return nil, fmt.Errorf("imagebuild: append layers: %w", err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("imagebuild: config file: %w", err)
	}
	cf = cf.DeepCopy()
	cf.Config = cfg
	cf.OS, cf.Architecture, cf.Variant, cf.OSVersion = p.OS, p.Architecture, p.Variant, p.OSVersion
	cf.Created = v1.Time{Time: epoch}
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		return nil, fmt.Errorf("imagebuild: set config: %w", err)
	}
	return img, nil
}

// PlatformOf reads an image's platform from its config. It reads the JSON
// fields itself rather than through ConfigFile, because a wasm artifact's
// config is its own document that only shares the os and architecture
// fields with an image config.
func PlatformOf(img v1.Image) (v1.Platform, error) {
	raw, err := img.RawConfigFile()
	if err != nil {
		return v1.Platform{}, fmt.Errorf("imagebuild: config: %w", err)
	}
	var cf struct {
		OS           string `json:"os"`
		Architecture string `json:"architecture"`
		Variant      string `json:"variant"`
		OSVersion    string `json:"os.version"`
	}
	if err := json.Unmarshal(raw, &cf); err != nil {
		return v1.Platform{}, fmt.Errorf("imagebuild: decode config: %w", err)
	}
	return v1.Platform{OS: cf.OS, Architecture: cf.Architecture, Variant: cf.Variant, OSVersion: cf.OSVersion}, nil
}
