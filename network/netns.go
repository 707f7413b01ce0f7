package network

import (
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/switchyard/switchyard/internal/nspin"
)

// NewNamespace makes a network namespace and pins it at path (a bind mount
// of the namespace on an empty file), with its loopback interface up. The
// namespace lives until RemoveNamespace, whatever becomes of the process
// that made it.
func NewNamespace(path string) error {
	return nspin.Pin(path, unix.CLONE_NEWNET, loopbackUp)
}

// loopbackUp brings lo up in the calling thread's network namespace.
func loopbackUp() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("loopback: %w", err)
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return fmt.Errorf("loopback: %w", err)
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return fmt.Errorf("loopback: %w", err)
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		return fmt.Errorf("loopback: %w", err)
	}
	return nil
}

// IsNamespace reports whether path is a pinned network namespace (and not,
// say, the bare file a pin leaves after a reboot).
func IsNamespace(path string) bool { return nspin.IsPinned(path) }

// RemoveNamespace unpins the namespace at path and removes the file; the
// namespace goes once no process is in it. A path that is not there is
// removed already.
func RemoveNamespace(path string) error { return nspin.Release(path) }
