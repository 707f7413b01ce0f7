package registry

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/runtime"
)

func TestNormalizeReference(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"busybox", "index.docker.io/library/busybox:latest"},
		{"busybox:1.36", "index.docker.io/library/busybox:1.36"},
		{"docker.io/foo/bar", "index.docker.io/foo/bar:latest"},
		{"127.0.0.1:5000/app:v1", "127.0.0.1:5000/app:v1"},
		{"localhost/app@sha256:" + strings.Repeat("a", 64), "localhost/app@sha256:" + strings.Repeat("a", 64)},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := NormalizeReference(tc.in)
			if err != nil || got != tc.want {
				t.Fatalf("NormalizeReference(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
			}
		})
	}
	for _, bad := range []string{"", " busybox", "Busybox", "app@sha256:abc", strings.Repeat("a/", 600)} {
		if _, err := NormalizeReference(bad); !errors.Is(err, runtime.ErrInvalidArgument) {
			t.Errorf("NormalizeReference(%.20q) err = %v, want ErrInvalidArgument", bad, err)
		}
	}
}

// recorder is the network under guardTransport in TestGuardTransport.
type recorder struct{ urls []string }

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.urls = append(r.urls, req.URL.String())
	return &http.Response{StatusCode: http.StatusNotFound, Body: http.NoBody, Request: req}, nil
}

// TestGuardTransport checks the plain-HTTP rule: loopback and registries
// marked insecure may be spoken to without TLS, others may not (not even
// private addresses, which go-containerregistry would try over HTTP).
func TestGuardTransport(t *testing.T) {
	for _, tc := range []struct {
		name     string
		url      string
		insecure []string
		allowed  bool
	}{
		{"loopback v4", "http://127.0.0.1:5000/v2/", nil, true},
		{"loopback v4 other", "http://127.3.2.1/v2/", nil, true},
		{"loopback v6", "http://[::1]:5000/v2/", nil, true},
		{"localhost", "http://localhost:5000/v2/", nil, true},
		{"private address", "http://10.1.2.3:5000/v2/", nil, false},
		{"public name", "http://registry.example.com/v2/", nil, false},
		{"marked insecure with port", "http://10.1.2.3:5000/v2/", []string{"10.1.2.3:5000"}, true},
		{"marked insecure, other port", "http://10.1.2.3:6000/v2/", []string{"10.1.2.3:5000"}, false},
		{"marked insecure by host", "http://myreg:6000/v2/", []string{"myreg"}, true},
		{"https always", "https://registry.example.com/v2/", nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recorder{}
			o, err := makeOptions([]Option{WithInsecureRegistries(tc.insecure...), WithTransport(rec)})
			if err != nil {
				t.Fatal(err)
			}
			g := &guardTransport{base: o.transport, o: &o, pings: &pingCache{entries: map[string]pingEntry{}}}
			req, _ := http.NewRequest(http.MethodGet, tc.url, nil)
			resp, err := g.RoundTrip(req)
			if resp != nil {
				resp.Body.Close()
			}
			if tc.allowed != (err == nil) || tc.allowed != (len(rec.urls) == 1) {
				t.Fatalf("allowed = %v, err = %v, reached network %d times", tc.allowed, err, len(rec.urls))
			}
			if !tc.allowed && !errors.Is(err, runtime.ErrFailedPrecondition) {
				t.Errorf("err = %v, want ErrFailedPrecondition", err)
			}
		})
	}
	if _, err := makeOptions([]Option{WithInsecureRegistries("http://x/")}); !errors.Is(err, runtime.ErrInvalidArgument) {
		t.Errorf("bad insecure registry: %v", err)
	}
}
