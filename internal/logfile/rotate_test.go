package logfile

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/runtime"
)

// writeLines writes n numbered lines to the log through one writer.
func writeLines(t testing.TB, f *File, from, n int) {
	t.Helper()
	w := f.Writer(runtime.Stdout)
	for i := from; i < from+n; i++ {
		if _, err := fmt.Fprintf(w, "line %06d %s\n", i, strings.Repeat("x", 60)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestRotationKeepsMaxFiles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log.json")
	f, err := Open(path, WithRotation(64<<10, 3))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	writeLines(t, f, 0, 2000) // about 260 KB: many rotations
	for _, name := range []string{path, RotatedName(path, 1), RotatedName(path, 2)} {
		fi, err := os.Stat(name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if fi.Size() > 64<<10 {
			t.Errorf("%s is %d bytes, over the 64 KiB limit", name, fi.Size())
		}
	}
	if _, err := os.Stat(RotatedName(path, 3)); !os.IsNotExist(err) {
		t.Errorf("a fourth file was kept: %v", err)
	}
	// Tail reads across the files, in order, up to what was kept.
	got, err := Tail(path, runtime.TailAll)
	if err != nil {
		t.Fatal(err)
	}
	last := got[len(got)-1].Text
	if !strings.HasPrefix(last, "line 001999") {
		t.Errorf("last entry %q, want line 1999", last)
	}
	for i := 1; i < len(got); i++ {
		if got[i].Text <= got[i-1].Text {
			t.Fatalf("entries out of order at %d: %q after %q", i, got[i].Text, got[i-1].Text)
		}
	}
	some, err := Tail(path, 500)
	if err != nil || len(some) != 500 || some[499].Text != last {
		t.Fatalf("Tail(500) across files: %d entries, %v", len(some), err)
	}
	if !strings.HasPrefix(some[0].Text, "line 001500") {
		t.Errorf("Tail(500) starts at %q, want line 1500", some[0].Text)
	}
	// A follower asked for the same tail starts at the same line, in a
	// rotated file, and reads on to the last.
	fl := Follow(context.Background(), path, 500, func() bool { return true })
	defer fl.Close()
	var followed []runtime.LogEntry
	for {
		e, err := fl.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		followed = append(followed, e)
	}
	if len(followed) != 500 || followed[0].Text != some[0].Text || followed[499].Text != last {
		t.Errorf("Follow(500) gave %d entries from %q", len(followed), followed[0].Text)
	}
}

// A rotation that cannot make its new file leaves the log as it was and
// logging goes on in the current file; once it can, it rotates again.
func TestFailedRotationKeepsLogging(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log.json")
	f, err := Open(path, WithRotation(16<<10, 2))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	// A directory where the new file goes: its open fails (EISDIR).
	if err := os.Mkdir(path+".next", 0o700); err != nil {
		t.Fatal(err)
	}
	writeLines(t, f, 0, 500) // about 65 KB, four times the size
	if _, err := os.Stat(RotatedName(path, 1)); !os.IsNotExist(err) {
		t.Errorf("a file was moved aside by a rotation that failed: %v", err)
	}
	got, err := Tail(path, runtime.TailAll)
	if err != nil || len(got) != 500 || !strings.HasPrefix(got[499].Text, "line 000499") {
		t.Fatalf("after failed rotations: %d entries, %v", len(got), err)
	}
	if err := os.Remove(path + ".next"); err != nil {
		t.Fatal(err)
	}
	writeLines(t, f, 500, 10)
	fi, err := os.Stat(path)
	if err != nil || fi.Size() > 16<<10 {
		t.Fatalf("the log did not rotate once it could: %v, %v", fi, err)
	}
	if _, err := os.Stat(RotatedName(path, 1)); err != nil {
		t.Fatalf("no rotated file: %v", err)
	}
	last, err := Tail(path, 1)
	if err != nil || len(last) != 1 || !strings.HasPrefix(last[0].Text, "line 000509") {
		t.Fatalf("Tail(1) = %+v, %v", last, err)
	}
}

// A follower reads on across a rotation: the rest of the old file, then the
// new one from its start, losing nothing it could reach.
func TestFollowAcrossRotation(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log.json")
	f, err := Open(path, WithRotation(64<<10, 4))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	writeLines(t, f, 0, 10)
	done := make(chan struct{})
	stopped := func() bool {
		select {
		case <-done:
			return true
		default:
			return false
		}
	}
	s := Follow(context.Background(), path, runtime.TailAll, stopped)
	defer s.Close()
	next := 0
	recvUpTo := func(n int) {
		t.Helper()
		for ; next < n; next++ {
			e, err := s.Recv()
			if err != nil {
				t.Fatalf("Recv at %d: %v", next, err)
			}
			if want := fmt.Sprintf("line %06d", next); !strings.HasPrefix(e.Text, want) {
				t.Fatalf("entry %q, want %s", e.Text, want)
			}
		}
	}
	recvUpTo(10)
	writeLines(t, f, 10, 1200) // about two rotations
	recvUpTo(1210)
	close(done)
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, err := s.Recv()
		if err == io.EOF {
			break
		}
		if err != nil || time.Now().After(deadline) {
			t.Fatalf("after the last line: %v", err)
		}
	}
}

// A follower of a log written far faster than it is read holds a bounded
// buffer: it reads a chunk at a time, not the file to its end.
func TestFollowerReadsAreBounded(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log.json")
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	writeLines(t, f, 0, 1)
	s := Follow(context.Background(), path, runtime.TailAll, func() bool { return false }).(*follower)
	defer s.Close()
	if _, err := s.Recv(); err != nil {
		t.Fatal(err)
	}
	writeLines(t, f, 1, 40000) // about 5 MB waiting
	if _, err := s.Recv(); err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	held := len(s.pending) + len(s.queue)*100
	s.mu.Unlock()
	if held > 4*readChunk {
		t.Errorf("the follower holds about %d bytes of a 5 MB backlog; want at most a few chunks", held)
	}
}

// BenchmarkTail100 reads the last 100 lines of a 32 MB log: the cost must
// be that of the lines, not of the file.
func BenchmarkTail100(b *testing.B) {
	path := filepath.Join(b.TempDir(), "log.json")
	f, err := Open(path, WithRotation(1<<30, 1))
	if err != nil {
		b.Fatal(err)
	}
	writeLines(b, f, 0, 32<<20/90)
	f.Close()
	b.ReportAllocs()
	for b.Loop() {
		if got, err := Tail(path, 100); err != nil || len(got) != 100 {
			b.Fatalf("Tail = %d, %v", len(got), err)
		}
	}
}
