package logfile

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/switchyard/switchyard/runtime"
)

// MaxLine is the longest text one entry carries. A longer line is cut into
// entries of MaxLine bytes marked partial, so that a workload that never
// writes a newline cannot make its supervisor buffer without bound.
const MaxLine = 16 << 10

// Rotation defaults: a log grows to DefaultMaxSize, then moves aside as
// path.1 (the older ones to path.2 and on, the oldest beyond
// DefaultMaxFiles dropped), so that a workload that writes without pause
// holds at most DefaultMaxSize × DefaultMaxFiles of disk, as docker's
// local log driver does.
const (
	DefaultMaxSize  = 20 << 20
	DefaultMaxFiles = 5
)

// File is an open log file. Its writers may be used from several goroutines
// at once; each entry reaches the file in a single append, so entries of
// different streams never interleave within a line, and a rotation falls
// between entries.
type File struct {
	path     string
	maxSize  int64
	maxFiles int

	// criPath, when set, is the CRI copy's path (WithCRICopy).
	criPath string

	mu      sync.Mutex
	f       *os.File // guarded by mu; nil once closed
	cri     *os.File // guarded by mu: the CRI copy, opened when first written
	size    int64    // guarded by mu: the current file's size
	dropped int64    // guarded by mu: entries the disk had no room for
}

// Dropped returns how many entries were dropped because the disk had no
// room for them: the workload went on, its lines were lost.
func (f *File) Dropped() int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.dropped
}

// Option configures Open.
type Option func(*File)

// WithRotation sets the size at which the log rotates and how many files
// (the current one included) are kept. maxSize ≤ 0 means
// DefaultMaxSize; maxFiles < 1 means DefaultMaxFiles.
func WithRotation(maxSize int64, maxFiles int) Option {
	return func(f *File) {
		if maxSize > 0 {
			f.maxSize = maxSize
		}
		if maxFiles >= 1 {
			f.maxFiles = maxFiles
		}
	}
}

// Open opens the log file at path for appending, creating it with mode 0640
// when it does not exist. It rotates as WithRotation says, by default at
// DefaultMaxSize keeping DefaultMaxFiles files.
func Open(path string, opts ...Option) (*File, error) {
	lf := &File{path: path, maxSize: DefaultMaxSize, maxFiles: DefaultMaxFiles}
	for _, o := range opts {
		o(lf)
	}
	if err := lf.open(); err != nil {
		return nil, err
	}
	return lf, nil
}

func (f *File) open() error {
	file, err := os.OpenFile(f.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return fmt.Errorf("log file %s: %w", f.path, err)
	}
	fi, err := file.Stat()
	if err != nil {
		file.Close()
		return fmt.Errorf("log file %s: %w", f.path, err)
	}
	f.f, f.size = file, fi.Size()
	return nil
}

// WithCRICopy makes the file keep a copy of every entry at path, in the
// Kubernetes CRI log format, for a kubelet to read. The copy is not
// rotated here: the kubelet moves it aside when it rotates, and the next
// entry starts a new file at path.
func WithCRICopy(path string) Option {
	return func(f *File) { f.criPath = path }
}

// appendCRI appends entries to the CRI copy, opening it again at its path
// when it was moved or removed (checked at every append, a stat: that is
// how the kubelet's rotation asks for a new file). The copy is the
// kubelet's; a failure to write it must not stop the workload's own log,
// so it is dropped and tried again at the next append. Called with mu
// held.
func (f *File) appendCRI(b []byte) {
	if f.cri != nil {
		cur, err1 := f.cri.Stat()
		at, err2 := os.Stat(f.criPath)
		if err1 != nil || err2 != nil || !os.SameFile(cur, at) {
			f.cri.Close()
			f.cri = nil
		}
	}
	if f.cri == nil {
		// Not through a link: the log's directory may be a container's
		// too, and the supervisor writes as root.
		file, err := os.OpenFile(f.criPath, os.O_WRONLY|os.O_APPEND|os.O_CREATE|syscall.O_NOFOLLOW, 0o640)
		if err != nil {
			return
		}
		f.cri = file
	}
	_, _ = f.cri.Write(b)
}

// Close closes the file. Writers must be closed first, or their trailing
// partial line is lost. A second Close is a no-op.
func (f *File) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.f == nil {
		return nil
	}
	err := f.f.Close()
	f.f = nil
	if f.cri != nil {
		f.cri.Close()
		f.cri = nil
	}
	return err
}

