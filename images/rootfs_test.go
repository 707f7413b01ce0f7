package images

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/switchyard/switchyard/runtime"
)

// whiteoutImage has a base layer, a layer that deletes a file and makes a
// directory opaque, and a top layer that adds a file.
func whiteoutImage(t testing.TB) v1.Image {
	return mustImage(t,
		mustLayer(t,
			file{name: "etc/", typ: tar.TypeDir},
			file{name: "etc/passwd", body: "root"},
			file{name: "etc/hostname", body: "base"},
			file{name: "opq/", typ: tar.TypeDir},
			file{name: "opq/old1", body: "1"},
			file{name: "opq/sub/", typ: tar.TypeDir},
			file{name: "opq/sub/old2", body: "2"},
		),
		mustLayer(t,
			file{name: "etc/", typ: tar.TypeDir},
			file{name: "etc/.wh.passwd"},
			file{name: "opq/", typ: tar.TypeDir},
			file{name: "opq/.wh..wh..opq"},
			file{name: "opq/new", body: "new"},
		),
		mustLayer(t, file{name: "top", body: "top"}),
	)
}

func TestRootfsOverlayHonoursWhiteouts(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	mustWrite(t, s, "example.com/wh:1", whiteoutImage(t))
	rfs, img, err := s.PrepareRootfs(ctx, "web-rep-0", "example.com/wh:1", nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(rfs.Lowerdirs) != 3 || !strings.Contains(rfs.Lowerdirs[0], snapshotKey(img.Layers[2])) {
		t.Fatalf("lowerdirs %v: want 3, top layer first", rfs.Lowerdirs)
	}
	target := mustMount(t, rfs)
	for _, tc := range []struct {
		name, path, want string // want "" = absent
	}{
		{"whiteout deletes a lower file", "etc/passwd", ""},
		{"siblings stay", "etc/hostname", "base"},
		{"opaque dir hides lower entries", "opq/old1", ""},
		{"opaque dir hides lower subdirs", "opq/sub", ""},
		{"opaque dir keeps its own layer", "opq/new", "new"},
		{"top layer", "top", "top"},
		{"no whiteout files leak", "etc/.wh.passwd", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join(target, tc.path))
			if tc.want == "" {
				if !errors.Is(err, os.ErrNotExist) {
					t.Errorf("%s: present (%q, %v), want absent", tc.path, b, err)
				}
				return
			}
			if err != nil || string(b) != tc.want {
				t.Errorf("%s = %q, %v; want %q", tc.path, b, err, tc.want)
			}
		})
	}
	// Writes land in the container's upper dir, never in a snapshot.
	if err := os.WriteFile(filepath.Join(target, "etc/hostname"), []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(rfs.Upperdir, "etc/hostname")); string(b) != "mine" {
		t.Errorf("upper has %q, want mine", b)
	}
	if b, _ := os.ReadFile(filepath.Join(rfs.Lowerdirs[2], "etc/hostname")); string(b) != "base" {
		t.Errorf("snapshot changed to %q", b)
	}

	// The second container shares every snapshot: nothing is unpacked again.
	snaps := entries(t, filepath.Join(s.Root(), "snapshots"))
	rfs2, _, err := s.PrepareRootfs(ctx, "web-rep-1", "example.com/wh:1", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rfs2.Lowerdirs, rfs.Lowerdirs) || rfs2.Upperdir == rfs.Upperdir {
		t.Errorf("second rootfs %+v vs first %+v", rfs2, rfs)
	}
	if got := entries(t, filepath.Join(s.Root(), "snapshots")); !slices.Equal(got, snaps) {
		t.Errorf("snapshots %v after the second container, want %v", got, snaps)
	}
	target2 := mustMount(t, rfs2)
	if b, _ := os.ReadFile(filepath.Join(target2, "etc/hostname")); string(b) != "base" {
		t.Errorf("second container sees %q: writes leak between containers", b)
	}

	if _, _, err := s.PrepareRootfs(ctx, "web-rep-0", "example.com/wh:1", nil); !errors.Is(err, runtime.ErrAlreadyExists) {
		t.Errorf("second PrepareRootfs for one key = %v, want ErrAlreadyExists", err)
	}
	if err := s.Remove(ctx, "example.com/wh:1", false); !errors.Is(err, runtime.ErrFailedPrecondition) {
		t.Errorf("Remove while containers use it = %v, want ErrFailedPrecondition", err)
	}
}

