package runc

import (
	"context"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestPollWatchingWakesOnRename(t *testing.T) {
	dir := t.TempDir()
	done := make(chan bool, 1)
	path := filepath.Join(dir, "exit.json")
	go func() {
		// A fallback poll of an hour: only the rename's event can end it in time.
		wake, stop, _ := watchDir(dir, 0)
		defer stop()
		done <- pollWoken(context.Background(), time.Now().Add(time.Minute), wake, time.Hour, func() bool {
			_, err := os.Stat(path)
			return err == nil
		})
	}()
	// Before the watch begins the poll's first check sees the file; after, the
	// rename's event wakes it.
	if err := os.WriteFile(path+".tmp", []byte("{}"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(path+".tmp", path); err != nil {
		t.Fatal(err)
	}
	select {
	case ok := <-done:
		if !ok {
			t.Fatal("pollWoken gave up")
		}
	case <-time.After(20 * time.Second):
		t.Fatal("a rename into the watched directory did not wake the poll")
	}
}

func TestPollWatchingCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if pollWatching(ctx, t.TempDir(), 0, time.Now().Add(time.Hour), func() bool { return false }) {
		t.Fatal("pollWatching held with a cancelled context and a false condition")
	}
}

func TestDefaultShim(t *testing.T) {
	for _, tc := range []struct {
		name string
		shim os.FileMode // mode of the shim binary beside exe; 0 for none
		want func(dir string) []string
	}{
		{name: "beside", shim: 0o755, want: func(dir string) []string { return []string{filepath.Join(dir, ShimBinary)} }},
		{name: "absent", want: func(dir string) []string { return []string{filepath.Join(dir, "switchyard"), "shim"} }},
		{name: "not executable", shim: 0o644, want: func(dir string) []string { return []string{filepath.Join(dir, "switchyard"), "shim"} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if tc.shim != 0 {
				if err := os.WriteFile(filepath.Join(dir, ShimBinary), nil, tc.shim); err != nil {
					t.Fatal(err)
				}
			}
			if got, want := defaultShim(filepath.Join(dir, "switchyard")), tc.want(dir); !reflect.DeepEqual(got, want) {
				t.Errorf("defaultShim = %q, want %q", got, want)
			}
		})
	}
}

// TestPollWatchingWakesOnProcessEnd: a watched process that ends wakes a
// poll that would otherwise rest an hour.
func TestPollWatchingWakesOnProcessEnd(t *testing.T) {
	cmd := exec.Command("sleep", "0.2")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go cmd.Wait() // reaps it: the pidfd turns readable when it exits
	wake, stop, both := watchDir(t.TempDir(), cmd.Process.Pid)
	defer stop()
	if !both {
		t.Skip("this kernel watches no pidfds")
	}
	select {
	case <-wake:
	case <-time.After(10 * time.Second):
		t.Fatal("the end of the process woke no one")
	}
}

// inotifyEvent encodes one event as the kernel does, its name NUL-padded
// to pad bytes.
func inotifyEvent(name string, pad int) []byte {
	b := make([]byte, unix.SizeofInotifyEvent+pad)
	binary.NativeEndian.PutUint32(b[4:8], unix.IN_CREATE)
	binary.NativeEndian.PutUint32(b[12:16], uint32(pad))
	copy(b[unix.SizeofInotifyEvent:], name)
	return b
}

func TestWorthALook(t *testing.T) {
	tmp := inotifyEvent(".exit.json.42.17.tmp", 32)
	for _, tc := range []struct {
		name   string
		events []byte
		want   bool
	}{
		{"a record renamed into place", inotifyEvent("exit.json", 16), true},
		{"a temporary file alone", tmp, false},
		{"temporaries, then a record", append(append(slices.Clone(tmp), tmp...), inotifyEvent("start.json", 16)...), true},
		{"the directory itself (no name)", inotifyEvent("", 0), true},
		{"an event cut short", inotifyEvent("exit.json", 16)[:20], true},
		{"nothing", nil, false},
	} {
		if got := worthALook(tc.events); got != tc.want {
			t.Errorf("%s: worthALook = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// FuzzWorthALook: whatever the kernel's buffer holds, the parse ends
// without a panic.
func FuzzWorthALook(f *testing.F) {
	f.Add(inotifyEvent("exit.json", 16))
	f.Add(inotifyEvent(".x.tmp", 16))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) { worthALook(b) })
}
