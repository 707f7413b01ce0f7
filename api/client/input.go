package client

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"sync"

	"github.com/switchyard/switchyard/api"
	"github.com/switchyard/switchyard/internal/inputframe"
	"github.com/switchyard/switchyard/runtime"
)

var (
	_ runtime.ExecOptioner = (*Client)(nil)
	_ runtime.Attacher     = (*Client)(nil)
)

// ExecStreamWith implements runtime.ExecOptioner. An exec with input or a
// terminal is two calls: the streamed exec, and its input (POST
// /v1/inputs/NAME), which carries opts.Stdin and the terminal's sizes.
func (c *Client) ExecStreamWith(ctx context.Context, id runtime.ContainerID, argv []string, opts runtime.ExecOptions) (runtime.Stream[runtime.ExecEvent], error) {
	req := api.ExecRequest{Argv: argv, Env: opts.Env, User: opts.User, Workdir: opts.Workdir, TTY: opts.TTY, TerminalSize: opts.TerminalSize}
	q := url.Values{"stream": {"1"}}
	cl := call{op: "exec", object: id.String(), method: http.MethodPost, path: containerPath(id, "exec"), query: q}
	if opts.Stdin == nil && !opts.TTY {
		cl.body = req
		return openStream[runtime.ExecEvent](ctx, c, cl)
	}
	var rnd [16]byte
	_, _ = rand.Read(rnd[:])
	req.Input, req.Stdin = hex.EncodeToString(rnd[:]), opts.Stdin != nil
	cl.body = req
	st, err := openStream[runtime.ExecEvent](ctx, c, cl)
	if err != nil {
		return nil, err
	}
	in := c.input(ctx, call{op: "exec input", object: id.String(), method: http.MethodPost, path: "/v1/inputs/" + req.Input})
	if opts.Stdin != nil {
		go func() {
			_, _ = io.Copy(in, opts.Stdin)
			in.end()
		}()
	}
	return &inputStream{Stream: st, in: in}, nil
}

// inputStream is an interactive exec's stream: closing it ends its input
// call, and Resize sends the terminal's size there.
type inputStream struct {
	runtime.Stream[runtime.ExecEvent]
	in *inputCall
}

// Resize implements runtime.Resizer.
func (s *inputStream) Resize(rows, cols uint16) error { return s.in.resize(rows, cols) }

// Close implements runtime.Stream.
func (s *inputStream) Close() error {
	s.in.close()
	return s.Stream.Close()
}

// AttachStdin implements runtime.Attacher: the input goes to POST
// /v1/containers/{id}/attach as it is written; Close ends it.
func (c *Client) AttachStdin(ctx context.Context, id runtime.ContainerID) (io.WriteCloser, error) {
	in := c.input(ctx, call{op: "attach", object: id.String(), method: http.MethodPost, path: containerPath(id, "attach")})
	return attachWriter{in}, nil
}

type attachWriter struct{ in *inputCall }

func (a attachWriter) Write(p []byte) (int, error) { return a.in.Write(p) }

// Close ends the input and waits for the daemon's answer.
func (a attachWriter) Close() error { return a.in.end() }

// ResizeTerminal implements runtime.Attacher.
func (c *Client) ResizeTerminal(ctx context.Context, id runtime.ContainerID, rows, cols uint16) error {
	q := url.Values{"h": {strconv.Itoa(int(rows))}, "w": {strconv.Itoa(int(cols))}}
	return c.do(ctx, call{op: "resize", object: id.String(), method: http.MethodPost, path: containerPath(id, "resize"), query: q}, nil)
}

// inputCall is a call whose body is a client's input, in frames, sent as
// it is written; the daemon answers once it ends.
type inputCall struct {
	mu   sync.Mutex // orders the frames of Write, resize and end
	fw   *inputframe.Writer
	done chan error // the call's result, sent once
	once sync.Once
	// result waits for the call's result, once for every caller.
	result func() error
}

// input starts cl with a body fed by the returned inputCall.
func (c *Client) input(ctx context.Context, cl call) *inputCall {
	pr, pw := io.Pipe()
	ic := &inputCall{fw: inputframe.NewWriter(pw), done: make(chan error, 1)}
	ic.result = sync.OnceValue(func() error { return <-ic.done })
	cl.raw, cl.contentType, cl.unbounded = pr, "application/octet-stream", true
	go func() {
		err := c.do(ctx, cl, nil)
		pr.CloseWithError(err) // a writer blocked on a failed call returns
		ic.done <- err
	}()
	return ic
}

// Write sends input.
func (ic *inputCall) Write(p []byte) (int, error) {
	ic.mu.Lock()
	defer ic.mu.Unlock()
	return ic.fw.Write(p)
}

func (ic *inputCall) resize(rows, cols uint16) error {
	ic.mu.Lock()
	defer ic.mu.Unlock()
	return ic.fw.Resize(rows, cols)
}

// end sends the end of the input and waits for the call's answer.
func (ic *inputCall) end() error {
	ic.close()
	return ic.result()
}

// close ends the input (End, then the body's end) without waiting for
// the answer.
func (ic *inputCall) close() {
	ic.once.Do(func() {
		ic.mu.Lock()
		_ = ic.fw.Close()
		ic.mu.Unlock()
	})
}
