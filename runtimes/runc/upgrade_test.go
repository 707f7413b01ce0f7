package runc

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/internal/statedir"
	"github.com/switchyard/switchyard/internal/testutil"
	"github.com/switchyard/switchyard/runtime"
	"github.com/switchyard/switchyard/runtimes/runc/shim"
)

// oldShim speaks the shim protocol of the previous version, by hand: it
// reports "ok" as plain text, then records that init was killed by SIGKILL
// in the old exit record ({gen, code, signal, finished_at}, through
// exit.json.tmp) and ends. It runs no container: what is tested is that
// the runtime understands what an old shim says, which a shim started
// before an upgrade still says after it.
func oldShim(args []string) int {
	fs := flag.NewFlagSet("shim-old", flag.ContinueOnError)
	dir := fs.String("dir", "", "")
	gen := fs.Int("gen", 0, "")
	// The runtime passes the flags of this version to the shim it starts
	// (this test starts the old one through Create): they are ignored.
	for _, f := range []string{"runc", "runc-root", "runc-state", "id", "cgroup"} {
		fs.String(f, "", "")
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	ready := os.NewFile(shim.ReadyFD, "ready")
	ready.WriteString("ok\n")
	ready.Close()
	rec := `{"gen":` + strconv.Itoa(*gen) + `,"code":137,"signal":9,"finished_at":"2026-01-01T00:00:00Z"}`
	path := filepath.Join(*dir, statedir.ExitFile)
	if err := os.WriteFile(path+".tmp", []byte(rec), 0o640); err != nil {
		return 1
	}
	if err := os.Rename(path+".tmp", path); err != nil {
		return 1
	}
	return 0
}

var oldFinish = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// TestOldShim checks that a shim of the previous version is understood: its
// plain-text ready report and its exit record.
func TestOldShim(t *testing.T) {
	rt := newTestRuntime(t, WithShim(os.Args[0], "shim-old"), WithoutStandbyShim())
	id := cid("old-shim")
	ctx := context.Background()
	if err := rt.Create(ctx, id, shSpec(id.Service, "true")); err != nil {
		t.Fatalf("Create under an old shim: %v", err)
	}
	// The old shim records the exit as soon as it has reported.
	testutil.Eventually(t, 20*time.Second, "the old shim's exit", func() bool {
		st, err := rt.State(ctx, id)
		return err == nil && st.Status != runtime.StatusPending
	})
	if st, err := rt.State(ctx, id); err != nil || st != (runtime.State{Status: runtime.StatusExited, ExitCode: 137}) {
		t.Errorf("State = %v, %v; want exited(137)", st, err)
	}
	want := runtime.WaitOutcome{ExitCode: 137, Reason: runtime.ReasonSignal, Signal: "SIGKILL", FinishedAt: oldFinish}
	if o, err := rt.WaitOutcome(ctx, id, runtime.WaitNotRunning); err != nil || o != want {
		t.Fatalf("WaitOutcome = %+v, %v; want %+v", o, err, want)
	}
	if d, err := rt.Inspect(ctx, id); err != nil || d.Outcome == nil || *d.Outcome != want {
		t.Errorf("Inspect outcome = %+v, %v; want %+v", d.Outcome, err, want)
	}
}

// TestOldRecordsOnDisk checks that records an earlier version left in a
// container's state directory (the shim's exit record, the runtime's
// started.json) are read by a runtime of this version, and that the next
// run writes this version's records.
func TestOldRecordsOnDisk(t *testing.T) {
	rt := newTestRuntime(t)
	id := cid("old-records")
	ctx := context.Background()
	mustRun(t, rt, id, shSpec(id.Service, "exit 3"))
	mustWait(t, rt, id)
	s, err := rt.get(id)
	if err != nil {
		t.Fatal(err)
	}
	started := time.Date(2025, 12, 31, 23, 59, 0, 0, time.UTC)
	gen := strconv.FormatUint(s.shim.Gen, 10)
	writeOld := func(name, content string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(s.dir, name), []byte(content), 0o640); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Remove(filepath.Join(s.dir, statedir.StartFile)); err != nil {
		t.Fatal(err)
	}
	writeOld("started.json", `{"gen":`+gen+`,"at":"2025-12-31T23:59:00Z"}`)
	writeOld(statedir.ExitFile, `{"gen":`+gen+`,"code":5,"finished_at":"2026-01-01T00:00:00Z"}`)

	// A new runtime over the same root, as after an upgrade.
	up, err := New(rt.root, rt.store, testShim())
	if err != nil {
		t.Fatal(err)
	}
	want := runtime.WaitOutcome{ExitCode: 5, Reason: runtime.ReasonExited, FinishedAt: oldFinish}
	if o, err := up.WaitOutcome(ctx, id, runtime.WaitNotRunning); err != nil || o != want {
		t.Fatalf("WaitOutcome = %+v, %v; want %+v", o, err, want)
	}
	d, err := up.Inspect(ctx, id)
	if err != nil || d.State != (runtime.State{Status: runtime.StatusExited, ExitCode: 5}) || !d.StartedAt.Equal(started) {
		t.Fatalf("Inspect = state %v, started %v, %v; want exited(5), started %v", d.State, d.StartedAt, err, started)
	}

	// The next run records in this version's format.
	if err := up.Start(ctx, id); err != nil {
		t.Fatal(err)
	}
	if o := mustWait(t, up, id); o.ExitCode != 3 || o.Reason != runtime.ReasonExited {
		t.Fatalf("second run: %+v, want exited(3)", o)
	}
	x, ok, err := statedir.ReadExit(s.dir)
	if err != nil || !ok || x.Run != s.shim.Gen+1 || x.SupervisorPID == 0 {
		t.Fatalf("exit record of the second run: %+v, %v, %v", x, ok, err)
	}
	b, err := os.ReadFile(filepath.Join(s.dir, statedir.ExitFile))
	if err != nil || !strings.Contains(string(b), `"outcome"`) || strings.Contains(string(b), `"gen"`) {
		t.Errorf("exit record %s (%v): want this version's format", b, err)
	}
	if st, ok, err := statedir.ReadStart(s.dir); err != nil || !ok || st.Run != s.shim.Gen+1 {
		t.Errorf("start record of the second run: %+v, %v, %v", st, ok, err)
	}

	// An old record of a run that could not be created is a failure.
	writeOld(statedir.ExitFile, `{"gen":`+strconv.FormatUint(s.shim.Gen+1, 10)+`,"code":255,"error":"runc create: boom","finished_at":"2026-01-01T00:00:00Z"}`)
	if err := os.Remove(filepath.Join(s.dir, statedir.StartFile)); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(s.dir, "started.json")); err != nil {
		t.Fatal(err)
	}
	if st, err := up.State(ctx, id); err != nil || st != (runtime.State{Status: runtime.StatusFailed, Reason: "runc create: boom"}) {
		t.Errorf("State = %v, %v; want failed: runc create: boom", st, err)
	}
}
