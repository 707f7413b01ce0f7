package spec

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/switchyard/switchyard/runtime"
)

// The operating systems and architectures a spec may name. The set is small
// on purpose: a typo ("linx") must be an error, not a platform no runtime
// serves. Names are the normalised (Go) spellings; aliases such as x86_64,
// aarch64, macos and wasi are accepted and normalised first.
var (
	knownOS   = []string{"linux", "windows", "darwin", "freebsd", "wasip1"}
	knownArch = []string{"amd64", "arm64", "arm", "386", "ppc64le", "s390x", "riscv64", "wasm"}
)

// variantRe is the shape of an architecture variant after normalisation
// (v7, v8, v8.2, v3).
var variantRe = regexp.MustCompile(`^v[0-9]{1,2}(\.[0-9]{1,2})?$`)

// componentRe is the shape of one os, arch or variant component as written,
// the same rule containerd's parser applies.
var componentRe = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// ParsePlatform parses "os", "os/arch" or "os/arch/variant" and returns the
// normalised platform (see Normalize). An OS alone ("windows") is allowed and
// leaves the architecture empty, meaning any. Unknown OS or architecture
// names are errors; the error wraps ErrInvalid.
func ParsePlatform(s string) (ocispec.Platform, error) {
	p, msg := parsePlatform(s)
	if msg != "" {
		return ocispec.Platform{}, fmt.Errorf("%q is not a platform: %s: %w", s, msg, ErrInvalid)
	}
	return p, nil
}

// parsePlatform returns the platform or a message saying what is wrong.
func parsePlatform(s string) (ocispec.Platform, string) {
	if s == "" {
		return ocispec.Platform{}, "empty (want os[/arch[/variant]], like linux/amd64 or wasip1/wasm)"
	}
	parts := strings.Split(s, "/")
	if len(parts) > 3 {
		return ocispec.Platform{}, "too many parts (want os[/arch[/variant]], like linux/arm64/v8)"
	}
	for _, part := range parts {
		if !componentRe.MatchString(part) {
			return ocispec.Platform{}, fmt.Sprintf("%q is not a name (want os[/arch[/variant]] of letters, digits, '_' and '-', like linux/amd64)", part)
		}
	}
	var p ocispec.Platform
	p.OS = parts[0]
	if len(parts) > 1 {
		p.Architecture = parts[1]
	}
	if len(parts) > 2 {
		p.Variant = parts[2]
	}
	p = Normalize(p)
	if msg := checkPlatform(p); msg != "" {
		return ocispec.Platform{}, msg
	}
	return p, ""
}

// Normalize is runtime.NormalizePlatform: containerd's normalisation, with
// wasi/wasm and wasip1/wasm one platform, and an empty OS or architecture
// left empty.
func Normalize(p ocispec.Platform) ocispec.Platform { return runtime.NormalizePlatform(p) }

// checkPlatform returns what is wrong with a normalised platform, or "".
func checkPlatform(p ocispec.Platform) string {
	if p.OS == "" {
		return "no OS (want os[/arch[/variant]], like linux/amd64)"
	}
	if !slices.Contains(knownOS, p.OS) {
		return fmt.Sprintf("unknown OS %q (want one of %s)", p.OS, strings.Join(knownOS, ", "))
	}
	if p.Architecture == "" {
		if p.Variant != "" {
			return fmt.Sprintf("variant %q without an architecture (want os/arch/variant, like linux/arm/v7)", p.Variant)
		}
		return ""
	}
	if !slices.Contains(knownArch, p.Architecture) {
		return fmt.Sprintf("unknown architecture %q (want one of %s)", p.Architecture, strings.Join(knownArch, ", "))
	}
	if (p.OS == "wasip1") != (p.Architecture == "wasm") {
		return "WebAssembly is wasip1/wasm: the wasip1 OS goes only with the wasm architecture, and wasm only with wasip1"
	}
	if p.Variant != "" && !variantRe.MatchString(p.Variant) {
		return fmt.Sprintf("variant %q is not a variant (want v followed by a number, like v7 or v8)", p.Variant)
	}
	if len(p.OSFeatures) > 0 {
		return "OS features cannot be declared in a spec (want os[/arch[/variant]], and osVersion for a Windows build family)"
	}
	if p.OSVersion != "" && !osVersionRe.MatchString(p.OSVersion) {
		return fmt.Sprintf("OS version %q is not a version; write the build family's dotted numbers, like 10.0.17763", p.OSVersion)
	}
	return ""
}