// append writes already encoded entries in one write, rotating first when
// they would take the file past its size, and their CRI encoding to the
// CRI copy.
func (f *File) append(b, cri []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.f == nil {
		return os.ErrClosed
	}
	if len(cri) > 0 {
		f.appendCRI(cri)
	}
	if f.size > 0 && f.size+int64(len(b)) > f.maxSize {
		// A rotation that fails keeps the current file (see rotate): the
		// workload's output must go on, past the size rather than nowhere.
		_ = f.rotate()
	}
	n, err := f.f.Write(b)
	if err != nil && runtime.KindOf(err) == runtime.ErrResourceExhausted {
		// A full disk must not stop the workload (its pipe would fill and
		// block it): the entries are dropped and counted, for inspect. What
		// part of them was written is cut off again (truncating needs no
		// room), so that the next entry does not land on a torn line.
		if n > 0 && f.f.Truncate(f.size) != nil {
			f.size += int64(n)
			f.dropped += int64(bytes.Count(b[n:], []byte{'\n'}))
			return nil
		}
		f.dropped += int64(bytes.Count(b, []byte{'\n'}))
		return nil
	}
	f.size += int64(n)
	return err
}

// rotate moves the current file aside (path.1, the older ones one number
// up, the oldest beyond maxFiles removed) and starts a new one. A reader
// that holds the old file open reads it to its end. The new file is made
// before anything moves, so a rotation that cannot make it (a full disk,
// no file descriptors) leaves the files as they were and the current one
// open: logging goes on in it and the next append tries again. Called with
// mu held.
func (f *File) rotate() error {
	next := f.path + ".next"
	file, err := os.OpenFile(next, os.O_WRONLY|os.O_APPEND|os.O_CREATE|os.O_TRUNC, 0o640)
	if err != nil {
		return fmt.Errorf("log file %s: rotate: %w", f.path, err)
	}
	if f.maxFiles > 1 {
		_ = os.Remove(RotatedName(f.path, f.maxFiles-1))
		for k := f.maxFiles - 2; k >= 1; k-- {
			_ = os.Rename(RotatedName(f.path, k), RotatedName(f.path, k+1))
		}
		if err := os.Rename(f.path, RotatedName(f.path, 1)); err != nil {
			file.Close()
			_ = os.Remove(next)
			return fmt.Errorf("log file %s: rotate: %w", f.path, err)
		}
	}
	// With one file kept, this replaces the log at once.
	if err := os.Rename(next, f.path); err != nil {
		file.Close()
		_ = os.Remove(next)
		return fmt.Errorf("log file %s: rotate: %w", f.path, err)
	}
	_ = f.f.Close() // written with O_APPEND and no buffer: nothing to lose
	f.f, f.size = file, 0
	return nil
}

// RotatedName is the name of the k-th older file of the log at path
// (path.1 the newest of them).
func RotatedName(path string, k int) string { return path + "." + strconv.Itoa(k) }

// Writer returns a writer that splits what is written to it into lines and
// appends one entry per line, tagged with stream. Close flushes a trailing
// line that has no newline as a partial entry; it does not close the File.
func (f *File) Writer(stream runtime.LogStream) io.WriteCloser {
	return &lineWriter{file: f, stream: stream}
}

// TerminalWriter is Writer for a terminal's output, which a person reads
// as it comes: what a write leaves without a newline (a prompt) is
// appended at once as a partial entry, not kept for the rest of its line.
func (f *File) TerminalWriter(stream runtime.LogStream) io.WriteCloser {
	return &lineWriter{file: f, stream: stream, immediate: true}
}

// flushAt is how many encoded bytes a writer gathers before it appends them.
const flushAt = 16 << 10

// lineWriter buffers at most one unfinished line (up to MaxLine bytes).
type lineWriter struct {
	file   *File
	stream runtime.LogStream

	mu      sync.Mutex
	pending []byte // guarded by mu: the start of a line not yet ended
	out     []byte // guarded by mu: encoding scratch, reused between writes
	cri     []byte // guarded by mu: the same entries in the CRI format, when the file keeps a copy
	closed  bool   // guarded by mu
	// immediate appends an unfinished line at the end of each write.
	immediate bool
}

