package cri

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/switchyard/switchyard/internal/proc"
	"github.com/switchyard/switchyard/runtime"
)

// WithPauseCommand sets the command of a pod's PID namespace holder (the
// shim's pause mode): the first process of the PID namespace a pod's
// containers share when the pod asks for one. Without it such a pod is
// refused.
func WithPauseCommand(argv ...string) Option {
	return func(o *options) error {
		if len(argv) == 0 {
			return fmt.Errorf("cri: pause command is empty: %w", runtime.ErrInvalidArgument)
		}
		o.pause = argv
		return nil
	}
}

// holder is a pod's PID namespace holder, known by its pid and its start
// time, so that a pid taken by another process after the holder's end is
// not mistaken for it.
type holder struct {
	PID   int    `json:"pid"`
	Start uint64 `json:"start"`
}

// startHolder starts the pod's PID namespace holder in a new PID
// namespace and session of its own: it outlives the agent, as the pod
// does.
func (s *Server) startHolder(podID string) (*holder, error) {
	if len(s.opts.pause) == 0 {
		return nil, fmt.Errorf("pod sandbox %s: a PID namespace shared by the pod needs the node's pause command, which this daemon was not given; ask for a PID namespace per container: %w", podID, runtime.ErrNotSupported)
	}
	// The pod's directory in its command line says whose it is, to a
	// person reading ps and to a cleanup that looks for the root's
	// processes.
	cmd := exec.Command(s.opts.pause[0], append(s.opts.pause[1:len(s.opts.pause):len(s.opts.pause)], "--pod", s.podDir(podID))...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Cloneflags: unix.CLONE_NEWPID}
	cmd.Dir = "/"
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("pod sandbox %s: PID namespace holder: %w", podID, err)
	}
	// Reaped here while this process lives; after an agent restart the
	// holder is init's child.
	go func() { _ = cmd.Wait() }()
	start, ok := proc.Start(cmd.Process.Pid)
	if !ok {
		_ = cmd.Process.Kill()
		return nil, fmt.Errorf("pod sandbox %s: PID namespace holder ended at its start: %w", podID, runtime.ErrUnavailable)
	}
	return &holder{PID: cmd.Process.Pid, Start: start}, nil
}

// alive reports whether the holder still runs.
func (h *holder) alive() bool {
	if h == nil || h.PID <= 0 {
		return false
	}
	start, ok := proc.Start(h.PID)
	return ok && start == h.Start
}

// nsPath is the holder's PID namespace, which the pod's containers join.
func (h *holder) nsPath() string { return "/proc/" + strconv.Itoa(h.PID) + "/ns/pid" }

// stop kills the holder, and with it every process of the pod's PID
// namespace. A holder gone already is fine. The signal goes through a
// pidfd taken before the holder is checked, so a pid reused after the
// check cannot receive it.
func (h *holder) stop() {
	if h == nil || h.PID <= 0 {
		return
	}
	fd, err := unix.PidfdOpen(h.PID, 0)
	if err != nil {
		return // gone
	}
	defer unix.Close(fd)
	if h.alive() {
		_ = unix.PidfdSendSignal(fd, unix.SIGKILL, nil, 0)
	}
}

// killHolders kills the pause holders whose command line names podDir
// (--pod podDir): one the agent started and then ended before recording.
func killHolders(podDir string) {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return
	}
	want := []byte("\x00--pod\x00" + podDir + "\x00")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err != nil || !bytes.Contains(b, want) {
			continue
		}
		if start, ok := proc.Start(pid); ok {
			(&holder{PID: pid, Start: start}).stop()
		}
	}
}
