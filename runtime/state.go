package runtime

import (
	"fmt"
	"time"
)

// Status is the coarse state of a container.
type Status string

const (
	// StatusPending: created, not started yet.
	StatusPending Status = "pending"
	// StatusRunning: the workload's process (or instance) is running.
	StatusRunning Status = "running"
	// StatusStopping: a stop was asked for and the workload has not exited yet.
	StatusStopping Status = "stopping"
	// StatusExited: the workload ended; State.ExitCode holds its code.
	StatusExited Status = "exited"
	// StatusFailed: the workload could not run or its supervisor was lost;
	// State.Reason says why.
	StatusFailed Status = "failed"
	// StatusUnknown: the runtime that owns the container cannot be asked now
	// (a delegate that is down); the workload may well be running.
	// State.Reason says why.
	StatusUnknown Status = "unknown"
)

// State is a container's state: a Status plus, when exited, the exit code,
// and, when failed, the reason.
type State struct {
	Status   Status `json:"status"`
	ExitCode int    `json:"exit_code,omitempty"`
	Reason   string `json:"reason,omitempty"`
}

// String formats the state as people read it: "running", "exited(3)",
// "failed: shim lost".
func (s State) String() string {
	switch s.Status {
	case StatusExited:
		return fmt.Sprintf("exited(%d)", s.ExitCode)
	case StatusFailed, StatusUnknown:
		if s.Reason != "" {
			return string(s.Status) + ": " + s.Reason
		}
	}
	return string(s.Status)
}

// WaitCondition says what Waiter.WaitOutcome waits for.
type WaitCondition string

const (
	// WaitNotRunning returns at once if the container is not running, else
	// when it stops running. This is Docker's default.
	WaitNotRunning WaitCondition = "not-running"
	// WaitNextExit returns at the container's next exit, even if it is not
	// running yet (a created container that is started later).
	WaitNextExit WaitCondition = "next-exit"
	// WaitRemoved returns when the container has exited and been removed.
	WaitRemoved WaitCondition = "removed"
)

// ParseWaitCondition parses a wire string ("not-running", "next-exit",
// "removed"); "" means WaitNotRunning. The error wraps ErrInvalidArgument.
func ParseWaitCondition(s string) (WaitCondition, error) {
	switch c := WaitCondition(s); c {
	case "":
		return WaitNotRunning, nil
	case WaitNotRunning, WaitNextExit, WaitRemoved:
		return c, nil
	}
	return "", fmt.Errorf("wait condition %q: want not-running, next-exit or removed: %w", s, ErrInvalidArgument)
}

// ExitReason says why a workload ended.
type ExitReason string

const (
	// ReasonExited: the workload exited by itself with ExitCode.
	ReasonExited ExitReason = "exited"
	// ReasonSignal: the workload was ended by a signal (WaitOutcome.Signal).
	ReasonSignal ExitReason = "signal"
	// ReasonOOMKilled: the kernel killed the workload for exceeding its
	// memory limit (or a wasm module grew past its memory limit).
	ReasonOOMKilled ExitReason = "oom_killed"
	// ReasonRuntimeError: the runtime failed to run the workload (a trap,
	// an instantiation failure, a lost supervisor); Message says what.
	ReasonRuntimeError ExitReason = "runtime_error"
)

// WaitOutcome is how a workload ended.
type WaitOutcome struct {
	// ExitCode is the exit code as a shell reports it: 128+N for signal N.
	ExitCode int `json:"exit_code"`
	// Reason classifies the end.
	Reason ExitReason `json:"reason"`
	// Signal is the signal's name (SIGKILL) when Reason is ReasonSignal or
	// ReasonOOMKilled by a signal.
	Signal string `json:"signal,omitempty"`
	// Message explains a ReasonRuntimeError.
	Message string `json:"message,omitempty"`
	// FinishedAt is when the workload ended; zero when it is unknown.
	FinishedAt time.Time `json:"finished_at,omitzero"`
}

// OutcomeFromExitCode classifies a shell-style exit code: 128+N for a known
// signal N is ReasonSignal with that signal's name; anything else is
// ReasonExited.
func OutcomeFromExitCode(code int, finishedAt time.Time) WaitOutcome {
	o := WaitOutcome{ExitCode: code, Reason: ReasonExited, FinishedAt: finishedAt}
	if code > 128 {
		if sig := Signal(code - 128); sig.Valid() {
			o.Reason = ReasonSignal
			o.Signal = sig.String()
		}
	}
	return o
}
