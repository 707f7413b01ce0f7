package shim

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// File names in a container's state directory that the shim writes.
const (
	// ExitFile holds the Exit of the last run, written atomically.
	ExitFile = "exit.json"
	// LogFile is the container's log (package logfile's format).
	LogFile = "log.json"
	// InitPIDFile is runc's --pid-file: the container init's host pid.
	InitPIDFile = "init.pid"
	// RuncLogFile is runc's --log, in JSON lines.
	RuncLogFile = "runc.log"
)

// Exit is how one run of a container ended, as the shim records it.
type Exit struct {
	// Gen is the run's generation, as given to the shim (--gen).
	Gen int `json:"gen"`
	// Code is the exit code as a shell reports it: 128+N for signal N.
	Code int `json:"code"`
	// Signal is the signal number that ended init, 0 when it exited.
	Signal int `json:"signal,omitempty"`
	// OOMKilled is set when the kernel's OOM killer killed a process of the
	// container's cgroup during the run.
	OOMKilled bool `json:"oom_killed,omitempty"`
	// Error is set when the shim could not run or watch the container.
	Error string `json:"error,omitempty"`
	// FinishedAt is when the shim saw init end.
	FinishedAt time.Time `json:"finished_at"`
}

// ReadExit reads the exit record in dir. The error wraps fs.ErrNotExist
// when the run has not ended.
func ReadExit(dir string) (Exit, error) {
	var e Exit
	b, err := os.ReadFile(filepath.Join(dir, ExitFile))
	if err != nil {
		return e, err
	}
	if err := json.Unmarshal(b, &e); err != nil {
		return e, fmt.Errorf("exit record in %s: %w", dir, err)
	}
	return e, nil
}

// WriteFileAtomic writes data to path through a temporary file in the same
// directory and a rename, so that a reader sees the whole file or none.
func WriteFileAtomic(path string, data []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o640); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
