package runc

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"

	"github.com/switchyard/switchyard/internal/inputframe"
	"github.com/switchyard/switchyard/runtime"
	"github.com/switchyard/switchyard/runtimes/runc/shim"
)

var _ runtime.Attacher = (*Runtime)(nil)

// dialAttach connects to the shim's attach socket of the running
// container id; what says it takes no input or has no terminal is want's
// absence.
func (r *Runtime) dialAttach(ctx context.Context, id runtime.ContainerID, want string) (net.Conn, error) {
	s, err := r.get(id)
	if err != nil {
		return nil, err
	}
	if st := s.state.Status; st != runtime.StatusPending && st != runtime.StatusRunning {
		return nil, fmt.Errorf("container %s is %s: attach needs a created or running container: %w", id, s.state, runtime.ErrFailedPrecondition)
	}
	if _, err := os.Stat(filepath.Join(s.dir, want)); err != nil {
		what := map[string]string{shim.StdinFile: "takes no input: make it with -i (OpenStdin)", shim.TTYFile: "has no terminal: make it with -t"}[want]
		return nil, fmt.Errorf("container %s %s: %w", id, what, runtime.ErrFailedPrecondition)
	}
	d, err := os.Open(s.dir)
	if err != nil {
		return nil, fmt.Errorf("container %s: attach: %w", id, err)
	}
	defer d.Close()
	var dialer net.Dialer
	conn, err := dialer.DialContext(ctx, "unix", shim.SocketPath(d))
	if err != nil {
		return nil, fmt.Errorf("container %s: attach: its supervisor does not answer (%v): %w", id, err, runtime.ErrUnavailable)
	}
	return conn, nil
}

// AttachStdin implements runtime.Attacher through the shim's attach
// socket. A created container takes input before its start: what is
// written waits in its input until it reads.
func (r *Runtime) AttachStdin(ctx context.Context, id runtime.ContainerID) (io.WriteCloser, error) {
	conn, err := r.dialAttach(ctx, id, shim.StdinFile)
	if err != nil {
		return nil, err
	}
	return inputframe.NewWriter(conn), nil
}

// ResizeTerminal implements runtime.Attacher.
func (r *Runtime) ResizeTerminal(ctx context.Context, id runtime.ContainerID, rows, cols uint16) error {
	if rows == 0 || cols == 0 {
		return fmt.Errorf("container %s: resize to %dx%d: want rows and columns above 0: %w", id, rows, cols, runtime.ErrInvalidArgument)
	}
	conn, err := r.dialAttach(ctx, id, shim.TTYFile)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.Write(inputframe.AppendResize(nil, rows, cols)); err != nil {
		return fmt.Errorf("container %s: resize: %w", id, err)
	}
	return nil
}
