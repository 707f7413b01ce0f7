package logfile

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"sync"
	"time"

	"github.com/switchyard/switchyard/runtime"
)

// Poll intervals of a follower: it starts fast after new data and backs off
// while the file is idle, so that a quiet container costs little.
const (
	minPoll = 10 * time.Millisecond
	maxPoll = 200 * time.Millisecond
)

// Follow returns the last tail entries of the log file at path (TailAll for
// all) and then every entry as it is written. Recv returns io.EOF once
// stopped reports true and every entry written before that has been
// delivered, and ctx.Err() when ctx is done. A file that does not exist yet
// is waited for. Close ends the stream (a blocked Recv returns io.EOF).
//
// stopped is called from Recv's goroutine; it should be cheap (a state file
// check).
func Follow(ctx context.Context, path string, tail int, stopped func() bool) runtime.Stream[runtime.LogEntry] {
	return FollowWoken(ctx, path, tail, stopped, nil)
}

// FollowWoken is Follow that also looks again, at once, whenever wake
// receives: a writer that signals its end (an exit record appearing beside
// the log, seen through inotify) ends the stream without waiting for the
// next poll, which backs off to 200 ms on a quiet log. A nil wake is Follow.
func FollowWoken(ctx context.Context, path string, tail int, stopped func() bool, wake <-chan struct{}) runtime.Stream[runtime.LogEntry] {
	s := &follower{ctx: ctx, path: path, tail: tail, stopped: stopped, wake: wake, done: make(chan struct{})}
	// The tail is what the file holds now; an error is Recv's to report.
	s.mu.Lock()
	s.err = s.read()
	if s.f == nil {
		// Every line of a file that does not exist yet is new.
		s.tail = runtime.TailAll
	}
	s.mu.Unlock()
	return s
}

// follower is the stream Follow returns. Recv is meant for one goroutine;
// Close may be called from any.
type follower struct {
	ctx     context.Context // the caller's request context, owned by Recv's calls
	path    string
	tail    int
	stopped func() bool
	wake    <-chan struct{} // may be nil: never receives

	done      chan struct{} // closed by Close
	closeOnce sync.Once

	mu      sync.Mutex
	f       *os.File           // guarded by mu; nil until the file exists, and after Close
	offset  int64              // guarded by mu: where the next read starts
	pending []byte             // guarded by mu: a line read without its newline yet
	queue   []runtime.LogEntry // guarded by mu: parsed, not yet returned
	opened  bool               // guarded by mu: tail has been read
	err     error              // guarded by mu: a read error to report
	closed  bool               // guarded by mu
}

// Recv implements runtime.Stream.
func (s *follower) Recv() (runtime.LogEntry, error) {
	wait := minPoll
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		if err := s.ctx.Err(); err != nil {
			return runtime.LogEntry{}, err
		}
		e, ok, err := s.next()
		if err != nil || ok {
			return e, err
		}
		// Nothing new. Ask whether the writer is done before reading once
		// more, so that a line written just before it stopped is not lost.
		if s.stopped() {
			e, ok, err := s.next()
			if err != nil || ok {
				return e, err
			}
			return runtime.LogEntry{}, io.EOF
		}
		if timer == nil {
			timer = time.NewTimer(wait)
		} else {
			timer.Reset(wait)
		}
		select {
		case <-s.ctx.Done():
			return runtime.LogEntry{}, s.ctx.Err()
		case <-s.done:
			return runtime.LogEntry{}, io.EOF
		case <-s.wake:
			wait = minPoll
			continue
		case <-timer.C:
		}
		wait = min(2*wait, maxPoll)
	}
}

// next returns a queued entry, reading the file for more when none is
// queued; ok is false when there is nothing new.
func (s *follower) next() (runtime.LogEntry, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return runtime.LogEntry{}, false, io.EOF
	}
	if s.err != nil {
		return runtime.LogEntry{}, false, s.err
	}
	if len(s.queue) == 0 {
		if err := s.read(); err != nil {
			return runtime.LogEntry{}, false, err
		}
	}
	if len(s.queue) == 0 {
		return runtime.LogEntry{}, false, nil
	}
	e := s.queue[0]
	s.queue[0] = runtime.LogEntry{}
	s.queue = s.queue[1:]
	return e, true, nil
}

// read opens the file when needed and queues the entries appended since the
// last read. Called with mu held.
func (s *follower) read() error {
	if s.f == nil {
		f, err := os.Open(s.path)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		s.f = f
	}
	if !s.opened {
		s.opened = true
		// Where the last tail lines begin, maybe in a rotated file: from
		// there the log is read forward a chunk at a time like any new
		// line, so a follower of a long log never holds all of it.
		f, off, err := startAt(s.path, s.tail)
		if err != nil {
			return err
		}
		if f != nil {
			s.f.Close()
			s.f = f
		}
		s.offset = off
	}
	// One bounded read a time: however fast the writer, a follower holds
	// at most readChunk of unparsed text and the entries parsed from it,
	// and reads more only when its reader has taken those.
	var buf [readChunk]byte
	n, err := s.f.ReadAt(buf[:], s.offset)
	s.offset += int64(n)
	s.pending = append(s.pending, buf[:n]...)
	if err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	if n == 0 && len(s.pending) == 0 {
		// At the end: if the log was rotated, the rest is in a new file.
		return s.followRotation()
	}
	if i := lastNewline(s.pending); i >= 0 {
		s.queue = parseLines(s.pending[:i+1], s.queue)
		rest := copy(s.pending, s.pending[i+1:])
		s.pending = s.pending[:rest]
	}
	return nil
}

