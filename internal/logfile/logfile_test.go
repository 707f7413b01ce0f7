package logfile

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchyard/switchyard/runtime"
)

func mustOpen(t *testing.T, path string) *File {
	t.Helper()
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func mustTail(t *testing.T, path string, n int) []runtime.LogEntry {
	t.Helper()
	got, err := Tail(path, n)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

type line struct {
	stream  runtime.LogStream
	text    string
	partial bool
}

func lines(entries []runtime.LogEntry) []line {
	out := make([]line, len(entries))
	for i, e := range entries {
		out[i] = line{e.Stream, e.Text, e.Partial}
	}
	return out
}

func equal(a, b []line) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestWriterSplitsLines(t *testing.T) {
	long := strings.Repeat("x", MaxLine)
	for _, tc := range []struct {
		name   string
		writes []string
		want   []line
	}{
		{"one line", []string{"hello\n"}, []line{{runtime.Stdout, "hello", false}}},
		{"two lines in one write", []string{"a\nb\n"}, []line{{runtime.Stdout, "a", false}, {runtime.Stdout, "b", false}}},
		{"line across writes", []string{"he", "llo", "\n"}, []line{{runtime.Stdout, "hello", false}}},
		{"trailing partial flushed by close", []string{"a\nno newline"}, []line{{runtime.Stdout, "a", false}, {runtime.Stdout, "no newline", true}}},
		{"empty line", []string{"\n"}, []line{{runtime.Stdout, "", false}}},
		{"exactly max line", []string{long + "\n"}, []line{{runtime.Stdout, long, false}}},
		{"long line cut", []string{long + "yz\n"}, []line{{runtime.Stdout, long, true}, {runtime.Stdout, "yz", false}}},
		{"long line across writes", []string{long[:100], long[100:] + "q", "\n"}, []line{{runtime.Stdout, long, true}, {runtime.Stdout, "q", false}}},
		{"long line without newline", []string{long + long + "r"}, []line{{runtime.Stdout, long, true}, {runtime.Stdout, long, true}, {runtime.Stdout, "r", true}}},
		{"special characters", []string{"tab\t\"q\" \\ <&> \x01 é \u2028\n"}, []line{{runtime.Stdout, "tab\t\"q\" \\ <&> \x01 é \u2028", false}}},
		{"invalid utf-8", []string{"a\xffb\n"}, []line{{runtime.Stdout, "a\ufffdb", false}}},
		{"carriage return kept", []string{"a\r\n"}, []line{{runtime.Stdout, "a\r", false}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "log")
			f := mustOpen(t, path)
			w := f.Writer(runtime.Stdout)
			for _, s := range tc.writes {
				if n, err := w.Write([]byte(s)); err != nil || n != len(s) {
					t.Fatalf("Write = %d, %v", n, err)
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if got := lines(mustTail(t, path, runtime.TailAll)); !equal(got, tc.want) {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestEncodingMatchesEncodingJSON(t *testing.T) {
	ts := time.Date(2026, 1, 2, 3, 4, 5, 600, time.UTC)
	for _, text := range []string{"", "plain", "\"<>&\\", "\x00\x1f\x7f", "é\u2028\u2029🙂"} {
		want, err := json.Marshal(runtime.LogEntry{Time: ts, Stream: runtime.Stderr, Text: text, Partial: true})
		if err != nil {
			t.Fatal(err)
		}
		got := appendEntry(nil, ts, runtime.Stderr, []byte(text), true)
		if string(got) != string(want)+"\n" {
			t.Errorf("text %q: got %s, want %s", text, got, want)
		}
	}
}

func TestFileModeAndAppend(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log")
	for i := 0; i < 2; i++ {
		f := mustOpen(t, path)
		w := f.Writer(runtime.Stderr)
		io.WriteString(w, "x\n")
		w.Close()
		f.Close()
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o640 {
		t.Errorf("mode %v, want 0640", fi.Mode().Perm())
	}
	if got := mustTail(t, path, runtime.TailAll); len(got) != 2 || got[0].Stream != runtime.Stderr {
		t.Errorf("got %v, want two stderr lines", got)
	}
}

func TestWriteAfterClose(t *testing.T) {
	f := mustOpen(t, filepath.Join(t.TempDir(), "log"))
	w := f.Writer(runtime.Stdout)
	w.Close()
	if _, err := w.Write([]byte("x\n")); !errors.Is(err, os.ErrClosed) {
		t.Errorf("write after writer close: %v, want os.ErrClosed", err)
	}
	w2 := f.Writer(runtime.Stdout)
	f.Close()
	if _, err := w2.Write([]byte("x\n")); !errors.Is(err, os.ErrClosed) {
		t.Errorf("write after file close: %v, want os.ErrClosed", err)
	}
	if err := f.Close(); err != nil {
		t.Errorf("second close: %v", err)
	}
}

func TestConcurrentWriters(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log")
	f := mustOpen(t, path)
	const perStream = 2000
	var wg sync.WaitGroup
	for _, s := range []runtime.LogStream{runtime.Stdout, runtime.Stderr} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := f.Writer(s)
			defer w.Close()
			for i := 0; i < perStream; i++ {
				io.WriteString(w, string(s)+" line\n")
			}
		}()
	}
	wg.Wait()
	got := mustTail(t, path, runtime.TailAll)
	if len(got) != 2*perStream {
		t.Fatalf("got %d entries, want %d", len(got), 2*perStream)
	}
	for _, e := range got {
		if e.Text != string(e.Stream)+" line" {
			t.Fatalf("entry %+v mixes streams", e)
		}
	}
}

func writeN(t *testing.T, path string, from, to int) {
	t.Helper()
	f := mustOpen(t, path)
	w := f.Writer(runtime.Stdout)
	var b strings.Builder
	for i := from; i < to; i++ {
		b.WriteString(strings.Repeat("p", i%50))
		b.WriteString("\n")
	}
	io.WriteString(w, b.String())
	w.Close()
	f.Close()
}

func TestTail(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log")
	const total = 5000 // several read chunks
	writeN(t, path, 0, total)
	for _, tc := range []struct {
		name string
		n    int
		want int
	}{
		{"all", runtime.TailAll, total},
		{"none", 0, 0},
		{"one", 1, 1},
		{"some", 10, 10},
		{"more than one chunk", 3000, 3000},
		{"more than there are", total + 10, total},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := mustTail(t, path, tc.n)
			if len(got) != tc.want {
				t.Fatalf("got %d entries, want %d", len(got), tc.want)
			}
			for i, e := range got {
				if want := (total - tc.want + i) % 50; len(e.Text) != want {
					t.Fatalf("entry %d has %d bytes, want %d", i, len(e.Text), want)
				}
			}
		})
	}
}

func TestTailMissingFile(t *testing.T) {
	got, err := Tail(filepath.Join(t.TempDir(), "nope"), runtime.TailAll)
	if err != nil || got == nil || len(got) != 0 {
		t.Errorf("Tail of missing file = %v, %v; want empty, nil", got, err)
	}
}

func TestTailSkipsTornAndUnfinishedLines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log")
	data := `{"time":"2026-01-01T00:00:00Z","stream":"stdout","text":"a"}` + "\n" +
		`{"time":"2026-01-01T00:00:00Z","str` + "\n" +
		"garbage\n" +
		`{"time":"2026-01-01T00:00:01Z","stream":"stderr","text":"b"}` + "\n" +
		`{"time":"2026-01-01T00:00:02Z","stream":"stdout","te`
	if err := os.WriteFile(path, []byte(data), 0o640); err != nil {
		t.Fatal(err)
	}
	got := lines(mustTail(t, path, runtime.TailAll))
	want := []line{{runtime.Stdout, "a", false}, {runtime.Stderr, "b", false}}
	if !equal(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

func recvAll(t *testing.T, s runtime.Stream[runtime.LogEntry]) ([]runtime.LogEntry, error) {
	t.Helper()
	var out []runtime.LogEntry
	for {
		e, err := s.Recv()
		if err != nil {
			return out, err
		}
		out = append(out, e)
	}
}

func TestFollowDeliversEverythingThenEOF(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log")
	writeN(t, path, 0, 100)
	var stopped atomic.Bool
	s := Follow(context.Background(), path, 5, stopped.Load)
	t.Cleanup(func() { s.Close() })

	f := mustOpen(t, path)
	w := f.Writer(runtime.Stdout)
	go func() {
		for i := 0; i < 300; i++ {
			io.WriteString(w, "new\n")
		}
		io.WriteString(w, "tail without newline")
		w.Close()
		stopped.Store(true)
	}()
	got, err := recvAll(t, s)
	if !errors.Is(err, io.EOF) {
		t.Fatalf("Recv ended with %v, want io.EOF", err)
	}
	if len(got) != 5+300+1 {
		t.Fatalf("got %d entries, want %d", len(got), 306)
	}
	if last := got[len(got)-1]; last.Text != "tail without newline" || !last.Partial {
		t.Errorf("last entry %+v, want the partial tail", last)
	}
}

func TestFollowWaitsForFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log")
	var stopped atomic.Bool
	s := Follow(context.Background(), path, runtime.TailAll, stopped.Load)
	t.Cleanup(func() { s.Close() })
	go func() {
		writeN(t, path, 1, 4)
		stopped.Store(true)
	}()
	got, err := recvAll(t, s)
	if !errors.Is(err, io.EOF) || len(got) != 3 {
		t.Fatalf("got %d entries and %v, want 3 and io.EOF", len(got), err)
	}
}

func TestFollowMissingFileStopped(t *testing.T) {
	s := Follow(context.Background(), filepath.Join(t.TempDir(), "log"), 10, func() bool { return true })
	defer s.Close()
	if _, err := s.Recv(); !errors.Is(err, io.EOF) {
		t.Errorf("Recv = %v, want io.EOF", err)
	}
}

func TestFollowCancelAndClose(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log")
	writeN(t, path, 0, 1)
	never := func() bool { return false }

	t.Run("cancel", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		s := Follow(ctx, path, runtime.TailAll, never)
		defer s.Close()
		if _, err := s.Recv(); err != nil {
			t.Fatal(err)
		}
		time.AfterFunc(20*time.Millisecond, cancel)
		if _, err := s.Recv(); !errors.Is(err, context.Canceled) {
			t.Errorf("Recv = %v, want context.Canceled", err)
		}
	})
	t.Run("close from another goroutine", func(t *testing.T) {
		s := Follow(context.Background(), path, 0, never)
		time.AfterFunc(20*time.Millisecond, func() { s.Close() })
		if _, err := s.Recv(); !errors.Is(err, io.EOF) {
			t.Errorf("Recv = %v, want io.EOF", err)
		}
		if err := s.Close(); err != nil {
			t.Errorf("second Close: %v", err)
		}
	})
}

// FuzzWriteRead checks that whatever a workload writes comes back from the
// file: the texts, joined with the newlines the entries stand for, are the
// input (with invalid UTF-8 replaced).
func FuzzWriteRead(f *testing.F) {
	f.Add([]byte("hello\nworld\n"), 3)
	f.Add([]byte("no newline"), 1)
	f.Add([]byte("\n\n\x00\xff\"\\"), 2)
	f.Add(bytes.Repeat([]byte("a"), MaxLine+3), 7)
	f.Fuzz(func(t *testing.T, data []byte, split int) {
		path := filepath.Join(t.TempDir(), "log")
		file, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer file.Close()
		w := file.Writer(runtime.Stdout)
		if split <= 0 {
			split = 1
		}
		for rest := data; len(rest) > 0; {
			n := min(split, len(rest))
			w.Write(rest[:n])
			rest = rest[n:]
		}
		w.Close()
		got := mustTail(t, path, runtime.TailAll)
		var b strings.Builder
		for _, e := range got {
			b.WriteString(e.Text)
			if !e.Partial {
				b.WriteString("\n")
			}
		}
		want := strings.ToValidUTF8(string(data), "\ufffd")
		if b.String() != want && utf8Clean(data) {
			t.Errorf("round trip: got %q, want %q", b.String(), want)
		}
	})
}

// utf8Clean reports whether data is valid UTF-8; invalid sequences split
// across writes are replaced per piece, so only clean input compares exactly.
func utf8Clean(data []byte) bool { return strings.ToValidUTF8(string(data), "") == string(data) }

// FuzzTail feeds arbitrary file contents to the reader: it must not fail or
// panic, and every entry it returns has a time and a stream.
func FuzzTail(f *testing.F) {
	f.Add([]byte(`{"time":"2026-01-01T00:00:00Z","stream":"stdout","text":"a"}`+"\n"), 1)
	f.Add([]byte("garbage\n{\n{}\n"), -1)
	f.Add([]byte(`{"time":"x","stream":"stdout"}`+"\n"), 5)
	f.Fuzz(func(t *testing.T, data []byte, n int) {
		path := filepath.Join(t.TempDir(), "log")
		if err := os.WriteFile(path, data, 0o640); err != nil {
			t.Fatal(err)
		}
		if n < runtime.TailAll {
			n = runtime.TailAll
		}
		got, err := Tail(path, n)
		if err != nil {
			t.Fatal(err)
		}
		if n >= 0 && len(got) > n {
			t.Fatalf("got %d entries for tail %d", len(got), n)
		}
		for _, e := range got {
			if e.Time.IsZero() || e.Stream == "" {
				t.Fatalf("entry without time or stream: %+v", e)
			}
		}
	})
}

// A wake makes a quiet follower look again at once: the writer's end is
// seen without waiting out the poll backoff. Once the follower has backed
// off (its wait is 160 ms or more), the check that ends the stream must
// come right after the wake; a poll could not come that soon.
func TestFollowWokenEndsOnWake(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log")
	writeN(t, path, 0, 3)
	var (
		stopped atomic.Bool
		mu      sync.Mutex
		checks  []time.Time // when stopped was asked
	)
	ask := func() bool {
		mu.Lock()
		checks = append(checks, time.Now())
		mu.Unlock()
		return stopped.Load()
	}
	count := func() int { mu.Lock(); defer mu.Unlock(); return len(checks) }
	wake := make(chan struct{}, 1)
	s := FollowWoken(context.Background(), path, runtime.TailAll, ask, wake)
	t.Cleanup(func() { s.Close() })
	for range 3 {
		if _, err := s.Recv(); err != nil {
			t.Fatal(err)
		}
	}
	ended := make(chan error, 1)
	go func() { _, err := s.Recv(); ended <- err }()
	// Polls wait 10, 20, 40, 80, then 160 ms: after the fifth check the
	// next poll is at least 160 ms away.
	deadline := time.Now().Add(5 * time.Second)
	for count() < 5 && time.Now().Before(deadline) {
		goruntime.Gosched()
	}
	stopped.Store(true)
	wake <- struct{}{}
	if err := <-ended; !errors.Is(err, io.EOF) {
		t.Fatalf("Recv after the wake = %v, want io.EOF", err)
	}
	mu.Lock()
	defer mu.Unlock()
	n := len(checks)
	if gap := checks[n-1].Sub(checks[n-2]); gap >= 150*time.Millisecond {
		t.Errorf("the stream ended %v after the previous check: a poll, not the wake, ended it", gap)
	}
}

// A terminal's writer keeps nothing back: a prompt without its newline is
// in the file as soon as it is written.
func TestTerminalWriterKeepsNothingBack(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log.json")
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := f.TerminalWriter(runtime.Stdout)
	if _, err := io.WriteString(w, "line one\r\n/ # "); err != nil {
		t.Fatal(err)
	}
	entries, err := Tail(path, runtime.TailAll)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2 || entries[0].Text != "line one\r" || entries[0].Partial || entries[1].Text != "/ # " || !entries[1].Partial {
		t.Fatalf("entries = %+v; want the line, then the prompt as a partial entry", entries)
	}
	w.Close()
}
