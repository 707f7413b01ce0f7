package statedir

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/switchyard/switchyard/internal/testutil"
	"github.com/switchyard/switchyard/runtime"
)

// On a full disk the exit is still recorded, in the room taken before.
func TestExitOnAFullDisk(t *testing.T) {
	dir := t.TempDir()
	testutil.SmallDisk(t, dir, 256<<10)
	if err := ReserveExit(dir); err != nil {
		t.Fatal(err)
	}
	// The workload fills the disk.
	f, err := os.Create(filepath.Join(dir, "big"))
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 4096)
	for {
		if _, err := f.Write(chunk); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("filling the disk: %v", err)
			}
			break
		}
	}
	f.Close()
	if err := WriteJSON(filepath.Join(dir, "probe.json"), map[string]string{"x": "y"}); runtime.KindOf(err) != runtime.ErrResourceExhausted {
		t.Fatalf("the disk is not full: a write gave %v", err)
	}
	want := Exit{Run: 3, Outcome: runtime.WaitOutcome{ExitCode: 0, Reason: runtime.ReasonExited}}
	if err := WriteExit(dir, want); err != nil {
		t.Fatalf("WriteExit on a full disk: %v", err)
	}
	got, ok, err := ReadExit(dir)
	if err != nil || !ok || got.Run != 3 || got.Outcome.Reason != runtime.ReasonExited {
		t.Fatalf("ReadExit = %+v, %v, %v", got, ok, err)
	}
}
