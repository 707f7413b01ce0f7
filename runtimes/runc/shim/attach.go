package shim

import (
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"sync"

	"golang.org/x/sys/unix"
)

// The kinds of frame a client sends on the attach socket: a header of the
// kind (1 byte) and the payload's length (4 bytes, big-endian), then the
// payload.
const (
	// FrameInput carries bytes for the container's standard input.
	FrameInput byte = iota
	// FrameResize carries the terminal's new size: rows and columns, 2
	// bytes each, big-endian.
	FrameResize
	// FrameEnd says the client's input has ended: a container whose input
	// ends with its first client's (StdinFile "once") reads end-of-file.
	FrameEnd
)

// maxFrame bounds a frame's payload.
const maxFrame = 1 << 20

// AppendFrame appends a frame of kind with payload to b.
func AppendFrame(b []byte, kind byte, payload []byte) []byte {
	b = append(b, kind, 0, 0, 0, 0)
	binary.BigEndian.PutUint32(b[len(b)-4:], uint32(len(payload)))
	return append(b, payload...)
}

// ResizePayload is a FrameResize payload.
func ResizePayload(rows, cols uint16) []byte {
	return binary.BigEndian.AppendUint16(binary.BigEndian.AppendUint16(nil, rows), cols)
}

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

// serve reads one client's frames until it goes.
func (a *attachServer) serve(conn *net.UnixConn) {
	defer conn.Close()
	var hdr [5]byte
	buf := make([]byte, 0, 4096)
	for {
		if _, err := io.ReadFull(conn, hdr[:]); err != nil {
			return
		}
		n := binary.BigEndian.Uint32(hdr[1:])
		if n > maxFrame {
			return
		}
		if cap(buf) < int(n) {
			buf = make([]byte, n)
		}
		payload := buf[:n]
		if _, err := io.ReadFull(conn, payload); err != nil {
			return
		}
		switch hdr[0] {
		case FrameInput:
			a.mu.Lock()
			in := a.input
			a.mu.Unlock()
			if in != nil {
				// A full pipe blocks this client alone, as a slow reader
				// blocks docker's.
				_, _ = in.Write(payload)
			}
		case FrameResize:
			if len(payload) == 4 && a.term != nil {
				ws := unix.Winsize{Row: binary.BigEndian.Uint16(payload), Col: binary.BigEndian.Uint16(payload[2:])}
				_ = SetSize(a.term, ws)
			}
		case FrameEnd:
			if a.once {
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
