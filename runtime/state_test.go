package runtime

import (
	"errors"
	"testing"
	"time"
)

func TestOutcomeFromExitCode(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tc := range []struct {
		name   string
		code   int
		reason ExitReason
		signal string
	}{
		{"success", 0, ReasonExited, ""},
		{"plain failure", 3, ReasonExited, ""},
		{"128 is no signal", 128, ReasonExited, ""},
		{"SIGHUP", 129, ReasonSignal, "SIGHUP"},
		{"SIGKILL", 137, ReasonSignal, "SIGKILL"},
		{"SIGTERM", 143, ReasonSignal, "SIGTERM"},
		{"unknown signal 32", 160, ReasonExited, ""},
		{"realtime signal", 128 + 36, ReasonSignal, "SIGRTMIN+2"},
		{"255", 255, ReasonExited, ""},
		{"negative", -1, ReasonExited, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := OutcomeFromExitCode(tc.code, at)
			if o.ExitCode != tc.code || o.Reason != tc.reason || o.Signal != tc.signal || !o.FinishedAt.Equal(at) {
				t.Fatalf("OutcomeFromExitCode(%d) = %+v, want reason %s signal %q", tc.code, o, tc.reason, tc.signal)
			}
		})
	}
}

func TestParseWaitCondition(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    WaitCondition
		wantErr bool
	}{
		{"", WaitNotRunning, false},
		{"not-running", WaitNotRunning, false},
		{"next-exit", WaitNextExit, false},
		{"removed", WaitRemoved, false},
		{"Removed", "", true},
		{"not_running", "", true},
		{"exited", "", true},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseWaitCondition(tc.in)
			if tc.wantErr {
				if !errors.Is(err, ErrInvalidArgument) {
					t.Fatalf("ParseWaitCondition(%q) = %q, %v; want ErrInvalidArgument", tc.in, got, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("ParseWaitCondition(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
			}
		})
	}
}

func TestStateString(t *testing.T) {
	for _, tc := range []struct {
		s    State
		want string
	}{
		{State{Status: StatusPending}, "pending"},
		{State{Status: StatusRunning}, "running"},
		{State{Status: StatusStopping}, "stopping"},
		{State{Status: StatusExited}, "exited(0)"},
		{State{Status: StatusExited, ExitCode: 137}, "exited(137)"},
		{State{Status: StatusFailed, Reason: "shim lost"}, "failed: shim lost"},
		{State{Status: StatusFailed}, "failed"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			if got := tc.s.String(); got != tc.want {
				t.Fatalf("%+v.String() = %q, want %q", tc.s, got, tc.want)
			}
		})
	}
}
