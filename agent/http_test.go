package agent

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/switchyard/switchyard/api"
	"github.com/switchyard/switchyard/api/client"
	"github.com/switchyard/switchyard/api/server"
	"github.com/switchyard/switchyard/runtime"
	"github.com/switchyard/switchyard/runtime/runtimetest"
	"github.com/switchyard/switchyard/spec"
)

// newHTTPClient serves a's handler on a unix socket, as the agent does,
// and returns the API's client of it, and the same handler over TCP for
// raw requests.
func newHTTPClient(t *testing.T, a *Agent) (*client.Client, *httptest.Server) {
	t.Helper()
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(srv.Close)
	sock := filepath.Join(t.TempDir(), "api.sock")
	ln, err := server.ListenUnix(sock, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: a.Handler()}
	go func() { _ = hs.Serve(ln) }()
	t.Cleanup(func() { _ = hs.Close() })
	c, err := client.New("unix://" + sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c, srv
}

const shopYAML = `version: v1
deployment: shop
services:
  web:
    image: {name: runtimetest/fake:latest}
    scale: {replicas: 2}
  batch:
    rtype: job
    image: {name: runtimetest/fake:latest}
`

func TestDeploymentEndpoints(t *testing.T) {
	f := runtimetest.NewFake("fake")
	a := mustNew(t, testConfig(t), f)
	c, srv := newHTTPClient(t, a)

	// up with JSON, through the client
	res, err := c.Up(t.Context(), deployment("shop", service("web", 2, forever)))
	if err != nil {
		t.Fatal(err)
	}
	if want := ids("shop", "web", 0, 1); !slices.Equal(res.Created, want) {
		t.Errorf("Created = %v, want %v", res.Created, want)
	}

	// up with the spec's YAML, as curl would send it
	resp, err := srv.Client().Post(srv.URL+"/v1/deployments", "application/yaml", strings.NewReader(shopYAML))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST YAML = %s", resp.Status)
	}
	list, err := c.Deployments(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || len(list[0].Services) != 2 {
		t.Fatalf("List = %+v", list)
	}
	web := list[0].Services[0]
	if web.Name != "web" || web.Replicas != 2 || len(web.Containers) != 2 || web.Containers[0].State.Status != runtime.StatusRunning || !web.Containers[0].Supervised {
		t.Errorf("web status = %+v", web)
	}
	if batch := list[0].Services[1]; batch.RType != spec.RTypeJob || batch.Containers[0].Supervised {
		t.Errorf("batch status = %+v", batch)
	}
	st, err := c.Deployment(t.Context(), "shop")
	if err != nil || st.Name != "shop" {
		t.Errorf("Get = %+v, %v", st, err)
	}
	if _, err := c.Deployment(t.Context(), "nope"); !errors.Is(err, runtime.ErrNotFound) {
		t.Errorf("Get(nope) = %v, want ErrNotFound", err)
	}

	res, err = c.Down(t.Context(), "shop")
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Removed) != 3 {
		t.Errorf("Down removed %v, want 3 replicas", res.Removed)
	}
	if _, err := c.Down(t.Context(), "shop"); !errors.Is(err, runtime.ErrNotFound) {
		t.Errorf("second Down = %v, want ErrNotFound", err)
	}
}

func TestDeploymentEndpointErrors(t *testing.T) {
	f := runtimetest.NewFake("fake")
	a := mustNew(t, testConfig(t), f)
	_, srv := newHTTPClient(t, a)
	for _, tc := range []struct {
		name, contentType, body string
		wantStatus              int
		wantKind                api.Kind
		wantText                string
	}{
		{"bad YAML names the line", "application/yaml", "version: v1\ndeployment: shop\nservices:\n  web:\n    imag: {name: x}\n", 400, api.KindInvalidArgument, "line 5"},
		{"unknown JSON field", "application/json", `{"deployment":"shop","services":[],"extra":1}`, 400, api.KindInvalidArgument, "extra"},
		{"JSON service without name", "application/json", `{"version":"v1","deployment":"shop","services":[{"image":{"name":"x"}}]}`, 400, api.KindInvalidArgument, "services[0]: name is empty"},
		{"duplicate JSON service", "application/json", `{"version":"v1","deployment":"shop","services":[{"name":"a","image":{"name":"x"}},{"name":"a","image":{"name":"x"}}]}`, 400, api.KindInvalidArgument, "given twice"},
		{"empty body", "application/json", ``, 400, api.KindInvalidArgument, "empty"},
		{"other content type", "text/plain", `hello`, 501, api.KindNotSupported, "application/yaml"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := srv.Client().Post(srv.URL+"/v1/deployments", tc.contentType, strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var eb api.ErrorBody
			if err := api.Decode(resp.Body, &eb, "error"); err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tc.wantStatus || eb.Error.Kind != tc.wantKind || !strings.Contains(eb.Error.Message, tc.wantText) {
				t.Errorf("got %d %s %q, want %d %s containing %q", resp.StatusCode, eb.Error.Kind, eb.Error.Message, tc.wantStatus, tc.wantKind, tc.wantText)
			}
		})
	}
}

