package images

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"

	"github.com/switchyard/switchyard/runtime"
)

func TestWriteGetList(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	img := mustBusybox(t)
	var events []runtime.PullProgress
	got, err := s.Write(ctx, "busybox", img, WriteOptions{
		Progress: func(p runtime.PullProgress) { events = append(events, p) },
	})
	if err != nil {
		t.Fatal(err)
	}
	const norm = "index.docker.io/library/busybox:latest"
	if got.Ref != norm {
		t.Errorf("ref %q, want %q", got.Ref, norm)
	}
	if got.Platform.OS != "linux" || got.Platform.Architecture != "amd64" {
		t.Errorf("platform %+v", got.Platform)
	}
	if len(got.Layers) != 1 || got.Layers[0].DiffID == "" || got.Layers[0].Size == 0 {
		t.Errorf("layers %+v", got.Layers)
	}
	if got.Created.IsZero() || len(got.Config.Config.Cmd) == 0 {
		t.Errorf("config not recorded: created %v cmd %v", got.Created, got.Config.Config.Cmd)
	}
	if len(events) == 0 || events[len(events)-1].Status != "done" {
		t.Errorf("progress events %+v: want a final done", events)
	}
	d, _ := img.Digest()
	for _, tc := range []struct{ name, ref string }{
		{"short name", "busybox"},
		{"full name", norm},
		{"digest reference", "busybox@" + d.String()},
		{"bare digest", d.String()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g, err := s.Get(ctx, tc.ref)
			if err != nil {
				t.Fatal(err)
			}
			if g.Digest != d.String() {
				t.Errorf("digest %s, want %s", g.Digest, d)
			}
		})
	}
	for _, blob := range append([]string{got.Digest, got.ConfigDigest}, got.Layers[0].Digest) {
		if _, err := s.BlobPath(blob); err != nil {
			t.Errorf("blob %s: %v", blob, err)
		}
	}
	if _, err := s.Get(ctx, "alpine"); !errors.Is(err, runtime.ErrNotFound) {
		t.Errorf("Get(alpine) = %v, want ErrNotFound", err)
	}
	if _, err := s.Get(ctx, "Bad Ref!"); !errors.Is(err, runtime.ErrInvalidArgument) {
		t.Errorf("Get(bad) = %v, want ErrInvalidArgument", err)
	}
	if _, err := s.BlobPath("md5:x"); !errors.Is(err, runtime.ErrInvalidArgument) {
		t.Errorf("BlobPath(bad) = %v, want ErrInvalidArgument", err)
	}
	list, err := s.List(ctx)
	if err != nil || len(list) != 1 || list[0].Name != norm || formatPlatforms(list[0].Platforms()) != "linux/amd64" {
		t.Fatalf("List = %+v, %v", list, err)
	}
	// The metadata survives a reopen.
	root := s.Root()
	s.Close()
	s2, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if _, err := s2.Get(ctx, "busybox"); err != nil {
		t.Fatal(err)
	}
}

func TestOpenTwiceIsUnavailable(t *testing.T) {
	s := newStore(t)
	if _, err := Open(s.Root()); !errors.Is(err, runtime.ErrUnavailable) {
		t.Fatalf("second Open = %v, want ErrUnavailable", err)
	}
}

// tamperedLayer claims the digest and size of one content and serves
// another.
type tamperedLayer struct {
	v1.Layer
	serve []byte
}

func (l tamperedLayer) Compressed() (io.ReadCloser, error) {
	return io.NopCloser(strings.NewReader(string(l.serve))), nil
}

func TestWriteVerifiesBlobs(t *testing.T) {
	real := mustLayer(t, file{name: "a", body: "the real content"})
	rc, _ := real.Compressed()
	good, _ := io.ReadAll(rc)
	flipped := slices.Clone(good)
	flipped[len(flipped)/2] ^= 0xff
	for _, tc := range []struct {
		name  string
		serve []byte
		want  string
	}{
		{"wrong digest", flipped, "content has digest"},
		{"short", good[:len(good)-1], "bytes, the manifest says"},
		{"long", append(slices.Clone(good), 'x'), "bytes, the manifest says"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(t)
			img, err := mutate.AppendLayers(mustImage(t), tamperedLayer{Layer: real, serve: tc.serve})
			if err != nil {
				t.Fatal(err)
			}
			_, err = s.Write(context.Background(), "tampered", img, WriteOptions{})
			if !errors.Is(err, runtime.ErrInvalidArgument) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Write = %v, want ErrInvalidArgument with %q", err, tc.want)
			}
			d, _ := real.Digest()
			if _, err := s.BlobPath(d.String()); !errors.Is(err, runtime.ErrNotFound) {
				t.Errorf("the bad blob was committed (%v)", err)
			}
			if left := entries(t, filepath.Join(s.Root(), "ingest")); len(left) != 0 {
				t.Errorf("ingest holds %v after a failed write", left)
			}
			if _, err := s.Get(context.Background(), "tampered"); !errors.Is(err, runtime.ErrNotFound) {
				t.Errorf("Get after failed write = %v, want ErrNotFound", err)
			}
		})
	}
}

// stallingLayer serves half its content and then blocks until released.
type stallingLayer struct {
	v1.Layer
	release chan struct{}
}

func (l stallingLayer) Compressed() (io.ReadCloser, error) {
	rc, err := l.Layer.Compressed()
	if err != nil {
		return nil, err
	}
	b, _ := io.ReadAll(rc)
	return io.NopCloser(io.MultiReader(strings.NewReader(string(b[:len(b)/2])), blockReader(l.release), strings.NewReader(string(b[len(b)/2:])))), nil
}

