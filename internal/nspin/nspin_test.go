package nspin

import (
	"os"
	"path/filepath"
	goruntime "runtime"
	"testing"

	"golang.org/x/sys/unix"
)

// A pinned UTS namespace keeps the hostname its setup gave it, and the
// caller's own is untouched; releasing it leaves nothing behind.
func TestPinUTS(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	before, _ := os.Hostname()
	path := filepath.Join(t.TempDir(), "uts")
	if err := Pin(path, unix.CLONE_NEWUTS, func() error { return unix.Sethostname([]byte("pinned-pod")) }); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = Release(path) })
	if !IsPinned(path) {
		t.Fatal("the namespace is not pinned")
	}
	if after, _ := os.Hostname(); after != before {
		t.Fatalf("the caller's hostname changed: %q -> %q", before, after)
	}
	got := make(chan string, 1)
	go func() {
		// A locked thread that joins the namespace and ends with its
		// goroutine, never returning to the pool.
		goruntime.LockOSThread()
		fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil || unix.Setns(fd, unix.CLONE_NEWUTS) != nil {
			got <- "setns failed"
			return
		}
		var u unix.Utsname
		_ = unix.Uname(&u)
		got <- unix.ByteSliceToString(u.Nodename[:])
	}()
	if h := <-got; h != "pinned-pod" {
		t.Fatalf("hostname in the pinned namespace = %q, want pinned-pod", h)
	}
	if err := Release(path); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("the pin's file stays: %v", err)
	}
	if err := Release(path); err != nil {
		t.Fatalf("a second release: %v", err)
	}
}

// A kind Pin does not make, and a path that exists, are refused.
func TestPinRefuses(t *testing.T) {
	dir := t.TempDir()
	if err := Pin(filepath.Join(dir, "x"), unix.CLONE_NEWNS, nil); err == nil {
		t.Fatal("a mount namespace was pinned")
	}
	f := filepath.Join(dir, "taken")
	os.WriteFile(f, nil, 0o600)
	if err := Pin(f, unix.CLONE_NEWIPC, nil); err == nil {
		t.Fatal("an existing file was pinned over")
	}
}
