package server

import (
	"context"
	"net/http"
	"time"

	"github.com/switchyard/switchyard/api"
	"github.com/switchyard/switchyard/runtime"
)

// defaultStopTimeout is Docker's: what a stop without ?timeout= waits.
const defaultStopTimeout = 10 * time.Second

func (s *Server) identityRoutes(id runtime.Identity) {
	s.handle("GET /v1/info", func(w http.ResponseWriter, r *http.Request) error {
		writeJSON(w, http.StatusOK, api.Info{Name: id.Name(), Platforms: id.Platforms(), Version: s.opts.version, APIVersion: api.Version})
		return nil
	})
	s.handle("GET /v1/platforms", func(w http.ResponseWriter, r *http.Request) error {
		writeJSON(w, http.StatusOK, id.Platforms())
		return nil
	})
}

func (s *Server) lifecycleRoutes(lc runtime.Lifecycle) {
	s.handle("POST /v1/containers/{id}", func(w http.ResponseWriter, r *http.Request) error {
		id, err := containerID(r)
		if err != nil {
			return err
		}
		cs, err := api.DecodeCreateSpec(r.Body)
		if err != nil {
			return err
		}
		if err := lc.Create(r.Context(), id, cs); err != nil {
			return err
		}
		w.WriteHeader(http.StatusCreated)
		return nil
	})
	s.handle("POST /v1/containers/{id}/start", idAction(lc.Start))
	s.handle("POST /v1/containers/{id}/sync-volumes", idAction(lc.SyncVolumes))
	s.handle("POST /v1/containers/{id}/stop", func(w http.ResponseWriter, r *http.Request) error {
		id, err := containerID(r)
		if err != nil {
			return err
		}
		timeout, err := durationParam(r, "timeout", defaultStopTimeout)
		if err != nil {
			return err
		}
		// A stop may take its whole timeout: keep the connection alive meanwhile.
		return long(s, w, r, func(ctx context.Context) (struct{}, error) {
			return struct{}{}, lc.Stop(ctx, id, timeout)
		})
	})
	s.handle("POST /v1/containers/{id}/kill", func(w http.ResponseWriter, r *http.Request) error {
		id, err := containerID(r)
		if err != nil {
			return err
		}
		if err := lc.Kill(r.Context(), id, r.URL.Query().Get("signal")); err != nil {
			return err
		}
		writeNoContent(w)
		return nil
	})
	s.handle("DELETE /v1/containers/{id}", func(w http.ResponseWriter, r *http.Request) error {
		id, err := containerID(r)
		if err != nil {
			return err
		}
		force, err := boolParam(r, "force")
		if err != nil {
			return err
		}
		if err := lc.Remove(r.Context(), id, force); err != nil {
			return err
		}
		writeNoContent(w)
		return nil
	})
	s.handle("POST /v1/containers/{id}/rename", func(w http.ResponseWriter, r *http.Request) error {
		id, err := containerID(r)
		if err != nil {
			return err
		}
		to, err := runtime.ParseContainerID(r.URL.Query().Get("to"))
		if err != nil {
			return err
		}
		if err := lc.Rename(r.Context(), id, to); err != nil {
			return err
		}
		writeNoContent(w)
		return nil
	})
}

func (s *Server) inspectorRoutes(in runtime.Inspector) {
	s.handle("GET /v1/containers", func(w http.ResponseWriter, r *http.Request) error {
		cs, err := in.List(r.Context())
		if err != nil {
			return err
		}
		if cs == nil {
			cs = []runtime.Container{} // [] rather than null for scripts
		}
		writeJSON(w, http.StatusOK, cs)
		return nil
	})
	s.handle("GET /v1/containers/{id}", idQuery(in.Inspect))
	s.handle("GET /v1/containers/{id}/state", idQuery(in.State))
	s.handle("GET /v1/containers/{id}/stats", idQuery(in.Stats))
	s.handle("GET /v1/containers/{id}/pid", idQuery(func(ctx context.Context, id runtime.ContainerID) (api.PID, error) {
		pid, err := in.PID(ctx, id)
		return api.PID{PID: pid}, err
	}))
	s.handle("GET /v1/containers/{id}/ip", idQuery(func(ctx context.Context, id runtime.ContainerID) (api.IP, error) {
		ip, err := in.IP(ctx, id)
		return api.IP{IP: ip}, err
	}))
	s.handle("GET /v1/containers/{id}/port-override", idQuery(func(ctx context.Context, id runtime.ContainerID) (api.Port, error) {
		port, err := in.PortOverride(ctx, id)
		return api.Port{Port: port}, err
	}))
}

func (s *Server) waiterRoutes(wt runtime.Waiter) {
	s.handle("POST /v1/containers/{id}/wait", func(w http.ResponseWriter, r *http.Request) error {
		id, err := containerID(r)
		if err != nil {
			return err
		}
		return long(s, w, r, func(ctx context.Context) (api.ExitCode, error) {
			code, err := wt.Wait(ctx, id)
			return api.ExitCode{ExitCode: code}, err
		})
	})
	s.handle("POST /v1/containers/{id}/wait-outcome", func(w http.ResponseWriter, r *http.Request) error {
		id, err := containerID(r)
		if err != nil {
			return err
		}
		cond, err := runtime.ParseWaitCondition(r.URL.Query().Get("condition"))
		if err != nil {
			return err
		}
		return long(s, w, r, func(ctx context.Context) (runtime.WaitOutcome, error) {
			return wt.WaitOutcome(ctx, id, cond)
		})
	})
}

// idAction adapts a per-container method without results.
func idAction(fn func(context.Context, runtime.ContainerID) error) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, err := containerID(r)
		if err != nil {
			return err
		}
		if err := fn(r.Context(), id); err != nil {
			return err
		}
		writeNoContent(w)
		return nil
	}
}

// idQuery adapts a per-container method that returns one value.
func idQuery[T any](fn func(context.Context, runtime.ContainerID) (T, error)) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, err := containerID(r)
		if err != nil {
			return err
		}
		v, err := fn(r.Context(), id)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, v)
		return nil
	}
}
