package docker

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/switchyard/switchyard/runtime"
)

// startPoll is how often an attach made before its container's start
// looks for the start (the docker CLI attaches, then starts).
const startPoll = 5 * time.Millisecond

func (s *Server) attachRoutes() {
	s.handle("POST /containers/{id}/attach", s.withContainer(s.attach))
	s.handle("POST /containers/{id}/resize", s.withContainer(func(ctx context.Context, c runtime.Container, w http.ResponseWriter, r *http.Request) error {
		rows, cols, err := sizeParams(r)
		if err != nil {
			return err
		}
		if err := runtime.ResizeTerminal(ctx, s.rt, "node", c.ID, rows, cols); err != nil {
			return err
		}
		w.WriteHeader(http.StatusOK)
		return nil
	}))
}

// attach hijacks the connection and streams what the container writes
// from now on, in stdcopy framing (raw for a container with a terminal),
// until it stops; with stdin=1, for a container that takes input, what
// the client sends is the container's input. An attach made before the
// start (docker run, docker start -a) waits for it.
func (s *Server) attach(_ context.Context, c runtime.Container, w http.ResponseWriter, r *http.Request) error {
	wantOut, wantErr, err := streamParams(r)
	if err != nil {
		return err
	}
	wantIn, err := boolParam(r, "stdin")
	if err != nil {
		return err
	}
	since := time.Now()
	conn, buf, err := hijack(w, r)
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	before, err := s.rt.Inspect(ctx, c.ID)
	if err != nil {
		return nil
	}
	// A client's input is the container's only when it takes input, as
	// dockerd ignores stdin=1 otherwise.
	wantIn = wantIn && before.OpenStdin
	if !wantIn {
		// A broken connection ends the attach. An end of the client's
		// side does not: a client without standard input closes it at
		// once, and reads what comes until the container stops.
		go func() {
			if _, err := io.Copy(io.Discard, buf.Reader); err != nil {
				cancel()
			}
		}()
	}
	if !s.awaitStart(ctx, c.ID, before.StartedAt) {
		return nil
	}
	if before.StartedAt.IsZero() {
		since = time.Time{} // its first run: every line is this run's
	}
	if wantIn {
		// What the client sent before the start waits in the connection.
		in, err := runtime.AttachStdin(ctx, s.rt, "node", c.ID)
		if err != nil {
			s.opts.log.Debug("docker API attach: the container's input", "container", c.ID, "err", err)
		} else {
			go func() {
				_, err := io.Copy(in, buf.Reader)
				in.Close() // the client's input ended: with StdinOnce, the container's too
				if err != nil {
					cancel()
				}
			}()
		}
	}
	st, err := s.rt.FollowLogs(ctx, c.ID, runtime.TailAll)
	if err != nil {
		return nil // the container is gone: the stream just ends
	}
	defer st.Close()
	writeFrames(ctx, conn, st, since, wantOut, wantErr, before.TTY)
	return nil
}

// hijack takes the connection over for a stream, answering as dockerd
// does: 101 UPGRADED to a client that asked to upgrade, else 200.
func hijack(w http.ResponseWriter, r *http.Request) (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		return nil, nil, fmt.Errorf("%s: this connection cannot be taken over for a stream: %w", r.URL.Path, runtime.ErrNotSupported)
	}
	conn, buf, err := hj.Hijack()
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", r.URL.Path, err)
	}
	status := "HTTP/1.1 200 OK"
	if r.Header.Get("Upgrade") != "" {
		status = "HTTP/1.1 101 UPGRADED\r\nConnection: Upgrade\r\nUpgrade: tcp"
	}
	_, _ = fmt.Fprintf(buf, "%s\r\nContent-Type: application/vnd.docker.raw-stream\r\nApi-Version: %s\r\n\r\n", status, APIVersion)
	if err := buf.Flush(); err != nil {
		conn.Close()
		return nil, nil, fmt.Errorf("%s: %w", r.URL.Path, err)
	}
	return conn, buf, nil
}

// awaitStart waits until id is running or has started since its start
// at prev, and reports false when it is gone or ctx ended first.
func (s *Server) awaitStart(ctx context.Context, id runtime.ContainerID, prev time.Time) bool {
	t := time.NewTicker(startPoll)
	defer t.Stop()
	for {
		d, err := s.rt.Inspect(ctx, id)
		if err != nil {
			return false
		}
		if running(d.State) || !d.StartedAt.Equal(prev) {
			return true
		}
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
		}
	}
}

// writeFrames copies the lines of st written at or after since to conn:
// in stdcopy frames, or as they are for a container with a terminal (raw).
func writeFrames(ctx context.Context, conn net.Conn, st runtime.Stream[runtime.LogEntry], since time.Time, wantOut, wantErr, raw bool) {
	bw := bufio.NewWriter(conn)
	for ctx.Err() == nil {
		e, err := st.Recv()
		if err != nil {
			break
		}
		if e.Time.Before(since) {
			continue
		}
		b, ok := logFrame(e, wantOut, wantErr, false)
		if !ok {
			continue
		}
		if raw {
			b = b[8:] // the payload alone
		}
		if _, err := bw.Write(b); err != nil || bw.Flush() != nil {
			return
		}
	}
	_ = bw.Flush()
}
