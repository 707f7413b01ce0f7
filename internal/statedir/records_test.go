package statedir

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/runtime"
)

var testTime = time.Date(2026, 1, 1, 0, 0, 0, 5, time.UTC)

func TestStartRecord(t *testing.T) {
	dir := t.TempDir()
	if _, ok, err := ReadStart(dir); ok || err != nil {
		t.Fatalf("ReadStart of an empty dir: ok %v, %v", ok, err)
	}
	// An earlier runc runtime's record...
	mustWriteFile(t, filepath.Join(dir, legacyStartFile), `{"gen":3,"at":"2026-01-01T00:00:00.000000005Z"}`)
	if got, ok, err := ReadStart(dir); !ok || err != nil || got != (Start{Run: 3, StartedAt: testTime}) {
		t.Fatalf("ReadStart of started.json = %+v, %v, %v", got, ok, err)
	}
	// ...gives way to this version's, which is newer.
	want := Start{Run: 4, SupervisorPID: 42, StartedAt: testTime}
	if err := WriteStart(dir, want); err != nil {
		t.Fatal(err)
	}
	if got, ok, err := ReadStart(dir); !ok || err != nil || got != want {
		t.Fatalf("ReadStart = %+v, %v, %v; want %+v", got, ok, err, want)
	}
	// The wasm host's record of earlier versions is this one.
	mustWriteFile(t, filepath.Join(dir, StartFile), `{"run":7,"host_pid":43,"started_at":"2026-01-01T00:00:00.000000005Z"}`)
	if got, _, err := ReadStart(dir); err != nil || got != (Start{Run: 7, SupervisorPID: 43, StartedAt: testTime}) {
		t.Fatalf("ReadStart of the wasm host's record = %+v, %v", got, err)
	}
}

func TestExitRecord(t *testing.T) {
	dir := t.TempDir()
	if _, ok, err := ReadExit(dir); ok || err != nil {
		t.Fatalf("ReadExit of a run that has not ended: ok %v, %v", ok, err)
	}
	want := Exit{Run: 2, SupervisorPID: 42, StartedAt: testTime, Outcome: runtime.WaitOutcome{
		ExitCode: 137, Reason: runtime.ReasonOOMKilled, Signal: "SIGKILL", FinishedAt: testTime}}
	if err := WriteExit(dir, want); err != nil {
		t.Fatal(err)
	}
	if got, ok, err := ReadExit(dir); !ok || err != nil || got != want {
		t.Fatalf("ReadExit = %+v, %v, %v; want %+v", got, ok, err, want)
	}
}

// TestOldExitRecords reads exit records as earlier versions wrote them,
// by hand: a shim or a wasm host that outlived an upgrade still writes
// them, and a record already on disk stays there.
func TestOldExitRecords(t *testing.T) {
	for _, tc := range []struct {
		name, file string
		want       Exit
	}{
		{"shim: exited", `{"gen":1,"code":3,"finished_at":"2026-01-01T00:00:00.000000005Z"}`,
			Exit{Run: 1, Outcome: runtime.WaitOutcome{ExitCode: 3, Reason: runtime.ReasonExited, FinishedAt: testTime}}},
		{"shim: exited 0", `{"gen":4,"code":0,"finished_at":"2026-01-01T00:00:00.000000005Z"}`,
			Exit{Run: 4, Outcome: runtime.WaitOutcome{ExitCode: 0, Reason: runtime.ReasonExited, FinishedAt: testTime}}},
		{"shim: signal", `{"gen":2,"code":143,"signal":15,"finished_at":"2026-01-01T00:00:00.000000005Z"}`,
			Exit{Run: 2, Outcome: runtime.WaitOutcome{ExitCode: 143, Reason: runtime.ReasonSignal, Signal: "SIGTERM", FinishedAt: testTime}}},
		{"shim: oom", `{"gen":2,"code":137,"signal":9,"oom_killed":true,"finished_at":"2026-01-01T00:00:00.000000005Z"}`,
			Exit{Run: 2, Outcome: runtime.WaitOutcome{ExitCode: 137, Reason: runtime.ReasonOOMKilled, Signal: "SIGKILL", FinishedAt: testTime}}},
		{"shim: create failed", `{"gen":1,"code":255,"error":"runc create: exec: \"nope\": executable file not found in $PATH","finished_at":"2026-01-01T00:00:00.000000005Z"}`,
			Exit{Run: 1, Error: `runc create: exec: "nope": executable file not found in $PATH`, Outcome: runtime.WaitOutcome{
				ExitCode: 255, Reason: runtime.ReasonRuntimeError, Message: `runc create: exec: "nope": executable file not found in $PATH`, FinishedAt: testTime}}},
		{"wasm host", `{"run":3,"host_pid":42,"started_at":"2026-01-01T00:00:00.000000005Z","outcome":{"exit_code":255,"reason":"runtime_error","message":"wasm error: unreachable","finished_at":"2026-01-01T00:00:00.000000005Z"}}`,
			Exit{Run: 3, SupervisorPID: 42, StartedAt: testTime, Outcome: runtime.WaitOutcome{
				ExitCode: 255, Reason: runtime.ReasonRuntimeError, Message: "wasm error: unreachable", FinishedAt: testTime}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			mustWriteFile(t, filepath.Join(dir, ExitFile), tc.file)
			got, ok, err := ReadExit(dir)
			if !ok || err != nil || got != tc.want {
				t.Fatalf("ReadExit = %+v, %v, %v\nwant %+v", got, ok, err, tc.want)
			}
		})
	}
}

func TestBadExitRecords(t *testing.T) {
	for _, tc := range []struct{ name, file, saying string }{
		{"torn", `{"run":1,"outc`, "exit.json"},
		{"neither outcome nor generation", `{"run":1}`, "neither"},
		{"not an object", `[1]`, "exit.json"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			mustWriteFile(t, filepath.Join(dir, ExitFile), tc.file)
			if _, ok, err := ReadExit(dir); ok || err == nil || !strings.Contains(err.Error(), tc.saying) {
				t.Errorf("ReadExit = ok %v, %v; want an error saying %q", ok, err, tc.saying)
			}
		})
	}
}

func TestProcessOutcome(t *testing.T) {
	for _, tc := range []struct {
		name    string
		code    int
		signal  int
		oom     bool
		failure string
		want    runtime.WaitOutcome
	}{
		{"exited", 3, 0, false, "", runtime.WaitOutcome{ExitCode: 3, Reason: runtime.ReasonExited}},
		{"exited 137 by itself", 137, 0, false, "", runtime.WaitOutcome{ExitCode: 137, Reason: runtime.ReasonExited}},
		{"signal", 137, 9, false, "", runtime.WaitOutcome{ExitCode: 137, Reason: runtime.ReasonSignal, Signal: "SIGKILL"}},
		{"oom by a signal", 137, 9, true, "", runtime.WaitOutcome{ExitCode: 137, Reason: runtime.ReasonOOMKilled, Signal: "SIGKILL"}},
		{"oom, exited", 1, 0, true, "", runtime.WaitOutcome{ExitCode: 1, Reason: runtime.ReasonOOMKilled}},
		{"not run", 255, 0, false, "runc create: boom", runtime.WaitOutcome{ExitCode: 255, Reason: runtime.ReasonRuntimeError, Message: "runc create: boom"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.want.FinishedAt = testTime
			if got := ProcessOutcome(tc.code, tc.signal, tc.oom, tc.failure, testTime); got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}
