package host

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/switchyard/switchyard/runtime"
)

// Names of the files the host keeps in its root and in an instance's state
// directory.
const (
	// SocketName is the host's unix socket in the root.
	SocketName = "host.sock"
	// LockName is the lock file a running host holds for its whole life.
	LockName = "host.lock"
	// PIDName holds the running host's process id, for people and tests.
	PIDName = "host.pid"
	// CacheDir is wazero's compilation cache under the root.
	CacheDir = "cache"

	// StartFile records the instance's latest start (StartRecord).
	StartFile = "start.json"
	// ExitFile records the instance's latest exit (ExitRecord).
	ExitFile = "exit.json"
	// LogFile is the instance's output, one runtime.LogEntry a line.
	LogFile = "log.json"
)

// Module names a module file and the digest it must have.
type Module struct {
	// Path is the module's file on the host.
	Path string `json:"path"`
	// Digest is "sha256:<hex>" of the file; compiled code is shared by it.
	Digest string `json:"digest"`
}

// Mount is a host directory preopened for an instance.
type Mount struct {
	// HostPath is the directory on the host.
	HostPath string `json:"host_path"`
	// GuestPath is where the module sees it (absolute).
	GuestPath string `json:"guest_path"`
	// ReadOnly refuses writes through this mount.
	ReadOnly bool `json:"read_only,omitempty"`
}

// StartRequest asks the host to run a module once.
type StartRequest struct {
	// Key identifies the instance for its whole life (it survives renames).
	Key string `json:"key"`
	// Name is the container's name, for the host's own log.
	Name string `json:"name"`
	// Module is the module to run.
	Module Module `json:"module"`
	// Args is argv; Args[0] is the module's name.
	Args []string `json:"args"`
	// Env is KEY=VALUE.
	Env []string `json:"env,omitempty"`
	// Mounts are preopened, longest guest path wins as usual in WASI libcs.
	Mounts []Mount `json:"mounts,omitempty"`
	// StateDir receives StartFile, ExitFile and LogFile.
	StateDir string `json:"state_dir"`
	// MemoryLimit is the linear memory limit in bytes; 0 means none.
	MemoryLimit uint64 `json:"memory_limit,omitempty"`
	// Run numbers the starts of one instance; the exit record carries it so
	// that a reader can tell a stale exit from the current one.
	Run uint64 `json:"run"`
}

// Status is what the host knows about one instance.
type Status struct {
	Key string `json:"key"`
	Run uint64 `json:"run"`
	// Running is true until the exit record is written.
	Running bool `json:"running"`
	// Stopping is true once a stop or kill was asked for.
	Stopping bool `json:"stopping,omitempty"`
	// MemoryBytes is the size of the instance's linear memory.
	MemoryBytes uint64    `json:"memory_bytes"`
	StartedAt   time.Time `json:"started_at"`
}

// Info describes the host process.
type Info struct {
	PID int `json:"pid"`
	// Instances counts the instances the host knows (running or not).
	Instances int `json:"instances"`
	// Running counts the running instances.
	Running int `json:"running"`
	// Modules counts the compiled modules kept in memory.
	Modules int `json:"modules"`
	// Compiles counts compilations (disk cache loads included) since the
	// host started, and CompileTime is their total duration.
	Compiles    uint64        `json:"compiles"`
	CompileTime time.Duration `json:"compile_time"`
}

// SignalRequest asks the host to end an instance.
type SignalRequest struct {
	// Signal is SIGKILL, SIGTERM or SIGINT; a module cannot catch signals,
	// so each cancels the instance, and the exit reports the signal.
	Signal string `json:"signal"`
}

// StartRecord is StartFile's content.
type StartRecord struct {
	Run       uint64    `json:"run"`
	HostPID   int       `json:"host_pid"`
	StartedAt time.Time `json:"started_at"`
}

// ExitRecord is ExitFile's content.
type ExitRecord struct {
	Run       uint64              `json:"run"`
	HostPID   int                 `json:"host_pid"`
	StartedAt time.Time           `json:"started_at,omitzero"`
	Outcome   runtime.WaitOutcome `json:"outcome"`
}

// WriteStart records a start in dir, atomically.
//
// Start and exit records are renamed into place but not fsynced: they must
// survive the death of the agent or the host (the page cache does), not a
// machine crash, after which no instance is running anyway and a missing
// exit is reported as the host's loss. Two fsyncs per run would double the
// cost of a short-lived instance.
func WriteStart(dir string, rec StartRecord) error {
	return writeAtomic(filepath.Join(dir, StartFile), rec, false)
}

// ReadStart reads dir's start record; ok is false when there is none.
func ReadStart(dir string) (rec StartRecord, ok bool, err error) {
	ok, err = readJSON(filepath.Join(dir, StartFile), &rec)
	return rec, ok, err
}

// WriteExit records an exit in dir, atomically, replacing an older one
// (see WriteStart on durability).
func WriteExit(dir string, rec ExitRecord) error {
	return writeAtomic(filepath.Join(dir, ExitFile), rec, false)
}

// RecordLost records that run ended without an exit record because its host
// went away, unless an exit record for run appeared meanwhile (the host may
// have written it at the last moment). It returns the record that holds.
func RecordLost(dir string, run uint64, hostPID int, startedAt time.Time) (ExitRecord, error) {
	if rec, ok, err := ReadExit(dir); err != nil || ok && rec.Run >= run {
		return rec, err
	}
	rec := ExitRecord{Run: run, HostPID: hostPID, StartedAt: startedAt, Outcome: runtime.WaitOutcome{
		ExitCode:   255,
		Reason:     runtime.ReasonRuntimeError,
		Message:    fmt.Sprintf("wasm host exited (pid %d) while the module was running", hostPID),
		FinishedAt: time.Now().UTC(),
	}}
	// The host is gone, so no one else writes this run's record; a
	// concurrent reader that also found it lost writes the same verdict.
	return rec, WriteExit(dir, rec)
}

// ReadExit reads dir's exit record; ok is false when there is none.
func ReadExit(dir string) (rec ExitRecord, ok bool, err error) {
	ok, err = readJSON(filepath.Join(dir, ExitFile), &rec)
	return rec, ok, err
}

// writeAtomic writes v as JSON to a temporary file beside path and renames
// it over path, so a reader sees the old record or the new one, never half.
func writeAtomic(path string, v any, sync bool) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	_, err = tmp.Write(b)
	if err == nil && sync {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// WriteJSON writes v to path atomically (temporary file and rename) and
// durably (fsynced): it is for records written once, like a container's.
func WriteJSON(path string, v any) error { return writeAtomic(path, v, true) }

// readJSON decodes path into v; a missing file is ok=false without error.
func readJSON(path string, v any) (bool, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return false, fmt.Errorf("%s: %w", path, err)
	}
	return true, nil
}

// ReadJSON decodes the JSON file at path into v; ok is false when the file
// does not exist.
func ReadJSON(path string, v any) (ok bool, err error) { return readJSON(path, v) }
