package registry

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/switchyard/switchyard/images"
	"github.com/switchyard/switchyard/internal/testimages"
	"github.com/switchyard/switchyard/internal/testutil"
	"github.com/switchyard/switchyard/runtime"
)

// loopbackOnly is an http.RoundTripper that records every request and lets
// only those to loopback reach the network, so that a test naming a real
// registry (registry.k8s.io) can never reach it, and can tell whether it
// was tried.
type loopbackOnly struct {
	base http.RoundTripper

	mu   sync.Mutex
	reqs []string // "METHOD host/path", guarded by mu
}

func newLoopbackOnly() *loopbackOnly { return &loopbackOnly{base: remote.DefaultTransport} }

func (l *loopbackOnly) RoundTrip(req *http.Request) (*http.Response, error) {
	l.mu.Lock()
	l.reqs = append(l.reqs, req.Method+" "+req.URL.Host+req.URL.Path)
	l.mu.Unlock()
	if ip := net.ParseIP(req.URL.Hostname()); ip == nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("test transport: %s is not loopback; a test never leaves the machine", req.URL.Host)
	}
	return l.base.RoundTrip(req)
}

// to returns the requests made to host.
func (l *loopbackOnly) to(host string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, r := range l.reqs {
		if _, hp, _ := strings.Cut(r, " "); strings.HasPrefix(hp, host+"/") {
			out = append(out, r)
		}
	}
	return out
}

// quiet keeps a test's expected warnings out of its output.
var quiet = WithLogger(slog.New(slog.DiscardHandler))

func bufferLogger() (*testutil.SyncBuffer, Option) {
	b := &testutil.SyncBuffer{}
	return b, WithLogger(slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug})))
}

// recorded wraps a registry handler to record each request as
// "METHOD path" and the Authorization headers it carried.
type recorded struct {
	mu    sync.Mutex
	reqs  []string // guarded by mu
	auths []string // guarded by mu
}

func (rec *recorded) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec.mu.Lock()
		rec.reqs = append(rec.reqs, r.Method+" "+r.URL.Path)
		if a := r.Header.Get("Authorization"); a != "" {
			rec.auths = append(rec.auths, a)
		}
		rec.mu.Unlock()
		h.ServeHTTP(w, r)
	})
}

// manifests counts the manifest reads (GET or HEAD; a test's pushes are
// not counted).
func (rec *recorded) manifests() int {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	n := 0
	for _, r := range rec.reqs {
		if (strings.HasPrefix(r, "GET ") || strings.HasPrefix(r, "HEAD ")) && strings.Contains(r, "/manifests/") {
			n++
		}
	}
	return n
}

// storedNames lists the names the store holds, joined by spaces.
func storedNames(t *testing.T, st *images.Store) string {
	t.Helper()
	refs, err := st.List(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	names := make([]string, len(refs))
	for i, r := range refs {
		names[i] = r.Name
	}
	return strings.Join(names, " ")
}

// deadHost returns a loopback host:port that nothing listens on.
func deadHost(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	host := ln.Addr().String()
	ln.Close()
	return host
}

// TestMirrorServesUnderOriginalName pulls images whose registries do not
// exist here (registry.k8s.io, Docker Hub) from a loopback mirror: each is
// stored under the name asked for, and the registry itself is never
// contacted.
func TestMirrorServesUnderOriginalName(t *testing.T) {
	ctx := context.Background()
	mirror := testimages.Serve(t)
	img := testimages.Busybox(t)
	dgst, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	testimages.Push(t, mirror, "pause:3.9", img)
	testimages.Push(t, mirror, "library/busybox:1.36", img)
	testimages.Push(t, mirror, "hub/library/busybox:1.36", img)
	for _, tc := range []struct {
		name     string
		mirrors  map[string][]string
		ref      string
		stored   string // the name it must be stored under
		registry string // the host that must not be contacted
	}{
		{"registry.k8s.io tag", map[string][]string{"registry.k8s.io": {mirror}}, "registry.k8s.io/pause:3.9",
			"registry.k8s.io/pause:3.9", "registry.k8s.io"},
		{"registry.k8s.io digest", map[string][]string{"registry.k8s.io": {"http://" + mirror}}, "registry.k8s.io/pause@" + dgst.String(),
			"registry.k8s.io/pause@" + dgst.String(), "registry.k8s.io"},
		{"docker.io", map[string][]string{"docker.io": {mirror}}, "busybox:1.36",
			"index.docker.io/library/busybox:1.36", "index.docker.io"},
		{"index.docker.io", map[string][]string{"index.docker.io": {mirror}}, "docker.io/library/busybox:1.36",
			"index.docker.io/library/busybox:1.36", "index.docker.io"},
		{"docker.io behind a prefix", map[string][]string{"docker.io": {"https://" + mirror + "/hub/"}}, "busybox:1.36",
			"index.docker.io/library/busybox:1.36", "index.docker.io"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := newLoopbackOnly()
			logs, logger := bufferLogger()
			st := mustStore(t)
			svc := NewImageService(st, noKeychain, logger, WithTransport(tr), WithMirrors(tc.mirrors))
			info, err := svc.Pull(ctx, tc.ref, runtime.PullOptions{Policy: runtime.PullAlways})
			if err != nil {
				t.Fatalf("pull %s: %v", tc.ref, err)
			}
			if info.Reference != tc.stored || info.Digest != dgst.String() {
				t.Errorf("pulled %s (%s), want %s (%s)", info.Reference, info.Digest, tc.stored, dgst)
			}
			if names := storedNames(t, st); names != tc.stored {
				t.Errorf("the store names %q; want %q alone (not the mirror's name)", names, tc.stored)
			}
			ps, err := svc.InspectPlatforms(ctx, tc.ref, nil)
			if err != nil || platformStrings(ps) != "linux/amd64" {
				t.Errorf("inspect = %v, %v; want linux/amd64", ps, err)
			}
			if reqs := tr.to(tc.registry); len(reqs) != 0 {
				t.Errorf("the registry itself was contacted: %v", reqs)
			}
			if l := logs.String(); strings.Contains(l, "mirror failed") {
				t.Errorf("a fallback was logged:\n%s", l)
			}
		})
	}
}

