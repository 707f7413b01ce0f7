package server

import (
	"context"
	"io"
	"net/http"
	"sync"

	"github.com/switchyard/switchyard/api"
	"github.com/switchyard/switchyard/runtime"
)

// runRoutes serves POST /v1/containers/{id}/run: a create and a start in
// one request, as `switchyard run` asks for them, so that the start does
// not wait for the create's answer to reach the client and the client's
// start to come back (a round trip between two processes, each woken on
// its own). With ?wait=CONDITION the daemon also waits for the condition,
// the wait begun before the start as a client's own wait request would
// be, and the answer carries its outcome: a run --rm needs no second
// request for it.
//
// The answer is a stream of api.RunEvent frames: Started, then the
// Outcome when asked for, then the end. A create or start that fails is an
// error response, as the two requests' would be; a container whose start
// failed stays created.
func (s *Server) runRoutes(lc runtime.Lifecycle, wt runtime.Waiter) {
	s.handle("POST /v1/containers/{id}/run", func(w http.ResponseWriter, r *http.Request) error {
		id, err := containerID(r)
		if err != nil {
			return err
		}
		var cond runtime.WaitCondition
		if v := r.URL.Query().Get("wait"); v != "" {
			if cond, err = runtime.ParseWaitCondition(v); err != nil {
				return err
			}
		}
		cs, err := api.DecodeCreateSpec(r.Body)
		if err != nil {
			return err
		}
		// The stream starts at once and carries heartbeats while the
		// create runs (it may take long: a network attach, a busy node).
		serveStream(s, w, r, runtime.Stream[api.RunEvent](&runStream{
			ctx: r.Context(), lc: lc, wt: wt, id: id, spec: cs, cond: cond, closed: make(chan struct{}),
		}))
		return nil
	})
}

// runStream is the answer of a run: the create and the start, then the
// outcome when waited for, then io.EOF. A failed create or start is the
// first Recv's error.
type runStream struct {
	ctx  context.Context
	lc   runtime.Lifecycle
	wt   runtime.Waiter
	id   runtime.ContainerID
	spec *runtime.CreateSpec
	cond runtime.WaitCondition // empty: no wait

	waited chan item[runtime.WaitOutcome] // made when the wait begins
	step   int

	closed    chan struct{}
	closeOnce sync.Once
}

// Recv implements runtime.Stream.
func (st *runStream) Recv() (api.RunEvent, error) {
	st.step++
	switch {
	case st.step == 1:
		if err := st.lc.Create(st.ctx, st.id, st.spec); err != nil {
			return api.RunEvent{}, err
		}
		if st.cond != "" {
			// Begun before the start, as a client's own wait request
			// would be.
			st.waited = make(chan item[runtime.WaitOutcome], 1)
			go func() {
				o, err := st.wt.WaitOutcome(st.ctx, st.id, st.cond)
				st.waited <- item[runtime.WaitOutcome]{o, err}
			}()
		}
		if err := st.lc.Start(st.ctx, st.id); err != nil {
			return api.RunEvent{}, err
		}
		return api.RunEvent{Started: true}, nil
	case st.step == 2 && st.waited != nil:
		select {
		case it := <-st.waited:
			if it.err != nil {
				return api.RunEvent{}, it.err
			}
			return api.RunEvent{Outcome: &it.v}, nil
		case <-st.closed:
			return api.RunEvent{}, io.EOF
		case <-st.ctx.Done():
			return api.RunEvent{}, st.ctx.Err()
		}
	}
	return api.RunEvent{}, io.EOF
}

// Close implements runtime.Stream.
func (st *runStream) Close() error {
	st.closeOnce.Do(func() { close(st.closed) })
	return nil
}
