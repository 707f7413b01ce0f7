package server

import (
	"context"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/switchyard/switchyard/api"
	"github.com/switchyard/switchyard/runtime"
	"github.com/switchyard/switchyard/spec"
)

// Deployer deploys deployment specs: the agent. Up and Down answer what
// changed; Deployments lists what is deployed, ordered by name.
type Deployer interface {
	Up(ctx context.Context, d *spec.Deployment) (api.DeployResult, error)
	Down(ctx context.Context, name string) (api.DeployResult, error)
	Deployments(ctx context.Context) ([]api.DeploymentStatus, error)
}

// JobRunner runs a deployed job on demand; a Deployer that is one serves
// POST /v1/deployments/{name}/jobs/{service}.
type JobRunner interface {
	RunJob(ctx context.Context, deployment, service string) (api.JobRun, error)
	// JobRuns lists the job's last runs (GET of the same path).
	JobRuns(ctx context.Context, deployment, service string) ([]api.JobRun, error)
}

// Scaler sets a deployed service's replica count; a Deployer that is one
// serves POST /v1/deployments/{name}/services/{service}/scale.
type Scaler interface {
	Scale(ctx context.Context, deployment, service string, replicas uint32) (api.DeployResult, error)
}

// RuntimeLister gives the node's runtimes in preference order, for
// GET /v1/runtimes, which asks each of them for its health.
type RuntimeLister interface {
	Runtimes() []runtime.Containers
}

// Loader loads an image archive (an OCI layout, or a docker save tarball)
// from a file into the node's store and answers what it named.
type Loader interface {
	Load(ctx context.Context, path string) ([]runtime.ImageInfo, error)
}

// LoaderFunc makes a function a Loader.
type LoaderFunc func(ctx context.Context, path string) ([]runtime.ImageInfo, error)

// Load implements Loader.
func (f LoaderFunc) Load(ctx context.Context, path string) ([]runtime.ImageInfo, error) {
	return f(ctx, path)
}

// Bodies of the node's routes.
const (
	// MaxDeploymentBody bounds a POST /v1/deployments body.
	MaxDeploymentBody = 4 << 20
	// MaxLoadBody bounds an uploaded image archive.
	MaxLoadBody = 64 << 30
	// healthTimeout bounds each runtime's List in GET /v1/runtimes, so that
	// one unreachable delegate cannot hold the answer up.
	healthTimeout = 3 * time.Second
)

// WithDeployer serves the deployment endpoints through d:
//
//	POST   /v1/deployments         up: the spec's YAML (application/yaml) or a
//	                               DeploymentRequest (application/json)
//	GET    /v1/deployments         every deployment's status
//	GET    /v1/deployments/{name}  one deployment's status
//	DELETE /v1/deployments/{name}  down
func WithDeployer(d Deployer) Option {
	return func(o *options) error {
		if d == nil {
			return fmt.Errorf("deployer is nil: %w", runtime.ErrInvalidArgument)
		}
		o.deployer = d
		return nil
	}
}

// WithRuntimeLister serves GET /v1/runtimes through l.
func WithRuntimeLister(l RuntimeLister) Option {
	return func(o *options) error {
		if l == nil {
			return fmt.Errorf("runtime lister is nil: %w", runtime.ErrInvalidArgument)
		}
		o.lister = l
		return nil
	}
}

// WithLoader serves POST /v1/images/load through l: the archive is written
// to a temporary file in tmpDir (removed afterwards, whatever happens) and
// loaded from there.
func WithLoader(l Loader, tmpDir string) Option {
	return func(o *options) error {
		if l == nil || tmpDir == "" {
			return fmt.Errorf("loader: give a loader and a directory for uploads: %w", runtime.ErrInvalidArgument)
		}
		o.loader, o.loadDir = l, tmpDir
		return nil
	}
}

// WithMetrics serves GET /metrics with h (a Prometheus handler).
func WithMetrics(h http.Handler) Option {
	return func(o *options) error {
		if h == nil {
			return fmt.Errorf("metrics handler is nil: %w", runtime.ErrInvalidArgument)
		}
		o.metrics = h
		return nil
	}
}

