package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/switchyard/switchyard/api"
	"github.com/switchyard/switchyard/api/server"
	"github.com/switchyard/switchyard/runtime"
	"github.com/switchyard/switchyard/spec"
)

// maxDeploymentBody bounds a POST /v1/deployments body.
const maxDeploymentBody = 4 << 20

// DeploymentRequest is the JSON body of POST /v1/deployments: a deployment
// spec with its services in deployment order, each in the API's service
// spec form.
type DeploymentRequest struct {
	// Version is the spec format version; "" or "v1".
	Version string `json:"version,omitempty"`
	// Deployment is the deployment's name.
	Deployment string `json:"deployment"`
	// Services are the deployment's services, in order; each names itself.
	Services []api.ServiceSpec `json:"services"`
}

// FromDeployment returns the wire form of d.
func FromDeployment(d *spec.Deployment) DeploymentRequest {
	r := DeploymentRequest{Version: d.Version, Deployment: d.Name}
	for _, name := range serviceOrder(d) {
		svc := d.Services[name]
		if svc == nil {
			continue // validateDeployment reports it on the server
		}
		w := api.FromServiceSpec(svc)
		w.Name = name
		r.Services = append(r.Services, w)
	}
	return r
}

// Spec checks r and returns the deployment it describes. The error wraps
// runtime.ErrInvalidArgument and names the service that is wrong.
func (r DeploymentRequest) Spec() (*spec.Deployment, error) {
	d := &spec.Deployment{Version: r.Version, Name: r.Deployment, Services: make(map[string]*spec.ServiceSpec, len(r.Services))}
	for i, w := range r.Services {
		if w.Name == "" {
			return nil, fmt.Errorf("deployment %q: services[%d]: name is empty; give every service a name: %w", r.Deployment, i, runtime.ErrInvalidArgument)
		}
		if _, dup := d.Services[w.Name]; dup {
			return nil, fmt.Errorf("deployment %q: service %q is given twice; give each service once: %w", r.Deployment, w.Name, runtime.ErrInvalidArgument)
		}
		svc, err := w.Spec()
		if err != nil {
			return nil, fmt.Errorf("deployment %q: service %q: %w", r.Deployment, w.Name, err)
		}
		d.Services[w.Name] = svc
		d.ServiceNames = append(d.ServiceNames, w.Name)
	}
	if err := validateDeployment(d); err != nil {
		return nil, err
	}
	return d, nil
}

// newHandler builds the agent's HTTP API: the container and image API over
// the combined runtime, with the agent's own routes added.
// apiRuntime is the runtime the API serves: the composite, with a user's
// stop and start of a supervised replica told to its supervisor, so that a
// replica stopped by hand stays stopped until it is started by hand, up
// runs, or the agent restarts (Docker's "always" restart policy).
type apiRuntime struct {
	runtime.Runtime
	a *Agent
}

// Stop implements runtime.Lifecycle.
func (r apiRuntime) Stop(ctx context.Context, id runtime.ContainerID, timeout time.Duration) error {
	// Marked before the stop, so the supervisor that sees the exit knows.
	r.a.setUserStopped(id, true)
	err := r.Runtime.Stop(ctx, id, timeout)
	if err != nil {
		r.a.setUserStopped(id, false)
	}
	return err
}

// Start implements runtime.Lifecycle.
func (r apiRuntime) Start(ctx context.Context, id runtime.ContainerID) error {
	err := r.Runtime.Start(ctx, id)
	if err == nil {
		r.a.setUserStopped(id, false)
	}
	return err
}

func (a *Agent) newHandler() (http.Handler, error) {
	opts := append([]server.Option{
		server.WithLogger(a.log),
		server.WithVersion(a.opts.version),
		server.WithMaxBodyBytes(maxDeploymentBody),
		server.WithRoutes(a.routes),
	}, a.opts.serverOpts...)
	return server.New(apiRuntime{Runtime: a.rt, a: a}, opts...)
}

// routes adds /metrics and the deployment endpoints to the API's mux.
func (a *Agent) routes(mux *http.ServeMux) {
	mux.Handle("GET /metrics", promhttp.HandlerFor(a.metrics.registry, promhttp.HandlerOpts{ErrorLog: slogPrinter{a}}))
	mux.HandleFunc("POST /v1/deployments", a.handleUp)
	mux.HandleFunc("GET /v1/deployments", a.handleList)
	mux.HandleFunc("GET /v1/deployments/{name}", a.handleGet)
	mux.HandleFunc("DELETE /v1/deployments/{name}", a.handleDown)
	mux.HandleFunc("GET /v1/runtimes", a.handleRuntimes)
	mux.HandleFunc("POST /v1/images/load", a.handleLoad)
}

// maxLoadBytes bounds an uploaded image archive.
const maxLoadBytes = 64 << 30

