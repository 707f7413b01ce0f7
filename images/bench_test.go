package images

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// diskUsage is what du reports for dir: allocated blocks, in bytes.
func diskUsage(t testing.TB, dir string) int64 {
	t.Helper()
	var n int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		n += fi.Sys().(*syscall.Stat_t).Blocks * 512
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestFigureHundredRootfs measures creating 100 root filesystems from one
// image (PrepareRootfs, Mount, Unmount) and the disk they use beyond the
// image. Set SWITCHYARD_BENCH=1 to run it.
func TestFigureHundredRootfs(t *testing.T) {
	if os.Getenv("SWITCHYARD_BENCH") != "1" {
		t.Skip("set SWITCHYARD_BENCH=1 to measure")
	}
	ctx := context.Background()
	s := newStore(t)
	mustWrite(t, s, "busybox", mustBusybox(t))
	dir := t.TempDir()
	const n = 100
	start := time.Now()
	var first time.Duration
	for i := range n {
		rfs, _, err := s.PrepareRootfs(ctx, fmt.Sprintf("c-%d", i), "busybox", nil)
		if err != nil {
			t.Fatal(err)
		}
		target := filepath.Join(dir, fmt.Sprint(i))
		if err := os.Mkdir(target, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := rfs.Mount(target); err != nil {
			t.Fatal(err)
		}
		if err := Unmount(target); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = time.Since(start)
		}
	}
	total := time.Since(start)
	snaps := diskUsage(t, filepath.Join(s.Root(), "snapshots"))
	ctrs := diskUsage(t, filepath.Join(s.Root(), "containers"))
	t.Logf("%d rootfs: total %v, first (unpacks the layer) %v, each after %v", n, total.Round(time.Millisecond), first.Round(time.Microsecond), ((total - first) / (n - 1)).Round(time.Microsecond))
	t.Logf("disk: snapshots %d KiB (the image, unpacked once); containers %d KiB for %d containers (%d bytes each)", snaps/1024, ctrs/1024, n, ctrs/n)
	for i := range n {
		if err := s.ReleaseRootfs(ctx, fmt.Sprintf("c-%d", i)); err != nil {
			t.Fatal(err)
		}
	}
}

// BenchmarkPrepareMount is one container's root filesystem from an image
// whose layers are unpacked already.
func BenchmarkPrepareMount(b *testing.B) {
	if os.Geteuid() != 0 {
		b.Skip("overlay mounts need root")
	}
	ctx := context.Background()
	s := newStore(b)
	mustWrite(b, s, "busybox", mustBusybox(b))
	target := filepath.Join(b.TempDir(), "rootfs")
	if err := os.Mkdir(target, 0o755); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		key := fmt.Sprintf("c-%d", i)
		rfs, _, err := s.PrepareRootfs(ctx, key, "busybox", nil)
		if err != nil {
			b.Fatal(err)
		}
		if err := rfs.Mount(target); err != nil {
			b.Fatal(err)
		}
		if err := Unmount(target); err != nil {
			b.Fatal(err)
		}
		if err := s.ReleaseRootfs(ctx, key); err != nil {
			b.Fatal(err)
		}
	}
}
