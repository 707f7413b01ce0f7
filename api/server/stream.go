package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/switchyard/switchyard/api"
	"github.com/switchyard/switchyard/runtime"
)

// frameWriter writes NDJSON frames to a committed 200 response.
type frameWriter struct {
	enc *json.Encoder
	rc  *http.ResponseController
}

// startFrames commits the response as a 200 NDJSON stream and flushes the
// header, so that the client's call returns as soon as the stream exists.
func startFrames(w http.ResponseWriter) *frameWriter {
	w.Header().Set("Content-Type", api.ContentTypeNDJSON)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	fw := &frameWriter{enc: json.NewEncoder(w), rc: http.NewResponseController(w)}
	_ = fw.rc.Flush()
	return fw
}

// write writes one frame, flushing it when flush is set. An error means the
// client is gone.
func (fw *frameWriter) write(frame any, flush bool) error {
	if err := fw.enc.Encode(frame); err != nil {
		return err
	}
	if flush {
		return fw.rc.Flush()
	}
	return nil
}

func wireError(err error) *api.Error {
	_, e := api.ToHTTP(err)
	return &e
}

// item is one result of Stream.Recv handed from the receiving goroutine.
type item[T any] struct {
	v   T
	err error
}

// serveStream sends st's values as Data frames until it ends (EOF frame) or
// fails (Error frame), with heartbeats while it is idle. It returns when the
// stream ends or the client goes away, and closes st either way.
func serveStream[T any](s *Server, w http.ResponseWriter, r *http.Request, st runtime.Stream[T]) {
	ctx := r.Context()
	defer st.Close()
	// Close unblocks a Recv that does not watch ctx.
	stopClose := context.AfterFunc(ctx, func() { st.Close() })
	defer stopClose()

	// items is filled by the receiving goroutine below and never closed; done
	// tells that goroutine to quit. The buffer lets a burst be written with
	// one flush.
	items := make(chan item[T], 16)
	done := make(chan struct{})
	defer close(done)
	go func() {
		for {
			v, err := st.Recv()
			select {
			case items <- item[T]{v, err}:
			case <-done:
				return
			}
			if err != nil {
				return
			}
		}
	}()

	fw := startFrames(w)
	tick := time.NewTicker(s.opts.heartbeat)
	defer tick.Stop()
	for {
		select {
		case it := <-items:
			var frame api.Frame[T]
			switch {
			case it.err == nil:
				frame.Data = &it.v
			case errors.Is(it.err, io.EOF):
				frame.EOF = true
			case ctx.Err() != nil:
				return // the client went away; nobody reads the error
			default:
				s.opts.log.Debug("api stream failed", "path", r.URL.Path, "err", it.err)
				frame.Error = wireError(it.err)
			}
			if err := fw.write(frame, len(items) == 0 || it.err != nil); err != nil || it.err != nil {
				return
			}
		case <-tick.C:
			if fw.write(api.Frame[T]{}, true) != nil {
				return
			}
		case <-ctx.Done():
			return
		}
	}
}

// long runs a call that may take long (wait, stop, buffered exec). When it
// answers within one heartbeat the answer is a plain JSON response (or an
// error response); otherwise the response becomes a stream of heartbeats
// ended by one frame holding the answer or the error, so that the client
// can tell a long call from a dead connection.
func long[T any](s *Server, w http.ResponseWriter, r *http.Request, call func(context.Context) (T, error)) error {
	ctx := r.Context()
	// Buffered so that call's goroutine can finish after the handler returned.
	results := make(chan item[T], 1)
	go func() {
		v, err := call(ctx)
		results <- item[T]{v, err}
	}()
	tick := time.NewTicker(s.opts.heartbeat)
	defer tick.Stop()
	select {
	case res := <-results:
		if res.err != nil {
			return res.err
		}
		writeJSON(w, http.StatusOK, res.v)
		return nil
	case <-tick.C:
	case <-ctx.Done():
		return nil
	}
	fw := startFrames(w)
	for {
		select {
		case res := <-results:
			frame := api.Frame[T]{Data: &res.v}
			if res.err != nil {
				frame = api.Frame[T]{Error: wireError(res.err)}
			}
			_ = fw.write(frame, true)
			return nil
		case <-tick.C:
			if fw.write(api.Frame[T]{}, true) != nil {
				return nil
			}
		case <-ctx.Done():
			return nil
		}
	}
}

func (s *Server) logRoutes(lr runtime.LogReader) {
	s.handle("GET /v1/containers/{id}/logs", func(w http.ResponseWriter, r *http.Request) error {
		id, err := containerID(r)
		if err != nil {
			return err
		}
		tail, err := tailParam(r)
		if err != nil {
			return err
		}
		follow, err := boolParam(r, "follow")
		if err != nil {
			return err
		}
		if !follow {
			entries, err := lr.Logs(r.Context(), id, tail)
			if err != nil {
				return err
			}
			if entries == nil {
				entries = []runtime.LogEntry{}
			}
			writeJSON(w, http.StatusOK, entries)
			return nil
		}
		st, err := lr.FollowLogs(r.Context(), id, tail)
		if err != nil {
			return err
		}
		serveStream(s, w, r, st)
		return nil
	})
}

func (s *Server) execRoutes(ex runtime.Executor) {
	s.handle("POST /v1/containers/{id}/exec", func(w http.ResponseWriter, r *http.Request) error {
		id, err := containerID(r)
		if err != nil {
			return err
		}
		stream, err := boolParam(r, "stream")
		if err != nil {
			return err
		}
		var req api.ExecRequest
		if err := api.Decode(r.Body, &req, "exec request"); err != nil {
			return err
		}
		if !stream {
			return long(s, w, r, func(ctx context.Context) (runtime.ExecResult, error) {
				return ex.Exec(ctx, id, req.Argv)
			})
		}
		opts := runtime.ExecOptions{Env: req.Env, User: req.User, Workdir: req.Workdir, TTY: req.TTY, TerminalSize: req.TerminalSize}
		if req.Input != "" {
			return s.interactiveExec(w, r, ex, id, req, opts)
		}
		if req.Stdin {
			return fmt.Errorf("exec with stdin: name the input (ExecRequest.Input) the client sends it on: %w", runtime.ErrInvalidArgument)
		}
		st, err := runtime.ExecWith(r.Context(), ex, "node", id, req.Argv, opts)
		if err != nil {
			return err
		}
		serveStream(s, w, r, st)
		return nil
	})
	// An interactive exec's input, and a container's (made with
	// OpenStdin): frames of package inputframe until the body ends.
	s.handleBody("POST /v1/inputs/{input}", maxInput, s.feedExec)
	s.handleBody("POST /v1/containers/{id}/attach", maxInput, func(w http.ResponseWriter, r *http.Request) error {
		id, err := containerID(r)
		if err != nil {
			return err
		}
		return feed(w, r, func() (io.WriteCloser, error) { return runtime.AttachStdin(r.Context(), ex, "node", id) },
			func(rows, cols uint16) error { return runtime.ResizeTerminal(r.Context(), ex, "node", id, rows, cols) })
	})
	s.handle("POST /v1/containers/{id}/resize", func(w http.ResponseWriter, r *http.Request) error {
		id, err := containerID(r)
		if err != nil {
			return err
		}
		rows, cols, err := sizeParams(r)
		if err != nil {
			return err
		}
		if err := runtime.ResizeTerminal(r.Context(), ex, "node", id, rows, cols); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
}
