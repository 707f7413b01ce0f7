package registry

import (
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/switchyard/switchyard/images"
)

// counter is an http.RoundTripper that records every request that reaches
// the network, as "METHOD kind" (ping, manifest, blob, token, other).
type counter struct {
	base http.RoundTripper

	mu   sync.Mutex
	reqs []string // guarded by mu
}

func newCounter() *counter { return &counter{base: remote.DefaultTransport} }

func (c *counter) RoundTrip(req *http.Request) (*http.Response, error) {
	kind := "other"
	switch p := req.URL.Path; {
	case p == "/v2/":
		kind = "ping(" + req.URL.Scheme + ")"
	case strings.Contains(p, "/manifests/"):
		kind = "manifest"
	case strings.Contains(p, "/blobs/"):
		kind = "blob"
	}
	c.mu.Lock()
	c.reqs = append(c.reqs, req.Method+" "+kind)
	c.mu.Unlock()
	return c.base.RoundTrip(req)
}

// take returns the requests since the last take and forgets them.
func (c *counter) take() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := c.reqs
	c.reqs = nil
	return r
}

func count(reqs []string, what string) int {
	n := 0
	for _, r := range reqs {
		if strings.HasSuffix(r, what) {
			n++
		}
	}
	return n
}

// noKeychain keeps the host's Docker config out of the tests.
var noKeychain = WithKeychain(authn.NewMultiKeychain())

func mustStore(t *testing.T) *images.Store {
	t.Helper()
	st, err := images.Open(t.TempDir())
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// basicAuth wraps a registry handler with HTTP basic auth for user:pass.
func basicAuth(user, pass string) func(http.Handler) http.Handler {
	return func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			u, p, ok := r.BasicAuth()
			if !ok || u != user || p != pass {
				w.Header().Set("WWW-Authenticate", `Basic realm="registry"`)
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusUnauthorized)
				_, _ = w.Write([]byte(`{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`))
				return
			}
			h.ServeHTTP(w, r)
		})
	}
}

// onGET wraps a handler so that GET requests whose path matches take the
// alternative handler alt (which gets the registry's handler to call).
func onGET(match func(path string) bool, alt func(w http.ResponseWriter, r *http.Request, next http.Handler)) func(http.Handler) http.Handler {
	return func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodGet && match(r.URL.Path) {
				alt(w, r, h)
				return
			}
			h.ServeHTTP(w, r)
		})
	}
}

// corruptWriter flips the first byte of the body it passes on.
type corruptWriter struct {
	http.ResponseWriter
	done bool
}

func (c *corruptWriter) Write(p []byte) (int, error) {
	if !c.done && len(p) > 0 {
		c.done = true
		q := append([]byte(nil), p...)
		q[0] ^= 0xff
		return c.ResponseWriter.Write(q)
	}
	return c.ResponseWriter.Write(p)
}

// cutWriter passes on limit bytes of the body, flushes them, then aborts
// the response, which closes the connection mid-body.
type cutWriter struct {
	http.ResponseWriter
	limit int
}

func (c *cutWriter) Write(p []byte) (int, error) {
	if len(p) >= c.limit {
		_, _ = c.ResponseWriter.Write(p[:c.limit])
		c.ResponseWriter.(http.Flusher).Flush()
		panic(http.ErrAbortHandler)
	}
	c.limit -= len(p)
	return c.ResponseWriter.Write(p)
}

// staticKeychain answers credentials by registry host.
type staticKeychain map[string]authn.AuthConfig

func (k staticKeychain) Resolve(r authn.Resource) (authn.Authenticator, error) {
	if c, ok := k[r.RegistryStr()]; ok {
		return authn.FromConfig(c), nil
	}
	return authn.Anonymous, nil
}

func basicAuthOption(user, pass string) remote.Option {
	return remote.WithAuth(&authn.Basic{Username: user, Password: pass})
}

// mutableKeychain is a keychain whose credentials a test changes, as
// docker login changes the config file.
type mutableKeychain struct {
	mu    sync.Mutex
	creds staticKeychain // guarded by mu
}

func (k *mutableKeychain) set(host, user, pass string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.creds = staticKeychain{host: {Username: user, Password: pass}}
}

func (k *mutableKeychain) Resolve(r authn.Resource) (authn.Authenticator, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.creds.Resolve(r)
}