// nodeRoutes registers the routes of the node's options.
func (s *Server) nodeRoutes() {
	if h := s.opts.metrics; h != nil {
		s.mux.Handle("GET /metrics", h)
	}
	if d := s.opts.deployer; d != nil {
		s.handleBody("POST /v1/deployments", MaxDeploymentBody, func(w http.ResponseWriter, r *http.Request) error {
			dep, err := decodeDeployment(r)
			if err != nil {
				return err
			}
			res, err := d.Up(r.Context(), dep)
			if err != nil {
				return err
			}
			writeJSON(w, http.StatusOK, res)
			return nil
		})
		s.handle("GET /v1/deployments", func(w http.ResponseWriter, r *http.Request) error {
			list, err := d.Deployments(r.Context())
			if err != nil {
				return err
			}
			writeJSON(w, http.StatusOK, list)
			return nil
		})
		s.handle("GET /v1/deployments/{name}", func(w http.ResponseWriter, r *http.Request) error {
			name := r.PathValue("name")
			list, err := d.Deployments(r.Context())
			if err != nil {
				return err
			}
			for _, st := range list {
				if st.Name == name {
					writeJSON(w, http.StatusOK, st)
					return nil
				}
			}
			return fmt.Errorf("deployment %s is not deployed on this node: %w", name, runtime.ErrNotFound)
		})
		if sc, ok := d.(Scaler); ok {
			s.handleBody("POST /v1/deployments/{name}/services/{service}/scale", 4<<10, func(w http.ResponseWriter, r *http.Request) error {
				var req api.ScaleRequest
				if err := api.Decode(r.Body, &req, "scale request"); err != nil {
					return err
				}
				res, err := sc.Scale(r.Context(), r.PathValue("name"), r.PathValue("service"), req.Replicas)
				if err != nil {
					return err
				}
				writeJSON(w, http.StatusOK, res)
				return nil
			})
		}
		if jr, ok := d.(JobRunner); ok {
			s.handle("GET /v1/deployments/{name}/jobs/{service}", func(w http.ResponseWriter, r *http.Request) error {
				runs, err := jr.JobRuns(r.Context(), r.PathValue("name"), r.PathValue("service"))
				if err != nil {
					return err
				}
				writeJSON(w, http.StatusOK, runs)
				return nil
			})
			s.handle("POST /v1/deployments/{name}/jobs/{service}", func(w http.ResponseWriter, r *http.Request) error {
				run, err := jr.RunJob(r.Context(), r.PathValue("name"), r.PathValue("service"))
				if err != nil {
					return err
				}
				writeJSON(w, http.StatusOK, run)
				return nil
			})
		}
		s.handle("DELETE /v1/deployments/{name}", func(w http.ResponseWriter, r *http.Request) error {
			res, err := d.Down(r.Context(), r.PathValue("name"))
			if err != nil {
				return err
			}
			writeJSON(w, http.StatusOK, res)
			return nil
		})
	}
	if l := s.opts.lister; l != nil {
		s.handle("GET /v1/runtimes", func(w http.ResponseWriter, r *http.Request) error {
			writeJSON(w, http.StatusOK, runtimeStatuses(r.Context(), l.Runtimes()))
			return nil
		})
	}
	s.handleBody("POST /v1/images/load", MaxLoadBody, func(w http.ResponseWriter, r *http.Request) error {
		if s.opts.loader == nil {
			return fmt.Errorf("load: this daemon has no image store to load into: %w", runtime.ErrNotSupported)
		}
		imgs, err := s.load(r, s.opts.loader)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, imgs)
		return nil
	})
}

// runtimeStatuses asks every runtime at once for its containers, as its
// health.
func runtimeStatuses(ctx context.Context, rts []runtime.Containers) []api.RuntimeStatus {
	out := make([]api.RuntimeStatus, len(rts))
	var wg sync.WaitGroup
	for i, rt := range rts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st := api.RuntimeStatus{Name: rt.Name(), Platforms: []string{}}
			for _, p := range rt.Platforms() {
				st.Platforms = append(st.Platforms, runtime.FormatPlatform(p))
			}
			ctx, cancel := context.WithTimeout(ctx, healthTimeout)
			defer cancel()
			cs, err := rt.List(ctx)
			st.Healthy, st.Containers = err == nil, len(cs)
			if err != nil {
				st.Error = err.Error()
			}
			out[i] = st
		}()
	}
	wg.Wait()
	return out
}

// load writes the uploaded archive to a temporary file (never left behind)
// and loads it.
func (s *Server) load(r *http.Request, l Loader) ([]runtime.ImageInfo, error) {
	if err := os.MkdirAll(s.opts.loadDir, 0o700); err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	f, err := os.CreateTemp(s.opts.loadDir, "load-*.tar")
	if err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	defer os.Remove(f.Name())
	_, err = io.Copy(f, r.Body)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("load: receive the archive: %w: %w", err, runtime.ErrInvalidArgument)
	}
	imgs, err := l.Load(r.Context(), f.Name())
	if err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	return imgs, nil
}

// decodeDeployment reads the body of POST /v1/deployments: the deployment
// spec's YAML (Content-Type application/yaml, text/yaml or their x- forms)
// or a JSON DeploymentRequest (application/json, or no content type). The
// error wraps runtime.ErrInvalidArgument, or runtime.ErrNotSupported for any
// other content type.
func decodeDeployment(r *http.Request) (*spec.Deployment, error) {
	mt := "application/json"
	if ct := r.Header.Get("Content-Type"); ct != "" {
		var err error
		if mt, _, err = mime.ParseMediaType(ct); err != nil {
			return nil, fmt.Errorf("deployment: content type %q: %w: %w", ct, err, runtime.ErrInvalidArgument)
		}
	}
	switch mt {
	case "application/json":
		var req api.DeploymentRequest
		if err := api.Decode(r.Body, &req, "deployment"); err != nil {
			return nil, err
		}
		return req.Spec()
	case "application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml":
		data, err := io.ReadAll(r.Body)
		if err != nil {
			return nil, fmt.Errorf("deployment: read body: %w: %w", err, runtime.ErrInvalidArgument)
		}
		d, err := spec.Parse(data)
		if err != nil {
			return nil, fmt.Errorf("deployment spec: %w", err) // of the invalid-argument kind
		}
		return d, nil
	}
	return nil, fmt.Errorf("deployment: content type %q: send the spec as application/yaml or application/json: %w", mt, runtime.ErrNotSupported)
}
