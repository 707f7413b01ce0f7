package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/api/client"
	"github.com/switchyard/switchyard/internal/testutil"
	"github.com/switchyard/switchyard/runtime"
	"github.com/switchyard/switchyard/runtime/runtimetest"
)

func TestSecondAgentOnSameRootIsRefused(t *testing.T) {
	cfg := testConfig(t)
	f := runtimetest.NewFake("fake")
	first, err := New(t.Context(), cfg, []runtime.Containers{f})
	if err != nil {
		t.Fatal(err)
	}
	_, err = New(t.Context(), cfg, []runtime.Containers{f})
	want := fmt.Sprintf("another switchyard daemon (pid %d) is using root %s; stop it first or pass a different --root", os.Getpid(), cfg.Root)
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("second New = %v, want %q", err, want)
	}
	if !errors.Is(err, runtime.ErrFailedPrecondition) {
		t.Errorf("second New error does not wrap ErrFailedPrecondition: %v", err)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	if err := first.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	third, err := New(t.Context(), cfg, []runtime.Containers{f})
	if err != nil {
		t.Fatalf("New after the first agent closed: %v", err)
	}
	third.Close()
}

func TestNewRejectsBadInput(t *testing.T) {
	f := runtimetest.NewFake("fake")
	for _, tc := range []struct {
		name     string
		cfg      func(Config) Config
		runtimes []runtime.Containers
		opts     []Option
	}{
		{"invalid config", func(c Config) Config { c.LogFormat = "xml"; return c }, []runtime.Containers{f}, nil},
		{"no runtimes", func(c Config) Config { return c }, nil, nil},
		{"nil runtime", func(c Config) Config { return c }, []runtime.Containers{nil}, nil},
		{"duplicate names", func(c Config) Config { return c }, []runtime.Containers{f, runtimetest.NewFake("fake")}, nil},
		{"bad backoff", func(c Config) Config { return c }, []runtime.Containers{f}, []Option{WithRestartBackoff(Backoff{})}},
		{"nil logger", func(c Config) Config { return c }, []runtime.Containers{f}, []Option{WithLogger(nil)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg(testConfig(t))
			a, err := New(t.Context(), cfg, tc.runtimes, tc.opts...)
			if err == nil {
				a.Close()
				t.Fatal("New succeeded")
			}
			if !errors.Is(err, runtime.ErrInvalidArgument) {
				t.Errorf("New error does not wrap ErrInvalidArgument: %v", err)
			}
			// A refused New must not keep the root locked.
			if tc.name != "invalid config" {
				b, err := New(t.Context(), testConfigAt(t, cfg), []runtime.Containers{f})
				if err != nil {
					t.Fatalf("New after a refused New: %v", err)
				}
				b.Close()
			}
		})
	}
}

// testConfigAt is a valid configuration on cfg's root.
func testConfigAt(t *testing.T, cfg Config) Config {
	c := testConfig(t)
	c.Root = cfg.Root
	return c
}

func TestServe(t *testing.T) {
	cfg := testConfig(t)
	a := mustNew(t, cfg, runtimetest.NewFake("fake"))
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx) }()
	t.Cleanup(cancel)

	c := mustClient(t, cfg.Socket)
	testutil.Eventually(t, 10*time.Second, "the socket to answer", func() bool {
		_, err := c.Deployments(t.Context())
		return err == nil
	})
	fi, err := os.Stat(cfg.Socket)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != 0o660 {
		t.Errorf("socket mode = %o, want 660", got)
	}
	// The container API of package api/server is served beside ours.
	if _, err := c.List(t.Context()); err != nil {
		t.Errorf("GET /v1/containers: %v", err)
	}

	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Serve: %v", err)
	}
	if _, err := os.Stat(cfg.Socket); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("socket still there after Serve returned: %v", err)
	}
	// Serve released the root.
	b, err := New(t.Context(), cfg, []runtime.Containers{runtimetest.NewFake("fake")})
	if err != nil {
		t.Fatalf("New after Serve returned: %v", err)
	}
	b.Close()
}

