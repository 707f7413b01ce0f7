package shim

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// consoleTimeout bounds the wait for runc to hand over the terminal.
const consoleTimeout = 10 * time.Second

// console is the socket runc sends a container's terminal to (its
// --console-socket): an abstract unix socket, so that no path length or
// leftover file is in the way.
type console struct {
	ln     *net.UnixListener
	path   string
	master chan consoleResult
}

type consoleResult struct {
	f   *os.File
	err error
}

// listenConsole opens the socket and starts waiting for the terminal.
func listenConsole() (*console, error) {
	var rnd [8]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return nil, err
	}
	path := "@switchyard-console-" + hex.EncodeToString(rnd[:])
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("console socket: %w", err)
	}
	c := &console{ln: ln, path: path, master: make(chan consoleResult, 1)}
	go func() { c.master <- c.accept() }()
	return c, nil
}

// accept takes runc's connection and the terminal's master end from it.
func (c *console) accept() consoleResult {
	_ = c.ln.SetDeadline(time.Now().Add(consoleTimeout))
	conn, err := c.ln.AcceptUnix()
	if err != nil {
		return consoleResult{err: fmt.Errorf("console socket: %w", err)}
	}
	defer conn.Close()
	buf, oob := make([]byte, 4096), make([]byte, unix.CmsgSpace(4))
	_, oobn, _, _, err := conn.ReadMsgUnix(buf, oob)
	if err != nil {
		return consoleResult{err: fmt.Errorf("console socket: %w", err)}
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(msgs) != 1 {
		return consoleResult{err: fmt.Errorf("console socket: no terminal in runc's message: %v", err)}
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != 1 {
		return consoleResult{err: fmt.Errorf("console socket: no terminal in runc's message: %v", err)}
	}
	return consoleResult{f: os.NewFile(uintptr(fds[0]), "terminal")}
}

// wait returns the terminal runc sent, and closes the socket.
func (c *console) wait() (*os.File, error) {
	defer c.ln.Close()
	r := <-c.master
	return r.f, r.err
}

// close ends the wait of a console that will not be used.
func (c *console) close() {
	c.ln.Close()
	if r := <-c.master; r.f != nil {
		r.f.Close()
	}
}

// ttyReader reads a terminal's master end, taking EIO (every slave end
// closed: the container's processes are gone) as the end.
type ttyReader struct{ f *os.File }

func (t ttyReader) Read(p []byte) (int, error) {
	n, err := t.f.Read(p)
	if errors.Is(err, unix.EIO) {
		return n, io.EOF
	}
	return n, err
}
