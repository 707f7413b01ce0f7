package runc

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/internal/logfile"
	"github.com/switchyard/switchyard/internal/statedir"
)

// A container that writes more than its log may hold keeps at most the
// configured files of at most the configured size, and the last lines read
// as ever.
func TestLogRotation(t *testing.T) {
	rt := newTestRuntime(t, WithLogRotation(64<<10, 2))
	id := cid("chatty")
	mustRun(t, rt, id, shSpec("chatty", `i=0; while [ $i -lt 5000 ]; do echo "line $i of a chatty workload"; i=$((i+1)); done`))
	if o := mustWait(t, rt, id); o.ExitCode != 0 {
		t.Fatalf("outcome %+v", o)
	}
	key, err := rt.resolve(id)
	if err != nil {
		t.Fatal(err)
	}
	log := filepath.Join(rt.dirOf(key), statedir.LogFile)
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
	entries, err := rt.Logs(context.Background(), id, 3)
	if err != nil || len(entries) != 3 || !strings.HasPrefix(entries[2].Text, "line 4999 ") {
		t.Fatalf("Logs(3) = %+v, %v", entries, err)
	}
}
