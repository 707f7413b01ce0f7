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

// PlatformMatcher matches what a runtime serving want (most preferred
// first) can run: for each wanted platform, containerd's platforms.Only,
// so that linux/amd64 also runs linux/386 and linux/arm64 also runs
// linux/arm/v8 and v7, as the composite routes. Less prefers a platform
// matched by an earlier wanted one, then the closer match. Platforms are
// normalised (NormalizePlatform) before they are compared.
func PlatformMatcher(want ...ocispec.Platform) platforms.MatchComparer {
	m := make(platformMatcher, len(want))
	for i, w := range want {
		m[i] = platforms.Only(NormalizePlatform(w))
	}
	return m
}

type platformMatcher []platforms.MatchComparer

func (m platformMatcher) rank(p ocispec.Platform) int {
	p = NormalizePlatform(p)
	for i, o := range m {
		if o.Match(p) {
			return i
		}
	}
	return -1
}

func (m platformMatcher) Match(p ocispec.Platform) bool { return m.rank(p) >= 0 }

func (m platformMatcher) Less(a, b ocispec.Platform) bool {
	ra, rb := m.rank(a), m.rank(b)
	switch {
	case ra < 0:
		return false
	case rb < 0 || ra < rb:
		return true
	case ra > rb:
		return false
	}
	return m[ra].Less(NormalizePlatform(a), NormalizePlatform(b))
}