// TestMirrorFallsBack has mirrors that cannot serve the image, each in its
// own way: the registry itself serves it, it is stored under its own name,
// and the fallback is logged.
func TestMirrorFallsBack(t *testing.T) {
	ctx := context.Background()
	img := testimages.Busybox(t)
	for _, tc := range []struct {
		name string
		// mirror returns the mirror's address and its request record (nil
		// for one that cannot be reached).
		mirror    func(t *testing.T) (string, *recorded)
		originReq func(http.Handler) http.Handler
		auth      *runtime.RegistryAuth
		level     string
	}{
		{name: "mirror lacks the image", level: "INFO", mirror: func(t *testing.T) (string, *recorded) {
			rec := &recorded{}
			return testimages.ServeHandler(t, rec.wrap), rec
		}},
		{name: "mirror unreachable", level: "WARN", mirror: func(t *testing.T) (string, *recorded) {
			return deadHost(t), nil
		}},
		{name: "mirror serves garbage", level: "WARN", mirror: func(t *testing.T) (string, *recorded) {
			// A captive portal, say. (A 5xx would do too, but
			// go-containerregistry retries those for seconds.)
			rec := &recorded{}
			host := testimages.ServeHandler(t, func(h http.Handler) http.Handler {
				return rec.wrap(onGET(func(p string) bool { return strings.Contains(p, "/manifests/") }, func(w http.ResponseWriter, _ *http.Request, _ http.Handler) {
					w.Header().Set("Content-Type", "text/html")
					_, _ = w.Write([]byte("<html>log in first</html>"))
				})(h))
			})
			return host, rec
		}},
		{
			// The registry's credentials are the registry's: the mirror
			// that wants some gets none of them.
			name: "mirror refuses, credentials kept from it", level: "WARN",
			originReq: basicAuth("u", "p"),
			auth:      &runtime.RegistryAuth{Username: "u", Password: "p"},
			mirror: func(t *testing.T) (string, *recorded) {
				rec := &recorded{}
				return testimages.ServeHandler(t, func(h http.Handler) http.Handler { return rec.wrap(basicAuth("m", "m")(h)) }), rec
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			origin := testimages.ServeHandler(t, tc.originReq)
			ref := testimages.Push(t, origin, "app:1", img, basicAuthOption("u", "p"))
			mirror, rec := tc.mirror(t)
			logs, logger := bufferLogger()
			st := mustStore(t)
			svc := NewImageService(st, noKeychain, logger, WithMirrors(map[string][]string{origin: {mirror}}))
			info, err := svc.Pull(ctx, ref, runtime.PullOptions{Policy: runtime.PullAlways, Auth: tc.auth})
			if err != nil {
				t.Fatalf("pull: %v", err)
			}
			if info.Reference != ref {
				t.Errorf("stored as %s, want %s", info.Reference, ref)
			}
			if names := storedNames(t, st); names != ref {
				t.Errorf("the store names %q; want %q alone (not the mirror's name)", names, ref)
			}
			if _, err := svc.InspectPlatforms(ctx, ref, tc.auth); err != nil {
				t.Errorf("inspect: %v", err)
			}
			if rec != nil && rec.manifests() == 0 {
				t.Error("the mirror was never asked for the manifest")
			}
			if rec != nil {
				secret := "Basic " + base64.StdEncoding.EncodeToString([]byte("u:p"))
				for _, a := range rec.auths {
					if a == secret {
						t.Error("the registry's credentials were sent to the mirror")
					}
				}
			}
			l := logs.String()
			if !strings.Contains(l, "level="+tc.level+" msg=\"registry mirror failed; trying the next source\"") || !strings.Contains(l, "mirror="+mirror) {
				t.Errorf("no %s log of the fallback from %s:\n%s", tc.level, mirror, l)
			}
		})
	}
}

