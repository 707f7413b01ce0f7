package host

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"

	"github.com/switchyard/switchyard/runtime"
)

// handler is the host's API: JSON over HTTP on the unix socket.
func (h *Host) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/info", func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, h.Info()) })
	mux.HandleFunc("POST /v1/shutdown", func(w http.ResponseWriter, _ *http.Request) {
		h.quitOnce.Do(func() { close(h.quit) })
		w.WriteHeader(http.StatusAccepted)
	})
	mux.HandleFunc("POST /v1/modules", func(w http.ResponseWriter, r *http.Request) {
		var m Module
		if !decode(w, r, &m) {
			return
		}
		_, release, err := h.acquire(r.Context(), m)
		if err != nil {
			writeError(w, err)
			return
		}
		release()
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /v1/modules/reclaim", func(w http.ResponseWriter, r *http.Request) {
		var req ReclaimRequest
		if !decode(w, r, &req) {
			return
		}
		res, err := h.Reclaim(r.Context(), req.Digests)
		if err != nil {
			writeError(w, err)
			return
		}
		writeJSON(w, res)
	})
	mux.HandleFunc("GET /v1/instances", func(w http.ResponseWriter, _ *http.Request) {
		h.mu.Lock()
		list := make([]Status, 0, len(h.instances))
		for _, inst := range h.instances {
			list = append(list, inst.status())
		}
		h.mu.Unlock()
		sort.Slice(list, func(i, j int) bool { return list[i].Key < list[j].Key })
		writeJSON(w, list)
	})
	mux.HandleFunc("POST /v1/instances/{key}/start", func(w http.ResponseWriter, r *http.Request) {
		var req StartRequest
		if !decode(w, r, &req) {
			return
		}
		req.Key = r.PathValue("key")
		st, err := h.start(req)
		if err != nil {
			writeError(w, err)
			return
		}
		writeJSON(w, st)
	})
	mux.HandleFunc("GET /v1/instances/{key}", func(w http.ResponseWriter, r *http.Request) {
		inst, err := h.instance(r.PathValue("key"))
		if err != nil {
			writeError(w, err)
			return
		}
		h.mu.Lock()
		st := inst.status()
		h.mu.Unlock()
		writeJSON(w, st)
	})
	mux.HandleFunc("GET /v1/instances/{key}/wait", h.serveWait)
	mux.HandleFunc("POST /v1/instances/{key}/signal", h.serveSignal)
	mux.HandleFunc("DELETE /v1/instances/{key}", func(w http.ResponseWriter, r *http.Request) {
		key := r.PathValue("key")
		if err := h.replace(key, nil); err != nil {
			writeError(w, fmt.Errorf("instance %s: %w", key, err))
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	return mux
}

func (h *Host) instance(key string) (*instance, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	inst, ok := h.instances[key]
	if !ok {
		return nil, fmt.Errorf("instance %s: not known to wasm host (pid %d): %w", key, h.pid, runtime.ErrNotFound)
	}
	return inst, nil
}

// serveWait answers when run ?run=N of the instance has ended (at once if
// it has), with its exit record (statedir.Exit). A client that goes away ends the wait.
func (h *Host) serveWait(w http.ResponseWriter, r *http.Request) {
	inst, err := h.instance(r.PathValue("key"))
	if err != nil {
		writeError(w, err)
		return
	}
	if run, err := strconv.ParseUint(r.URL.Query().Get("run"), 10, 64); err == nil && run != inst.req.Run {
		writeError(w, fmt.Errorf("instance %s: run %d is not the host's run %d: %w", inst.req.Key, run, inst.req.Run, runtime.ErrNotFound))
		return
	}
	select {
	case <-inst.done:
		writeJSON(w, inst.exit)
	case <-r.Context().Done():
	}
}

func (h *Host) serveSignal(w http.ResponseWriter, r *http.Request) {
	var req SignalRequest
	if !decode(w, r, &req) {
		return
	}
	sig, err := runtime.ParseSignal(req.Signal)
	if err != nil {
		writeError(w, err)
		return
	}
	if sig != runtime.SIGKILL && sig != runtime.SIGTERM && sig != runtime.SIGINT {
		writeError(w, fmt.Errorf("signal %s: a wasm module cannot receive signals; use SIGTERM, SIGINT or SIGKILL, which end it: %w", sig, runtime.ErrNotSupported))
		return
	}
	inst, err := h.instance(r.PathValue("key"))
	if err != nil {
		writeError(w, err)
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if !inst.running {
		writeError(w, fmt.Errorf("instance %s: not running: %w", inst.req.Name, runtime.ErrFailedPrecondition))
		return
	}
	if !inst.stopping {
		inst.signal, inst.stopping = sig, true
	}
	inst.cancel()
	writeJSON(w, inst.status())
}

func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		writeError(w, fmt.Errorf("request body: %w: %w", err, runtime.ErrInvalidArgument))
		return false
	}
	return true
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// apiError is the body of every error answer.
type apiError struct {
	Error string `json:"error"`
	Kind  string `json:"kind"`
}

// writeError answers err with its kind's name and status, the contract's
// one table (runtime.KindName, runtime.KindStatus).
func writeError(w http.ResponseWriter, err error) {
	body, status := apiError{Error: err.Error(), Kind: runtime.KindName(err)}, http.StatusInternalServerError
	if s, ok := runtime.KindStatus(err); ok {
		status = s
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

// wireError rebuilds an error of the right kind from an error answer.
type wireError struct {
	msg  string
	kind error
}

func (e *wireError) Error() string { return e.msg }
func (e *wireError) Unwrap() error { return e.kind }

func fromWire(body apiError, status int) error {
	if kind := runtime.KindFromName(body.Kind); kind != nil {
		return &wireError{msg: body.Error, kind: kind}
	}
	if body.Error == "" {
		body.Error = fmt.Sprintf("wasm host answered HTTP %d", status)
	}
	return errors.New(body.Error)
}
