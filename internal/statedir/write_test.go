package statedir

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// deadPID is a process id no process can have: above the kernel's largest
// pid_max (2^22), so kill(2) answers ESRCH.
const deadPID = 1 << 30

type record struct {
	N    int    `json:"n"`
	Text string `json:"text"`
}

func mustWriteFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o640); err != nil {
		t.Fatal(err)
	}
}

// temps lists the temporary files in dir.
func temps(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), tempSuffix) {
			out = append(out, e.Name())
		}
	}
	return out
}

func TestWriteReadJSON(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "rec.json")
	var got record
	if ok, err := ReadJSON(path, &got); ok || err != nil {
		t.Fatalf("ReadJSON of a record not written: ok %v, %v; want absent without error", ok, err)
	}
	for _, want := range []record{{1, "first"}, {2, "replaces the first"}} {
		if err := WriteJSON(path, want); err != nil {
			t.Fatal(err)
		}
		got = record{}
		if ok, err := ReadJSON(path, &got); !ok || err != nil || got != want {
			t.Fatalf("ReadJSON = %+v, %v, %v; want %+v", got, ok, err, want)
		}
	}
	if left := temps(t, dir); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != fileMode {
		t.Errorf("mode %v, want %v", fi.Mode().Perm(), os.FileMode(fileMode))
	}

	mustWriteFile(t, path, `{"n":`)
	if ok, err := ReadJSON(path, &got); ok || err == nil {
		t.Errorf("ReadJSON of a torn file: ok %v, %v; want an error", ok, err)
	}
	if err := WriteJSON(path, make(chan int)); err == nil {
		t.Errorf("WriteJSON of a value JSON cannot hold: no error")
	}
}

func TestWriteIntoMissingDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "gone")
	err := WriteJSON(filepath.Join(dir, "rec.json"), record{N: 1})
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "rec.json") {
		t.Errorf("WriteJSON into a missing directory: %v, want a not-exist error naming the file", err)
	}
}

// TestInterruptedWrite checks what a writer killed between its create and
// its rename leaves: a temporary file that no reader takes for the record,
// and that the next write removes once its writer is gone.
func TestInterruptedWrite(t *testing.T) {
	dir := t.TempDir()
	// The crash came before any record was written: there is none.
	deadTemp := filepath.Join(dir, tempPrefix(ExitFile, deadPID)+"123"+tempSuffix)
	mustWriteFile(t, deadTemp, `{"run":9,"outco`)
	if _, ok, err := ReadExit(dir); ok || err != nil {
		t.Fatalf("ReadExit beside a torn temporary file: ok %v, %v; want no record", ok, err)
	}
	// A live writer's file (this process's), another record's, and the
	// fixed-name temporary file of an earlier shim must stay.
	liveTemp := filepath.Join(dir, tempPrefix(ExitFile, os.Getpid())+"456"+tempSuffix)
	otherTemp := filepath.Join(dir, tempPrefix(StartFile, deadPID)+"789"+tempSuffix)
	oldShimTemp := filepath.Join(dir, ExitFile+".tmp")
	for _, p := range []string{liveTemp, otherTemp, oldShimTemp} {
		mustWriteFile(t, p, "{")
	}

	want := Exit{Run: 1, Outcome: ProcessOutcome(3, 0, false, "", testTime)}
	if err := WriteExit(dir, want); err != nil {
		t.Fatal(err)
	}
	if got, ok, err := ReadExit(dir); !ok || err != nil || got != want {
		t.Fatalf("ReadExit = %+v, %v, %v; want %+v", got, ok, err, want)
	}
	if _, err := os.Stat(deadTemp); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the leftover of a dead writer was kept: %v", err)
	}
	for _, p := range []string{liveTemp, otherTemp, oldShimTemp} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s: %v; want it kept", filepath.Base(p), err)
		}
	}
}

func BenchmarkWriteJSON(b *testing.B) {
	dir := b.TempDir()
	rec := Exit{Run: 1, Outcome: ProcessOutcome(0, 0, false, "", testTime)}
	for b.Loop() {
		if err := WriteExit(dir, rec); err != nil {
			b.Fatal(err)
		}
	}
}

// TestAtomicRecords: a record written atomically reads back; one a crash
// of the machine left empty or torn reads as none, while one that is
// simply not a record of this shape is still an error for ReadJSON.
func TestAtomicRecords(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "r.json")
	if err := WriteJSONAtomic(path, record{N: 7, Text: "x"}); err != nil {
		t.Fatal(err)
	}
	var got record
	if ok, err := ReadJSONAtomic(path, &got); !ok || err != nil || got.N != 7 {
		t.Fatalf("ReadJSONAtomic = %v, %v, %+v", ok, err, got)
	}
	for _, torn := range []string{"", `{"n":`, `{"n":"seven"}`} {
		if err := os.WriteFile(path, []byte(torn), 0o600); err != nil {
			t.Fatal(err)
		}
		if ok, err := ReadJSONAtomic(path, &got); ok || err != nil {
			t.Errorf("ReadJSONAtomic(%q) = %v, %v; want none", torn, ok, err)
		}
		if _, err := ReadJSON(path, &got); err == nil {
			t.Errorf("ReadJSON(%q) = nil error; want one", torn)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, StartFile), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := ReadStart(dir); ok || err != nil {
		t.Errorf("ReadStart of an empty record = %v, %v; want none", ok, err)
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), tempSuffix) {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}
}

// IsTemp knows the names tempPrefix makes, and no record's.
func TestIsTemp(t *testing.T) {
	if name := tempPrefix("exit.json", 42) + "123" + tempSuffix; !IsTemp(name) {
		t.Errorf("IsTemp(%q) = false", name)
	}
	for _, name := range []string{"exit.json", ExitFile, ".hidden", "config.tmp", ""} {
		if IsTemp(name) {
			t.Errorf("IsTemp(%q) = true", name)
		}
	}
}