// handleLoad writes the uploaded archive to a temporary file under the root
// (never left behind) and loads it into the image store.
func (a *Agent) handleLoad(w http.ResponseWriter, r *http.Request) {
	if a.opts.loader == nil {
		a.writeError(w, r, fmt.Errorf("load: this agent has no image store to load into: %w", runtime.ErrNotSupported))
		return
	}
	tmpDir := filepath.Join(a.cfg.Root, "tmp")
	if err := os.MkdirAll(tmpDir, 0o700); err != nil {
		a.writeError(w, r, fmt.Errorf("load: %w", err))
		return
	}
	f, err := os.CreateTemp(tmpDir, "load-*.tar")
	if err != nil {
		a.writeError(w, r, fmt.Errorf("load: %w", err))
		return
	}
	defer os.Remove(f.Name())
	_, err = io.Copy(f, http.MaxBytesReader(w, r.Body, maxLoadBytes))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		a.writeError(w, r, fmt.Errorf("load: receive the archive: %w: %w", err, runtime.ErrInvalidArgument))
		return
	}
	imgs, err := a.opts.loader(r.Context(), f.Name())
	if err != nil {
		a.writeError(w, r, fmt.Errorf("load: %w", err))
		return
	}
	writeJSON(w, http.StatusOK, imgs)
}

// RuntimeStatus is one runtime of the agent as `switchyard info` shows it.
type RuntimeStatus struct {
	// Name is the runtime's name (runc, wasm, remote:NAME).
	Name string `json:"name"`
	// Platforms are what it serves, in its order.
	Platforms []string `json:"platforms"`
	// Healthy is whether it answered a List just now; Error says why not.
	Healthy bool   `json:"healthy"`
	Error   string `json:"error,omitempty"`
	// Containers is how many containers it reported.
	Containers int `json:"containers"`
}

// healthTimeout bounds each runtime's List in /v1/runtimes, so that one
// unreachable delegate cannot hold the answer up.
const healthTimeout = 3 * time.Second

// handleRuntimes lists the runtimes in preference order with their
// platforms and health, asking them all at once.
func (a *Agent) handleRuntimes(w http.ResponseWriter, r *http.Request) {
	out := make([]RuntimeStatus, len(a.runtimes))
	var wg sync.WaitGroup
	for i, rt := range a.runtimes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st := RuntimeStatus{Name: rt.Name(), Platforms: []string{}}
			for _, p := range rt.Platforms() {
				st.Platforms = append(st.Platforms, runtime.FormatPlatform(p))
			}
			ctx, cancel := context.WithTimeout(r.Context(), healthTimeout)
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
	writeJSON(w, http.StatusOK, out)
}

// slogPrinter adapts the agent's logger to promhttp's error log.
type slogPrinter struct{ a *Agent }

func (p slogPrinter) Println(v ...any) { p.a.log.Error("metrics: " + fmt.Sprint(v...)) }

func (a *Agent) handleUp(w http.ResponseWriter, r *http.Request) {
	d, err := decodeDeployment(r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	res, err := a.Up(r.Context(), d)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

func (a *Agent) handleDown(w http.ResponseWriter, r *http.Request) {
	res, err := a.Down(r.Context(), r.PathValue("name"))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

func (a *Agent) handleList(w http.ResponseWriter, r *http.Request) {
	list, err := a.Deployments(r.Context())
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, list)
}

func (a *Agent) handleGet(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	list, err := a.Deployments(r.Context())
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	for _, st := range list {
		if st.Name == name {
			writeJSON(w, http.StatusOK, st)
			return
		}
	}
	a.writeError(w, r, fmt.Errorf("deployment %s is not deployed on this node: %w", name, runtime.ErrNotFound))
}

// decodeDeployment reads the body of POST /v1/deployments: the deployment
// spec's YAML (Content-Type application/yaml, text/yaml or their x- forms)
// or a JSON DeploymentRequest (application/json, or no content type). The
// error wraps runtime.ErrInvalidArgument, or runtime.ErrNotSupported for any
// other content type.
func decodeDeployment(r *http.Request) (*spec.Deployment, error) {
	body := http.MaxBytesReader(nil, r.Body, maxDeploymentBody)
	mt := "application/json"
	if ct := r.Header.Get("Content-Type"); ct != "" {
		var err error
		if mt, _, err = mime.ParseMediaType(ct); err != nil {
			return nil, fmt.Errorf("deployment: content type %q: %w: %w", ct, err, runtime.ErrInvalidArgument)
		}
	}
	switch mt {
	case "application/json":
		var req DeploymentRequest
		if err := api.Decode(body, &req, "deployment"); err != nil {
			return nil, err
		}
		return req.Spec()
	case "application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml":
		data, err := io.ReadAll(body)
		if err != nil {
			return nil, fmt.Errorf("deployment: read body: %w: %w", err, runtime.ErrInvalidArgument)
		}
		return parseYAML(data)
	}
	return nil, fmt.Errorf("deployment: content type %q: send the spec as application/yaml or application/json: %w", mt, runtime.ErrNotSupported)
}

// parseYAML parses a deployment spec's YAML; the error keeps the spec's
// field paths and lines and wraps runtime.ErrInvalidArgument.
func parseYAML(data []byte) (*spec.Deployment, error) {
	d, err := spec.Parse(data)
	if err != nil {
		// The spec's errors are of the contract's invalid-argument kind.
		return nil, fmt.Errorf("deployment spec: %w", err)
	}
	return d, validateDeployment(d)
}

// writeError answers with err's status code and wire form.
func (a *Agent) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status, body := api.ToHTTP(err)
	if status >= 500 {
		a.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	writeJSON(w, status, api.ErrorBody{Error: body})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v) // the client has gone if this fails
}