func TestServeReplacesStaleSocket(t *testing.T) {
	cfg := testConfig(t)
	if err := os.MkdirAll(strings.TrimSuffix(cfg.Socket, "/sy.sock"), 0o755); err != nil {
		t.Fatal(err)
	}
	// A socket file nobody listens on, as a killed agent leaves it.
	ln, err := listenUnixRaw(cfg.Socket)
	if err != nil {
		t.Fatal(err)
	}
	ln.SetUnlinkOnClose(false)
	ln.Close()

	a := mustNew(t, cfg, runtimetest.NewFake("fake"))
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx) }()
	c := mustClient(t, cfg.Socket)
	testutil.Eventually(t, 10*time.Second, "the socket to answer", func() bool {
		_, err := c.Deployments(t.Context())
		return err == nil
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Serve: %v", err)
	}
}

func TestMetricsEndpoint(t *testing.T) {
	f := runtimetest.NewFake("fake")
	a := mustNew(t, testConfig(t), f)
	mustUp(t, a, deployment("shop", service("web", 2, forever)))
	f.FailOn("state", fmt.Errorf("disk on fire: %w", runtime.ErrUnavailable))
	if _, err := a.Runtime().State(t.Context(), replicaID("shop", "web", 0)); err == nil {
		t.Fatal("State succeeded despite FailOn")
	}
	f.FailOn("state", nil)

	srv := httptest.NewServer(a.Handler())
	t.Cleanup(srv.Close)
	resp, err := srv.Client().Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	body := string(b)
	for _, want := range []string{
		`switchyard_runtime_operations_total{error="none",operation="create",runtime="fake"} 2`,
		`switchyard_runtime_operations_total{error="none",operation="start",runtime="fake"} 2`,
		// Supervisors may read states too while the failure is injected.
		`switchyard_runtime_operations_total{error="unavailable",operation="state",runtime="fake"} `,
		`switchyard_runtime_operation_duration_seconds_count{operation="pull",runtime="fake"} 1`,
		`switchyard_deployment_replicas{deployment="shop"} 2`,
		`go_goroutines`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("/metrics:\n%s", body)
	}
}

func TestRestartedAgentResumesSupervision(t *testing.T) {
	cfg := testConfig(t)
	f := runtimetest.NewFake("fake") // outlives both agents, as shims do
	first, err := New(t.Context(), cfg, []runtime.Containers{f}, WithRestartBackoff(fastBackoff))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := first.Up(t.Context(), deployment("shop", service("web", 2, forever))); err != nil {
		t.Fatal(err)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	id := replicaID("shop", "web", 1)
	if st := mustState(t, f, id); st.Status != runtime.StatusRunning {
		t.Fatalf("closing the agent changed %s to %s; workloads must keep running", id, st)
	}
	// The replica crashes while no agent is running.
	if err := f.Exit(id, 3); err != nil {
		t.Fatal(err)
	}

	second := mustNew(t, cfg, f)
	testutil.Eventually(t, 10*time.Second, "the second agent to restart the replica that exited while it was down", func() bool {
		return mustState(t, f, id).Status == runtime.StatusRunning
	})
	// And it keeps supervising: a crash now is restarted too.
	starts := countCalls(f, "start", id)
	if err := f.Exit(id, 1); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 10*time.Second, "the replica to be restarted after a new crash", func() bool {
		return countCalls(f, "start", id) > starts && mustState(t, f, id).Status == runtime.StatusRunning
	})
	st, err := second.Deployments(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(st) != 1 || st[0].Name != "shop" || len(st[0].Services) != 1 || st[0].Services[0].Replicas != 2 {
		t.Fatalf("Deployments after restart = %+v", st)
	}
}

func TestServeRefusesAPathThatIsNoSocket(t *testing.T) {
	cfg := testConfig(t)
	if err := os.MkdirAll(strings.TrimSuffix(cfg.Socket, "/sy.sock"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfg.Socket, []byte("precious"), 0o644); err != nil {
		t.Fatal(err)
	}
	a := mustNew(t, cfg, runtimetest.NewFake("fake"))
	if err := a.Serve(t.Context()); err == nil {
		t.Fatal("Serve succeeded over a regular file")
	}
	if b, _ := os.ReadFile(cfg.Socket); string(b) != "precious" {
		t.Error("Serve destroyed a file that was not a socket")
	}
	if _, err := a.Up(t.Context(), deployment("shop", service("web", 1, forever))); !errors.Is(err, runtime.ErrUnavailable) {
		t.Errorf("Up after Serve failed = %v, want ErrUnavailable (the agent is closed)", err)
	}
}

// mustClient returns the API's client of the agent on sock.
func mustClient(t *testing.T, sock string) *client.Client {
	t.Helper()
	c, err := client.New("unix://" + sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}
