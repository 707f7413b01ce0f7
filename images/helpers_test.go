package images

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/switchyard/switchyard/internal/testutil"
)

// file is one entry of a test layer.
type file struct {
	name, body, link string
	typ              byte
	mode             int64
}

func mustLayer(t testing.TB, files ...file) v1.Layer {
	t.Helper()
	entries := make([]testutil.TarEntry, len(files))
	for i, f := range files {
		entries[i] = testutil.TarEntry{Name: f.name, Body: f.body, Link: f.link, Type: f.typ, Mode: f.mode}
	}
	data := testutil.Tar(t, entries...)
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(data)), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func mustImage(t testing.TB, layers ...v1.Layer) v1.Image {
	t.Helper()
	img, err := mutate.AppendLayers(empty.Image, layers...)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", "amd64"
	cf.Created = v1.Time{Time: time.Unix(1700000000, 0).UTC()}
	cf.Config.Cmd = []string{"/bin/sh"}
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// mustBusybox is an image with the host's static busybox as /bin/busybox
// and /bin/sh.
func mustBusybox(t testing.TB) v1.Image {
	t.Helper()
	bb, err := os.ReadFile("/bin/busybox")
	if err != nil {
		t.Skipf("busybox-static is not installed: %v", err)
	}
	return mustImage(t, mustLayer(t,
		file{name: "bin/", typ: tar.TypeDir},
		file{name: "bin/busybox", body: string(bb), mode: 0o755},
		file{name: "bin/sh", typ: tar.TypeSymlink, link: "busybox"},
		file{name: "etc/", typ: tar.TypeDir},
		file{name: "etc/passwd", body: "root:x:0:0:root:/root:/bin/sh\n"},
	))
}

func newStore(t testing.TB, opts ...Option) *Store {
	t.Helper()
	s, err := Open(t.TempDir(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func mustWrite(t testing.TB, s *Store, ref string, img v1.Image) Image {
	t.Helper()
	out, err := s.Write(context.Background(), ref, img, WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// entries lists the names in dir.
func entries(t testing.TB, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

// mustMount mounts rfs at a new directory and unmounts it at cleanup.
func mustMount(t testing.TB, rfs Rootfs) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("overlay mounts need root")
	}
	target := filepath.Join(t.TempDir(), "rootfs")
	if err := os.Mkdir(target, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := rfs.Mount(target); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := Unmount(target); err != nil {
			t.Error(err)
		}
	})
	return target
}

// mustTarFiles is a tar of regular files.
func mustTarFiles(t testing.TB, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for name, body := range files {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		io.WriteString(tw, body)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
