package client_test

import (
	"errors"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/containerd/platforms"

	"github.com/switchyard/switchyard/api/client"
	"github.com/switchyard/switchyard/api/server"
	"github.com/switchyard/switchyard/runtime"
	"github.com/switchyard/switchyard/runtime/runtimetest"
)

// daemon is a server on a real unix socket in a temporary directory.
type daemon struct {
	sock string
	srv  *http.Server
}

// mustServe serves rt on a fresh unix socket until the test ends.
func mustServe(t *testing.T, rt runtime.Runtime, opts ...server.Option) *daemon {
	t.Helper()
	h, err := server.New(rt, opts...)
	if err != nil {
		t.Fatalf("server.New: %v", err)
	}
	return mustServeHandler(t, h)
}

// mustServeHandler serves h on a fresh unix socket until the test ends.
func mustServeHandler(t *testing.T, h http.Handler) *daemon {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "api.sock")
	ln, err := server.ListenUnix(sock, 0o660)
	if err != nil {
		t.Fatalf("ListenUnix: %v", err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	t.Cleanup(func() {
		srv.Close()
		if err := <-served; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("Serve: %v", err)
		}
	})
	return &daemon{sock: sock, srv: srv}
}

// mustClient returns a client of d, closed when the test ends.
func mustClient(t *testing.T, d *daemon, opts ...client.Option) *client.Client {
	t.Helper()
	c, err := client.New("unix://"+d.sock, opts...)
	if err != nil {
		t.Fatalf("client.New: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// newFakePair returns a Fake served over a unix socket and a client of it.
func newFakePair(t *testing.T, sopts []server.Option, copts ...client.Option) (*runtimetest.Fake, *client.Client, *daemon) {
	t.Helper()
	f := runtimetest.NewFake("fake", platforms.MustParse("linux/amd64"))
	d := mustServe(t, f, sopts...)
	return f, mustClient(t, d, copts...), d
}

// mustCreateStart creates and starts a Fake workload.
func mustCreateStart(t *testing.T, c runtime.Lifecycle, service string, w runtimetest.Workload) runtime.ContainerID {
	t.Helper()
	id := runtime.ContainerID{Service: service}
	svc := runtimetest.FakeSpec(w)
	if err := c.Create(t.Context(), id, svc); err != nil {
		t.Fatalf("Create(%s): %v", id, err)
	}
	if err := c.Start(t.Context(), id); err != nil {
		t.Fatalf("Start(%s): %v", id, err)
	}
	return id
}

// serveBench serves h on a unix socket for a benchmark and returns its path.
func serveBench(b *testing.B, h http.Handler) string {
	b.Helper()
	sock := filepath.Join(b.TempDir(), "api.sock")
	ln, err := server.ListenUnix(sock, 0o660)
	if err != nil {
		b.Fatal(err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	b.Cleanup(func() { srv.Close() })
	return sock
}
