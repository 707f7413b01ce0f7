package docker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/moby/moby/api/types/volume"

	"github.com/switchyard/switchyard/api"
	"github.com/switchyard/switchyard/runtime"
)

// Volumes manages the node's named volumes: the agent, over package
// volumes.
type Volumes interface {
	// Volumes lists the volumes, with the containers that use each.
	Volumes(ctx context.Context) ([]api.NamedVolume, error)
	// Volume returns one, or an error wrapping runtime.ErrNotFound.
	Volume(ctx context.Context, name string) (api.NamedVolume, error)
	// CreateVolume makes one, or returns the one of that name.
	CreateVolume(ctx context.Context, name string, labels map[string]string) (api.NamedVolume, error)
	// RemoveVolume removes one no container mounts; one in use is refused
	// with an error wrapping runtime.ErrFailedPrecondition.
	RemoveVolume(ctx context.Context, name string) error
}

// WithVolumes serves docker's volume endpoints over v. Without it they
// answer that this node keeps no named volumes.
func WithVolumes(v Volumes) Option {
	return func(o *options) error {
		if v == nil {
			return fmt.Errorf("docker API: volumes are nil: %w", runtime.ErrInvalidArgument)
		}
		o.volumes = v
		return nil
	}
}

// dockerVolume is v as docker reports volumes.
func dockerVolume(v api.NamedVolume) volume.Volume {
	out := volume.Volume{Name: v.Name, Driver: "local", Mountpoint: v.Mountpoint, Labels: v.Labels, Scope: "local", Options: map[string]string{}}
	if out.Labels == nil {
		out.Labels = map[string]string{}
	}
	if !v.Created.IsZero() {
		out.CreatedAt = v.Created.Format(time.RFC3339)
	}
	return out
}

func (s *Server) volumeRoutes() {
	need := func(h func(w http.ResponseWriter, r *http.Request) error) func(w http.ResponseWriter, r *http.Request) error {
		return func(w http.ResponseWriter, r *http.Request) error {
			if s.opts.volumes == nil {
				return fmt.Errorf("this node keeps no named volumes: %w", runtime.ErrNotSupported)
			}
			return h(w, r)
		}
	}
	s.handle("GET /volumes", need(func(w http.ResponseWriter, r *http.Request) error {
		f, err := parseFilters(r)
		if err != nil {
			return err
		}
		list, err := s.opts.volumes.Volumes(r.Context())
		if err != nil {
			return err
		}
		out := volume.ListResponse{Volumes: []volume.Volume{}, Warnings: []string{}}
		for _, v := range list {
			ok, err := f.matchVolume(v)
			if err != nil {
				return err
			}
			if ok {
				out.Volumes = append(out.Volumes, dockerVolume(v))
			}
		}
		writeJSON(w, http.StatusOK, out)
		return nil
	}))
	s.handle("GET /volumes/{name}", need(func(w http.ResponseWriter, r *http.Request) error {
		v, err := s.opts.volumes.Volume(r.Context(), r.PathValue("name"))
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, dockerVolume(v))
		return nil
	}))
	s.handle("POST /volumes/create", need(func(w http.ResponseWriter, r *http.Request) error {
		var req volume.CreateRequest
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxNetworkBody)).Decode(&req); err != nil {
			return fmt.Errorf("volume create request: %v: %w", err, runtime.ErrInvalidArgument)
		}
		if req.Driver != "" && req.Driver != "local" {
			return fmt.Errorf("volume %s: driver %q: this node's volumes are local directories; leave the driver out: %w", req.Name, req.Driver, runtime.ErrNotSupported)
		}
		if len(req.DriverOpts) > 0 {
			return fmt.Errorf("volume %s: driver options (-o) are not supported here: a volume is a directory on the node: %w", req.Name, runtime.ErrNotSupported)
		}
		if req.Name == "" {
			// docker names an anonymous volume with 64 random hex.
			req.Name = randomID()
		}
		_, lookErr := s.opts.volumes.Volume(r.Context(), req.Name)
		isNew := lookErr != nil
		v, err := s.opts.volumes.CreateVolume(r.Context(), req.Name, req.Labels)
		if err != nil {
			return err
		}
		if isNew {
			s.emit(eventVolume, "create", v.Name, map[string]string{"driver": "local"})
		}
		writeJSON(w, http.StatusCreated, dockerVolume(v))
		return nil
	}))
	s.handle("DELETE /volumes/{name}", need(func(w http.ResponseWriter, r *http.Request) error {
		name := r.PathValue("name")
		if err := s.opts.volumes.RemoveVolume(r.Context(), name); err != nil {
			if force, _ := boolParam(r, "force"); force && errors.Is(err, runtime.ErrNotFound) {
				w.WriteHeader(http.StatusNoContent)
				return nil
			}
			return err
		}
		s.emit(eventVolume, "destroy", name, map[string]string{"driver": "local"})
		w.WriteHeader(http.StatusNoContent)
		return nil
	}))
	s.handle("POST /volumes/prune", need(func(w http.ResponseWriter, r *http.Request) error {
		f, err := parseFilters(r)
		if err != nil {
			return err
		}
		list, err := s.opts.volumes.Volumes(r.Context())
		if err != nil {
			return err
		}
		rep := volume.PruneReport{VolumesDeleted: []string{}}
		for _, v := range list {
			if len(v.UsedBy) > 0 {
				continue
			}
			if ok, err := f.matchVolume(v); err != nil || !ok {
				if err != nil {
					return err
				}
				continue
			}
			if err := s.opts.volumes.RemoveVolume(r.Context(), v.Name); err == nil {
				rep.VolumesDeleted = append(rep.VolumesDeleted, v.Name)
				s.emit(eventVolume, "destroy", v.Name, map[string]string{"driver": "local"})
			}
		}
		writeJSON(w, http.StatusOK, rep)
		return nil
	}))
}

// matchVolume reports whether v passes every filter; an unknown filter is
// an error, as dockerd's.
func (f filters) matchVolume(v api.NamedVolume) (bool, error) {
	return f.match("name, label, dangling or driver", func(key, want string) (bool, bool) {
		switch key {
		case "name":
			return strings.Contains(v.Name, want), true
		case "label":
			return hasLabel(v.Labels, want), true
		case "dangling":
			return (want == "true" || want == "1") == (len(v.UsedBy) == 0), true
		case "driver":
			return want == "local", true
		case "all":
			return true, true
		}
		return false, false
	})
}
