package runc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/switchyard/switchyard/internal/proc"
	"github.com/switchyard/switchyard/runtimes/runc/shim"
)

// execFifo is the name of the FIFO in runc's state directory of a created
// container on which its init waits before it execs the workload.
const execFifo = "exec.fifo"

// startByFifo does in this process what `runc start` does for a created
// container, which saves an exec of runc on every start: it opens the
// container's exec FIFO for reading, which lets the init (blocked opening
// the write end) go on; reads the byte the init writes just before it execs
// the workload; and removes the FIFO, which is how runc tells a created
// container from a running one. handled is false when there is no such
// FIFO (another OCI runtime, or runc's layout changed): the caller runs
// `runc start` then.
func (r *Runtime) startByFifo(ctx context.Context, key, dir string) (handled bool, err error) {
	if filepath.Base(r.opt.runc) != "runc" {
		return false, nil
	}
	fifo := filepath.Join(r.runcRootDir(), key, execFifo)
	if fi, err := os.Lstat(fifo); err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
		return false, nil
	}
	ch := make(chan opened, 1)
	go func() {
		// Blocks until the init opens the write end.
		f, err := os.OpenFile(fifo, os.O_RDONLY|syscall.O_CLOEXEC, 0)
		ch <- opened{f, err}
	}()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	var o opened
	for o.f == nil && o.err == nil {
		select {
		case o = <-ch:
		case <-ctx.Done():
			o.err = unblockFifo(fifo, ch, ctx.Err())
		case <-tick.C:
			// An init that died before it opened the FIFO never will.
			if !initAlive(dir) {
				o.err = unblockFifo(fifo, ch, errors.New("container process is already dead"))
			}
		}
	}
	if o.err != nil {
		return true, o.err
	}
	defer o.f.Close()
	b, err := io.ReadAll(o.f)
	if err != nil {
		return true, err
	}
	if len(b) == 0 {
		return true, errors.New("cannot start an already running container")
	}
	// The shim of a workload that ended at once may have deleted the whole
	// state directory already.
	if err := os.Remove(fifo); err != nil && !errors.Is(err, os.ErrNotExist) {
		return true, err
	}
	return true, nil
}

// opened is the outcome of opening a FIFO.
type opened struct {
	f   *os.File
	err error
}

// unblockFifo ends the pending open of fifo's read end by opening its write
// end (which succeeds only while a reader waits), and returns why.
func unblockFifo(fifo string, ch <-chan opened, why error) error {
	if w, err := os.OpenFile(fifo, os.O_WRONLY|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0); err == nil {
		w.Close()
	}
	select {
	case o := <-ch:
		if o.f != nil {
			o.f.Close()
		}
	case <-time.After(time.Second):
		// The open still waits (the FIFO went away between the two opens
		// cannot block it; nothing else should): leave the goroutine.
	}
	return fmt.Errorf("exec fifo: %w", why)
}

// initAlive reports whether the container init the shim recorded still
// runs (a zombie does not).
func initAlive(dir string) bool {
	b, err := os.ReadFile(filepath.Join(dir, shim.InitPIDFile))
	if err != nil {
		return false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return false
	}
	_, ok := proc.Start(pid)
	return ok
}
