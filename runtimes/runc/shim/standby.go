package shim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// StandbyArg, as the shim's first argument, makes it a standby: a shim
// started ahead of the container it will supervise, so that a create does
// not wait for a process to start and the Go runtime to initialise (about
// 2 ms). It waits on ReadyFD, a unix stream socket, for its assignment
// (Assign): the arguments a shim is started with, its log file and the
// sockets it holds; then it is that container's shim, and reports on the
// same socket. A standby whose socket ends unassigned (its agent went
// away) exits quietly. The words after StandbyArg are not read: they say,
// in a process listing, whose standby it is.
const StandbyArg = "standby"

// maxAssignment bounds an assignment's arguments.
const maxAssignment = 1 << 20

// maxAssignedFiles is how many files an assignment can carry (the log file
// and the held sockets): the kernel passes at most 253 in one message.
const maxAssignedFiles = 253

// assignment is what a standby is told.
type assignment struct {
	// Args are the arguments a shim started for the container gets,
	// without --held-fds: the held sockets come with the assignment.
	Args []string `json:"args"`
}

// Assign hands a standby, through conn (the runtime's end of its socket),
// the container to supervise: args, as a shim started for it would get
// them; the log file for the shim's own messages (its stdout and stderr);
// and held, the sockets it keeps open until it ends. The files stay the
// caller's to close. conn is non-blocking (the runtime's poller waits on
// it); after Assign it carries the shim's ready report.
func Assign(conn *os.File, args []string, log *os.File, held []*os.File) error {
	if 1+len(held) > maxAssignedFiles {
		return fmt.Errorf("assign a standby shim: %d files, at most %d", 1+len(held), maxAssignedFiles)
	}
	b, err := json.Marshal(assignment{Args: args})
	if err != nil {
		return err
	}
	if len(b) >= maxAssignment {
		return fmt.Errorf("assign a standby shim: %d bytes of arguments, at most %d", len(b), maxAssignment)
	}
	fds := []int{int(log.Fd())}
	for _, f := range held {
		fds = append(fds, int(f.Fd()))
	}
	rc, err := conn.SyscallConn()
	if err != nil {
		return err
	}
	// One message, the files with its first byte; a socket that takes it
	// in parts gets the rest when it has room.
	msg := append(b, '\n')
	rights := unix.UnixRights(fds...)
	var serr error
	err = rc.Write(func(fd uintptr) bool {
		for len(msg) > 0 {
			var n int
			if rights != nil {
				n, serr = unix.SendmsgN(int(fd), msg, rights, nil, 0)
			} else {
				n, serr = unix.Write(int(fd), msg)
			}
			if serr == unix.EAGAIN {
				serr = nil
				return false
			}
			if serr != nil {
				return true
			}
			rights, msg = nil, msg[n:]
		}
		return true
	})
	if err == nil {
		err = serr
	}
	if err != nil {
		return fmt.Errorf("assign a standby shim: %w", err)
	}
	return nil
}

// errUnassigned is a standby's socket ending before an assignment.
var errUnassigned = errors.New("the standby's socket ended unassigned")

// awaitAssignment reads the assignment from ReadyFD. It makes the log
// file the process's stdout and stderr and returns the arguments; the held
// sockets stay open, close-on-exec, for the life of the process.
func awaitAssignment() ([]string, error) {
	var (
		data []byte
		fds  []int
	)
	buf := make([]byte, 4096)
	oob := make([]byte, unix.CmsgSpace(maxAssignedFiles*4))
	for !bytes.Contains(data, []byte{'\n'}) {
		n, oobn, _, _, err := unix.Recvmsg(ReadyFD, buf, oob, unix.MSG_CMSG_CLOEXEC)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, err
		}
		if oobn > 0 {
			msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
			if err != nil {
				return nil, err
			}
			for _, m := range msgs {
				got, err := unix.ParseUnixRights(&m)
				if err != nil {
					return nil, err
				}
				fds = append(fds, got...)
			}
		}
		if n == 0 {
			return nil, errUnassigned
		}
		data = append(data, buf[:n]...)
		if len(data) > maxAssignment {
			return nil, fmt.Errorf("assignment longer than %d bytes", maxAssignment)
		}
	}
	var a assignment
	if err := json.Unmarshal(data, &a); err != nil {
		return nil, fmt.Errorf("assignment: %w", err)
	}
	if len(fds) == 0 {
		return nil, errors.New("assignment without its log file")
	}
	// The log file becomes stdout and stderr; the held sockets are kept
	// as bare descriptors (no *os.File whose finalizer would close them).
	for _, to := range []int{1, 2} {
		if err := unix.Dup3(fds[0], to, 0); err != nil {
			return nil, fmt.Errorf("assignment: log file: %w", err)
		}
	}
	unix.Close(fds[0])
	return a.Args, nil
}
