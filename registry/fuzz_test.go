package registry

import (
	"errors"
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/switchyard/switchyard/runtime"
)

// FuzzParseReference checks that any string either parses into a reference
// whose full form parses again to itself, or fails with ErrInvalidArgument.
func FuzzParseReference(f *testing.F) {
	for _, s := range []string{
		"busybox", "busybox:1.36", "library/busybox:latest", "docker.io/library/busybox",
		"127.0.0.1:5000/app:v1", "localhost/app", "[::1]:5000/a/b/c:tag",
		"registry.test/org/app@sha256:" + strings.Repeat("a", 64),
		"host:5000/app:tag@sha256:" + strings.Repeat("0", 64),
		"", " busybox", "UPPER", "a/../b", "app:", "@sha256:", "app@sha256:short", "::::", strings.Repeat("a", 300),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ref, err := ParseReference(s)
		if err != nil {
			if !errors.Is(err, runtime.ErrInvalidArgument) {
				t.Fatalf("ParseReference(%q) = %v: not ErrInvalidArgument", s, err)
			}
			return
		}
		full := ref.Name()
		again, err := ParseReference(full)
		if err != nil {
			t.Fatalf("full form %q of %q does not parse: %v", full, s, err)
		}
		if again.Name() != full {
			t.Fatalf("%q → %q → %q: not stable", s, full, again.Name())
		}
	})
}

// FuzzPlatformsFromManifest feeds arbitrary manifests (and config blobs)
// to platform extraction: it must not panic, must return an empty slice
// rather than nil on success, only normalised platforms, and no platform
// without an OS.
func FuzzPlatformsFromManifest(f *testing.F) {
	const busyboxConfig = `{"architecture":"amd64","os":"linux","config":{"Cmd":["sh"]}}`
	seeds := []struct{ ct, manifest, config string }{
		{mtOCIIndex, `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[` +
			`{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:` + strings.Repeat("1", 64) + `","size":1,"platform":{"os":"linux","architecture":"amd64"}},` +
			`{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:` + strings.Repeat("2", 64) + `","size":1,"platform":{"os":"linux","architecture":"arm64","variant":"v8"}},` +
			`{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:` + strings.Repeat("3", 64) + `","size":1,"platform":{"os":"unknown","architecture":"unknown"},"annotations":{"vnd.docker.reference.type":"attestation-manifest"}}]}`, ""},
		{mtDockerList, `{"schemaVersion":2,"manifests":[{"digest":"sha256:` + strings.Repeat("4", 64) + `","platform":{"os":"wasi","architecture":"wasm"}}]}`, ""},
		{mtOCIManifest, `{"schemaVersion":2,"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:` + strings.Repeat("5", 64) + `","size":60},"layers":[]}`, busyboxConfig},
		{mtDockerV2, `{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{"mediaType":"application/vnd.docker.container.image.v1+json","digest":"sha256:` + strings.Repeat("6", 64) + `","size":2}}`, `{"os":"windows","architecture":"x86_64","os.version":"10.0.1"}`},
		{mtOCIManifest, `{"schemaVersion":2,"config":{"mediaType":"application/vnd.wasm.config.v0+json","digest":"sha256:` + strings.Repeat("7", 64) + `","size":2},"layers":[{"mediaType":"application/wasm","digest":"sha256:` + strings.Repeat("8", 64) + `","size":8}]}`, ""},
		{"application/json", `{"schemaVersion":2,"config":{"mediaType":"application/vnd.oci.empty.v1+json"},"layers":[{"mediaType":"application/vnd.wasm.content.layer.v1+wasm"}]}`, ""},
		{"text/html", `<html>`, ""},
		{"", `{"schemaVersion":1,"fsLayers":[]}`, ""},
		{"", `{}`, ""},
		{mtOCIManifest, `{"config":{"digest":"sha256:` + strings.Repeat("9", 64) + `"}}`, `{"os":""}`},
		{mtOCIManifest, `{"config":{"digest":"x"}}`, `not json`},
	}
	for _, s := range seeds {
		f.Add(s.ct, []byte(s.manifest), []byte(s.config))
	}
	f.Fuzz(func(t *testing.T, ct string, manifest, config []byte) {
		calls := 0
		ps, err := PlatformsFromManifest(ct, manifest, func(ocispec.Descriptor) ([]byte, error) {
			calls++
			return config, nil
		})
		if calls > 1 {
			t.Fatalf("config fetched %d times", calls)
		}
		if err != nil {
			if !errors.Is(err, ErrBadContent) && !errors.Is(err, runtime.ErrNotSupported) {
				t.Fatalf("error %v is neither ErrBadContent nor ErrNotSupported", err)
			}
			return
		}
		if ps == nil {
			t.Fatal("nil platforms on success; unknown is an empty slice")
		}
		for _, p := range ps {
			if p.OS == "" {
				t.Fatalf("platform without OS: %+v", p)
			}
			if n := runtime.NormalizePlatform(p); n.OS != p.OS || n.Architecture != p.Architecture || n.Variant != p.Variant {
				t.Fatalf("platform %+v is not normalised (%+v)", p, n)
			}
			if p.OS == "wasi" {
				t.Fatal("wasi not normalised to wasip1")
			}
		}
	})
}
