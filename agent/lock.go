package agent

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/switchyard/switchyard/runtime"
)

// lockName is the lock file under the root; it holds the owner's pid.
const lockName = "agent.lock"

// RootLock is an exclusive flock on <root>/agent.lock. The kernel drops the
// lock when the process dies, so a crashed agent never leaves a stale lock.
type RootLock struct {
	f    *os.File
	once sync.Once
	err  error // of the one Close, set in once
}

// LockRoot takes the root's lock without waiting. When another process
// holds it, the error names that process and wraps
// runtime.ErrFailedPrecondition. The daemon takes it before it opens
// anything else under the root (the image store), so that a second daemon
// fails with this message rather than on some inner file; it hands the lock
// to New with WithRootLock.
func LockRoot(root string) (*RootLock, error) {
	if err := os.MkdirAll(root, 0o711); err != nil {
		return nil, fmt.Errorf("root %s: %w", root, err)
	}
	path := filepath.Join(root, lockName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("root %s: open lock: %w", root, err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		_ = f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, fmt.Errorf("another switchyard daemon (pid %s) is using root %s; stop it first or pass a different --root: %w",
				lockOwner(path), root, runtime.ErrFailedPrecondition)
		}
		return nil, fmt.Errorf("root %s: lock %s: %w", root, path, err)
	}
	// The pid is informational (for the message above); the flock is the lock.
	if err := f.Truncate(0); err == nil {
		_, err = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
		if err != nil {
			_ = f.Close()
			return nil, fmt.Errorf("root %s: write pid to %s: %w", root, path, err)
		}
	}
	return &RootLock{f: f}, nil
}

// lockOwner reads the pid the lock holder wrote, or "unknown".
func lockOwner(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "unknown"
	}
	pid := strings.TrimSpace(string(b))
	if _, err := strconv.Atoi(pid); err != nil {
		return "unknown"
	}
	return pid
}

// Release drops the lock. The pid is left in the file: it is only read while
// the lock is held by someone. An Agent releases the lock it was given when
// it closes.
//
// Release is idempotent: whoever holds the lock last may release it again.
func (l *RootLock) Release() error {
	l.once.Do(func() { l.err = l.f.Close() })
	return l.err
}
