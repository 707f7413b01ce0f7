package images

import (
	"context"
	"errors"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/static"

	"github.com/switchyard/switchyard/runtime"
)

func TestWasmArtifact(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	module := []byte("\x00asm\x01\x00\x00\x00")
	img, err := mutate.AppendLayers(empty.Image, static.NewLayer(module, "application/wasm"))
	if err != nil {
		t.Fatal(err)
	}
	img = mutate.ConfigMediaType(img, "application/vnd.wasm.config.v0+json")
	got := mustWrite(t, s, "example.com/hello-wasm:1", img)
	if runtime.FormatPlatform(got.Platform) != "wasip1/wasm" {
		t.Errorf("platform %+v, want wasip1/wasm", got.Platform)
	}
	if ref, err := s.Get(ctx, "example.com/hello-wasm:1"); err != nil || formatPlatforms(ref.Platforms()) != "wasip1/wasm" {
		t.Errorf("Get = %+v, %v: want platforms wasip1/wasm", ref, err)
	}
	if got.Layers[0].DiffID != got.Layers[0].Digest {
		t.Errorf("layer %+v: an uncompressed layer's diff ID is its digest", got.Layers[0])
	}
	p, err := s.BlobPath(got.Layers[0].Digest)
	if err != nil || !strings.HasSuffix(p, got.Layers[0].Digest[7:]) {
		t.Fatalf("BlobPath = %q, %v", p, err)
	}
	if _, _, err := s.PrepareRootfs(ctx, "w", "example.com/hello-wasm:1", nil); !errors.Is(err, runtime.ErrNotSupported) {
		t.Errorf("PrepareRootfs(wasm) = %v, want ErrNotSupported", err)
	}
}

// lyingLayer reports a diff ID its content does not have.
type lyingLayer struct{ v1.Layer }

func (lyingLayer) DiffID() (v1.Hash, error) {
	return v1.NewHash("sha256:" + strings.Repeat("ab", 32))
}

func TestUnpackVerifiesDiffID(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	img, err := mutate.AppendLayers(mustImage(t), lyingLayer{mustLayer(t, file{name: "a", body: "a"})})
	if err != nil {
		t.Fatal(err)
	}
	mustWrite(t, s, "example.com/liar:1", img)
	_, _, err = s.PrepareRootfs(ctx, "c", "example.com/liar:1", nil)
	if !errors.Is(err, runtime.ErrInvalidArgument) || !strings.Contains(err.Error(), "the config says") {
		t.Fatalf("PrepareRootfs = %v, want a diff ID mismatch", err)
	}
}

func TestOptionsAndNames(t *testing.T) {
	for _, tc := range []struct {
		name string
		opt  Option
	}{
		{"no jobs", WithJobs(0)},
		{"no size", WithMaxUnpackedSize(0)},
		{"nil logger", WithLogger(nil)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Open(t.TempDir(), tc.opt); !errors.Is(err, runtime.ErrInvalidArgument) {
				t.Errorf("Open = %v, want ErrInvalidArgument", err)
			}
		})
	}
	for _, tc := range []struct{ in, want string }{
		{"busybox", "index.docker.io/library/busybox:latest"},
		{"docker.io/library/busybox:1.36", "index.docker.io/library/busybox:1.36"},
		{"127.0.0.1:5000/app", "127.0.0.1:5000/app:latest"},
		{"sha256:" + strings.Repeat("0", 64), "sha256:" + strings.Repeat("0", 64)},
	} {
		t.Run(tc.in, func(t *testing.T) {
			if got, err := Normalize(tc.in); err != nil || got != tc.want {
				t.Errorf("Normalize(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
			}
		})
	}
	s := newStore(t)
	mustWrite(t, s, "example.com/a:1", mustImage(t))
	if err := s.Tag(context.Background(), "example.com/a:1", "example.com/a@sha256:"+strings.Repeat("0", 64)); !errors.Is(err, runtime.ErrInvalidArgument) {
		t.Errorf("Tag to a digest = %v, want ErrInvalidArgument", err)
	}
}

func TestWriteByDigestIsKept(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	img := mustImage(t, mustLayer(t, file{name: "a", body: "a"}))
	d, _ := img.Digest()
	ref := "example.com/pinned@" + d.String()
	mustWrite(t, s, ref, img)
	if res, err := s.Prune(ctx); err != nil || len(res.Deleted) != 0 {
		t.Fatalf("Prune = %+v, %v; an image pulled by digest is not unnamed", res, err)
	}
	list, err := s.List(ctx)
	if err != nil || len(list) != 1 || list[0].Name != ref {
		t.Fatalf("List = %+v, %v", list, err)
	}
	if _, err := s.Write(ctx, d.String(), img, WriteOptions{}); !errors.Is(err, runtime.ErrInvalidArgument) {
		t.Errorf("Write under a bare digest = %v, want ErrInvalidArgument", err)
	}
}
