package wasm

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/internal/logfile"
	"github.com/switchyard/switchyard/internal/statedir"
)

// The host rotates an instance's log as the runtime was told to, not at
// its own defaults: at most the configured files of at most the
// configured size, and the last lines read as ever.
func TestLogRotation(t *testing.T) {
	e := newEnv(t, WithLogRotation(64<<10, 2))
	id := cid("chatty")
	if o := mustRun(t, e.rt, id, svc(e.testImage(t), "lines", "5000")); o.ExitCode != 0 {
		t.Fatalf("outcome %+v", o)
	}
	_, rec, err := e.rt.lookup(id)
	if err != nil {
		t.Fatal(err)
	}
	log := filepath.Join(e.rt.dir(rec.Key), statedir.LogFile)
	for _, name := range []string{log, logfile.RotatedName(log, 1)} {
		fi, err := os.Stat(name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if fi.Size() > 64<<10 {
			t.Errorf("%s: %d bytes (limit 64 KiB)", name, fi.Size())
		}
	}
	if _, err := os.Stat(logfile.RotatedName(log, 2)); !os.IsNotExist(err) {
		t.Errorf("a third log file was kept: %v", err)
	}
	entries, err := e.rt.Logs(ctxT(t), id, 3)
	if err != nil || len(entries) != 3 || !strings.HasPrefix(entries[2].Text, "line 4999 ") {
		t.Fatalf("Logs(3) = %+v, %v", entries, err)
	}
}

// A negative rotation is refused when the runtime is made.
func TestLogRotationRefusesNegative(t *testing.T) {
	if _, err := New(t.TempDir(), StoreModules(nil, t.TempDir()), WithLogRotation(-1, 0)); err == nil {
		t.Fatal("a negative log size was accepted")
	}
}
