package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/switchyard/switchyard/runtime"
)

// ListenUnix listens on a unix socket at path with the given mode (the
// daemon uses 0660), creating the parent directory. A socket file left by
// a daemon that died is replaced; a socket a live daemon answers on is
// refused with runtime.ErrAlreadyExists, so two daemons never share one
// socket. The socket file is removed when the listener is closed.
func ListenUnix(path string, mode fs.FileMode) (net.Listener, error) {
	ln, err := listenUnix(path, mode)
	if err != nil {
		return nil, err
	}
	return LimitConns(ln, MaxConns, MaxConnsPerClient), nil
}

// ListenUnixGRPC is ListenUnix for a gRPC server (the CRI): a connection
// over a limit is closed without an answer, since a gRPC client could not
// read an HTTP/1.1 one, and the limits are wider, since gRPC clients keep
// their connections (critest opens two per spec and closes none).
func ListenUnixGRPC(path string, mode fs.FileMode) (net.Listener, error) {
	ln, err := listenUnix(path, mode)
	if err != nil {
		return nil, err
	}
	return limitConnsSilent(ln, MaxGRPCConns, MaxGRPCConnsPerClient), nil
}

// MaxGRPCConns and MaxGRPCConnsPerClient are ListenUnixGRPC's limits.
const (
	MaxGRPCConns          = 4096
	MaxGRPCConnsPerClient = 2048
)

func listenUnix(path string, mode fs.FileMode) (net.Listener, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("socket %s: %w", path, err)
	}
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode().Type() != fs.ModeSocket {
			return nil, fmt.Errorf("socket %s: the path exists and is not a socket; remove it or choose another path: %w", path, runtime.ErrAlreadyExists)
		}
		conn, err := net.Dial("unix", path)
		if err == nil {
			conn.Close()
			return nil, fmt.Errorf("socket %s: another daemon is listening on it; stop it or choose another socket: %w", path, runtime.ErrAlreadyExists)
		}
		if !errors.Is(err, syscall.ECONNREFUSED) {
			return nil, fmt.Errorf("socket %s: %w", path, err)
		}
		// Nobody answers: a stale socket from a daemon that died.
		if err := os.Remove(path); err != nil {
			return nil, fmt.Errorf("socket %s: removing the stale socket: %w", path, err)
		}
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("socket %s: %w", path, err)
	}
	if err := os.Chmod(path, mode); err != nil {
		ln.Close()
		return nil, fmt.Errorf("socket %s: %w", path, err)
	}
	return ln, nil
}

// MaxConns is how many connections ListenUnix and ListenTCP keep open at
// once: well under the usual file-descriptor limit's share of a daemon that
// also holds logs, sockets and stores.
const MaxConns = 512

// MaxConnsPerClient is how many of them one client may hold: a client is
// a process on the unix socket (its peer pid) and a remote address over
// TCP. One client that leaks connections then fails alone, and the others
// still get in.
const MaxConnsPerClient = 128

// LimitConns wraps ln so that at most n of its connections are open at
// once, and at most perClient of one client (0: no bound per client). A
// connection over a limit is answered at once with 503 and closed, rather
// than left waiting or using up the process's file descriptors: a client
// that opens connections and never closes them can make itself fail, not
// the daemon.
func LimitConns(ln net.Listener, n, perClient int) net.Listener {
	return &limitListener{Listener: ln, slots: make(chan struct{}, n), perClient: perClient,
		byClient: map[string]int{}, refusing: make(chan struct{}, maxRefusing)}
}

// limitConnsSilent is LimitConns for clients that could not read a plain
// HTTP answer (below a TLS listener, a gRPC server): a connection over a
// limit is closed at once.
func limitConnsSilent(ln net.Listener, n, perClient int) net.Listener {
	return &limitListener{Listener: ln, slots: make(chan struct{}, n), perClient: perClient,
		byClient: map[string]int{}, silent: true}
}

