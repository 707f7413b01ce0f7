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

// FuzzParseMirror checks that any HOST=MIRROR value either fails with
// ErrInvalidArgument or parses into a canonical pair that parses again to
// itself, that WithMirrors accepts, and on which a mirror's reference can
// be made.
func FuzzParseMirror(f *testing.F) {
	for _, s := range []string{
		"registry.k8s.io=127.0.0.1:5001", "docker.io=mirror.gcr.io", "Docker.IO=HTTPS://Mirror.Example.com:443/",
		"gcr.io=http://10.0.0.5:5000", "10.0.0.1:5000=http://[::1]:5001/cache/gcr", "docker.io=harbor.example/dockerhub-proxy",
		"localhost=registry-mirror", "", "=", "a=", "=b", "a=b=c", "registry.k8s.io", "https://gcr.io=m", "gcr.io/x=m",
		"gcr.io=ftp://m", "gcr.io=m?q", "gcr.io=m#f", "gcr.io=u:p@m", "gcr.io=m/v2/", "gcr.io=m/A", "gcr.io=m:", "gcr.io=m:0",
		"gcr.io=[::1", "gcr.io=[fe80::1%25eth0]:5000", "gcr.io=gcr.io", "gcr.io=m/a__b/c-d.e", "gcr.io=m/a..b", "gcr.io=m:5000/",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		host, mirror, err := ParseMirror(s)
		if err != nil {
			if !errors.Is(err, runtime.ErrInvalidArgument) {
				t.Fatalf("ParseMirror(%q) = %v: not ErrInvalidArgument", s, err)
			}
			return
		}
		h2, m2, err := ParseMirror(host + "=" + mirror)
		if err != nil || h2 != host || m2 != mirror {
			t.Fatalf("%q → %q=%q → %q=%q, %v: not stable", s, host, mirror, h2, m2, err)
		}
		o, err := makeOptions([]Option{WithMirrors(map[string][]string{host: {mirror}})})
		if err != nil {
			t.Fatalf("WithMirrors refuses %q=%q, which ParseMirror gave: %v", host, mirror, err)
		}
		ms := o.mirrors[host]
		if len(ms) != 1 || ms[0].String() != mirror {
			t.Fatalf("WithMirrors(%q=%q) keeps %v", host, mirror, ms)
		}
		ref, err := ParseReference("registry.test/app:1")
		if err != nil {
			t.Fatal(err)
		}
		mref, err := o.mirrorReference(ms[0], ref)
		if err != nil {
			t.Fatalf("no reference on mirror %q: %v", mirror, err)
		}
		if got := mref.Context().RepositoryStr(); !strings.HasSuffix(got, "app") {
			t.Fatalf("mirror reference %s has repository %q", mref, got)
		}
	})
}
