package runc

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sys/unix"

	"github.com/switchyard/switchyard/internal/proc"
	"github.com/switchyard/switchyard/internal/statedir"
	"github.com/switchyard/switchyard/runtime"
)

// Files of a container's state directory written by the runtime besides the
// start record (statedir.StartFile); the shim writes those named in
// packages shim and statedir.
const (
	metaFile = "container.json"
	// creatingFile marks a container whose create has not finished.
	creatingFile = "creating"
	shimFile     = "shim.json"
	shimLogFile  = "shim.log"
)

// meta is what the runtime records at create; it changes only on rename.
type meta struct {
	ID          runtime.ContainerID `json:"id"`
	Key         string              `json:"key"`
	Image       string              `json:"image"`
	ImageDigest string              `json:"image_digest,omitempty"`
	Platform    ocispec.Platform    `json:"platform"`
	Created     time.Time           `json:"created"`
	Command     []string            `json:"command"`
	Env         []string            `json:"env"`
	Workdir     string              `json:"workdir"`
	Mounts      []runtime.Mount     `json:"mounts,omitempty"`
	Resources   runtime.Resources   `json:"resources"`
	Labels      map[string]string   `json:"labels,omitempty"`
	AutoRemove  bool                `json:"auto_remove,omitempty"`
	// NetworkMode is the resolved network mode (bridge, none, host or a
	// network's name); the attachment, if any, is in netFile.
	NetworkMode string `json:"network_mode,omitempty"`
	// Ports are the published ports, every host port chosen.
	Ports []runtime.PortMapping `json:"ports,omitempty"`
	// StopSignal is the signal Stop sends first; 0 is SIGTERM.
	StopSignal unix.Signal `json:"stop_signal,omitempty"`
	// User is the user the process runs as, as asked (empty: the image's).
	User string `json:"user,omitempty"`
	// Security is the confinement asked for.
	Security runtime.Security `json:"security,omitzero"`
	// TTY, OpenStdin and StdinOnce are the request's: a terminal, input
	// kept open, input that ends with its first client's.
	TTY       bool `json:"tty,omitempty"`
	OpenStdin bool `json:"open_stdin,omitempty"`
	StdinOnce bool `json:"stdin_once,omitempty"`
}

// shimRecord identifies the shim of the current run; start (the process's
// start time in clock ticks) tells it from a later process with its pid.
type shimRecord struct {
	PID   int    `json:"pid"`
	Start uint64 `json:"start"`
	Gen   uint64 `json:"gen"`
}

// writeJSON writes a record of the container atomically and durably: a
// container is started again after a crash of the machine, from what these
// records say.
func writeJSON(path string, v any) error { return statedir.WriteJSON(path, v) }

// readJSON decodes the record at path into v; a missing record is an error
// wrapping fs.ErrNotExist.
func readJSON(path string, v any) error {
	ok, err := statedir.ReadJSON(path, v)
	if err == nil && !ok {
		return fmt.Errorf("%s: %w", path, fs.ErrNotExist)
	}
	return err
}

// alive reports whether the shim of rec is still running.
func (rec shimRecord) alive() bool {
	if rec.PID <= 0 {
		return false
	}
	start, ok := proc.Start(rec.PID)
	return ok && start == rec.Start
}

// snapshot is a container's state as its files say at one moment.
type snapshot struct {
	dir     string
	meta    meta
	shim    shimRecord
	started *statedir.Start
	exit    *statedir.Exit // the exit of the current run, if it ended
	state   runtime.State
}

// load reads the container in dir and works out its state:
//   - the current run's exit is recorded: exited (failed if the shim could
//     not run it);
//   - its shim lives: running once started, else pending;
//   - neither: failed, the shim was lost.
func load(dir string) (*snapshot, error) {
	s := &snapshot{dir: dir}
	if err := readJSON(filepath.Join(dir, metaFile), &s.meta); err != nil {
		return nil, err
	}
	// The shim record is written atomically, not durably: one a crash of
	// the machine left torn is none (its shim is gone with the crash).
	if _, err := statedir.ReadJSONAtomic(filepath.Join(dir, shimFile), &s.shim); err != nil {
		return nil, err
	}
	if st, ok, err := statedir.ReadStart(dir); err == nil && ok && st.Run == s.shim.Gen {
		s.started = &st
	}
	s.readExit()
	if s.exit == nil {
		if s.shim.alive() {
			s.state = runtime.State{Status: runtime.StatusPending}
			if s.started != nil {
				s.state.Status = runtime.StatusRunning
			}
			return s, nil
		}
		// The shim may have written the exit just before it ended.
		s.readExit()
	}
	switch {
	case s.exit == nil && shimBeforeBoot(dir):
		// The shim record may be torn (it is not fsynced), so that the
		// run's own records do not match it: its file's time still says
		// the run began before the machine's boot.
		s.state = runtime.State{Status: runtime.StatusFailed, Reason: statedir.MachineRestarted}
	case s.exit == nil:
		s.state = runtime.State{Status: runtime.StatusFailed, Reason: "shim lost: its supervisor ended without recording an exit"}
	case s.exit.Error != "" && s.started == nil:
		s.state = runtime.State{Status: runtime.StatusFailed, Reason: s.exit.Error}
	default:
		s.state = runtime.State{Status: runtime.StatusExited, ExitCode: s.exit.Outcome.ExitCode}
	}
	return s, nil
}

// shimBeforeBoot reports whether the shim record in dir was written before
// the machine booted: its run was cut short by the restart.
func shimBeforeBoot(dir string) bool {
	fi, err := os.Stat(filepath.Join(dir, shimFile))
	return err == nil && proc.BeforeBoot(fi.ModTime())
}

func (s *snapshot) readExit() {
	e, ok, err := statedir.ReadExit(s.dir)
	if err == nil && ok && e.Run == s.shim.Gen {
		s.exit = &e
	}
}

// outcome is how the current run ended; ok is false while it has not.
func (s *snapshot) outcome() (runtime.WaitOutcome, bool) {
	if s.exit == nil {
		if s.state.Status == runtime.StatusFailed {
			return runtime.WaitOutcome{ExitCode: 255, Reason: runtime.ReasonRuntimeError, Message: s.state.Reason}, true
		}
		return runtime.WaitOutcome{}, false
	}
	return s.exit.Outcome, true
}

// running reports whether the workload may be running (or about to).
func (s *snapshot) running() bool {
	return s.state.Status == runtime.StatusRunning || s.state.Status == runtime.StatusStopping
}
