package e2e

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/switchyard/switchyard/internal/testimages"
	"github.com/switchyard/switchyard/internal/tlstest"
)

// freePort returns a loopback TCP port that was free a moment ago.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port
}

// Every verb that has its own endpoint — up, down, info, load — works
// against an agent reached over TCP with TLS and a token, as the container
// verbs do; without the token it is refused.
func TestDeployVerbsOverTLS(t *testing.T) {
	needE2E(t)
	certs := t.TempDir()
	ca := tlstest.NewCA(t, "e2e CA")
	caFile := ca.WriteCA(t, certs)
	certFile, keyFile := ca.WriteServer(t, certs, "127.0.0.1")
	tokenFile := filepath.Join(certs, "token")
	if err := os.WriteFile(tokenFile, []byte("e2e-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	e := newEnvWith(t, "--listen", "tcp://127.0.0.1:"+port, "--tls-cert", certFile, "--tls-key", keyFile, "--token-file", tokenFile)
	addr := "https://127.0.0.1:" + port
	remote := func(args ...string) result {
		t.Helper()
		return runCLI(t, addr, "TLS ", append([]string{"--tlscacert", caFile, "--token-file", tokenFile}, args...)...)
	}
	ok := func(args ...string) string {
		t.Helper()
		res := remote(args...)
		if res.code != 0 {
			t.Fatalf("switchyard %s over TLS: exit %d\n%s%s", strings.Join(args, " "), res.code, res.stdout, res.stderr)
		}
		return res.stdout
	}

	// info
	if out := ok("info"); !strings.Contains(out, "runc") || !strings.Contains(out, "wasm") {
		t.Errorf("info over TLS:\n%s", out)
	}
	// up and down
	spec := e.writeSpec("tls.yaml", `version: v1
deployment: tls
services:
  web:
    image:
      name: `+e.images.busybox+`
    command:
      entrypoint: ["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 1; done"]
`)
	if out := ok("up", "-f", spec); !strings.Contains(out, "created   tls-web-rep-0") {
		t.Errorf("up over TLS:\n%s", out)
	}
	waitFor(t, "the replica to run", time.Minute, func() bool { return e.psAll()["tls-web-rep-0"].State == "running" })
	if out := ok("down", "-f", spec); !strings.Contains(out, "removed   tls-web-rep-0") {
		t.Errorf("down over TLS:\n%s", out)
	}
	// load, from an OCI layout directory the CLI streams as a tar
	dir := filepath.Join(t.TempDir(), "layout")
	lp, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := lp.AppendImage(testimages.Busybox(t), layout.WithAnnotations(map[string]string{ocispec.AnnotationRefName: "example.com/loaded/busybox:tls"})); err != nil {
		t.Fatal(err)
	}
	if out := ok("load", "-i", dir); !strings.Contains(out, "Loaded image: "+mustNormalize(t, "example.com/loaded/busybox:tls")) {
		t.Errorf("load over TLS:\n%s", out)
	}
	if out := e.ok("images"); !strings.Contains(out, "example.com/loaded/busybox:tls") {
		t.Errorf("the loaded image is not listed:\n%s", out)
	}
	// Without the token the daemon refuses, and says so.
	res := runCLI(t, addr, "TLS ", "--tlscacert", caFile, "info")
	if res.code == 0 || !strings.Contains(res.stderr, "credentials") {
		t.Errorf("info without the token: exit %d, %s", res.code, res.stderr)
	}
}

func mustNormalize(t *testing.T, ref string) string {
	t.Helper()
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	return r.Name()
}
