package statedir

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/switchyard/switchyard/runtime"
)

// The files of a state directory that this protocol defines.
const (
	// StartFile holds the Start of the latest run.
	StartFile = "start.json"
	// ExitFile holds the Exit of the latest run that ended.
	ExitFile = "exit.json"
	// LogFile is the workload's output, one JSON object a line (package
	// logfile's format).
	LogFile = "log.json"

	// legacyStartFile is where the runc runtime recorded a start before
	// StartFile, as {gen, at}.
	legacyStartFile = "started.json"
)

// Start records that a run was started.
type Start struct {
	// Run numbers the runs of one workload, from 1; the exit record of the
	// same run carries the same number.
	Run uint64 `json:"run"`
	// SupervisorPID is the process id of the supervisor of the run (the
	// runc shim, the wasm host), 0 when unknown. It is "host_pid" on the
	// wire, the name the wasm host's records gave it first.
	SupervisorPID int `json:"host_pid,omitempty"`
	// StartedAt is when the workload was started.
	StartedAt time.Time `json:"started_at"`
}

// Exit records how a run ended.
type Exit struct {
	// Run is the number of the run that ended (Start.Run).
	Run uint64 `json:"run"`
	// SupervisorPID is the process id of the supervisor that wrote the
	// record, 0 when unknown ("host_pid" on the wire, as in Start).
	SupervisorPID int `json:"host_pid,omitempty"`
	// StartedAt is when the run was started, when the supervisor knows it.
	StartedAt time.Time `json:"started_at,omitzero"`
	// Outcome is how the workload ended, as Waiter.WaitOutcome reports it.
	Outcome runtime.WaitOutcome `json:"outcome"`
	// Error is set when the supervisor itself failed to run or watch the
	// workload (runc create failed, the init vanished); Outcome then says
	// ReasonRuntimeError with the same message.
	Error string `json:"error,omitempty"`
	// LogsDropped counts the log lines of the run lost because the disk
	// was full.
	LogsDropped int64 `json:"logs_dropped,omitempty"`
}

// WriteStart records start in dir, atomically but not durably
// (WriteJSONAtomic): after a crash of the machine the run is over, whatever
// its start record says, and a start record that does not decode is read
// as none (ReadStart).
func WriteStart(dir string, start Start) error {
	return WriteJSONAtomic(filepath.Join(dir, StartFile), start)
}

// ReadStart reads dir's start record; ok is false when there is none, or
// none that decodes (WriteStart). A start recorded by an earlier runc
// runtime (started.json) is read too, when there is no StartFile.
func ReadStart(dir string) (start Start, ok bool, err error) {
	if ok, err := ReadJSONAtomic(filepath.Join(dir, StartFile), &start); ok || err != nil {
		return start, ok, err
	}
	var legacy struct {
		Gen uint64    `json:"gen"`
		At  time.Time `json:"at"`
	}
	ok, err = ReadJSON(filepath.Join(dir, legacyStartFile), &legacy)
	return Start{Run: legacy.Gen, StartedAt: legacy.At}, ok, err
}

// reserveFile holds the room an exit record needs, taken while the disk
// had room (ReserveExit), for a supervisor to write the exit into when the
// disk is full.
const reserveFile = "exit.reserve"

// reserveSize is the room ReserveExit takes: an exit record is a few
// hundred bytes; its message is cut to fit.
const reserveSize = 4096

// ReserveExit takes, in dir, the room the exit record of a run will need,
// so that WriteExit can record the exit even when the disk has filled up
// meanwhile (a workload that writes until ENOSPC). A supervisor calls it
// before it starts the workload. The room an earlier run took and did not
// use is kept as it is (its blocks are allocated already), so a restart
// writes nothing.
func ReserveExit(dir string) error {
	path := filepath.Join(dir, reserveFile)
	if fi, err := os.Stat(path); err == nil && fi.Mode().IsRegular() && fi.Size() == reserveSize {
		return nil
	}
	// The room is what matters, not that the file outlives a crash of
	// the machine: the filesystem counts the blocks as taken when they
	// are written (delayed allocation reserves them then).
	return WriteFileAtomic(path, make([]byte, reserveSize))
}

