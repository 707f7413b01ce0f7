package runc

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// An image's /etc/passwd is read inside its root: a link to a host file
// resolves in the image, and a FIFO is not read (it would block the agent).
func TestUserFilesStayInTheRoot(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	// The host's /etc/passwd names root; the image's link to it must not
	// reach it.
	if err := os.Symlink("/etc/passwd", filepath.Join(root, "etc", "passwd")); err != nil {
		t.Fatal(err)
	}
	if _, err := resolveUser(root, "root"); err == nil {
		t.Fatal("a link to /etc/passwd resolved on the host: root was found")
	}
	os.Remove(filepath.Join(root, "etc", "passwd"))
	if err := unix.Mkfifo(filepath.Join(root, "etc", "passwd"), 0o644); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { _, err := resolveUser(root, "root"); done <- err }()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("a FIFO was read as /etc/passwd")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("resolveUser blocked on a FIFO")
	}
}