// maxRefusing bounds the connections being answered 503 at once; past it
// they are closed without an answer, so that a flood of connections cannot
// hold the descriptors the limit protects.
const maxRefusing = 32

type limitListener struct {
	net.Listener
	slots     chan struct{}
	perClient int
	refusing  chan struct{} // nil when silent
	silent    bool

	mu sync.Mutex
	// byClient counts each client's open connections. Guarded by mu.
	byClient map[string]int
}

// tooManyBody is the API error a connection over the daemon's limit gets.
const tooManyBody = `{"error":{"kind":"unavailable","message":"the daemon has too many open connections; close idle ones (a client that keeps connections it does not use)"}}` + "\n"

// tooManyFromBody is the API error a connection over one client's limit
// gets.
func tooManyFromBody(client string, n int) string {
	b, _ := json.Marshal(map[string]any{"error": map[string]string{"kind": "unavailable",
		"message": fmt.Sprintf("this client (%s) has %d connections open to the daemon, the most one client may; close the idle ones", client, n)}})
	return string(b) + "\n"
}

// tooMany is the whole answer to a connection over a limit.
func tooMany(body string) string {
	return "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: " +
		strconv.Itoa(len(body)) + "\r\n\r\n" + body
}

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		client := ""
		if l.perClient > 0 {
			client = clientOf(c)
		}
		if client != "" {
			l.mu.Lock()
			n := l.byClient[client]
			if n >= l.perClient {
				l.mu.Unlock()
				l.refuse(c, tooManyFromBody(client, n))
				continue
			}
			l.byClient[client] = n + 1
			l.mu.Unlock()
		}
		select {
		case l.slots <- struct{}{}:
			return &limitConn{Conn: c, release: func() { <-l.slots; l.forget(client) }}, nil
		default:
			l.forget(client)
			l.refuse(c, tooManyBody)
		}
	}
}

// forget drops one connection of client from its count.
func (l *limitListener) forget(client string) {
	if client == "" {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.byClient[client] <= 1 {
		delete(l.byClient, client)
	} else {
		l.byClient[client]--
	}
}

// clientOf names the client at the other end of c: the peer's process on
// a unix socket, the remote address over TCP; "" when it cannot tell.
func clientOf(c net.Conn) string {
	switch conn := c.(type) {
	case *net.UnixConn:
		raw, err := conn.SyscallConn()
		if err != nil {
			return ""
		}
		var cred *unix.Ucred
		var credErr error
		if err := raw.Control(func(fd uintptr) {
			cred, credErr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
		}); err != nil || credErr != nil || cred.Pid <= 0 {
			return ""
		}
		return "pid " + strconv.Itoa(int(cred.Pid))
	case *net.TCPConn:
		if a, ok := conn.RemoteAddr().(*net.TCPAddr); ok {
			return a.IP.String()
		}
	}
	return ""
}

type limitConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}

// refuse answers a connection over a limit with 503 and body, in its own
// goroutine, or closes it at once when silent or when maxRefusing are
// being answered already.
func (l *limitListener) refuse(c net.Conn, body string) {
	if l.silent {
		c.Close()
		return
	}
	select {
	case l.refusing <- struct{}{}:
		go func() {
			defer func() { <-l.refusing }()
			answerTooMany(c, body)
		}()
	default:
		c.Close()
	}
}

// answerTooMany answers a connection over the limit. It reads the
// request's head first (briefly, and a little of it): a client that is
// still writing when the connection closes sees a broken pipe, not the
// answer.
func answerTooMany(c net.Conn, body string) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	buf := make([]byte, 4096)
	var head []byte
	for len(head) < 16<<10 && !bytes.Contains(head, []byte("\r\n\r\n")) {
		n, err := c.Read(buf)
		head = append(head, buf[:n]...)
		if err != nil {
			break
		}
	}
	_, _ = io.WriteString(c, tooMany(body))
}
