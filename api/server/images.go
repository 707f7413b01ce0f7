package server

import (
	"net/http"
	"sync"
	"time"

	"github.com/switchyard/switchyard/api"
	"github.com/switchyard/switchyard/runtime"
)

func (s *Server) imageRoutes(is runtime.ImageService) {
	s.handle("GET /v1/images", func(w http.ResponseWriter, r *http.Request) error {
		imgs, err := is.ListImages(r.Context())
		if err != nil {
			return err
		}
		if imgs == nil {
			imgs = []runtime.ImageInfo{}
		}
		writeJSON(w, http.StatusOK, imgs)
		return nil
	})
	s.handle("DELETE /v1/images", func(w http.ResponseWriter, r *http.Request) error {
		force, err := boolParam(r, "force")
		if err != nil {
			return err
		}
		if err := is.RemoveImage(r.Context(), r.URL.Query().Get("ref"), force); err != nil {
			return err
		}
		writeNoContent(w)
		return nil
	})
	s.handle("POST /v1/images/tag", func(w http.ResponseWriter, r *http.Request) error {
		var req api.TagRequest
		if err := api.Decode(r.Body, &req, "tag request"); err != nil {
			return err
		}
		if err := is.TagImage(r.Context(), req.Source, req.Target); err != nil {
			return err
		}
		writeNoContent(w)
		return nil
	})
	s.handle("POST /v1/images/prune", func(w http.ResponseWriter, r *http.Request) error {
		res, err := is.PruneImages(r.Context())
		if err != nil {
			return err
		}
		if res.Deleted == nil {
			res.Deleted = []string{}
		}
		writeJSON(w, http.StatusOK, res)
		return nil
	})
	s.handle("POST /v1/images/pull", func(w http.ResponseWriter, r *http.Request) error {
		var req api.PullRequest
		if err := api.Decode(r.Body, &req, "pull request"); err != nil {
			return err
		}
		return s.pull(w, r, is, req)
	})
}

// pull runs the pull and streams its progress. The response stays a plain
// error response if the pull fails before anything was sent.
func (s *Server) pull(w http.ResponseWriter, r *http.Request, is runtime.ImageService, req api.PullRequest) error {
	ctx := r.Context()
	q := &progressQueue{notify: make(chan struct{}, 1)}
	opts := runtime.PullOptions{Policy: req.Policy, Auth: req.Auth.Spec(), Platform: req.Platform, Progress: q.add}
	type result struct {
		info runtime.ImageInfo
		err  error
	}
	// Buffered so that the pulling goroutine can finish after the handler returned.
	results := make(chan result, 1)
	go func() {
		info, err := is.Pull(ctx, req.Ref, opts)
		results <- result{info, err}
	}()

	var fw *frameWriter // nil until the first frame: the response is not committed yet
	writeProgress := func() error {
		pending := q.take()
		if len(pending) == 0 {
			return nil
		}
		if fw == nil {
			fw = startFrames(w)
		}
		for i := range pending {
			if err := fw.write(api.PullFrame{Progress: &pending[i]}, i == len(pending)-1); err != nil {
				return err
			}
		}
		return nil
	}
	tick := time.NewTicker(s.opts.heartbeat)
	defer tick.Stop()
	for {
		select {
		case <-q.notify:
			if writeProgress() != nil {
				return nil
			}
		case <-tick.C:
			if fw == nil {
				fw = startFrames(w)
			}
			if fw.write(api.PullFrame{}, true) != nil {
				return nil
			}
		case res := <-results:
			if writeProgress() != nil {
				return nil
			}
			if fw == nil {
				if res.err != nil {
					return res.err
				}
				fw = startFrames(w)
			}
			frame := api.PullFrame{Result: &res.info}
			if res.err != nil {
				frame = api.PullFrame{Error: wireError(res.err)}
			}
			_ = fw.write(frame, true)
			return nil
		case <-ctx.Done():
			return nil
		}
	}
}

// progressQueue collects pull progress from the pulling goroutines without
// ever blocking them: a newer event for an ID replaces a pending older one,
// so a slow client sees fewer events, never stale ones.
type progressQueue struct {
	// notify has room for one wake-up; add sends without blocking and the
	// handler receives. It is never closed.
	notify chan struct{}

	mu      sync.Mutex
	pending []runtime.PullProgress // guarded by mu
	index   map[string]int         // guarded by mu; ID → position in pending
}

func (q *progressQueue) add(p runtime.PullProgress) {
	q.mu.Lock()
	if i, ok := q.index[p.ID]; ok {
		q.pending[i] = p
	} else {
		if q.index == nil {
			q.index = make(map[string]int)
		}
		q.index[p.ID] = len(q.pending)
		q.pending = append(q.pending, p)
	}
	q.mu.Unlock()
	select {
	case q.notify <- struct{}{}:
	default:
	}
}

func (q *progressQueue) take() []runtime.PullProgress {
	q.mu.Lock()
	defer q.mu.Unlock()
	p := q.pending
	q.pending = nil
	clear(q.index)
	return p
}
