package server

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"syscall"

	"github.com/switchyard/switchyard/runtime"
)

// ListenUnix listens on a unix socket at path with the given mode (the
// daemon uses 0660), creating the parent directory. A socket file left by
// a daemon that died is replaced; a socket a live daemon answers on is
// refused with runtime.ErrAlreadyExists, so two daemons never share one
// socket. The socket file is removed when the listener is closed.
func ListenUnix(path string, mode fs.FileMode) (net.Listener, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("socket %s: %w", path, err)
	}
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode().Type() != fs.ModeSocket {
			return nil, fmt.Errorf("socket %s: the path exists and is not a socket; remove it or choose another path: %w", path, runtime.ErrAlreadyExists)
		}
		conn, err := net.Dial("unix", path)
		if err == nil {
			conn.Close()
			return nil, fmt.Errorf("socket %s: another daemon is listening on it; stop it or choose another socket: %w", path, runtime.ErrAlreadyExists)
		}
		if !errors.Is(err, syscall.ECONNREFUSED) {
			return nil, fmt.Errorf("socket %s: %w", path, err)
		}
		// Nobody answers: a stale socket from a daemon that died.
		if err := os.Remove(path); err != nil {
			return nil, fmt.Errorf("socket %s: removing the stale socket: %w", path, err)
		}
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("socket %s: %w", path, err)
	}
	if err := os.Chmod(path, mode); err != nil {
		ln.Close()
		return nil, fmt.Errorf("socket %s: %w", path, err)
	}
	return ln, nil
}
