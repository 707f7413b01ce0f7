package archive

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
	"golang.org/x/sys/unix"

	"github.com/switchyard/switchyard/internal/testutil"
	"github.com/switchyard/switchyard/runtime"
)

// entry is one tar entry of a hand-made archive.
type entry struct {
	name, link string
	typ        byte
	mode       int64
	body       string
	uid, gid   int
	mtime      time.Time
	major      int64
}

func mustTar(t testing.TB, entries ...entry) []byte {
	t.Helper()
	out := make([]testutil.TarEntry, len(entries))
	for i, e := range entries {
		out[i] = testutil.TarEntry{Name: e.name, Body: e.body, Link: e.link, Type: e.typ, Mode: e.mode,
			UID: e.uid, GID: e.gid, ModTime: e.mtime, Devmajor: e.major}
	}
	return testutil.Tar(t, out...)
}

// sandbox returns a parent directory holding the extraction target and an
// "outside" directory with one file, plus a listing function of everything
// under parent except the target.
func sandbox(t testing.TB) (parent, target string) {
	t.Helper()
	parent = t.TempDir()
	target = filepath.Join(parent, "target")
	if err := os.Mkdir(target, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(parent, "outside"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(parent, "outside", "victim"), []byte("original"), 0o644); err != nil {
		t.Fatal(err)
	}
	return parent, target
}

// outsideState describes everything under parent but the target: names,
// modes, sizes, contents of files.
func outsideState(t testing.TB, parent string) string {
	t.Helper()
	var lines []string
	err := filepath.WalkDir(parent, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(parent, p)
		if rel == "target" {
			return filepath.SkipDir
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		line := rel + " " + fi.Mode().String()
		if fi.Mode().IsRegular() {
			b, _ := os.ReadFile(p)
			line += " " + string(b)
		}
		lines = append(lines, line)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

func TestExtractRefusesEscapes(t *testing.T) {
	for _, tc := range []struct {
		name    string
		entries func(outside string) []entry
		wantErr bool
	}{
		{"dot-dot path", func(string) []entry {
			return []entry{{name: "../outside/victim", body: "pwned"}}
		}, true},
		{"dot-dot in the middle", func(string) []entry {
			return []entry{{name: "a/../../outside/victim", body: "pwned"}}
		}, true},
		{"symlink parent to an absolute outside dir", func(outside string) []entry {
			return []entry{{name: "link", typ: tar.TypeSymlink, link: outside}, {name: "link/victim", body: "pwned"}}
		}, true},
		{"symlink parent to a relative outside dir", func(string) []entry {
			return []entry{{name: "link", typ: tar.TypeSymlink, link: "../outside"}, {name: "link/victim", body: "pwned"}}
		}, true},
		{"nested symlink parents", func(string) []entry {
			return []entry{
				{name: "a", typ: tar.TypeDir, mode: 0o755},
				{name: "a/up", typ: tar.TypeSymlink, link: ".."},
				{name: "a/up2", typ: tar.TypeSymlink, link: "up/.."},
				{name: "a/up2/outside/victim", body: "pwned"},
			}
		}, true},
		{"hardlink to an outside file by dot-dot", func(string) []entry {
			return []entry{{name: "hl", typ: tar.TypeLink, link: "../outside/victim"}}
		}, true},
		{"hardlink through a symlink leading out", func(outside string) []entry {
			return []entry{{name: "link", typ: tar.TypeSymlink, link: outside}, {name: "hl", typ: tar.TypeLink, link: "link/victim"}}
		}, true},
		{"hardlink to an absolute path stays inside", func(string) []entry {
			// "/outside/victim" means target/outside/victim, which does not exist.
			return []entry{{name: "hl", typ: tar.TypeLink, link: "/outside/victim"}}
		}, true},
		{"absolute path lands inside", func(string) []entry {
			return []entry{{name: "/outside/victim", body: "inside"}}
		}, false},
		{"symlink to outside is kept but not followed", func(outside string) []entry {
			return []entry{
				{name: "victim", typ: tar.TypeSymlink, link: filepath.Join(outside, "victim")},
				{name: "victim", body: "replaces the link"},
			}
		}, false},
		{"symlink replaced by a dir of the same name", func(outside string) []entry {
			return []entry{
				{name: "d", typ: tar.TypeSymlink, link: outside},
				{name: "d", typ: tar.TypeDir, mode: 0o755},
				{name: "d/victim", body: "inside"},
			}
		}, false},
		{"whiteout of a dot-dot", func(string) []entry {
			return []entry{{name: ".wh..."}}
		}, true},
		{"whiteout through a symlink parent", func(outside string) []entry {
			return []entry{{name: "link", typ: tar.TypeSymlink, link: outside}, {name: "link/.wh.victim"}}
		}, true},
		{"opaque marker through a symlink parent", func(outside string) []entry {
			return []entry{{name: "link", typ: tar.TypeSymlink, link: outside}, {name: "link/.wh..wh..opq"}}
		}, true},
		{"device node is skipped", func(string) []entry {
			return []entry{{name: "sda", typ: tar.TypeBlock, major: 8, mode: 0o666}}
		}, false},
	} {
		for _, overlay := range []bool{false, true} {
			name := tc.name
			if overlay {
				name += " (overlay whiteouts)"
			}
			t.Run(name, func(t *testing.T) {
				parent, target := sandbox(t)
				before := outsideState(t, parent)
				data := mustTar(t, tc.entries(filepath.Join(parent, "outside"))...)
				opts := []Option{}
				if overlay {
					opts = append(opts, WithOverlayWhiteouts())
				}
				_, err := Extract(context.Background(), bytes.NewReader(data), target, opts...)
				t.Logf("extract: %v", err)
				if tc.wantErr {
					if err == nil {
						t.Fatal("extract succeeded, want an error")
					}
					if !errors.Is(err, runtime.ErrInvalidArgument) && !errors.Is(err, fs.ErrNotExist) {
						t.Errorf("error %v: want ErrInvalidArgument or not-exist", err)
					}
				} else if err != nil {
					t.Fatalf("extract: %v", err)
				}
				if after := outsideState(t, parent); after != before {
					t.Fatalf("outside changed:\nbefore:\n%s\nafter:\n%s", before, after)
				}
			})
		}
	}
}

func TestExtractMetadata(t *testing.T) {
	mtime := time.Unix(1600000000, 0)
	data := mustTar(t,
		entry{name: "./bin/", typ: tar.TypeDir, mode: 0o750, mtime: mtime, uid: 7, gid: 8},
		entry{name: "./bin/su", body: "x", mode: 0o4755, uid: 0, gid: 0, mtime: mtime},
		entry{name: "./bin/sg", body: "x", mode: 0o2711, uid: 1000, gid: 1001, mtime: mtime},
		entry{name: "./tmp/", typ: tar.TypeDir, mode: 0o1777},
		entry{name: "./bin/link", typ: tar.TypeSymlink, link: "su", uid: 5, gid: 6},
		entry{name: "./bin/hard", typ: tar.TypeLink, link: "./bin/su"},
		entry{name: "./fifo", typ: tar.TypeFifo, mode: 0o600},
	)
	_, target := sandbox(t)
	res, err := Extract(context.Background(), bytes.NewReader(data), target)
	if err != nil {
		t.Fatal(err)
	}
	if res.Size != int64(len(data)) {
		t.Errorf("size %d, want %d", res.Size, len(data))
	}
	for _, tc := range []struct {
		name     string
		mode     fs.FileMode
		uid, gid uint32
		mtime    time.Time
	}{
		{"bin", fs.ModeDir | 0o750, 7, 8, mtime},
		{"bin/su", fs.ModeSetuid | 0o755, 0, 0, mtime},
		{"bin/sg", fs.ModeSetgid | 0o711, 1000, 1001, mtime},
		{"tmp", fs.ModeDir | fs.ModeSticky | 0o777, 0, 0, time.Time{}},
		{"bin/link", fs.ModeSymlink | 0o777, 5, 6, time.Time{}},
		{"fifo", fs.ModeNamedPipe | 0o600, 0, 0, time.Time{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fi, err := os.Lstat(filepath.Join(target, tc.name))
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode() != tc.mode {
				t.Errorf("mode %v, want %v", fi.Mode(), tc.mode)
			}
			st := fi.Sys().(*syscall.Stat_t)
			if st.Uid != tc.uid || st.Gid != tc.gid {
				t.Errorf("owner %d:%d, want %d:%d", st.Uid, st.Gid, tc.uid, tc.gid)
			}
			if !tc.mtime.IsZero() && !fi.ModTime().Equal(tc.mtime) {
				t.Errorf("mtime %v, want %v", fi.ModTime(), tc.mtime)
			}
		})
	}
	a, _ := os.Stat(filepath.Join(target, "bin/su"))
	b, _ := os.Stat(filepath.Join(target, "bin/hard"))
	if !os.SameFile(a, b) {
		t.Error("bin/hard is not a hard link of bin/su")
	}
}

func TestExtractCompression(t *testing.T) {
	plain := mustTar(t, entry{name: "hello", body: "world"})
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(plain)
	zw.Close()
	var zs bytes.Buffer
	enc, err := zstd.NewWriter(&zs)
	if err != nil {
		t.Fatal(err)
	}
	enc.Write(plain)
	enc.Close()
	for _, tc := range []struct {
		name      string
		data      []byte
		mediaType string
		want      Compression
		wantErr   bool
	}{
		{"plain", plain, "application/vnd.oci.image.layer.v1.tar", None, false},
		{"gzip", gz.Bytes(), "application/vnd.oci.image.layer.v1.tar+gzip", Gzip, false},
		{"gzip by magic only", gz.Bytes(), "", Gzip, false},
		{"zstd", zs.Bytes(), "application/vnd.oci.image.layer.v1.tar+zstd", Zstd, false},
		{"docker gzip media type", gz.Bytes(), "application/vnd.docker.image.rootfs.diff.tar.gzip", Gzip, false},
		{"media type says gzip, content is plain", plain, "application/vnd.oci.image.layer.v1.tar+gzip", None, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, target := sandbox(t)
			res, err := Extract(context.Background(), bytes.NewReader(tc.data), target, WithMediaType(tc.mediaType))
			if tc.wantErr {
				if !errors.Is(err, runtime.ErrInvalidArgument) {
					t.Fatalf("error %v, want ErrInvalidArgument", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if res.Compression != tc.want {
				t.Errorf("compression %s, want %s", res.Compression, tc.want)
			}
			if b, err := os.ReadFile(filepath.Join(target, "hello")); err != nil || string(b) != "world" {
				t.Errorf("hello = %q, %v", b, err)
			}
		})
	}
}

func TestExtractSizeBound(t *testing.T) {
	data := mustTar(t, entry{name: "big", body: strings.Repeat("x", 64<<10)})
	_, target := sandbox(t)
	_, err := Extract(context.Background(), bytes.NewReader(data), target, WithMaxSize(16<<10))
	if !errors.Is(err, runtime.ErrInvalidArgument) || !strings.Contains(err.Error(), "more than 16384 bytes") {
		t.Fatalf("error %v, want a size-bound error", err)
	}
}

func TestExtractWhiteouts(t *testing.T) {
	layer := mustTar(t,
		entry{name: "etc/", typ: tar.TypeDir, mode: 0o755},
		entry{name: "etc/.wh.passwd"},
		entry{name: "opq/", typ: tar.TypeDir, mode: 0o755},
		entry{name: "opq/.wh..wh..opq"},
		entry{name: "opq/new", body: "new"},
	)
	t.Run("applied", func(t *testing.T) {
		_, target := sandbox(t)
		for _, p := range []string{"etc/passwd", "opq/old"} {
			os.MkdirAll(filepath.Join(target, filepath.Dir(p)), 0o755)
			os.WriteFile(filepath.Join(target, p), []byte("lower"), 0o644)
		}
		if _, err := Extract(context.Background(), bytes.NewReader(layer), target); err != nil {
			t.Fatal(err)
		}
		for _, gone := range []string{"etc/passwd", "opq/old", "etc/.wh.passwd", "opq/.wh..wh..opq"} {
			if _, err := os.Lstat(filepath.Join(target, gone)); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("%s still there (%v)", gone, err)
			}
		}
		if _, err := os.Stat(filepath.Join(target, "opq/new")); err != nil {
			t.Error(err)
		}
	})
	t.Run("overlay form", func(t *testing.T) {
		_, target := sandbox(t)
		if _, err := Extract(context.Background(), bytes.NewReader(layer), target, WithOverlayWhiteouts()); err != nil {
			t.Fatal(err)
		}
		fi, err := os.Lstat(filepath.Join(target, "etc/passwd"))
		if err != nil {
			t.Fatal(err)
		}
		st := fi.Sys().(*syscall.Stat_t)
		if fi.Mode()&fs.ModeCharDevice == 0 || st.Rdev != 0 {
			t.Errorf("etc/passwd: mode %v rdev %d, want a 0/0 character device", fi.Mode(), st.Rdev)
		}
		buf := make([]byte, 8)
		n, err := unix.Lgetxattr(filepath.Join(target, "opq"), "trusted.overlay.opaque", buf)
		if err != nil || string(buf[:n]) != "y" {
			t.Errorf("opq opaque xattr = %q, %v", buf[:n], err)
		}
	})
}

func TestExtractCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, target := sandbox(t)
	if _, err := Extract(ctx, bytes.NewReader(mustTar(t, entry{name: "a"})), target); !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
}
