package runc

import (
	"os"
	"os/exec"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/switchyard/switchyard/runtimes/runc/shim"
)

// standbyShim is a shim started ahead of the container it will supervise
// (shim.StandbyArg): a create hands it its container instead of starting a
// process and waiting for the Go runtime in it to initialise.
type standbyShim struct {
	cmd    *exec.Cmd
	conn   *os.File      // the runtime's end of the standby's socket
	exited chan struct{} // closed once the process is reaped
}

// discard ends an unassigned standby: its socket ends, and so does it.
func (s *standbyShim) discard() { s.conn.Close() }

// standbys keeps at most one standby shim ready. A create takes it and
// has the next one started beside its own work; the first create of a
// runtime starts its shim the usual way.
type standbys struct {
	ready   chan *standbyShim // holds at most one
	off     bool              // WithoutStandbyShim
	started sync.WaitGroup    // the start in progress

	mu      sync.Mutex
	filling bool // guarded by mu: a standby is being started
	closed  bool // guarded by mu: Close was called, no more standbys
}

// newStandbys returns an empty pool; off keeps it so (WithoutStandbyShim).
func newStandbys(off bool) *standbys {
	return &standbys{ready: make(chan *standbyShim, 1), off: off}
}

// take returns the ready standby, or nil.
func (s *standbys) take() *standbyShim {
	select {
	case sb := <-s.ready:
		return sb
	default:
		return nil
	}
}

// fillStandby starts a standby in the background unless one is ready or
// being started, or the runtime is closed or keeps none.
func (r *Runtime) fillStandby() {
	s := r.standby
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.off || s.closed || s.filling || len(s.ready) > 0 {
		return
	}
	s.filling = true
	s.started.Add(1)
	go func() {
		defer s.started.Done()
		sb, err := r.startStandby()
		s.mu.Lock()
		s.filling = false
		s.mu.Unlock()
		if err != nil {
			r.opt.logger.Debug("runc runtime: standby shim", "err", err)
			return
		}
		select {
		case s.ready <- sb:
		default:
			sb.discard()
		}
	}()
}

// startStandby starts a standby shim (shimCommand). Its command line names
// the runtime's root, so that a process listing says whose it is.
func (r *Runtime) startStandby() (*standbyShim, error) {
	// The runtime's end is non-blocking (the poller waits on it); the
	// standby's blocks, as it waits for nothing else.
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	if err := unix.SetNonblock(fds[1], false); err != nil {
		unix.Close(fds[0])
		unix.Close(fds[1])
		return nil, err
	}
	mine := os.NewFile(uintptr(fds[0]), "standby shim")
	theirs := os.NewFile(uintptr(fds[1]), "standby shim")
	defer theirs.Close()
	cmd := r.shimCommand(r.root, shim.StandbyArg, r.root)
	cmd.ExtraFiles = []*os.File{theirs} // shim.ReadyFD
	if err := cmd.Start(); err != nil {
		mine.Close()
		return nil, err
	}
	// Reaped when it ends while this process lives, as a shim is.
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait() // a shim's exit is recorded in its state dir
		close(exited)
	}()
	return &standbyShim{cmd: cmd, conn: mine, exited: exited}, nil
}

// Close ends the runtime's standby shim, and returns once it has exited.
// The containers and their shims are not touched: they outlive the
// runtime, as they outlive the agent.
func (r *Runtime) Close() error {
	s := r.standby
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.started.Wait()
	if sb := s.take(); sb != nil {
		sb.discard()
		select {
		case <-sb.exited:
		case <-time.After(5 * time.Second):
			sb.cmd.Process.Kill()
		}
	}
	return nil
}
