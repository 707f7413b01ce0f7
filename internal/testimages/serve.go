package testimages

import (
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"testing"

	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/switchyard/switchyard/internal/imagebuild"
)

// Serve starts an in-process registry (go-containerregistry's, in memory)
// on a free port of 127.0.0.1 for the life of the test and returns its
// host:port.
func Serve(t testing.TB) string {
	t.Helper()
	return ServeHandler(t, nil)
}

// ServeHandler is Serve with the registry's handler passed through wrap
// first (nil = unwrapped), so that a test can add basic auth, count
// requests, corrupt blobs or cut connections.
func ServeHandler(t testing.TB, wrap func(http.Handler) http.Handler) string {
	t.Helper()
	var h http.Handler = ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0)))
	if wrap != nil {
		h = wrap(h)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("testimages: listen: %v", err)
	}
	srv := &http.Server{Handler: h}
	done := make(chan error, 1) // written once by the serving goroutine
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		_ = srv.Close()
		if err := <-done; err != nil && !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("testimages: registry server: %v", err)
		}
	})
	return ln.Addr().String()
}

// Push writes img (a v1.Image or a v1.ImageIndex) to host under repo, which
// may carry a tag ("busybox:1.36"; default latest), and returns the full
// reference, "host/repo:tag". Extra options (remote.WithAuth, ...) are passed
// to the write.
func Push(t testing.TB, host, repo string, img remote.Taggable, opts ...remote.Option) string {
	t.Helper()
	ref := orFatal(imagebuild.Reference(host, repo))(t)
	if err := imagebuild.Push(t.Context(), ref, img, opts...); err != nil {
		t.Fatalf("testimages: %v", err)
	}
	return ref.String()
}