func TestReleaseRootfs(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	mustWrite(t, s, "example.com/wh:1", whiteoutImage(t))
	if _, _, err := s.PrepareRootfs(ctx, "job-rep-0", "example.com/wh:1", nil); err != nil {
		t.Fatal(err)
	}
	if err := s.ReleaseRootfs(ctx, "job-rep-0"); err != nil {
		t.Fatal(err)
	}
	if got := entries(t, filepath.Join(s.Root(), "containers")); len(got) != 0 {
		t.Errorf("containers/ holds %v after release", got)
	}
	if err := s.ReleaseRootfs(ctx, "job-rep-0"); err != nil {
		t.Errorf("second release = %v, want nil", err)
	}
	// No container left: the image goes, and with it blobs and snapshots.
	if err := s.Remove(ctx, "example.com/wh:1", false); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"snapshots", "blobs/sha256"} {
		if got := entries(t, filepath.Join(s.Root(), d)); len(got) != 0 {
			t.Errorf("%s holds %v", d, got)
		}
	}
	for _, key := range []string{"", "..", "a/b"} {
		if _, _, err := s.PrepareRootfs(ctx, key, "x", nil); !errors.Is(err, runtime.ErrInvalidArgument) {
			t.Errorf("PrepareRootfs(%q) = %v, want ErrInvalidArgument", key, err)
		}
	}
}

func TestPrepareRootfsConcurrent(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	img := mustWrite(t, s, "example.com/wh:1", whiteoutImage(t))
	const n = 8
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			_, _, err := s.PrepareRootfs(ctx, fmt.Sprintf("c-%d", i), "example.com/wh:1", nil)
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
	if got := entries(t, filepath.Join(s.Root(), "snapshots")); len(got) != len(img.Layers) {
		t.Errorf("snapshots %v, want one per layer (%d)", got, len(img.Layers))
	}
}

func TestUnpackBoundRemovesPartialSnapshot(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, WithMaxUnpackedSize(32<<10))
	mustWrite(t, s, "example.com/big:1", mustImage(t, mustLayer(t, file{name: "big", body: strings.Repeat("x", 1<<20)})))
	_, _, err := s.PrepareRootfs(ctx, "c", "example.com/big:1", nil)
	if !errors.Is(err, runtime.ErrInvalidArgument) || !strings.Contains(err.Error(), "more than") {
		t.Fatalf("PrepareRootfs = %v, want a size-bound error", err)
	}
	for _, d := range []string{"snapshots", "containers"} {
		if got := entries(t, filepath.Join(s.Root(), d)); len(got) != 0 {
			t.Errorf("%s holds %v after a failed unpack", d, got)
		}
	}
	if err := s.Remove(ctx, "example.com/big:1", false); err != nil {
		t.Errorf("the failed container still holds the image: %v", err)
	}
}

func TestMountManyLayers(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	var layers []v1.Layer
	const n = 80 // 80 lowerdirs of ~100 bytes: past mount(2)'s page of options
	for i := range n {
		layers = append(layers, mustLayer(t, file{name: fmt.Sprintf("f%02d", i), body: fmt.Sprint(i)}))
	}
	mustWrite(t, s, "example.com/tall:1", mustImage(t, layers...))
	rfs, _, err := s.PrepareRootfs(ctx, "tall", "example.com/tall:1", nil)
	if err != nil {
		t.Fatal(err)
	}
	if l := len(strings.Join(rfs.Lowerdirs, ":")); l < legacyMountLimit {
		t.Fatalf("lowerdir option is %d bytes; the test needs more than %d", l, legacyMountLimit)
	}
	target := mustMount(t, rfs)
	for _, f := range []string{"f00", fmt.Sprintf("f%02d", n-1)} {
		if _, err := os.Stat(filepath.Join(target, f)); err != nil {
			t.Error(err)
		}
	}
}

func TestRootfsOfBusybox(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	mustWrite(t, s, "busybox", mustBusybox(t))
	rfs, _, err := s.PrepareRootfs(ctx, "bb", "busybox", nil)
	if err != nil {
		t.Fatal(err)
	}
	target := mustMount(t, rfs)
	fi, err := os.Stat(filepath.Join(target, "bin/sh"))
	if err != nil || fi.Mode()&0o111 == 0 {
		t.Fatalf("bin/sh: %v, %v", fi, err)
	}
}
