package shim

import (
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/switchyard/switchyard/internal/inputframe"
)

// SocketPath is a path of dir's attach socket short enough for a unix
// socket address (108 bytes) whatever dir's length: through the open
// directory d, as /proc/self/fd/N/attach.sock.
func SocketPath(d *os.File) string {
	return "/proc/self/fd/" + strconv.Itoa(int(d.Fd())) + "/" + AttachSocket
}

// attachServer serves a running container's attach socket.
type attachServer struct {
	ln   *net.UnixListener
	dir  *os.File
	once bool // the input ends with the first client's

	mu    sync.Mutex
	input io.WriteCloser // nil once closed, or without input
	term  *os.File       // the terminal, to resize; nil without one
}

// serveAttach listens on dir's attach socket (removing a stale one) and
// serves it until close.
func serveAttach(dir string, input io.WriteCloser, once bool, term *os.File) (*attachServer, error) {
	d, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	path := SocketPath(d)
	os.Remove(path)
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		d.Close()
		return nil, fmt.Errorf("attach socket: %w", err)
	}
	ln.SetUnlinkOnClose(true)
	// Root's alone, whatever the umask: what is written there is the
	// container's input.
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		d.Close()
		return nil, fmt.Errorf("attach socket: %w", err)
	}
	a := &attachServer{ln: ln, dir: d, once: once, input: input, term: term}
	go a.accept()
	return a, nil
}

func (a *attachServer) accept() {
	for {
		conn, err := a.ln.AcceptUnix()
		if err != nil {
			return
		}
		go a.serve(conn)
	}
}

// serve reads one client's frames (package inputframe) until it goes.
func (a *attachServer) serve(conn *net.UnixConn) {
	defer conn.Close()
	fr := inputframe.NewReader(conn)
	for {
		kind, payload, err := fr.Next()
		if err != nil {
			return
		}
		switch kind {
		case inputframe.Input:
			a.mu.Lock()
			in := a.input
			a.mu.Unlock()
			if in != nil {
				// A full pipe blocks this client alone, as a slow reader
				// blocks docker's.
				_, _ = in.Write(payload)
			}
		case inputframe.Resize:
			if rows, cols, ok := inputframe.Size(payload); ok && a.term != nil {
				_ = SetSize(a.term, unix.Winsize{Row: rows, Col: cols})
			}
		case inputframe.End:
			// A terminal's input is never closed (as dockerd's): the next
			// client types into it too.
			if a.once && a.term == nil {
				a.closeInput()
			}
		}
	}
}

// closeInput closes the container's input: it reads end-of-file.
func (a *attachServer) closeInput() {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.input != nil && a.term == nil {
		a.input.Close()
	}
	a.input = nil
}

// close stops serving and closes the input.
func (a *attachServer) close() {
	a.ln.Close()
	a.closeInput()
	a.dir.Close()
}

// SetSize sets the size of the terminal f, without taking f out of the
// runtime's poller (as f.Fd would).
func SetSize(f *os.File, ws unix.Winsize) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var ierr error
	if err := rc.Control(func(fd uintptr) { ierr = unix.IoctlSetWinsize(int(fd), unix.TIOCSWINSZ, &ws) }); err != nil {
		return err
	}
	return ierr
}
