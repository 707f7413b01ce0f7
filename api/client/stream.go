package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"

	"github.com/switchyard/switchyard/api"
	"github.com/switchyard/switchyard/runtime"
)

// errStreamClosed is what Recv returns after Close.
var errStreamClosed = fmt.Errorf("stream closed: %w", net.ErrClosed)

// stream is a runtime.Stream read from NDJSON frames.
type stream[T any] struct {
	fr   frameReader
	body io.Closer

	// end is the sticky result once the stream is over; only Recv touches
	// it, and Recv is not called concurrently with itself.
	end error

	closeOnce sync.Once
}

// openStream sends a streaming call; the answer is a stream of Frame[T].
func openStream[T any](ctx context.Context, c *Client, cl call) (runtime.Stream[T], error) {
	cl.long = true
	resp, x, err := c.send(ctx, cl)
	if err != nil {
		return nil, err
	}
	if !isNDJSON(resp) {
		resp.Body.Close()
		x.end(errDone)
		return nil, fmt.Errorf("%s: the daemon answered %q, not a stream (is it a different version?): %w",
			cl.what(), resp.Header.Get("Content-Type"), runtime.ErrUnavailable)
	}
	return &stream[T]{fr: frameReader{c: c, op: cl.what(), x: x, dec: json.NewDecoder(resp.Body)}, body: resp.Body}, nil
}

// Recv implements runtime.Stream.
func (s *stream[T]) Recv() (T, error) {
	var zero T
	for s.end == nil {
		var f api.Frame[T]
		if err := s.fr.next(&f); err != nil {
			s.finish(err)
			break
		}
		switch {
		case f.Data != nil:
			return *f.Data, nil
		case f.Error != nil:
			s.finish(api.FromHTTP(http.StatusOK, f.Error))
		case f.EOF:
			s.finish(io.EOF)
		}
		// A frame with nothing set is a heartbeat: read on.
	}
	return zero, s.end
}

func (s *stream[T]) finish(err error) {
	s.end = err
	s.release(errDone)
}

func (s *stream[T]) release(cause error) {
	s.closeOnce.Do(func() {
		s.fr.x.end(cause)
		s.body.Close()
	})
}

// Close implements runtime.Stream. It unblocks a Recv in another goroutine,
// which then returns an error matching net.ErrClosed.
func (s *stream[T]) Close() error {
	s.release(errStreamClosed)
	return nil
}

// FollowLogs implements runtime.LogReader.
func (c *Client) FollowLogs(ctx context.Context, id runtime.ContainerID, tail int) (runtime.Stream[runtime.LogEntry], error) {
	q := url.Values{"tail": {strconv.Itoa(tail)}, "follow": {"1"}}
	return openStream[runtime.LogEntry](ctx, c, call{op: "follow logs", object: id.String(), method: http.MethodGet, path: containerPath(id, "logs"), query: q})
}

// ExecStream implements runtime.Executor.
func (c *Client) ExecStream(ctx context.Context, id runtime.ContainerID, argv []string) (runtime.Stream[runtime.ExecEvent], error) {
	q := url.Values{"stream": {"1"}}
	return openStream[runtime.ExecEvent](ctx, c, call{op: "exec", object: id.String(), method: http.MethodPost, path: containerPath(id, "exec"), query: q, body: api.ExecRequest{Argv: argv}})
}

// Run creates container id from cs and starts it in one request (the
// daemon's run route), and returns once it has started or failed to. With
// cond the daemon also waits for cond, the wait begun before the start,
// and outcome gives that wait's answer (once: it ends the request);
// without, outcome is nil. A failed create or start is Run's error, with
// its kind (an image the daemon does not have is runtime.ErrNotFound, as
// Create's is).
func (c *Client) Run(ctx context.Context, id runtime.ContainerID, cs *runtime.CreateSpec, cond runtime.WaitCondition) (outcome func() (runtime.WaitOutcome, error), err error) {
	if cs == nil {
		return nil, fmt.Errorf("run %s: the create spec is nil: give what to run: %w", id, runtime.ErrInvalidArgument)
	}
	var q url.Values
	if cond != "" {
		q = url.Values{"wait": {string(cond)}}
	}
	st, err := openStream[api.RunEvent](ctx, c, call{op: "run", object: id.String(), method: http.MethodPost, path: containerPath(id, "run"), query: q, body: cs})
	if api.IsNoRoute(err) {
		// A daemon older than its run route (the agent not yet restarted
		// after an upgrade): the same in three requests.
		return c.runInSteps(ctx, id, cs, cond)
	}
	if err != nil {
		return nil, err
	}
	ev, err := st.Recv()
	if errors.Is(err, io.EOF) || (err == nil && !ev.Started) {
		err = fmt.Errorf("run %s: the daemon ended its answer before the start (is it a different version?): %w", id, runtime.ErrUnavailable)
	}
	if err != nil || cond == "" {
		st.Close()
		return nil, err
	}
	return func() (runtime.WaitOutcome, error) {
		defer st.Close()
		ev, err := st.Recv()
		if errors.Is(err, io.EOF) || (err == nil && ev.Outcome == nil) {
			err = fmt.Errorf("run %s: the daemon ended the wait without its outcome (is it a different version?): %w", id, runtime.ErrUnavailable)
		}
		if err != nil {
			return runtime.WaitOutcome{}, err
		}
		return *ev.Outcome, nil
	}, nil
}

// runInSteps is Run for a daemon without the run route: the create, the
// start and the wait for cond (if any), each a request of its own. A wait
// that reaches the daemon after a quick removal still gets the outcome: a
// runtime keeps the last outcome of a container it removed.
func (c *Client) runInSteps(ctx context.Context, id runtime.ContainerID, cs *runtime.CreateSpec, cond runtime.WaitCondition) (func() (runtime.WaitOutcome, error), error) {
	if cond != "" {
		if _, err := runtime.ParseWaitCondition(string(cond)); err != nil {
			return nil, fmt.Errorf("run %s: %w", id, err)
		}
	}
	if err := c.Create(ctx, id, cs); err != nil {
		return nil, err
	}
	type answer struct {
		out runtime.WaitOutcome
		err error
	}
	var waited chan answer
	wait := func() {
		waited = make(chan answer, 1)
		go func() {
			out, err := c.WaitOutcome(context.WithoutCancel(ctx), id, cond)
			waited <- answer{out, err}
		}()
	}
	// A wait for the next exit or the removal is asked before the start,
	// so that it sees a quick run's end; one for "not running" after it,
	// since a created container is not running yet.
	if cond != "" && cond != runtime.WaitNotRunning {
		wait()
	}
	if err := c.Start(ctx, id); err != nil {
		return nil, err
	}
	if cond == runtime.WaitNotRunning {
		wait()
	}
	if waited == nil {
		return nil, nil
	}
	return func() (runtime.WaitOutcome, error) {
		a := <-waited
		return a.out, a.err
	}, nil
}