func TestDeploymentRequestRoundTrip(t *testing.T) {
	d, err := spec.Parse([]byte(shopYAML))
	if err != nil {
		t.Fatal(err)
	}
	back, err := api.FromDeployment(d).Spec()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(back.ServiceNames, d.ServiceNames) {
		t.Fatalf("order %v, want %v", back.ServiceNames, d.ServiceNames)
	}
	for _, name := range d.ServiceNames {
		if specHash(name, back.Services[name], "") != specHash(name, d.Services[name], "") {
			t.Errorf("service %s changed in the round trip: %+v vs %+v", name, back.Services[name], d.Services[name])
		}
	}
}

func TestRuntimesEndpoint(t *testing.T) {
	linux := runtimetest.NewFake("runc", ocispec.Platform{OS: "linux", Architecture: "amd64"})
	peer := runtimetest.NewFake("remote:peer", ocispec.Platform{OS: "windows", Architecture: "amd64"})
	a, err := New(t.Context(), testConfig(t), []runtime.Containers{linux, peer}, WithLogger(slog.New(slog.NewTextHandler(t.Output(), nil))))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	c, _ := newHTTPClient(t, a)
	if _, err := c.Up(t.Context(), deployment("shop", service("web", 2, forever))); err != nil {
		t.Fatal(err)
	}
	peer.FailOn("list", errors.New("delegate peer is unreachable"))
	list, err := c.Runtimes(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	want := []api.RuntimeStatus{
		{Name: "runc", Platforms: []string{"linux/amd64"}, Healthy: true, Containers: 2},
		{Name: "remote:peer", Platforms: []string{"windows/amd64"}, Error: "delegate peer is unreachable"},
	}
	if !slices.EqualFunc(list, want, func(a, b api.RuntimeStatus) bool {
		return a.Name == b.Name && slices.Equal(a.Platforms, b.Platforms) && a.Healthy == b.Healthy && a.Error == b.Error && a.Containers == b.Containers
	}) {
		t.Fatalf("runtimes = %+v, want %+v", list, want)
	}
}

func TestLoadEndpoint(t *testing.T) {
	f := runtimetest.NewFake("fake")
	without := mustNew(t, testConfig(t), f)
	c, _ := newHTTPClient(t, without)
	if _, err := c.Load(t.Context(), strings.NewReader("tar")); !errors.Is(err, runtime.ErrNotSupported) {
		t.Errorf("Load without a loader = %v, want ErrNotSupported", err)
	}

	var got string
	load := func(_ context.Context, path string) ([]runtime.ImageInfo, error) {
		b, err := os.ReadFile(path)
		got = string(b)
		return []runtime.ImageInfo{{Reference: "example/loaded:1"}}, err
	}
	cfg := testConfig(t)
	with := mustNew(t, cfg, runtimetest.NewFake("fake"), WithImageLoader(load))
	c, _ = newHTTPClient(t, with)
	imgs, err := c.Load(t.Context(), strings.NewReader("archive bytes"))
	if err != nil || len(imgs) != 1 || imgs[0].Reference != "example/loaded:1" || got != "archive bytes" {
		t.Fatalf("Load = %v, %v; the loader saw %q", imgs, err, got)
	}
	if left, _ := os.ReadDir(filepath.Join(cfg.Root, "tmp")); len(left) != 0 {
		t.Errorf("the uploaded archive was left behind: %v", left)
	}
}
