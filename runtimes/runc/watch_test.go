package runc

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"testing"
	"time"
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
