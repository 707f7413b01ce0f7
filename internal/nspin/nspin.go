// Package nspin makes namespaces that outlive the processes in them, by
// bind-mounting a namespace's file (/proc/PID/task/TID/ns/KIND) on a
// file of the node's state: a container's network namespace (package
// network), a pod's IPC and UTS namespaces, which its containers join.
package nspin

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	goruntime "runtime"

	"golang.org/x/sys/unix"
)

// kindName is the name of the file under /proc/PID/task/TID/ns of the
// namespaces Pin makes.
func kindName(kind int) (string, bool) {
	switch kind {
	case unix.CLONE_NEWNET:
		return "net", true
	case unix.CLONE_NEWIPC:
		return "ipc", true
	case unix.CLONE_NEWUTS:
		return "uts", true
	}
	return "", false
}

// Pin makes a new namespace of kind (unix.CLONE_NEWNET, CLONE_NEWIPC or
// CLONE_NEWUTS), runs setup inside it (for a network namespace, bringing
// its loopback up; for a UTS one, setting its hostname) and pins it at
// path, which must not exist. The calling
// goroutine's thread moves there and back; a thread that cannot go back
// is not used again.
func Pin(path string, kind int, setup func() error) error {
	name, ok := kindName(kind)
	if !ok {
		return fmt.Errorf("namespace %s: kind %#x is not one Pin makes", path, kind)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("%s namespace %s: %w", name, path, err)
	}
	f, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE|os.O_EXCL, 0o444)
	if err != nil {
		return fmt.Errorf("%s namespace %s: %w", name, path, err)
	}
	f.Close()
	errc := make(chan error, 1)
	go func() {
		goruntime.LockOSThread()
		orig, err := unix.Open("/proc/thread-self/ns/"+name, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			errc <- fmt.Errorf("this thread's namespace: %w", err)
			return
		}
		defer unix.Close(orig)
		if err := unix.Unshare(kind); err != nil {
			errc <- fmt.Errorf("unshare: %w", err)
			return
		}
		if setup != nil {
			err = setup()
		}
		if err == nil {
			self := fmt.Sprintf("/proc/%d/task/%d/ns/%s", os.Getpid(), unix.Gettid(), name)
			if err = unix.Mount(self, path, "none", unix.MS_BIND, ""); err != nil {
				err = fmt.Errorf("pin: %w", err)
			}
		}
		if unix.Setns(orig, kind) == nil {
			goruntime.UnlockOSThread()
		}
		errc <- err
	}()
	if err := <-errc; err != nil {
		os.Remove(path)
		return fmt.Errorf("%s namespace %s: %w", name, path, err)
	}
	return nil
}

// Release unpins the namespace at path and removes the file; the
// namespace ends with its last process. A path that is not there, or not
// pinned, is fine.
func Release(path string) error {
	if err := unix.Unmount(path, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("namespace %s: unpin: %w", path, err)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("namespace %s: %w", path, err)
	}
	return nil
}

// IsPinned reports whether path holds a pinned namespace (a machine's
// restart takes every pin: the files stay, empty).
func IsPinned(path string) bool {
	var st unix.Statfs_t
	if unix.Statfs(path, &st) != nil {
		return false
	}
	return st.Type == unix.NSFS_MAGIC
}

// Enter moves the calling goroutine, locked to its thread, into the
// namespace of kind (unix.CLONE_NEWNET, say) pinned at path: the sockets
// it makes there are that namespace's. leave moves the thread back and
// unlocks it; a thread that cannot go back stays locked and ends with its
// goroutine, so that no other goroutine runs in that namespace.
func Enter(path string, kind int) (leave func(), err error) {
	name := "net"
	if kind != unix.CLONE_NEWNET {
		var ok bool
		if name, ok = kindName(kind); !ok {
			return nil, fmt.Errorf("namespace %s: kind %#x is not one Enter joins", path, kind)
		}
	}
	goruntime.LockOSThread()
	orig, err := unix.Open("/proc/thread-self/ns/"+name, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		goruntime.UnlockOSThread()
		return nil, fmt.Errorf("this thread's %s namespace: %w", name, err)
	}
	target, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		unix.Close(orig)
		goruntime.UnlockOSThread()
		return nil, fmt.Errorf("%s namespace %s: %w", name, path, err)
	}
	defer unix.Close(target)
	if err := unix.Setns(target, kind); err != nil {
		unix.Close(orig)
		goruntime.UnlockOSThread()
		return nil, fmt.Errorf("%s namespace %s: setns: %w", name, path, err)
	}
	return func() {
		if unix.Setns(orig, kind) == nil {
			goruntime.UnlockOSThread()
		}
		unix.Close(orig)
	}, nil
}

// Bind pins the namespace whose file is src (/proc/PID/ns/pid, say) at
// path, which must not exist: the namespace is then known by a path that
// cannot come to mean another one, as a pid can.
func Bind(src, path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("namespace %s: %w", path, err)
	}
	f, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE|os.O_EXCL, 0o444)
	if err != nil {
		return fmt.Errorf("namespace %s: %w", path, err)
	}
	f.Close()
	if err := unix.Mount(src, path, "none", unix.MS_BIND, ""); err != nil {
		os.Remove(path)
		return fmt.Errorf("namespace %s: pin %s: %w", path, src, err)
	}
	return nil
}

// Run calls fn on a goroutine of its own, locked to a thread in the
// namespace of kind pinned at path (Enter), and returns fn's error, or
// the one of entering. What fn makes there (a socket) stays that
// namespace's; the calling goroutine never moves.
func Run(path string, kind int, fn func() error) error {
	done := make(chan error, 1)
	go func() {
		leave, err := Enter(path, kind)
		if err != nil {
			done <- err
			return
		}
		defer leave()
		done <- fn()
	}()
	return <-done
}
