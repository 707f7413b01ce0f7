package docker_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/switchyard/switchyard/api/docker"
	"github.com/switchyard/switchyard/runtime"
	"github.com/switchyard/switchyard/runtime/runtimetest"
)

type lister []runtime.Containers

func (l lister) Runtimes() []runtime.Containers { return l }

// serve serves a front door over a fake runtime on a unix socket and
// returns its DOCKER_HOST.
func serve(t *testing.T) string {
	t.Helper()
	_, host := serveFake(t)
	return host
}

// serveFake is serve, with the fake runtime behind the front door.
func serveFake(t *testing.T) (*runtimetest.Fake, string) {
	t.Helper()
	f := runtimetest.NewFake("runc", ocispec.Platform{OS: "linux", Architecture: "amd64"})
	s, err := docker.New(f, docker.WithVersion("1.2.3"), docker.WithRuntimeLister(lister{f}))
	if err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(t.TempDir(), "docker.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return f, "unix://" + sock
}

// dockerCLI runs the real docker CLI against host.
func dockerCLI(t *testing.T, host string, args ...string) (string, error) {
	t.Helper()
	bin, err := exec.LookPath("docker")
	if err != nil {
		t.Skip("the docker CLI is not installed")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, append([]string{"-H", host}, args...)...)
	cmd.Env = []string{"HOME=" + t.TempDir(), "DOCKER_CLI_HINTS=false"}
	out, err := cmd.CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

func TestDockerCLIHandshake(t *testing.T) {
	host := serve(t)
	out, err := dockerCLI(t, host, "version", "--format", "{{.Server.APIVersion}} {{.Server.Version}} {{.Server.Os}}")
	if err != nil || out != "1.41 1.2.3 linux" {
		t.Fatalf("docker version = %q, %v; want the negotiated 1.41 and the server's version", out, err)
	}
	out, err = dockerCLI(t, host, "info", "--format", "{{.DefaultRuntime}} {{len .Runtimes}} {{.OSType}}")
	if err != nil || out != "runc 1 linux" {
		t.Fatalf("docker info = %q, %v", out, err)
	}
	// What is not served yet is a 501 that names the endpoint, which the
	// client prints as the daemon's error.
	out, err = dockerCLI(t, host, "system", "df")
	if err == nil || !strings.Contains(out, "Error response from daemon: GET /system/df is not implemented") {
		t.Fatalf("docker system df = %q, %v; want the 501 naming the endpoint", out, err)
	}
	// A node without networks says so.
	out, err = dockerCLI(t, host, "network", "create", "n1")
	if err == nil || !strings.Contains(out, "this node has no networks") {
		t.Fatalf("docker network create = %q, %v; want the answer of a node without networks", out, err)
	}
}

func TestVersionPrefix(t *testing.T) {
	s, err := docker.New(runtimetest.NewFake("runc"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path   string
		status int
		want   string
	}{
		{"/_ping", 200, "OK"},
		{"/v1.41/_ping", 200, "OK"},
		{"/v1.24/_ping", 200, "OK"},
		{"/v1.12/_ping", 400, "client version 1.12 is too old"},
		{"/v1.52/_ping", 400, "client version 1.52 is too new. Maximum supported API version is 1.41"},
		{"/v1.41/nothing", 501, "GET /nothing is not implemented"},
	} {
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, httptest.NewRequest("GET", tc.path, nil))
		if rec.Code != tc.status || !strings.Contains(rec.Body.String(), tc.want) || rec.Header().Get("Api-Version") != docker.APIVersion {
			t.Errorf("GET %s = %d %q (Api-Version %q); want %d with %q", tc.path, rec.Code, rec.Body.String(), rec.Header().Get("Api-Version"), tc.status, tc.want)
		}
	}
}
