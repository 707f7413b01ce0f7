package runc

import (
	"context"
	"encoding/binary"
	"os"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/switchyard/switchyard/internal/proc"
	"github.com/switchyard/switchyard/internal/statedir"
)

// watchDir returns a channel that receives when an entry of dir is created,
// renamed into it, closed after writing or removed (the shim records an
// exit by a rename), or, with pid > 0, when process pid (the shim) ends; a
// func that stops watching; and whether both watches hold, so that a poll
// may rest long between looks. When dir is empty or cannot be watched the
// channel receives only for pid, and polling carries on.
func watchDir(dir string, pid int) (<-chan struct{}, func(), bool) {
	ch := make(chan struct{}, 1)
	notify := func() {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
	var closers []func()
	stop := func() {
		for _, c := range closers {
			c()
		}
	}
	watched := 0
	if fd, err := watchEntries(dir); err == nil {
		// A non-blocking descriptor joins the runtime's poller: Read
		// parks the goroutine, not a thread, and Close wakes it.
		f := os.NewFile(uintptr(fd), "inotify")
		// Closing an inotify instance waits for the kernel's fsnotify
		// grace period (synchronize_srcu), 10 ms and more once the
		// watched directory is gone: the wait that watched it returns
		// without paying that.
		closers = append(closers, func() { go f.Close() })
		watched++
		go func() {
			buf := make([]byte, 4096)
			for {
				n, err := f.Read(buf)
				if err != nil {
					return
				}
				if worthALook(buf[:n]) {
					notify()
				}
			}
		}()
	}
	if pid > 0 {
		// A pidfd turns readable when the process ends: a shim killed
		// before it recorded anything is seen at once, with no poll.
		if ended, unwatch, ok := proc.Ended(pid); ok {
			done := make(chan struct{})
			closers = append(closers, func() { unwatch(); close(done) })
			watched++
			go func() {
				select {
				case <-ended:
					notify()
				case <-done:
				}
			}()
		}
	}
	return ch, stop, watched == 2
}

// pollWatching polls cond until it holds (true), the deadline passes or ctx
// ends (false), checking at once whenever dir changes or process pid (the
// shim; 0 for none) ends, and otherwise every 50 ms at most, or every
// restWatched when both are watched: a look now and then still catches what
// no event tells (a record changed in place), without a hundred idle waits
// costing the agent a core.
func pollWatching(ctx context.Context, dir string, pid int, deadline time.Time, cond func() bool) bool {
	wake, stop, both := watchDir(dir, pid)
	defer stop()
	maxWait := 50 * time.Millisecond
	if both {
		maxWait = restWatched
	}
	return pollWoken(ctx, deadline, wake, maxWait, cond)
}

// restWatched is the longest a poll rests when every change it waits for
// comes with an event.
const restWatched = 2 * time.Second

// pollWoken is pollUntil that also checks whenever wake receives, with a
// backoff capped at maxWait.
func pollWoken(ctx context.Context, deadline time.Time, wake <-chan struct{}, maxWait time.Duration, cond func() bool) bool {
	wait := time.Millisecond
	t := time.NewTimer(wait)
	defer t.Stop()
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		t.Reset(wait)
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
		case <-wake:
		}
		wait = min(2*wait, maxWait)
	}
}

// watchEntries returns a non-blocking inotify descriptor watching the
// entries of dir (see watchDir); an empty dir is not watched.
func watchEntries(dir string) (int, error) {
	if dir == "" {
		return -1, os.ErrNotExist
	}
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		return -1, err
	}
	const mask = unix.IN_CREATE | unix.IN_MOVED_TO | unix.IN_CLOSE_WRITE | unix.IN_DELETE |
		unix.IN_DELETE_SELF | unix.IN_MOVE_SELF
	if _, err := unix.InotifyAddWatch(fd, dir, mask); err != nil {
		unix.Close(fd)
		return -1, err
	}
	return fd, nil
}

// worthALook reports whether a read of inotify events tells of something
// a waiter looks at: an entry of the directory, or the directory itself.
// A record writer's temporary file (statedir.IsTemp: it is renamed into
// place next) is not: its creation and close would only wake every waiter
// twice more per record, for a look that finds nothing new.
func worthALook(events []byte) bool {
	for len(events) >= unix.SizeofInotifyEvent {
		// struct inotify_event: wd, mask, cookie, then len, the length of
		// the NUL-padded name that follows.
		nameLen := binary.NativeEndian.Uint32(events[12:16])
		end := unix.SizeofInotifyEvent + int(nameLen)
		if nameLen > uint32(len(events)) || end > len(events) {
			return true // cut short: look
		}
		name := strings.TrimRight(string(events[unix.SizeofInotifyEvent:end]), "\x00")
		if name == "" || !statedir.IsTemp(name) {
			return true
		}
		events = events[end:]
	}
	return false
}
