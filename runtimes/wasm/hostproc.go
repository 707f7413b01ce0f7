package wasm

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/switchyard/switchyard/runtime"
	"github.com/switchyard/switchyard/runtimes/wasm/host"
)

// Files of the host's start, in the root.
const (
	spawnLockName = "host.spawn.lock"
	hostLogName   = "host.log"
)

// hostStartTimeout bounds how long a new host may take to listen.
const hostStartTimeout = 15 * time.Second

// withHost calls the host with call and, if no host answers, starts one
// and calls again: the common case costs no extra round trip.
func (r *Runtime) withHost(ctx context.Context, call func() error) error {
	err := call()
	if !errors.Is(err, runtime.ErrUnavailable) {
		return err
	}
	if err := r.ensureHost(ctx); err != nil {
		return err
	}
	return call()
}

// ensureHost makes sure the root's host is running, starting it when it is
// not. Two runtimes (in one process or two) that both find no host start
// one between them: the start is serialised by a lock file, and a host
// refuses to run while another holds the root.
func (r *Runtime) ensureHost(ctx context.Context) error {
	if _, err := r.client.Info(ctx); err == nil || !errors.Is(err, runtime.ErrUnavailable) {
		return err
	}
	r.spawnMu.Lock()
	defer r.spawnMu.Unlock()
	f, err := os.OpenFile(filepath.Join(r.root, spawnLockName), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("wasm host: %w", err)
	}
	defer f.Close() // releases the lock
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
		return fmt.Errorf("wasm host: lock: %w", err)
	}
	if _, err := r.client.Info(ctx); err == nil {
		return nil // another runtime started it meanwhile
	}
	return r.spawnHost(ctx)
}

// spawnHost starts the host in its own session, so that it outlives this
// process and no terminal signal reaches it, and waits until it listens.
func (r *Runtime) spawnHost(ctx context.Context) error {
	logPath := filepath.Join(r.root, hostLogName)
	logf, err := os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("wasm host: %w", err)
	}
	defer logf.Close()
	logStart, _ := logf.Seek(0, 2)
	argv := append(append([]string(nil), r.opts.hostCmd...), "--root", r.root)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), r.opts.hostEnv...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	cmd.Dir = "/"
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("wasm host: start %s: %w", argv[0], err)
	}
	// Reap the host when it ends, if this process still lives then; the
	// goroutine ends with the host.
	exited := make(chan error, 1) // written once, when the host ends
	go func() { exited <- cmd.Wait() }()
	r.opts.log.Info("wasm host started", "pid", cmd.Process.Pid, "root", r.root)

	deadline := time.NewTimer(hostStartTimeout)
	defer deadline.Stop()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		if _, err := r.client.Info(ctx); err == nil {
			return nil
		}
		select {
		case err := <-exited:
			msg, _ := os.ReadFile(logPath)
			if int64(len(msg)) >= logStart {
				msg = msg[logStart:]
			}
			msg = bytes.TrimSpace(msg)
			if len(msg) == 0 {
				// Its message went to a log it could not write: say why.
				if full, free := diskFull(r.root); full {
					return fmt.Errorf("wasm host exited at start (%v): the disk of %s is full (%d bytes free); free some space and start again: %w", err, r.root, free, runtime.ErrResourceExhausted)
				}
				msg = []byte("it wrote nothing to " + logPath)
			}
			return fmt.Errorf("wasm host exited at start (%v): %s: %w", err, msg, runtime.ErrUnavailable)
		case <-deadline.C:
			return fmt.Errorf("wasm host (pid %d) did not listen within %s; see %s: %w", cmd.Process.Pid, hostStartTimeout, logPath, runtime.ErrUnavailable)
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// HostInfo describes the root's wasm host; an error wrapping
// runtime.ErrUnavailable when none runs.
func (r *Runtime) HostInfo(ctx context.Context) (host.Info, error) {
	return r.client.Info(ctx)
}

// StopHost asks the root's wasm host to end its instances (their exits are
// recorded as SIGKILL, "wasm host shut down") and exit, and waits until it
// has. It is for tests and for uninstalling; an agent restart leaves the
// host running.
func (r *Runtime) StopHost(ctx context.Context) error {
	inf, err := r.client.Info(ctx)
	if errors.Is(err, runtime.ErrUnavailable) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := r.client.Shutdown(ctx); err != nil && !errors.Is(err, runtime.ErrUnavailable) {
		return err
	}
	r.client.Close()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		// The host is gone when its pid is; signal 0 only checks.
		if err := unix.Kill(inf.PID, 0); errors.Is(err, unix.ESRCH) {
			return nil
		}
		if !processAlive(inf.PID) {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// processAlive reports whether pid is a live process (not a zombie waiting
// for its parent to reap it).
func processAlive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The state follows the command name in parentheses.
	if i := bytes.LastIndexByte(b, ')'); i >= 0 && i+2 < len(b) {
		return b[i+2] != 'Z'
	}
	return true
}

// diskFull reports whether the filesystem of dir has (almost) no room left,
// with the bytes free.
func diskFull(dir string) (bool, uint64) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return false, 0
	}
	free := st.Bavail * uint64(st.Bsize)
	return free < 64<<10, free
}
