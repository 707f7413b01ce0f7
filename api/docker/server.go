package docker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	goruntime "runtime"
	"strconv"
	"strings"

	"github.com/moby/moby/api/types/system"

	"github.com/switchyard/switchyard/runtime"
)

// The API versions this front door speaks: it advertises APIVersion, the
// version podman 4 advertises, and accepts requests of MinAPIVersion to
// APIVersion under a /vX.Y prefix.
const (
	APIVersion    = "1.41"
	MinAPIVersion = "1.24"
)

// RuntimeLister lists the runtimes of the node, in preference order (the
// first is the default).
type RuntimeLister interface {
	Runtimes() []runtime.Containers
}

// Server is an http.Handler serving the Docker Engine API over a node's
// runtime.
type Server struct {
	rt    runtime.Runtime
	mux   *http.ServeMux
	opts  options
	execs execs
}

var _ http.Handler = (*Server)(nil)

type options struct {
	log      *slog.Logger
	version  string
	root     string
	runtimes RuntimeLister
	networks Networks
	volumes  Volumes
	events   Events
}

// Option configures a Server.
type Option func(*options) error

// WithLogger sets the logger for failed requests. Default: discard.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) error {
		if l == nil {
			return fmt.Errorf("docker API: logger is nil: %w", runtime.ErrInvalidArgument)
		}
		o.log = l
		return nil
	}
}

// WithVersion sets switchyard's version, reported by /version and /info.
func WithVersion(v string) Option {
	return func(o *options) error { o.version = v; return nil }
}

// WithRoot sets the node's state directory, reported as DockerRootDir.
func WithRoot(dir string) Option {
	return func(o *options) error { o.root = dir; return nil }
}

// WithRuntimeLister lets /info report the node's runtimes as Runtimes and
// DefaultRuntime.
func WithRuntimeLister(l RuntimeLister) Option {
	return func(o *options) error {
		if l == nil {
			return fmt.Errorf("docker API: runtime lister is nil: %w", runtime.ErrInvalidArgument)
		}
		o.runtimes = l
		return nil
	}
}

// New returns a Server over rt.
func New(rt runtime.Runtime, opts ...Option) (*Server, error) {
	if rt == nil {
		return nil, fmt.Errorf("docker API: runtime is nil: %w", runtime.ErrInvalidArgument)
	}
	o := options{log: slog.New(slog.DiscardHandler), version: "(devel)"}
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	s := &Server{rt: rt, mux: http.NewServeMux(), opts: o}
	s.systemRoutes()
	s.containerRoutes()
	s.createRoutes()
	s.attachRoutes()
	s.imageRoutes()
	s.execRoutes()
	s.statsRoutes()
	s.networkRoutes()
	s.volumeRoutes()
	s.eventRoutes()
	s.topRoutes()
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, r, fmt.Errorf("%s %s is not implemented by switchyard's Docker API yet: %w", r.Method, r.URL.Path, runtime.ErrNotSupported))
	})
	return s, nil
}

// ServeHTTP implements http.Handler: it strips the /vX.Y prefix clients
// negotiate, refusing versions outside MinAPIVersion..APIVersion as dockerd
// does, and sets the headers every dockerd answer carries.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Api-Version", APIVersion)
	h.Set("Docker-Experimental", "false")
	h.Set("Ostype", "linux")
	h.Set("Server", "switchyard/"+s.opts.version+" (linux)")
	if v, rest, ok := versionPrefix(r.URL.Path); ok {
		if err := checkVersion(v); err != nil {
			s.writeError(w, r, err)
			return
		}
		r2 := r.Clone(r.Context())
		r2.URL.Path = rest
		r2.URL.RawPath = ""
		r = r2
	}
	s.mux.ServeHTTP(w, r)
}

// versionPrefix splits "/v1.41/containers/json" into "1.41" and
// "/containers/json".
func versionPrefix(p string) (version, rest string, ok bool) {
	if !strings.HasPrefix(p, "/v") {
		return "", p, false
	}
	v, rest, found := strings.Cut(p[2:], "/")
	if !found || v == "" || strings.Trim(v, "0123456789.") != "" {
		return "", p, false
	}
	return v, "/" + rest, true
}

// checkVersion refuses a version outside the range this front door speaks,
// with dockerd's words (clients recognise them).
func checkVersion(v string) error {
	c, ok := compareVersions(v, MinAPIVersion)
	if !ok {
		return fmt.Errorf("API version %q: want MAJOR.MINOR, such as %s: %w", v, APIVersion, runtime.ErrInvalidArgument)
	}
	if c < 0 {
		return fmt.Errorf("client version %s is too old. Minimum supported API version is %s, please upgrade your client to a newer version: %w", v, MinAPIVersion, runtime.ErrInvalidArgument)
	}
	if c, _ := compareVersions(v, APIVersion); c > 0 {
		return fmt.Errorf("client version %s is too new. Maximum supported API version is %s: %w", v, APIVersion, runtime.ErrInvalidArgument)
	}
	return nil
}

// compareVersions compares two MAJOR.MINOR versions; ok is false when a is
// not one.
func compareVersions(a, b string) (int, bool) {
	pa, ok := parseVersion(a)
	if !ok {
		return 0, false
	}
	pb, _ := parseVersion(b)
	for i := range pa {
		if pa[i] != pb[i] {
			if pa[i] < pb[i] {
				return -1, true
			}
			return 1, true
		}
	}
	return 0, true
}

