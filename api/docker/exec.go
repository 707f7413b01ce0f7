package docker

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/moby/moby/api/types/common"
	"github.com/moby/moby/api/types/container"

	"github.com/switchyard/switchyard/api"
	"github.com/switchyard/switchyard/runtime"
)

// maxExecs bounds the exec records kept for inspection; the oldest
// finished ones go first.
const maxExecs = 256

// execs holds the exec instances made through the front door: docker
// creates one, starts it, then inspects it for its exit code.
type execs struct {
	mu   sync.Mutex
	byID map[string]*execRecord // guarded by mu
}

type execRecord struct {
	id        string
	container runtime.ContainerID
	dockerID  string
	cmd       []string
	opts      runtime.ExecOptions // Stdin unset: attached at start
	wantIn    bool
	wantOut   bool
	wantErr   bool
	tty       bool
	created   time.Time
	// Guarded by execs.mu.
	started  bool
	running  bool
	exitCode *int
	// size is the terminal's size asked for before the start; term
	// resizes the running exec's terminal.
	size [2]uint16
	term runtime.Resizer
}

func (e *execs) add(rec *execRecord) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.byID == nil {
		e.byID = map[string]*execRecord{}
	}
	if len(e.byID) >= maxExecs {
		var oldest *execRecord
		for _, r := range e.byID {
			if !r.running && (oldest == nil || r.created.Before(oldest.created)) {
				oldest = r
			}
		}
		if oldest != nil {
			delete(e.byID, oldest.id)
		}
	}
	e.byID[rec.id] = rec
}

func (e *execs) get(id string) (*execRecord, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if r := e.byID[id]; r != nil {
		return r, nil
	}
	//lint:ignore ST1005 dockerd's own words, which clients print and match
	return nil, fmt.Errorf("No such exec instance: %s: %w", id, runtime.ErrNotFound)
}

func (s *Server) execRoutes() {
	s.handle("POST /containers/{id}/exec", s.withContainer(func(ctx context.Context, c runtime.Container, w http.ResponseWriter, r *http.Request) error {
		var req container.ExecCreateRequest
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxCreateBody)).Decode(&req); err != nil {
			return fmt.Errorf("exec: the body is not an exec configuration: %v: %w", err, runtime.ErrInvalidArgument)
		}
		switch {
		case len(req.Cmd) == 0:
			return fmt.Errorf("exec: no command: give the command to run: %w", runtime.ErrInvalidArgument)
		case req.Privileged:
			return fmt.Errorf("exec --privileged is not supported: an exec has the container's own privileges: %w", runtime.ErrNotSupported)
		}
		if !running(c.State) {
			return fmt.Errorf("container %s is not running: %w", dockerID(c), runtime.ErrFailedPrecondition)
		}
		rec := &execRecord{id: randomID(), container: c.ID, dockerID: dockerID(c), cmd: req.Cmd,
			opts:   runtime.ExecOptions{Env: req.Env, User: req.User, Workdir: req.WorkingDir, TTY: req.Tty},
			wantIn: req.AttachStdin, wantOut: req.AttachStdout, wantErr: req.AttachStderr, tty: req.Tty, created: time.Now()}
		s.execs.add(rec)
		writeJSON(w, http.StatusCreated, common.IDResponse{ID: rec.id})
		return nil
	}))
	s.handle("POST /exec/{id}/start", s.startExec)
	s.handle("POST /exec/{id}/resize", func(w http.ResponseWriter, r *http.Request) error {
		rec, err := s.execs.get(r.PathValue("id"))
		if err != nil {
			return err
		}
		rows, cols, err := sizeParams(r)
		if err != nil {
			return err
		}
		s.execs.mu.Lock()
		term, tty := rec.term, rec.tty
		if term == nil {
			rec.size = [2]uint16{rows, cols}
		}
		s.execs.mu.Unlock()
		if !tty {
			return fmt.Errorf("exec %s has no terminal to resize: %w", rec.id, runtime.ErrFailedPrecondition)
		}
		if term != nil {
			if err := term.Resize(rows, cols); err != nil {
				return err
			}
		}
		w.WriteHeader(http.StatusOK)
		return nil
	})
	s.handle("GET /exec/{id}/json", func(w http.ResponseWriter, r *http.Request) error {
		rec, err := s.execs.get(r.PathValue("id"))
		if err != nil {
			return err
		}
		s.execs.mu.Lock()
		resp := container.ExecInspectResponse{ID: rec.id, Running: rec.running, ExitCode: rec.exitCode,
			OpenStdin: rec.wantIn, OpenStdout: rec.wantOut, OpenStderr: rec.wantErr, ContainerID: rec.dockerID,
			ProcessConfig: &container.ExecProcessConfig{Entrypoint: rec.cmd[0], Arguments: rec.cmd[1:]}}
		s.execs.mu.Unlock()
		writeJSON(w, http.StatusOK, resp)
		return nil
	})
}