// startAt returns the file and offset where the last n complete lines of
// the log at path begin (the whole log for runtime.TailAll, none for 0),
// looking back into its rotated files: it counts newlines backwards, a
// chunk at a time, and parses nothing. A nil file means path itself, which
// the caller has open.
func startAt(path string, n int) (*os.File, int64, error) {
	names := []string{path}
	for k := 1; ; k++ {
		if _, err := os.Stat(RotatedName(path, k)); err != nil {
			break
		}
		names = append(names, RotatedName(path, k))
	}
	open := func(i int, off int64) (*os.File, int64, error) {
		if i == 0 {
			return nil, off, nil
		}
		f, err := os.Open(names[i])
		if err != nil {
			return nil, 0, err
		}
		return f, off, nil
	}
	if n < 0 {
		return open(len(names)-1, 0)
	}
	remaining := n
	for i, name := range names {
		f, err := os.Open(name)
		if err != nil {
			return nil, 0, err
		}
		fi, err := f.Stat()
		if err != nil {
			f.Close()
			return nil, 0, err
		}
		end := fi.Size()
		if i == 0 {
			end = completeEnd(f, end) // a line being written is not yet a line
		}
		off, found := lineStart(f, end, remaining)
		f.Close()
		if found {
			return open(i, off)
		}
		// This file holds fewer lines than wanted: all of it, and older.
		remaining -= countLines(name, end)
	}
	return open(len(names)-1, 0)
}

// lineStart returns the offset in f where the last n lines before end
// begin, and false when f holds n lines or fewer before end (all of them
// are wanted).
func lineStart(f *os.File, end int64, n int) (int64, bool) {
	if n == 0 {
		return end, true
	}
	buf := make([]byte, chunk)
	seen := 0
	for pos := end; pos > 0; {
		step := min(int64(chunk), pos)
		pos -= step
		if _, err := f.ReadAt(buf[:step], pos); err != nil && !errors.Is(err, io.EOF) {
			return 0, false
		}
		for i := int(step) - 1; i >= 0; i-- {
			if buf[i] != '\n' {
				continue
			}
			// The newline at end-1 ends the last line; the one after n
			// lines ends the line before them.
			seen++
			if seen == n+1 {
				return pos + int64(i) + 1, true
			}
		}
	}
	return 0, false
}

// countLines counts the newlines of the file at name before end.
func countLines(name string, end int64) int {
	f, err := os.Open(name)
	if err != nil {
		return 0
	}
	defer f.Close()
	buf := make([]byte, chunk)
	n := 0
	for off := int64(0); off < end; {
		step := min(int64(chunk), end-off)
		m, _ := f.ReadAt(buf[:step], off)
		if m == 0 {
			break
		}
		n += bytes.Count(buf[:m], []byte{'\n'})
		off += int64(m)
	}
	return n
}

// readChunk bounds one read of a follower.
const readChunk = 64 << 10

// followRotation moves on when the file being read was rotated away (path
// now names another file): the old one has been read to its end, so the
// next is the one rotated after it (it is now path.k, the next path.k-1,
// or path itself), read from its start. When the old one is gone from the
// rotated names too (the reader fell behind more than the kept files), the
// oldest kept file is next: what was dropped is lost, never buffered.
// Called with mu held.
func (s *follower) followRotation() error {
	cur, err := os.Stat(s.path)
	if err != nil {
		return nil // not there again yet: the writer is rotating
	}
	old, err := s.f.Stat()
	if err != nil || os.SameFile(cur, old) {
		return err
	}
	next := s.path
	for k := 1; ; k++ {
		fi, err := os.Stat(RotatedName(s.path, k))
		if err != nil {
			if k > 1 {
				// Not found among the kept: start at the oldest kept.
				next = RotatedName(s.path, k-1)
			}
			break
		}
		if os.SameFile(fi, old) {
			if k > 1 {
				next = RotatedName(s.path, k-1)
			}
			break
		}
	}
	f, err := os.Open(next)
	if err != nil {
		return nil // rotated again meanwhile: look again at the next read
	}
	s.f.Close()
	s.f, s.offset, s.pending = f, 0, s.pending[:0]
	return nil
}

func lastNewline(b []byte) int {
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] == '\n' {
			return i
		}
	}
	return -1
}

// Close implements runtime.Stream; it is safe to call more than once and
// while Recv blocks.
func (s *follower) Close() error {
	s.closeOnce.Do(func() { close(s.done) })
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	if s.f != nil {
		err := s.f.Close()
		s.f = nil
		return err
	}
	return nil
}
