package agent

import (
	"context"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/runtime"
	"github.com/switchyard/switchyard/runtime/runtimetest"
	"github.com/switchyard/switchyard/spec"
)

// testConfig returns a valid configuration over a fresh root and a socket
// path short enough for sun_path.
func testConfig(t *testing.T) Config {
	t.Helper()
	sockDir, err := os.MkdirTemp("", "sy")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(sockDir) })
	cfg := DefaultConfig()
	cfg.Root = t.TempDir()
	cfg.Socket = filepath.Join(sockDir, "run", "sy.sock")
	cfg.Runtimes = []string{"fake"}
	return cfg
}

// fastBackoff keeps restart tests quick while still exercising the doubling.
var fastBackoff = Backoff{Initial: 20 * time.Millisecond, Max: 200 * time.Millisecond, Reset: 10 * time.Second}

// mustNew starts an agent over the fake and closes it when the test ends.
func mustNew(t *testing.T, cfg Config, f *runtimetest.Fake, opts ...Option) *Agent {
	t.Helper()
	opts = append([]Option{
		WithLogger(slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))),
		WithRestartBackoff(fastBackoff),
	}, opts...)
	a, err := New(t.Context(), cfg, []runtime.Containers{f}, opts...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() {
		if err := a.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return a
}

// service returns a spec the Fake runs as w, with the given replicas.
func service(name string, replicas uint32, w runtimetest.Workload) *spec.ServiceSpec {
	cs := runtimetest.FakeSpec(w)
	return &spec.ServiceSpec{
		Name:    name,
		RType:   spec.RTypeService,
		Image:   spec.ImageSpec{Name: cs.Image, PullPolicy: spec.PullIfNotPresent},
		Command: spec.Command{Entrypoint: cs.Entrypoint, Args: cs.Args},
		Scale:   spec.Scale{Replicas: replicas},
	}
}

// forever is a workload that runs until stopped.
var forever = runtimetest.Workload{UntilStopped: true}

func deployment(name string, svcs ...*spec.ServiceSpec) *spec.Deployment {
	d := &spec.Deployment{Version: "v1", Name: name, Services: map[string]*spec.ServiceSpec{}}
	for _, s := range svcs {
		d.Services[s.Name] = s
		d.ServiceNames = append(d.ServiceNames, s.Name)
	}
	return d
}

func mustUp(t *testing.T, a *Agent, d *spec.Deployment) Result {
	t.Helper()
	res, err := a.Up(t.Context(), d)
	if err != nil {
		t.Fatalf("Up(%s): %v", d.Name, err)
	}
	return res
}

// ids formats replica ids of a deployment's service.
func ids(deployment, service string, replicas ...uint32) []string {
	var out []string
	for _, n := range replicas {
		out = append(out, replicaID(deployment, service, n).String())
	}
	return out
}

// countCalls counts the recorded calls of method (for id, when id is set).
func countCalls(f *runtimetest.Fake, method string, id runtime.ContainerID) int {
	n := 0
	for _, c := range f.Calls() {
		if c.Method == method && (id == runtime.ContainerID{} || c.ID == id) {
			n++
		}
	}
	return n
}

// methodsCalled lists the distinct methods recorded, sorted.
func methodsCalled(f *runtimetest.Fake) []string {
	var out []string
	for _, c := range f.Calls() {
		if !slices.Contains(out, c.Method) {
			out = append(out, c.Method)
		}
	}
	slices.Sort(out)
	return out
}
func mustState(t *testing.T, f *runtimetest.Fake, id runtime.ContainerID) runtime.State {
	t.Helper()
	st, err := f.State(context.Background(), id)
	if err != nil {
		t.Fatalf("State(%s): %v", id, err)
	}
	return st
}

func listenUnixRaw(path string) (*net.UnixListener, error) {
	return net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
}

// runtimetestSpec shortens table fields.
type runtimetestSpec = spec.ServiceSpec

func withImage(s *spec.ServiceSpec, image string) *spec.ServiceSpec {
	s.Image.Name = image
	return s
}

func withEnv(s *spec.ServiceSpec, k, v string) *spec.ServiceSpec {
	s.Env = map[string]string{k: v}
	return s
}

// testutilCounter reads the restart counter of a deployment's service.
func testutilCounter(t *testing.T, a *Agent, service string) float64 {
	t.Helper()
	mfs, err := a.metrics.registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var total float64
	for _, mf := range mfs {
		if mf.GetName() != "switchyard_replica_restarts_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "service" && strings.HasSuffix(l.GetValue(), "-"+service) {
					total += m.GetCounter().GetValue()
				}
			}
		}
	}
	return total
}
