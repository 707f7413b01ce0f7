package logfile

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/internal/testutil"
	"github.com/switchyard/switchyard/runtime"
)

// On a full disk the entries that do not fit are dropped and counted, and
// what part of one was written is cut off: every line in the file is a
// whole entry.
func TestFullDiskLeavesNoTornLine(t *testing.T) {
	dir := t.TempDir()
	testutil.SmallDisk(t, dir, 64<<10)
	path := filepath.Join(dir, "log.json")
	f, err := Open(path, WithRotation(1<<20, 1))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := f.Writer(runtime.Stdout)
	line := strings.Repeat("y", 1000) + "\n"
	for i := 0; i < 200; i++ { // 200 KB into 64 KiB
		if _, err := w.Write([]byte(line)); err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
	}
	w.Close()
	if f.Dropped() == 0 {
		t.Fatal("nothing counted as dropped on a full disk")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) == 0 || data[len(data)-1] != '\n' {
		t.Fatalf("the log ends in a torn line (%d bytes)", len(data))
	}
	for i, l := range bytes.Split(bytes.TrimSuffix(data, []byte{'\n'}), []byte{'\n'}) {
		if !json.Valid(l) {
			t.Fatalf("line %d is not a whole entry: %.60q", i, l)
		}
	}
}
