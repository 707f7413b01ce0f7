package registry

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/containerd/platforms"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/switchyard/switchyard/internal/testimages"
	"github.com/switchyard/switchyard/runtime"
)

// platformStrings formats ps with every field inspection keeps (the OS
// version of Windows images included).
func platformStrings(ps []ocispec.Platform) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = platforms.FormatAll(p)
	}
	return strings.Join(s, ",")
}

// withAttestation appends a buildkit-style attestation entry to idx.
func withAttestation(t *testing.T, idx v1.ImageIndex) v1.ImageIndex {
	t.Helper()
	att := testimages.Artifact(t, "application/vnd.oci.image.config.v1+json", []byte(`{}`),
		static.NewLayer([]byte(`{"predicateType":"https://slsa.dev/provenance/v0.2"}`), "application/vnd.in-toto+json"))
	return mutate.AppendManifests(idx, mutate.IndexAddendum{Add: att, Descriptor: v1.Descriptor{
		Platform:    &v1.Platform{OS: "unknown", Architecture: "unknown"},
		Annotations: map[string]string{"vnd.docker.reference.type": "attestation-manifest"},
	}})
}

func TestInspectKinds(t *testing.T) {
	ctx := context.Background()
	host := testimages.Serve(t)
	wasmIdx := mutate.IndexMediaType(testimages.Index(t, testimages.WasmImage(t, testimages.MinimalWasm(), testimages.ConventionPlatform)), types.DockerManifestList)
	helm := testimages.Artifact(t, "application/vnd.cncf.helm.config.v1+json", []byte(`{"name":"chart"}`),
		static.NewLayer([]byte("chart"), "application/vnd.cncf.helm.chart.content.v1.tar+gzip"))
	noOS := testimages.Artifact(t, "application/vnd.oci.image.config.v1+json", []byte(`{"architecture":""}`),
		static.NewLayer([]byte("x"), types.OCILayer))
	wasmV1Layer := testimages.Artifact(t, "application/vnd.oci.image.config.v1+json", []byte(`{}`),
		static.NewLayer(testimages.MinimalWasm(), testimages.WasmLayerV1))
	for _, tc := range []struct {
		name string
		img  interface{ RawManifest() ([]byte, error) }
		want string
	}{
		{"single manifest", testimages.Busybox(t), "linux/amd64"},
		{"index", testimages.Index(t), "linux/amd64,linux/arm64,wasip1/wasm"},
		{"index with attestation", withAttestation(t, testimages.Index(t)), "linux/amd64,linux/arm64,wasip1/wasm"},
		{"docker manifest list of wasi", wasmIdx, "wasip1/wasm"},
		{"wasm artifact", testimages.WasmImage(t, testimages.MinimalWasm(), testimages.ConventionArtifact), "wasip1/wasm"},
		{"wasm layer v1", wasmV1Layer, "wasip1/wasm"},
		{"docker wasm platform", testimages.WasmImage(t, testimages.MinimalWasm(), testimages.ConventionPlatform), "wasip1/wasm"},
		{"windows", testimages.Windows(t), "windows(10.0.20348.1)/amd64"},
		{"helm chart is unknown", helm, ""},
		{"config without os is unknown", noOS, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ref := testimages.Push(t, host, strings.ReplaceAll(tc.name, " ", "-"), tc.img)
			got, err := Inspect(ctx, ref, noKeychain)
			if err != nil {
				t.Fatalf("inspect %s: %v", ref, err)
			}
			if got == nil {
				t.Fatal("got a nil slice; unknown is an empty slice")
			}
			if s := platformStrings(got); s != tc.want {
				t.Errorf("platforms = %q, want %q", s, tc.want)
			}
		})
	}
}

