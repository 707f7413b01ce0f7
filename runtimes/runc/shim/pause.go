package shim

import (
	"errors"
	"os"
	"os/signal"

	"golang.org/x/sys/unix"
)

// PauseArg, as the shim's first argument, makes it a pod's PID namespace
// holder (Pause) in place of a container's supervisor. The words after it
// (the pod's directory) are for people reading ps; Pause ignores them.
const PauseArg = "pause"

// Pause is the life of a pod's PID namespace holder: the first process
// of the namespace the pod's containers share, started by the CRI front
// door with CLONE_NEWPID. As that namespace's init it reaps every process
// orphaned there, and it ends only by SIGKILL (the pod's stop), which
// ends the namespace and everything in it. It replaces the pause image a
// runtime would otherwise pull.
func Pause() int {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, unix.SIGCHLD, unix.SIGHUP, unix.SIGINT, unix.SIGTERM)
	for {
		var ws unix.WaitStatus
		_, err := unix.Wait4(-1, &ws, 0, nil)
		if err == nil || errors.Is(err, unix.EINTR) {
			continue
		}
		// No child now: wait for the next orphan's end (or any signal
		// but SIGKILL, which is ignored).
		<-sigs
	}
}