// TestMirrorsInOrder has two mirrors: the first lacks the image, the second
// has it, and the registry itself is never asked.
func TestMirrorsInOrder(t *testing.T) {
	ctx := context.Background()
	first := &recorded{}
	empty := testimages.ServeHandler(t, first.wrap)
	full := testimages.Serve(t)
	testimages.Push(t, full, "pause:3.9", testimages.Busybox(t))
	tr := newLoopbackOnly()
	svc := NewImageService(mustStore(t), noKeychain, quiet, WithTransport(tr),
		WithMirrors(map[string][]string{"registry.k8s.io": {empty, "http://" + full}}))
	if _, err := svc.Pull(ctx, "registry.k8s.io/pause:3.9", runtime.PullOptions{}); err != nil {
		t.Fatalf("pull: %v", err)
	}
	if first.manifests() == 0 {
		t.Error("the first mirror was not asked")
	}
	if reqs := tr.to("registry.k8s.io"); len(reqs) != 0 {
		t.Errorf("the registry itself was contacted: %v", reqs)
	}
}

// TestMirrorErrors: when the mirror and the registry both fail, the error
// is the registry's, with its kind, and names the mirror's failure too; an
// image a mirror serves for another platform is an answer, not a failure.
func TestMirrorErrors(t *testing.T) {
	ctx := context.Background()
	t.Run("all fail", func(t *testing.T) {
		origin := testimages.Serve(t)
		dead := deadHost(t)
		svc := NewImageService(mustStore(t), noKeychain, quiet, WithMirrors(map[string][]string{origin: {dead}}))
		_, err := svc.Pull(ctx, origin+"/absent:1", runtime.PullOptions{})
		if !errors.Is(err, runtime.ErrNotFound) || errors.Is(err, runtime.ErrUnavailable) || !strings.Contains(err.Error(), "from mirror "+dead) {
			t.Errorf("pull err = %v; want the registry's not found, naming the mirror's failure", err)
		}
		_, err = svc.InspectPlatforms(ctx, origin+"/absent:1", nil)
		if !errors.Is(err, runtime.ErrNotFound) || !strings.Contains(err.Error(), "from mirror "+dead) {
			t.Errorf("inspect err = %v; want the registry's not found, naming the mirror's failure", err)
		}
	})
	t.Run("other platform", func(t *testing.T) {
		origin := &recorded{}
		originHost := testimages.ServeHandler(t, origin.wrap)
		testimages.Push(t, originHost, "app:1", testimages.Busybox(t))
		mirror := testimages.Serve(t)
		testimages.Push(t, mirror, "app:1", testimages.Windows(t))
		svc := NewImageService(mustStore(t), noKeychain, quiet, WithMirrors(map[string][]string{originHost: {mirror}}))
		pushed := origin.manifests() // the push's check for the manifest
		_, err := svc.Pull(ctx, originHost+"/app:1", runtime.PullOptions{})
		if !errors.Is(err, runtime.ErrNotSupported) || !strings.Contains(err.Error(), "from mirror "+mirror) {
			t.Errorf("err = %v; want not supported, from the mirror", err)
		}
		if n := origin.manifests() - pushed; n != 0 {
			t.Errorf("the registry was asked %d times after the mirror's answer", n)
		}
	})
	t.Run("bad option", func(t *testing.T) {
		svc := NewImageService(mustStore(t), noKeychain, WithMirrors(map[string][]string{"registry.k8s.io": {"ftp://mirror"}}))
		_, err := svc.Pull(ctx, "registry.k8s.io/pause:3.9", runtime.PullOptions{})
		if !errors.Is(err, runtime.ErrInvalidArgument) || !strings.Contains(err.Error(), "ftp") {
			t.Errorf("err = %v; want invalid argument naming the scheme", err)
		}
	})
}

