package server

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/switchyard/switchyard/api"
	"github.com/switchyard/switchyard/runtime"
)

// Server is an http.Handler that serves a runtime.Runtime under /v1/.
type Server struct {
	mux     *http.ServeMux
	handler http.Handler
	opts    options
	inputs  inputs
}

var _ http.Handler = (*Server)(nil)

type options struct {
	log        *slog.Logger
	version    string
	maxBody    int64
	heartbeat  time.Duration
	routes     []func(*http.ServeMux)
	middleware []func(http.Handler) http.Handler
	auth       auth

	// The node's routes, when given (deploy.go).
	deployer Deployer
	lister   RuntimeLister
	loader   Loader
	loadDir  string
	metrics  http.Handler
	networks Networks
	secrets  Secrets
	logins   Logins
}

// Option configures a Server.
type Option func(*options) error

// WithLogger sets the logger for request and error logs. Default: discard.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) error {
		if l == nil {
			return fmt.Errorf("server logger is nil: %w", runtime.ErrInvalidArgument)
		}
		o.log = l
		return nil
	}
}

// WithVersion sets the version GET /v1/info reports. Default: "(devel)".
func WithVersion(v string) Option {
	return func(o *options) error { o.version = v; return nil }
}

// WithMaxBodyBytes limits the size of request bodies. Default: 1 MiB; n
// must be positive.
func WithMaxBodyBytes(n int64) Option {
	return func(o *options) error {
		if n <= 0 {
			return fmt.Errorf("max body bytes %d: want > 0: %w", n, runtime.ErrInvalidArgument)
		}
		o.maxBody = n
		return nil
	}
}

// WithHeartbeat sets how often an idle stream or long call sends an empty
// heartbeat frame. Default: 10s; d must be positive. Clients treat a
// connection silent for several heartbeats as dropped.
func WithHeartbeat(d time.Duration) Option {
	return func(o *options) error {
		if d <= 0 {
			return fmt.Errorf("heartbeat %v: want > 0: %w", d, runtime.ErrInvalidArgument)
		}
		o.heartbeat = d
		return nil
	}
}

// WithRoutes lets the caller add routes to the server's mux (metrics,
// deployment endpoints). register is called once, after the API's own
// routes; a pattern that conflicts with them makes New panic, as
// http.ServeMux does.
func WithRoutes(register func(mux *http.ServeMux)) Option {
	return func(o *options) error {
		if register == nil {
			return fmt.Errorf("routes function is nil: %w", runtime.ErrInvalidArgument)
		}
		o.routes = append(o.routes, register)
		return nil
	}
}

// WithMiddleware wraps the whole handler (metrics, request logs). The
// first middleware given is the outermost; authentication (WithToken,
// WithClientCertRequired) runs before all of them.
func WithMiddleware(mw func(http.Handler) http.Handler) Option {
	return func(o *options) error {
		if mw == nil {
			return fmt.Errorf("middleware is nil: %w", runtime.ErrInvalidArgument)
		}
		o.middleware = append(o.middleware, mw)
		return nil
	}
}

// New returns a Server that serves rt. The error wraps
// runtime.ErrInvalidArgument when an option is bad.
func New(rt runtime.Runtime, opts ...Option) (*Server, error) {
	o := options{
		log:       slog.New(slog.DiscardHandler),
		version:   "(devel)",
		maxBody:   1 << 20,
		heartbeat: 10 * time.Second,
	}
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	s := &Server{mux: http.NewServeMux(), opts: o}
	s.identityRoutes(rt)
	s.lifecycleRoutes(rt)
	s.inspectorRoutes(rt)
	s.waiterRoutes(rt)
	s.runRoutes(rt, rt)
	s.logRoutes(rt)
	s.execRoutes(rt)
	s.imageRoutes(rt)
	s.nodeRoutes()
	s.networkRoutes()
	s.secretRoutes()
	s.loginRoutes()
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, r, fmt.Errorf("%s%s %s: this daemon speaks API %s (see the api package docs): %w",
			api.NoRoute, r.Method, r.URL.Path, api.Version, runtime.ErrNotFound))
	})
	for _, register := range o.routes {
		register(s.mux)
	}
	var h http.Handler = s.mux
	for i := len(o.middleware) - 1; i >= 0; i-- {
		h = o.middleware[i](h)
	}
	if o.auth.enabled() {
		// Outermost: nothing runs for a request that failed authentication.
		h = s.authenticate(h)
	}
	s.handler = h
	return s, nil
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.handler.ServeHTTP(w, r)
}

// handlerFunc is an API handler: it writes a success answer itself and
// returns an error for writeError, or writes a stream and returns nil.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

func (s *Server) handle(pattern string, h handlerFunc) {
	s.handleBody(pattern, s.opts.maxBody, h)
}

// handleBody is handle with a body limit of its own (an image archive is
// larger than any JSON request).
func (s *Server) handleBody(pattern string, limit int64, h handlerFunc) {
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		if err := h(w, r); err != nil {
			s.writeError(w, r, err)
		}
	})
}

func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status, e := api.ToHTTP(err)
	level := slog.LevelDebug
	if status >= http.StatusInternalServerError && status != http.StatusNotImplemented {
		level = slog.LevelWarn
	}
	s.opts.log.Log(r.Context(), level, "api request failed", "method", r.Method, "path", r.URL.Path, "status", status, "err", err)
	writeJSON(w, status, api.ErrorBody{Error: e})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	// The client may have gone; there is no one left to tell.
	_ = json.NewEncoder(w).Encode(v)
}

func writeNoContent(w http.ResponseWriter) { w.WriteHeader(http.StatusNoContent) }

// containerID parses the {id} path value.
func containerID(r *http.Request) (runtime.ContainerID, error) {
	return runtime.ParseContainerID(r.PathValue("id"))
}

func boolParam(r *http.Request, name string) (bool, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("query parameter %s=%q: want true or false (1 or 0): %w", name, v, runtime.ErrInvalidArgument)
	}
	return b, nil
}

// tailParam parses tail=N: a count of lines, "all" or -1 for every line
// (also the default).
func tailParam(r *http.Request) (int, error) {
	v := r.URL.Query().Get("tail")
	if v == "" || v == "all" {
		return runtime.TailAll, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < runtime.TailAll {
		return 0, fmt.Errorf("query parameter tail=%q: want a number of lines >= 0, or all: %w", v, runtime.ErrInvalidArgument)
	}
	return n, nil
}

// durationParam parses a duration given as Go writes it (10s, 1m30s) or as
// whole seconds (10); def when absent.
func durationParam(r *http.Request, name string, def time.Duration) (time.Duration, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if n, aerr := strconv.Atoi(v); aerr == nil {
		d, err = time.Duration(n)*time.Second, nil
	}
	if err != nil || d < 0 {
		return 0, fmt.Errorf("query parameter %s=%q: want a duration >= 0 such as 10s or 1m30s: %w", name, v, runtime.ErrInvalidArgument)
	}
	return d, nil
}