// startExec runs an exec instance once: detached, it answers at once and
// runs on; attached, it hijacks the connection and streams the command's
// output in stdcopy frames until it exits.
func (s *Server) startExec(w http.ResponseWriter, r *http.Request) error {
	rec, err := s.execs.get(r.PathValue("id"))
	if err != nil {
		return err
	}
	var req container.ExecStartRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxCreateBody)).Decode(&req); err != nil && err != io.EOF {
		return fmt.Errorf("exec start: the body is not a start request: %v: %w", err, runtime.ErrInvalidArgument)
	}
	s.execs.mu.Lock()
	already := rec.started
	rec.started, rec.running = true, true
	s.execs.mu.Unlock()
	if already {
		return fmt.Errorf("exec instance %s has already been started: create another: %w", rec.id, runtime.ErrFailedPrecondition)
	}
	finish := func(code int) {
		s.execs.mu.Lock()
		rec.running, rec.exitCode = false, &code
		s.execs.mu.Unlock()
	}
	if req.Detach {
		st, err := runtime.ExecWith(context.WithoutCancel(r.Context()), s.rt, "node", rec.container, rec.cmd, rec.opts)
		if err != nil {
			finish(126)
			return err
		}
		go func() {
			defer st.Close()
			code := 126
			for {
				ev, err := st.Recv()
				if err != nil {
					break
				}
				if ev.Kind == runtime.ExecExit {
					code = ev.ExitCode
				}
			}
			finish(code)
		}()
		w.WriteHeader(http.StatusOK)
		return nil
	}
	opts := rec.opts
	s.execs.mu.Lock()
	opts.TerminalSize = rec.size // a resize asked before the start
	s.execs.mu.Unlock()
	var stdinW *io.PipeWriter
	if rec.wantIn {
		// The client's input reaches the command through a pipe, fed from
		// the connection once it is taken over; it ends with the exec.
		var stdinR *io.PipeReader
		stdinR, stdinW = io.Pipe()
		defer stdinR.Close()
		opts.Stdin = stdinR
	}
	// Not the request's context: a client that half-closes at the end of
	// its input, before the connection is taken over, cancels that one.
	// The exec runs to its end, as docker's does.
	st, err := runtime.ExecWith(context.WithoutCancel(r.Context()), s.rt, "node", rec.container, rec.cmd, opts)
	if err != nil {
		finish(126)
		if r.Header.Get("Upgrade") == "" {
			return err
		}
		// The client waits for its stream, not for an error body: the
		// error is what the stream says, as dockerd does.
		conn, _, herr := hijack(w, r)
		if herr != nil {
			return err
		}
		defer conn.Close()
		s.opts.log.Debug("docker API exec failed", "exec", rec.id, "err", err)
		msg := err.Error() + "\n"
		if rec.tty {
			_, _ = conn.Write([]byte(msg))
		} else {
			_, _ = conn.Write(frame(2, msg))
		}
		return nil
	}
	defer st.Close()
	if rz, ok := st.(runtime.Resizer); ok && rec.tty {
		s.execs.mu.Lock()
		rec.term = rz
		size := rec.size
		s.execs.mu.Unlock()
		if size[0] > 0 && size[1] > 0 {
			_ = rz.Resize(size[0], size[1])
		}
		defer func() {
			s.execs.mu.Lock()
			rec.term = nil
			s.execs.mu.Unlock()
		}()
	}
	conn, buf, err := hijack(w, r)
	if err != nil {
		finish(126)
		return err
	}
	defer conn.Close()
	if stdinW != nil {
		go func() {
			// The client half-closes at the end of its input: the
			// command reads end-of-file.
			_, err := io.Copy(stdinW, buf.Reader)
			stdinW.CloseWithError(err)
		}()
	}
	bw := bufio.NewWriter(conn)
	code, finished := 126, false
	for {
		ev, err := st.Recv()
		if err != nil {
			break
		}
		switch ev.Kind {
		case runtime.ExecStdout:
			switch {
			case rec.tty:
				// A terminal's output is raw: one stream, no frames.
				_, _ = bw.Write(ev.Data)
			case rec.wantOut:
				_, _ = bw.Write(frame(1, string(ev.Data)))
			}
		case runtime.ExecStderr:
			if rec.wantErr {
				_, _ = bw.Write(frame(2, string(ev.Data)))
			}
		case runtime.ExecExit:
			// Recorded before the connection closes: the client inspects
			// for the code as soon as its stream ends.
			code, finished = ev.ExitCode, true
			finish(code)
		}
		_ = bw.Flush()
	}
	if !finished {
		finish(code)
	}
	return nil
}

// sizeParams reads a resize's h (rows) and w (columns).
func sizeParams(r *http.Request) (rows, cols uint16, err error) {
	return api.ParseTerminalSize(r.URL.Query().Get("h"), r.URL.Query().Get("w"))
}