func TestParseMirror(t *testing.T) {
	for _, tc := range []struct{ in, host, mirror string }{
		{"registry.k8s.io=127.0.0.1:5001", "registry.k8s.io", "127.0.0.1:5001"},
		{"docker.io=mirror.gcr.io", "index.docker.io", "mirror.gcr.io"},
		{"index.docker.io=mirror.gcr.io", "index.docker.io", "mirror.gcr.io"},
		{"registry-1.docker.io=mirror.gcr.io", "index.docker.io", "mirror.gcr.io"},
		{"Docker.IO=HTTPS://Mirror.Example.com:443/", "index.docker.io", "mirror.example.com:443"},
		{"gcr.io=http://10.0.0.5:5000", "gcr.io", "http://10.0.0.5:5000"},
		{"10.0.0.1:5000=http://[::1]:5001/cache/gcr", "10.0.0.1:5000", "http://[::1]:5001/cache/gcr"},
		{"docker.io=harbor.example/dockerhub-proxy", "index.docker.io", "harbor.example/dockerhub-proxy"},
		{"docker.io=docker.io/mirror", "index.docker.io", "docker.io/mirror"},
		{"localhost:5000=registry-mirror", "localhost:5000", "registry-mirror"},
	} {
		host, mirror, err := ParseMirror(tc.in)
		if err != nil || host != tc.host || mirror != tc.mirror {
			t.Errorf("ParseMirror(%q) = %q, %q, %v; want %q, %q", tc.in, host, mirror, err, tc.host, tc.mirror)
		}
	}
	for _, tc := range []struct{ in, why string }{
		{"", "no '='"},
		{"registry.k8s.io", "no '='"},
		{"=mirror:5000", "before '=' is empty"},
		{"registry.k8s.io=", "after '=' is empty"},
		{"https://registry.k8s.io=mirror", "without a scheme"},
		{"registry.k8s.io/pause=mirror", "without a path"},
		{"registry.k8s.io=ftp://mirror", `scheme "ftp"`},
		{"registry.k8s.io=mirror:5000?ns=k8s", "query"},
		{"registry.k8s.io=mirror:5000#frag", "query or a fragment"},
		{"registry.k8s.io=user:pw@mirror:5000", "credentials"},
		{"registry.k8s.io=mirror:5000/v2/", "/v2"},
		{"registry.k8s.io=mirror:5000/Upper", `prefix element "Upper"`},
		{"registry.k8s.io=mirror:5000//x", `prefix element ""`},
		{"registry.k8s.io=mirror:5000/a%2fb", `prefix element "a%2fb"`},
		{"registry.k8s.io=mirror:", "port after ':' is empty"},
		{"registry.k8s.io=mirror:99999", "from 1 to 65535"},
		{"registry.k8s.io=mirror:+80", "from 1 to 65535"},
		{"registry.k8s.io=-mirror", "not a host name"},
		{"registry.k8s.io=mir_ror", "not a host name"},
		{"registry.k8s.io=::1", "in brackets"},
		{"registry.k8s.io=[::1", "closing ']'"},
		{"registry.k8s.io=[1.2.3.4]", "not an IPv6 address"},
		{"registry.k8s.io= mirror", "space"},
		{"registry.k8s.io=mirrör", "non-ASCII"},
		{"registry.k8s.io=registry.k8s.io", "itself"},
		{"docker.io=https://index.docker.io/", "itself"},
		{"registry.k8s.io=" + strings.Repeat("a", 1100), "limit is 1024"},
	} {
		_, _, err := ParseMirror(tc.in)
		if !errors.Is(err, runtime.ErrInvalidArgument) || !strings.Contains(err.Error(), tc.why) {
			t.Errorf("ParseMirror(%q) err = %v; want invalid argument saying %q", tc.in, err, tc.why)
		} else if len(tc.in) < 100 && !strings.Contains(err.Error(), fmt.Sprintf("%q", tc.in)) {
			t.Errorf("ParseMirror(%q) err = %v; want it to quote the value", tc.in, err)
		}
	}
}

// TestWithMirrors checks the option's own rules: a plain-HTTP mirror may
// be spoken to over HTTP (only it), docker.io's spellings merge, and bad
// input is refused.
func TestWithMirrors(t *testing.T) {
	o, err := makeOptions([]Option{WithMirrors(map[string][]string{
		"docker.io":       {"http://mirror.internal:5000", "https://secure.internal"},
		"index.docker.io": {"mirror.internal:5000", "http://mirror.internal:5000"},
	})})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range o.mirrors[dockerHub] {
		got = append(got, m.String())
	}
	if want := "http://mirror.internal:5000 secure.internal mirror.internal:5000"; strings.Join(got, " ") != want {
		t.Errorf("mirrors of Docker Hub = %v", got)
	}
	if !o.plainHTTPAllowed("mirror.internal:5000") || o.plainHTTPAllowed("secure.internal") || o.plainHTTPAllowed("mirror.internal:5001") {
		t.Error("plain HTTP: want it for the http:// mirror alone")
	}
	for _, bad := range []map[string][]string{
		{"": {"mirror"}},
		{"gcr.io": {""}},
		{"gcr.io/x": {"mirror"}},
		{"gcr.io": {"gcr.io"}},
	} {
		if _, err := makeOptions([]Option{WithMirrors(bad)}); !errors.Is(err, runtime.ErrInvalidArgument) {
			t.Errorf("WithMirrors(%v) err = %v; want invalid argument", bad, err)
		}
	}
}
