package runc

import (
	"context"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// watchDir returns a channel that receives when an entry of dir is created,
// renamed into it, closed after writing or removed (the shim records an
// exit by a rename), and a func that stops watching. Waits use it to see a
// change at once rather than at their next poll. When dir cannot be
// watched the channel never receives and polling carries on alone.
func watchDir(dir string) (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		return ch, func() {}
	}
	const mask = unix.IN_CREATE | unix.IN_MOVED_TO | unix.IN_CLOSE_WRITE | unix.IN_DELETE |
		unix.IN_DELETE_SELF | unix.IN_MOVE_SELF
	if _, err := unix.InotifyAddWatch(fd, dir, mask); err != nil {
		unix.Close(fd)
		return ch, func() {}
	}
	// A non-blocking descriptor joins the runtime's poller: Read parks the
	// goroutine, not a thread, and Close wakes it.
	f := os.NewFile(uintptr(fd), "inotify")
	go func() {
		buf := make([]byte, 4096)
		for {
			if _, err := f.Read(buf); err != nil {
				return
			}
			select {
			case ch <- struct{}{}:
			default:
			}
		}
	}()
	return ch, func() { f.Close() }
}

// pollWatching polls cond until it holds (true), the deadline passes or ctx
// ends (false), checking at once whenever dir changes and otherwise every
// maxWait at most: a change without a file event (a shim killed before it
// recorded anything) is still seen.
func pollWatching(ctx context.Context, dir string, deadline time.Time, cond func() bool) bool {
	wake, stop := watchDir(dir)
	defer stop()
	return pollWoken(ctx, deadline, wake, 50*time.Millisecond, cond)
}

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
