package imagebuild_test

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/validate"

	"github.com/switchyard/switchyard/internal/imagebuild"
	"github.com/switchyard/switchyard/internal/testimages"
	"github.com/switchyard/switchyard/runtime"
)

func TestReference(t *testing.T) {
	for _, tc := range []struct {
		name, host, repo, want, scheme string
	}{
		{"loopback gets latest", "127.0.0.1:5000", "demo/busybox", "127.0.0.1:5000/demo/busybox:latest", "http"},
		{"tag kept", "127.0.0.1:5000", "demo/busybox:1.36", "127.0.0.1:5000/demo/busybox:1.36", "http"},
		{"localhost", "localhost:5000", "a", "localhost:5000/a:latest", "http"},
		{"ipv6 loopback", "[::1]:5000", "a", "[::1]:5000/a:latest", "http"},
		{"remote host stays https", "registry.example.com:5000", "a", "registry.example.com:5000/a:latest", "https"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ref, err := imagebuild.Reference(tc.host, tc.repo)
			if err != nil {
				t.Fatal(err)
			}
			if ref.String() != tc.want || ref.Scheme() != tc.scheme {
				t.Errorf("reference = %s (%s), want %s (%s)", ref, ref.Scheme(), tc.want, tc.scheme)
			}
		})
	}
}

func TestIsLoopback(t *testing.T) {
	for _, tc := range []struct {
		host string
		want bool
	}{
		{"127.0.0.1:5000", true}, {"127.0.0.1", true}, {"127.1.2.3:80", true}, {"localhost", true},
		{"LOCALHOST:5000", true}, {"[::1]:5000", true}, {"::1", true},
		{"10.0.0.1:5000", false}, {"localhost.example.com", false}, {"example.com:5000", false}, {"", false},
	} {
		t.Run(tc.host, func(t *testing.T) {
			if got := imagebuild.IsLoopback(tc.host); got != tc.want {
				t.Errorf("IsLoopback(%q) = %v, want %v", tc.host, got, tc.want)
			}
		})
	}
}

func FuzzReference(f *testing.F) {
	f.Add("127.0.0.1:5000", "demo/busybox")
	f.Add("localhost", "a:b")
	f.Add("[::1]:5000", "x/y/z:1.0")
	f.Add("example.com", "UPPER")
	f.Add("", "")
	f.Add("127.0.0.1:5000", "repo@sha256:abc")
	f.Fuzz(func(t *testing.T, host, repo string) {
		ref, err := imagebuild.Reference(host, repo)
		if err != nil {
			if !errors.Is(err, runtime.ErrInvalidArgument) {
				t.Fatalf("err = %v, want invalid argument", err)
			}
			return
		}
		back, err := name.ParseReference(ref.String())
		if err != nil {
			t.Fatalf("%q does not parse back: %v", ref, err)
		}
		if back.Context().RegistryStr() != ref.RegistryStr() {
			t.Fatalf("registry %q became %q", ref.RegistryStr(), back.Context().RegistryStr())
		}
	})
}

// TestPush validates what it pulls back rather than what it built: ggcr's
// checks trip over the nil-versus-empty annotations of an image still in
// memory.
func TestPush(t *testing.T) {
	host := testimages.Serve(t)
	idx, err := imagebuild.Index(mustBuild(t, imagebuild.Windows),
		mustBuild(t, func() (v1.Image, error) {
			return imagebuild.WasmImage(imagebuild.MinimalWasm(), imagebuild.ConventionArtifact)
		}))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		repo  string
		obj   remote.Taggable
		check func(*remote.Descriptor) error
	}{
		{"image", "push/windows", mustBuild(t, imagebuild.Windows), func(d *remote.Descriptor) error {
			img, err := d.Image()
			if err != nil {
				return err
			}
			return validate.Image(img)
		}},
		{"index", "push/multi:v1", idx, func(d *remote.Descriptor) error {
			idx, err := d.ImageIndex()
			if err != nil {
				return err
			}
			return validate.Index(idx, validate.Fast) // the wasm artifact's config is not an image config
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ref, err := imagebuild.Reference(host, tc.repo)
			if err != nil {
				t.Fatal(err)
			}
			if err := imagebuild.Push(t.Context(), ref, tc.obj); err != nil {
				t.Fatal(err)
			}
			desc, err := remote.Get(ref, remote.WithContext(t.Context()))
			if err != nil {
				t.Fatalf("get back %s: %v", ref, err)
			}
			want, _ := tc.obj.(interface{ Digest() (v1.Hash, error) }).Digest()
			if desc.Digest != want {
				t.Errorf("digest after push = %s, want %s", desc.Digest, want)
			}
			if err := tc.check(desc); err != nil {
				t.Errorf("pulled back %s does not validate: %v", ref, err)
			}
		})
	}

	ref, err := imagebuild.Reference(host, "push/never")
	if err != nil {
		t.Fatal(err)
	}
	t.Run("not an image", func(t *testing.T) {
		if err := imagebuild.Push(t.Context(), ref, nil); !errors.Is(err, runtime.ErrInvalidArgument) {
			t.Errorf("err = %v, want invalid argument", err)
		}
	})
	t.Run("cancelled context", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if err := imagebuild.Push(ctx, ref, mustBuild(t, imagebuild.Windows)); !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want context.Canceled", err)
		}
	})
}
