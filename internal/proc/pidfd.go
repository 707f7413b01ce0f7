package proc

import (
	"os"

	"golang.org/x/sys/unix"
)

// Ended returns a channel closed when process pid has ended whole (every
// thread gone; a child can be reaped then), a func that stops watching,
// and whether it watches at all. The process's pidfd is watched by the Go
// runtime's poller, so the wait holds a goroutine, not a thread, and wakes
// as soon as the kernel says. Without a pidfd (the process is gone
// already, or an old kernel) ok is false and the channel is never closed:
// callers keep their own fallback.
func Ended(pid int) (ended <-chan struct{}, stop func(), ok bool) {
	ch := make(chan struct{})
	fd, err := unix.PidfdOpen(pid, unix.PIDFD_NONBLOCK)
	if err != nil {
		return ch, func() {}, false
	}
	f := os.NewFile(uintptr(fd), "pidfd")
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return ch, func() {}, false
	}
	go func() {
		// The first call says "not yet", which parks the goroutine until
		// the poller finds the pidfd readable; Close ends it with an
		// error instead.
		waited := false
		if rc.Read(func(uintptr) bool {
			if !waited {
				waited = true
				return false
			}
			return true
		}) == nil {
			close(ch)
		}
	}()
	return ch, func() { f.Close() }, true
}
