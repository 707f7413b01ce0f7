package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"

	"github.com/spf13/cobra"
)

// daemonBinary is the agent's own binary, installed beside switchyard: the
// CLI links only what a client needs, so every command starts fast, and
// `switchyard daemon` becomes the agent by executing it.
const daemonBinary = "switchyard-daemon"

// newDaemonCmd is `switchyard daemon`: it replaces this process with the
// daemon binary and the same arguments, so signals, the pid and the exit
// code are the agent's own.
func newDaemonCmd() *cobra.Command {
	return &cobra.Command{
		Use:                "daemon [flags]",
		Short:              "Run the switchyard agent: serve the API and supervise workloads (switchyard daemon --help for its flags)",
		DisableFlagParsing: true,
		RunE: func(_ *cobra.Command, args []string) error {
			bin, err := findDaemon()
			if err != nil {
				return err
			}
			return syscall.Exec(bin, append([]string{bin}, args...), os.Environ())
		},
	}
}

// findDaemon looks for the daemon binary beside this one, then on PATH.
func findDaemon() (string, error) {
	if self, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(self), daemonBinary)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	p, err := exec.LookPath(daemonBinary)
	if err == nil {
		return p, nil
	}
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, exec.ErrNotFound) {
		return "", fmt.Errorf("the agent is the %s binary, and it is neither beside this switchyard nor on PATH: build it with go build -o DIR ./cmd/%s into the directory of switchyard", daemonBinary, daemonBinary)
	}
	return "", err
}