// Write implements io.Writer. It never returns a short count without an
// error, so io.Copy works as expected.
func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return 0, os.ErrClosed
	}
	now := time.Now()
	w.out, w.cri = w.out[:0], w.cri[:0]
	rest := p
	for len(rest) > 0 {
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			// No newline: keep it, cutting full MaxLine pieces as partial.
			for len(w.pending)+len(rest) > MaxLine {
				n := MaxLine - len(w.pending)
				w.pending = append(w.pending, rest[:n]...)
				w.entry(now, w.pending, true)
				w.pending = w.pending[:0]
				rest = rest[n:]
			}
			w.pending = append(w.pending, rest...)
			break
		}
		line := rest[:i]
		rest = rest[i+1:]
		for len(w.pending)+len(line) > MaxLine {
			n := MaxLine - len(w.pending)
			w.pending = append(w.pending, line[:n]...)
			w.entry(now, w.pending, true)
			w.pending = w.pending[:0]
			line = line[n:]
		}
		if len(w.pending) > 0 {
			w.pending = append(w.pending, line...)
			line = w.pending
		}
		w.entry(now, line, false)
		w.pending = w.pending[:0]
		if len(w.out) >= flushAt {
			// Entries reach the file in pieces of about flushAt, so that a
			// rotation comes close to the size asked for.
			if err := w.file.append(w.out, w.cri); err != nil {
				return 0, err
			}
			w.out, w.cri = w.out[:0], w.cri[:0]
		}
	}
	if w.immediate && len(w.pending) > 0 {
		w.entry(now, w.pending, true)
		w.pending = w.pending[:0]
	}
	if len(w.out) > 0 {
		if err := w.file.append(w.out, w.cri); err != nil {
			return 0, err
		}
	}
	w.shrink()
	return len(p), nil
}

// shrink drops buffers that one very long write grew, so that an idle
// supervisor holds little memory.
func (w *lineWriter) shrink() {
	if cap(w.out) > 4*MaxLine {
		w.out = nil
	}
	if cap(w.cri) > 4*MaxLine {
		w.cri = nil
	}
}

// Close flushes a trailing partial line. A second Close is a no-op.
func (w *lineWriter) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return nil
	}
	w.closed = true
	if len(w.pending) == 0 {
		return nil
	}
	w.out, w.cri = w.out[:0], w.cri[:0]
	w.entry(time.Now(), w.pending, true)
	w.pending = nil
	return w.file.append(w.out, w.cri)
}

// entry encodes one entry into the writer's scratch, and into its CRI
// scratch when the file keeps a CRI copy.
func (w *lineWriter) entry(t time.Time, text []byte, partial bool) {
	w.out = appendEntry(w.out, t, w.stream, text, partial)
	if w.file.criPath != "" {
		w.cri = appendCRIEntry(w.cri, t, w.stream, text, partial)
	}
}

// appendCRIEntry appends one line of the Kubernetes CRI log format: the
// time (RFC 3339 with nanoseconds), the stream, P for a partial line or F
// for a full one, and the text.
func appendCRIEntry(b []byte, t time.Time, stream runtime.LogStream, text []byte, partial bool) []byte {
	b = t.AppendFormat(b, time.RFC3339Nano)
	b = append(b, ' ')
	b = append(b, stream...)
	if partial {
		b = append(b, " P "...)
	} else {
		b = append(b, " F "...)
	}
	b = append(b, text...)
	return append(b, '\n')
}

// appendEntry appends e as one JSON line, in the field order and encoding
// encoding/json gives runtime.LogEntry, without reflection: the shim pays
// for every line it writes.
func appendEntry(b []byte, t time.Time, stream runtime.LogStream, text []byte, partial bool) []byte {
	b = append(b, `{"time":"`...)
	b = t.AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","stream":`...)
	b = appendString(b, []byte(stream))
	b = append(b, `,"text":`...)
	b = appendString(b, text)
	if partial {
		b = append(b, `,"partial":true`...)
	}
	return append(b, "}\n"...)
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD, as
// encoding/json does, so every line the file holds decodes.
func appendString(b, s []byte) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c < 0x20 || c == '<' || c == '>' || c == '&':
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, `\u202`...)
			b = strconv.AppendInt(b, int64(r&0xf), 16)
		default:
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}