func TestInspectErrors(t *testing.T) {
	ctx := context.Background()
	busybox := testimages.Busybox(t)
	cfgDigest, err := busybox.ConfigName()
	if err != nil {
		t.Fatal(err)
	}
	// A registry that needs basic auth, another that corrupts busybox's
	// config blob, another that serves HTML for manifests of repo "html".
	authHost := testimages.ServeHandler(t, basicAuth("alice", "s3cret"))
	badHost := testimages.ServeHandler(t, onGET(
		func(p string) bool { return strings.HasSuffix(p, "/blobs/"+cfgDigest.String()) },
		func(w http.ResponseWriter, r *http.Request, next http.Handler) {
			next.ServeHTTP(&corruptWriter{ResponseWriter: w}, r)
		}))
	htmlHost := testimages.ServeHandler(t, onGET(
		func(p string) bool { return strings.HasPrefix(p, "/v2/html/manifests/") },
		func(w http.ResponseWriter, r *http.Request, next http.Handler) {
			w.Header().Set("Content-Type", "text/html")
			_, _ = w.Write([]byte("<html><body>Welcome to the captive portal</body></html>"))
		}))
	authRef := testimages.Push(t, authHost, "private", busybox, basicAuthOption("alice", "s3cret"))
	badRef := testimages.Push(t, badHost, "corrupt", busybox)
	htmlRef := testimages.Push(t, htmlHost, "html", busybox)
	okHost := testimages.Serve(t)
	testimages.Push(t, okHost, "ok", busybox)
	digestRef := okHost + "/ok@sha256:" + strings.Repeat("ab", 32)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadHost := ln.Addr().String()
	ln.Close()

	for _, tc := range []struct {
		name  string
		ref   string
		auth  *runtime.RegistryAuth
		kinds []error
	}{
		{"not found", okHost + "/nothere:1", nil, []error{runtime.ErrNotFound}},
		{"unknown digest", digestRef, nil, []error{runtime.ErrNotFound}},
		{"no credentials", authRef, nil, []error{ErrUnauthorized, runtime.ErrFailedPrecondition}},
		{"wrong password", authRef, &runtime.RegistryAuth{Username: "alice", Password: "nope"}, []error{ErrUnauthorized}},
		{"unreachable", deadHost + "/x:1", nil, []error{ErrUnreachable, runtime.ErrUnavailable}},
		{"wrong content type", htmlRef, nil, []error{ErrBadContent}},
		{"digest mismatch", badRef, nil, []error{ErrDigestMismatch, ErrBadContent}},
		{"bad reference", "UPPER/case", nil, []error{runtime.ErrInvalidArgument}},
		{"empty reference", "", nil, []error{runtime.ErrInvalidArgument}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewInspector(noKeychain).InspectPlatforms(ctx, tc.ref, tc.auth)
			if err == nil {
				t.Fatal("no error")
			}
			for _, k := range tc.kinds {
				if !errors.Is(err, k) {
					t.Errorf("error %q is not %q", err, k)
				}
			}
			t.Logf("%v", err)
		})
	}

	t.Run("right password", func(t *testing.T) {
		ps, err := NewInspector(noKeychain).InspectPlatforms(ctx, authRef, &runtime.RegistryAuth{Username: "alice", Password: "s3cret"})
		if err != nil || platformStrings(ps) != "linux/amd64" {
			t.Fatalf("platforms %v, %v", ps, err)
		}
	})
	t.Run("keychain", func(t *testing.T) {
		kc := staticKeychain{authHost: {Username: "alice", Password: "s3cret"}}
		ps, err := Inspect(ctx, authRef, WithKeychain(kc))
		if err != nil || platformStrings(ps) != "linux/amd64" {
			t.Fatalf("platforms %v, %v", ps, err)
		}
	})
}

// TestInspectRequestCounts measures what an inspection costs on the wire:
// the figure for the composite's pull path.
func TestInspectRequestCounts(t *testing.T) {
	ctx := context.Background()
	host := testimages.Serve(t)
	idxRef := testimages.Push(t, host, "multi", testimages.Index(t))
	oneRef := testimages.Push(t, host, "single", testimages.Busybox(t))
	otherRef := testimages.Push(t, host, "other", testimages.Windows(t))
	cnt := newCounter()
	in := NewInspector(noKeychain, WithTransport(cnt))
	for _, step := range []struct {
		name             string
		ref              string
		manifests, blobs int
		maxTotal         int
	}{
		{"index, first contact", idxRef, 1, 0, 3},
		{"index, again", idxRef, 1, 0, 1},
		{"single manifest, new repository", oneRef, 1, 1, 2},
		{"single manifest, again", oneRef, 1, 1, 2},
		{"another repository", otherRef, 1, 1, 2},
	} {
		if _, err := in.InspectPlatforms(ctx, step.ref, nil); err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		reqs := cnt.take()
		t.Logf("%-32s %d requests: %v", step.name, len(reqs), reqs)
		if count(reqs, "manifest") != step.manifests || count(reqs, "blob") != step.blobs || len(reqs) > step.maxTotal {
			t.Errorf("%s: requests %v; want %d manifest, %d blob, at most %d in all", step.name, reqs, step.manifests, step.blobs, step.maxTotal)
		}
	}
}

// TestInspectLoginAfterRefusal: credentials that appear after a refusal
// (docker login while the agent runs) are used by the next call.
func TestInspectLoginAfterRefusal(t *testing.T) {
	ctx := context.Background()
	host := testimages.ServeHandler(t, basicAuth("dave", "pw"))
	ref := testimages.Push(t, host, "private", testimages.Windows(t), basicAuthOption("dave", "pw"))
	kc := &mutableKeychain{}
	in := NewInspector(WithKeychain(kc))
	if _, err := in.InspectPlatforms(ctx, ref, nil); !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("before login: %v", err)
	}
	kc.set(host, "dave", "pw")
	if _, err := in.InspectPlatforms(ctx, ref, nil); err != nil {
		t.Fatalf("after login: %v", err)
	}
}