func parseVersion(v string) ([2]int, bool) {
	maj, min, ok := strings.Cut(v, ".")
	if !ok {
		return [2]int{}, false
	}
	a, err1 := strconv.Atoi(maj)
	b, err2 := strconv.Atoi(min)
	if err1 != nil || err2 != nil || a < 0 || b < 0 {
		return [2]int{}, false
	}
	return [2]int{a, b}, true
}

func (s *Server) systemRoutes() {
	ping := func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Cache-Control", "no-cache, no-store, must-revalidate")
		h.Set("Pragma", "no-cache")
		h.Set("Content-Type", "text/plain; charset=utf-8")
		if r.Method == http.MethodHead {
			h.Set("Content-Length", "0")
			w.WriteHeader(http.StatusOK)
			return
		}
		_, _ = w.Write([]byte("OK"))
	}
	s.mux.HandleFunc("GET /_ping", ping)
	s.mux.HandleFunc("HEAD /_ping", ping)
	s.mux.HandleFunc("GET /version", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.versionResponse())
	})
	s.mux.HandleFunc("GET /info", func(w http.ResponseWriter, r *http.Request) {
		info, err := s.info(r.Context())
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, info)
	})
}

func (s *Server) versionResponse() system.VersionResponse {
	kernel := kernelVersion()
	return system.VersionResponse{
		Platform: system.PlatformInfo{Name: "switchyard"},
		Components: []system.ComponentVersion{{
			Name: "Engine", Version: s.opts.version,
			Details: map[string]string{"ApiVersion": APIVersion, "MinAPIVersion": MinAPIVersion, "Os": "linux", "Arch": goruntime.GOARCH, "KernelVersion": kernel, "GoVersion": goruntime.Version()},
		}},
		Version: s.opts.version, APIVersion: APIVersion, MinAPIVersion: MinAPIVersion,
		Os: "linux", Arch: goruntime.GOARCH, GoVersion: goruntime.Version(), KernelVersion: kernel,
	}
}

// info answers /info from the node's containers, images and runtimes.
func (s *Server) info(ctx context.Context) (system.Info, error) {
	cs, err := s.rt.List(ctx)
	if err != nil {
		return system.Info{}, err
	}
	imgs, err := s.rt.ListImages(ctx)
	if err != nil {
		return system.Info{}, err
	}
	info := system.Info{
		ID: "switchyard", Containers: len(cs), Images: len(imgs),
		Driver: "overlay", LoggingDriver: logDriver, CgroupDriver: "cgroupfs", CgroupVersion: cgroupVersion(),
		KernelVersion: kernelVersion(), OperatingSystem: "switchyard node", OSType: "linux", Architecture: goruntime.GOARCH,
		IndexServerAddress: "https://index.docker.io/v1/", NCPU: goruntime.NumCPU(), MemTotal: memTotal(),
		DockerRootDir: s.opts.root, ServerVersion: s.opts.version,
		Runtimes: map[string]system.RuntimeWithStatus{},
	}
	info.Name, _ = os.Hostname()
	for _, c := range cs {
		switch c.State.Status {
		case runtime.StatusRunning, runtime.StatusStopping:
			info.ContainersRunning++
		default:
			info.ContainersStopped++
		}
	}
	if s.opts.runtimes != nil {
		for i, r := range s.opts.runtimes.Runtimes() {
			status := map[string]string{}
			var ps []string
			for _, p := range r.Platforms() {
				ps = append(ps, p.OS+"/"+p.Architecture)
			}
			status["platforms"] = strings.Join(ps, ",")
			info.Runtimes[r.Name()] = system.RuntimeWithStatus{Status: status}
			if i == 0 {
				info.DefaultRuntime = r.Name()
			}
		}
	}
	return info, nil
}

func kernelVersion() string {
	b, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

func cgroupVersion() string {
	if _, err := os.Stat("/sys/fs/cgroup/cgroup.controllers"); err == nil {
		return "2"
	}
	return "1"
}

func memTotal() int64 {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "MemTotal:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}

// errorBody is dockerd's error answer, which every client prints as
// "Error response from daemon: MESSAGE".
type errorBody struct {
	Message string `json:"message"`
}

// statusOf gives an error docker's status: 404 for what does not exist,
// 409 for a conflict (a name taken, a container in the wrong state), 400
// for a bad parameter, 501 for what this node does not do, 503 when a
// runtime is unavailable, 500 otherwise. A route to a peer is a conflict
// with where the workload was asked to run: 409, with the remedy in the
// message.
func statusOf(err error) int {
	var rp *runtime.RouteToPeerError
	switch {
	case errors.As(err, &rp):
		return http.StatusConflict
	case errors.Is(err, runtime.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, runtime.ErrAlreadyExists), errors.Is(err, runtime.ErrFailedPrecondition):
		return http.StatusConflict
	case errors.Is(err, runtime.ErrInvalidArgument):
		return http.StatusBadRequest
	case errors.Is(err, runtime.ErrNotSupported):
		return http.StatusNotImplemented
	case errors.Is(err, runtime.ErrUnavailable):
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status := statusOf(err)
	level := slog.LevelDebug
	if status == http.StatusInternalServerError {
		level = slog.LevelWarn
	}
	s.opts.log.Log(r.Context(), level, "docker API request failed", "method", r.Method, "path", r.URL.Path, "status", status, "err", err)
	writeJSON(w, status, errorBody{Message: err.Error()})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v) // the client may have gone
}
