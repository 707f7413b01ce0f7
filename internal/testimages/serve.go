package testimages

import (
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
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
	s := host + "/" + repo
	if i := strings.LastIndex(repo, ":"); i < 0 || strings.Contains(repo[i:], "/") {
		s += ":latest"
	}
	ref, err := name.NewTag(s, name.Insecure)
	if err != nil {
		t.Fatalf("testimages: reference %q: %v", s, err)
	}
	switch x := img.(type) {
	case v1.ImageIndex:
		err = remote.WriteIndex(ref, x, opts...)
	case v1.Image:
		err = remote.Write(ref, x, opts...)
	default:
		t.Fatalf("testimages: push %T: want a v1.Image or v1.ImageIndex", img)
	}
	if err != nil {
		t.Fatalf("testimages: push %s: %v", s, err)
	}
	return ref.String()
}
