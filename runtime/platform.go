package runtime

import (
	"strings"

	"github.com/containerd/platforms"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// NormalizePlatform returns p with containerd's normalisation (lower case;
// x86_64 → amd64; aarch64 → arm64 with the v8 variant dropped as the
// default; armhf → arm/v7; i386 → 386; macos → darwin) plus one rule of
// switchyard's own: wasi/wasm (the Docker+Wasm spelling) and wasip1/wasm are
// the same platform, written wasip1/wasm. Unlike containerd, an empty OS
// stays empty (unknown) rather than becoming the host's, and an empty
// architecture stays empty (any architecture). It is idempotent, and the
// one normalisation every package uses.
func NormalizePlatform(p ocispec.Platform) ocispec.Platform {
	if p.OS != "" {
		p.OS = platforms.Normalize(ocispec.Platform{OS: p.OS}).OS
	}
	if p.OS == "wasi" {
		p.OS = "wasip1"
	}
	if p.Architecture != "" {
		n := platforms.Normalize(ocispec.Platform{OS: "linux", Architecture: p.Architecture, Variant: p.Variant})
		p.Architecture, p.Variant = n.Architecture, n.Variant
	} else {
		p.Variant = strings.ToLower(p.Variant)
	}
	return p
}