// WriteExit records exit in dir (WriteJSON), replacing the exit of an
// earlier run. When the disk is full, it writes the record into the room
// ReserveExit took (and renames that into place), so the exit is not lost.
func WriteExit(dir string, exit Exit) error {
	return writeExit(dir, exit, true)
}

// WriteExitAtomic is WriteExit without the fsyncs (WriteJSONAtomic), for an
// exit that a crash of the machine makes moot: that of a container removed
// as soon as it has exited.
func WriteExitAtomic(dir string, exit Exit) error {
	return writeExit(dir, exit, false)
}

func writeExit(dir string, exit Exit, durable bool) error {
	write := WriteJSON
	if !durable {
		write = WriteJSONAtomic
	}
	err := write(filepath.Join(dir, ExitFile), exit)
	if err == nil || runtime.KindOf(err) != runtime.ErrResourceExhausted {
		return err
	}
	if rerr := writeReserved(dir, exit); rerr != nil {
		return fmt.Errorf("%w (and the reserved room: %w)", err, rerr)
	}
	return nil
}

// writeReserved overwrites the reserved file in place (no new blocks) with
// exit, cut to the reserved size, and renames it over the exit record.
func writeReserved(dir string, exit Exit) error {
	b, err := json.Marshal(exit)
	for len(b) > reserveSize && err == nil {
		// A long message is what can make it large.
		exit.Error = exit.Error[:len(exit.Error)/2]
		exit.Outcome.Message = exit.Outcome.Message[:len(exit.Outcome.Message)/2]
		b, err = json.Marshal(exit)
	}
	if err != nil {
		return err
	}
	path := filepath.Join(dir, reserveFile)
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	_, err = f.WriteAt(b, 0)
	if err == nil {
		err = f.Truncate(int64(len(b)))
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err := os.Rename(path, filepath.Join(dir, ExitFile)); err != nil {
		return err
	}
	return syncPath(dir)
}

// ReadExit reads dir's exit record; ok is false when there is none. The
// record of an earlier runc shim ({gen, code, signal, oom_killed, error,
// finished_at}) is read into the same shape.
func ReadExit(dir string) (exit Exit, ok bool, err error) {
	var w exitWire
	path := filepath.Join(dir, ExitFile)
	if ok, err := ReadJSON(path, &w); !ok || err != nil {
		return Exit{}, ok, err
	}
	switch {
	case w.Outcome.Reason != "":
		return w.Exit, true, nil
	case w.Gen != nil:
		x := Exit{Run: *w.Gen, Error: w.Error,
			Outcome: ProcessOutcome(w.Code, w.Signal, w.OOMKilled, w.Error, w.FinishedAt)}
		return x, true, nil
	}
	return Exit{}, false, fmt.Errorf("%s: an exit record with neither an outcome nor a generation", path)
}

// exitWire is what an exit record may hold: an Exit, or the fields of the
// runc shim's earlier record.
type exitWire struct {
	Exit
	Gen        *uint64   `json:"gen"`
	Code       int       `json:"code"`
	Signal     int       `json:"signal"`
	OOMKilled  bool      `json:"oom_killed"`
	FinishedAt time.Time `json:"finished_at"`
}

// ProcessOutcome is how a process ended: with code (128+N when signal N
// ended it, which signal says, 0 when it exited), killed for memory
// (oomKilled), or not run or watched at all (a non-empty failure, which
// wins).
func ProcessOutcome(code, signal int, oomKilled bool, failure string, finishedAt time.Time) runtime.WaitOutcome {
	// In UTC: the record needs no time zone, and a writer that formats
	// local time reads the zone database first (the shim, on its exit).
	o := runtime.WaitOutcome{ExitCode: code, Reason: runtime.ReasonExited, FinishedAt: finishedAt.UTC()}
	if signal > 0 {
		o.Reason, o.Signal = runtime.ReasonSignal, runtime.Signal(signal).String()
	}
	if oomKilled {
		o.Reason = runtime.ReasonOOMKilled
	}
	if failure != "" {
		o.Reason, o.Message = runtime.ReasonRuntimeError, failure
	}
	return o
}

// MachineRestarted is the message of a run's end that was never recorded
// because the machine stopped while it ran (its records are from before
// the boot).
const MachineRestarted = "the machine restarted while it ran: no exit was recorded"
