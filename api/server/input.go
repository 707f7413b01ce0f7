package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/switchyard/switchyard/api"
	"github.com/switchyard/switchyard/internal/inputframe"
	"github.com/switchyard/switchyard/runtime"
)

// maxInput bounds one input stream: a person's typing, or a file piped in.
const maxInput = 1 << 40

// inputWait bounds how long an input waits for its exec to start.
const inputWait = 10 * time.Second

// inputSink is where an interactive exec's input goes: its standard input
// (nil without one) and its terminal.
type inputSink struct {
	ready chan struct{} // closed once stdin, term and err are set
	stdin io.WriteCloser
	term  runtime.Resizer
	// err is why the exec did not start, when it did not.
	err error
	// claimed marks a sink an exec owns. Guarded by inputs.mu.
	claimed bool
}

// inputs are the inputs of the interactive execs under way, by name. The
// exec and its input are two requests, in either order.
type inputs struct {
	mu    sync.Mutex
	sinks map[string]*inputSink // guarded by mu
}

// sink returns name's sink, made (not ready) when it is not there yet.
func (in *inputs) sink(name string) *inputSink {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.sinks == nil {
		in.sinks = map[string]*inputSink{}
	}
	k := in.sinks[name]
	if k == nil {
		k = &inputSink{ready: make(chan struct{})}
		in.sinks[name] = k
	}
	return k
}

// claim makes name's sink the exec's; false when another exec has it.
func (in *inputs) claim(name string) (*inputSink, bool) {
	k := in.sink(name)
	in.mu.Lock()
	defer in.mu.Unlock()
	if k.claimed {
		return nil, false
	}
	k.claimed = true
	return k, true
}

func (in *inputs) drop(name string) {
	in.mu.Lock()
	defer in.mu.Unlock()
	delete(in.sinks, name)
}

// dropUnclaimed drops name's sink unless an exec has it: an input that
// gave up waiting.
func (in *inputs) dropUnclaimed(name string) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if k := in.sinks[name]; k != nil && !k.claimed {
		delete(in.sinks, name)
	}
}

// interactiveExec runs an exec whose client sends input on POST
// /v1/inputs/{req.Input} and streams its events as any streamed exec.
func (s *Server) interactiveExec(w http.ResponseWriter, r *http.Request, ex runtime.Executor, id runtime.ContainerID, req api.ExecRequest, opts runtime.ExecOptions) error {
	if msg := runtime.CheckName(req.Input, "input"); msg != "" {
		return fmt.Errorf("exec: %s: %w", msg, runtime.ErrInvalidArgument)
	}
	k, ok := s.inputs.claim(req.Input)
	if !ok {
		return fmt.Errorf("exec: input %s is another exec's: %w", req.Input, runtime.ErrAlreadyExists)
	}
	defer s.inputs.drop(req.Input)
	var stdinW *io.PipeWriter
	if req.Stdin {
		var stdinR *io.PipeReader
		stdinR, stdinW = io.Pipe()
		defer stdinR.Close()
		opts.Stdin = stdinR
	}
	st, err := runtime.ExecWith(r.Context(), ex, "node", id, req.Argv, opts)
	if err != nil {
		k.err = err
		close(k.ready)
		return err
	}
	if stdinW != nil {
		k.stdin = stdinW
	}
	k.term, _ = st.(runtime.Resizer)
	close(k.ready)
	serveStream(s, w, r, st)
	if stdinW != nil {
		stdinW.Close()
	}
	return nil
}

// feedExec takes the input of an interactive exec.
func (s *Server) feedExec(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("input")
	if msg := runtime.CheckName(name, "input"); msg != "" {
		return fmt.Errorf("%s: %w", msg, runtime.ErrInvalidArgument)
	}
	k := s.inputs.sink(name)
	select {
	case <-k.ready:
	case <-time.After(inputWait):
		s.inputs.dropUnclaimed(name)
		return fmt.Errorf("input %s: no exec of that input started within %v: %w", name, inputWait, runtime.ErrNotFound)
	case <-r.Context().Done():
		s.inputs.dropUnclaimed(name)
		return r.Context().Err()
	}
	if k.err != nil {
		return fmt.Errorf("input %s: its exec did not start: %w", name, k.err)
	}
	return feed(w, r, func() (io.WriteCloser, error) {
		if k.stdin == nil {
			return nil, fmt.Errorf("input %s: the exec takes no standard input: %w", name, runtime.ErrFailedPrecondition)
		}
		return k.stdin, nil
	}, func(rows, cols uint16) error {
		if k.term == nil {
			return fmt.Errorf("input %s: the exec has no terminal: %w", name, runtime.ErrFailedPrecondition)
		}
		return k.term.Resize(rows, cols)
	})
}

// feed applies the frames of r's body: input to the writer open gives
// (opened at the first input), sizes to resize; the writer is closed at
// the end of the input. The answer is 204 once the body has ended.
func feed(w http.ResponseWriter, r *http.Request, open func() (io.WriteCloser, error), resize func(rows, cols uint16) error) error {
	fr := inputframe.NewReader(r.Body)
	var in io.WriteCloser
	defer func() {
		if in != nil {
			in.Close()
		}
	}()
	for {
		kind, payload, err := fr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("input: %v: %w", err, runtime.ErrInvalidArgument)
		}
		switch kind {
		case inputframe.Input:
			if in == nil {
				if in, err = open(); err != nil {
					return err
				}
			}
			if _, err := in.Write(payload); err != nil {
				return nil // the process is gone: nothing reads its input
			}
		case inputframe.Resize:
			rows, cols, ok := inputframe.Size(payload)
			if !ok {
				return fmt.Errorf("input: a resize frame of %d bytes: want 4: %w", len(payload), runtime.ErrInvalidArgument)
			}
			if err := resize(rows, cols); err != nil && !errors.Is(err, context.Canceled) {
				return err
			}
		case inputframe.End:
			if in == nil {
				if in, err = open(); err != nil {
					return err
				}
			}
			in.Close()
			in = nil
			w.WriteHeader(http.StatusNoContent)
			return nil
		}
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// sizeParams reads a resize's h (rows) and w (columns).
func sizeParams(r *http.Request) (rows, cols uint16, err error) {
	return api.ParseTerminalSize(r.URL.Query().Get("h"), r.URL.Query().Get("w"))
}
