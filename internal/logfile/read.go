package logfile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/switchyard/switchyard/runtime"
)

// chunk is how much Tail reads at a time, from the end of the file back.
const chunk = 64 << 10

// Tail returns the last n entries of the log at path, oldest first; n =
// runtime.TailAll returns every entry. The files it rotated into (path.1,
// path.2, ...) are read as the older part of the log. A log that does not
// exist is empty. A line that is not a log entry (a write torn by a crash)
// is skipped, and a last line without its newline (being written) is left
// for the next read. Reading the last n lines costs about n lines of I/O,
// however long the log.
func Tail(path string, n int) ([]runtime.LogEntry, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		f = nil
	} else if err != nil {
		return nil, fmt.Errorf("log file %s: %w", path, err)
	}
	var entries []runtime.LogEntry
	if f != nil {
		entries, err = tail(f, n)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("log file %s: %w", path, err)
		}
	}
	entries, err = withRotated(path, n, entries)
	if err != nil {
		return nil, err
	}
	if entries == nil {
		entries = []runtime.LogEntry{}
	}
	return entries, nil
}

// withRotated puts before entries (the newest part of the log at path) the
// entries of its rotated files, newest file first, until n entries are
// there (all of them for runtime.TailAll).
func withRotated(path string, n int, entries []runtime.LogEntry) ([]runtime.LogEntry, error) {
	for k := 1; n < 0 || len(entries) < n; k++ {
		older, err := os.Open(RotatedName(path, k))
		if errors.Is(err, fs.ErrNotExist) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("log file %s: %w", path, err)
		}
		want := runtime.TailAll
		if n >= 0 {
			want = n - len(entries)
		}
		more, err := tail(older, want)
		older.Close()
		if err != nil {
			return nil, fmt.Errorf("log file %s: %w", RotatedName(path, k), err)
		}
		entries = append(more, entries...)
	}
	return entries, nil
}

// tail reads the last n entries of f (all of them for runtime.TailAll).
func tail(f *os.File, n int) ([]runtime.LogEntry, error) {
	if n == 0 {
		return []runtime.LogEntry{}, nil
	}
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	size := fi.Size()
	// Read backwards, a chunk at a time, until the chunks hold n complete
	// lines or the whole file: a long log costs only its tail. The chunks
	// are joined once, so the cost is linear in what is read.
	var chunks [][]byte
	lines, read := 0, 0
	start := size
	for start > 0 {
		step := min(int64(chunk), start)
		start -= step
		b := make([]byte, step)
		if _, err := f.ReadAt(b, start); err != nil && !errors.Is(err, io.EOF) {
			return nil, err
		}
		chunks = append(chunks, b)
		read += len(b)
		lines += bytes.Count(b, []byte{'\n'})
		if n > 0 && lines > n {
			break
		}
	}
	buf := make([]byte, 0, read)
	for i := len(chunks) - 1; i >= 0; i-- {
		buf = append(buf, chunks[i]...)
	}
	// Leave out a trailing line that is still being written.
	end := bytes.LastIndexByte(buf, '\n') + 1
	buf = buf[:end]
	if start > 0 {
		// The first line may be cut; it lies before the n we want anyway.
		cut := bytes.IndexByte(buf, '\n') + 1
		buf = buf[cut:]
	}
	entries := parseLines(buf, nil)
	if n > 0 && len(entries) > n {
		entries = entries[len(entries)-n:]
	}
	return entries, nil
}

// completeEnd returns the offset just past the last newline before size.
func completeEnd(f *os.File, size int64) int64 {
	b := make([]byte, min(int64(chunk), size))
	for off := size; off > 0; {
		step := min(int64(len(b)), off)
		off -= step
		if _, err := f.ReadAt(b[:step], off); err != nil && !errors.Is(err, io.EOF) {
			return 0
		}
		if i := bytes.LastIndexByte(b[:step], '\n'); i >= 0 {
			return off + int64(i) + 1
		}
	}
	return 0
}

// parseLines appends the entries of the complete lines in b to dst.
func parseLines(b []byte, dst []runtime.LogEntry) []runtime.LogEntry {
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			break
		}
		if e, ok := parseLine(b[:i]); ok {
			dst = append(dst, e)
		}
		b = b[i+1:]
	}
	return dst
}

// parseLine decodes one line; ok is false for anything that is not a log
// entry with a time and a stream.
func parseLine(line []byte) (runtime.LogEntry, bool) {
	var e runtime.LogEntry
	if len(line) == 0 || line[0] != '{' {
		return e, false
	}
	if err := json.Unmarshal(line, &e); err != nil || e.Time.IsZero() || e.Stream == "" {
		return runtime.LogEntry{}, false
	}
	return e, true
}