type blockReader chan struct{}

func (b blockReader) Read([]byte) (int, error) { <-b; return 0, io.EOF }

func TestInterruptedWriteResumes(t *testing.T) {
	s := newStore(t)
	layer := mustLayer(t, file{name: "big", body: strings.Repeat("switchyard ", 1<<16)})
	release := make(chan struct{})
	img, err := mutate.AppendLayers(mustImage(t), stallingLayer{Layer: layer, release: release})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := s.Write(ctx, "stalls", img, WriteOptions{})
		errc <- err
	}()
	cancel()
	close(release)
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("Write = %v, want context.Canceled", err)
	}
	d, _ := layer.Digest()
	if _, err := s.BlobPath(d.String()); !errors.Is(err, runtime.ErrNotFound) {
		t.Fatalf("a half-written blob was committed (%v)", err)
	}
	// The retry (the stall is over) writes everything.
	if _, err := s.Write(context.Background(), "stalls", img, WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.BlobPath(d.String()); err != nil {
		t.Fatal(err)
	}
}

func TestConcurrentWritesShareLayers(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, WithJobs(2))
	base := mustLayer(t, file{name: "base", body: strings.Repeat("b", 1<<20)})
	const n = 8
	imgs := make([]v1.Image, n)
	for i := range imgs {
		top, err := random.Layer(4096, "application/vnd.oci.image.layer.v1.tar+gzip")
		if err != nil {
			t.Fatal(err)
		}
		imgs[i] = mustImage(t, base, top)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	for i := range 2 * n {
		wg.Go(func() {
			_, err := s.Write(ctx, fmt.Sprintf("example.com/app%d:v1", i%n), imgs[i%n], WriteOptions{})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	list, err := s.List(ctx)
	if err != nil || len(list) != n {
		t.Fatalf("List: %d images, %v; want %d", len(list), err, n)
	}
	// base + n tops + n configs + n manifests, each stored once.
	if got := entries(t, filepath.Join(s.Root(), "blobs", "sha256")); len(got) != 1+3*n {
		t.Errorf("%d blobs, want %d", len(got), 1+3*n)
	}
	if left := entries(t, filepath.Join(s.Root(), "ingest")); len(left) != 0 {
		t.Errorf("ingest holds %v", left)
	}
}

func TestTagRemovePrune(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	shared := mustLayer(t, file{name: "shared", body: strings.Repeat("s", 10000)})
	own := mustLayer(t, file{name: "own", body: strings.Repeat("o", 20000)})
	a := mustWrite(t, s, "example.com/a:1", mustImage(t, shared, own))
	b := mustWrite(t, s, "example.com/b:1", mustImage(t, shared))

	if err := s.Tag(ctx, "example.com/missing:1", "x"); !errors.Is(err, runtime.ErrNotFound) {
		t.Errorf("Tag(missing) = %v, want ErrNotFound", err)
	}
	if err := s.Tag(ctx, "example.com/a:1", "a-alias"); err != nil {
		t.Fatal(err)
	}
	if g, err := s.Get(ctx, "index.docker.io/library/a-alias:latest"); err != nil || g.Digest != a.Digest {
		t.Fatalf("tagged image: %+v, %v", g, err)
	}
	if _, err := s.Acquire(ctx, "web-rep-0", "example.com/a:1", nil); err != nil {
		t.Fatal(err)
	}
	// With a second tag left, untagging is harmless even while in use.
	if err := s.Remove(ctx, "a-alias", false); err != nil {
		t.Fatalf("Remove(alias) = %v", err)
	}
	err := s.Remove(ctx, "example.com/a:1", false)
	if !errors.Is(err, runtime.ErrFailedPrecondition) || !strings.Contains(err.Error(), "web-rep-0") {
		t.Fatalf("Remove(in use) = %v, want ErrFailedPrecondition naming web-rep-0", err)
	}
	if err := s.Remove(ctx, "example.com/a:1", true); err != nil {
		t.Fatalf("Remove(force) = %v", err)
	}
	if _, err := s.Get(ctx, "example.com/a:1"); !errors.Is(err, runtime.ErrNotFound) {
		t.Errorf("Get after remove = %v", err)
	}
	// Still used: prune keeps it.
	res, err := s.Prune(ctx)
	if err != nil || len(res.Deleted) != 0 {
		t.Fatalf("Prune while in use = %+v, %v; want nothing deleted", res, err)
	}
	if err := s.Release(ctx, "web-rep-0"); err != nil {
		t.Fatal(err)
	}
	ownDigest := a.Layers[1].Digest
	var want uint64
	for _, d := range []string{a.Digest, a.ConfigDigest, ownDigest} {
		fi, err := os.Stat(s.blobPath(d))
		if err != nil {
			t.Fatal(err)
		}
		want += uint64(fi.Size())
	}
	res, err = s.Prune(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(res.Deleted, a.Digest) || !slices.Contains(res.Deleted, ownDigest) {
		t.Errorf("Deleted %v: want %s and %s", res.Deleted, a.Digest, ownDigest)
	}
	if res.SpaceReclaimed != want {
		t.Errorf("SpaceReclaimed %d, want %d", res.SpaceReclaimed, want)
	}
	if _, err := s.BlobPath(b.Layers[0].Digest); err != nil {
		t.Errorf("shared layer reclaimed: %v", err)
	}
	// Removing the last image with no user reclaims at once.
	if err := s.Remove(ctx, "example.com/b:1", false); err != nil {
		t.Fatal(err)
	}
	if left := entries(t, filepath.Join(s.Root(), "blobs", "sha256")); len(left) != 0 {
		t.Errorf("blobs left after removing every image: %v", left)
	}
}
