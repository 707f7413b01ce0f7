package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// crictl runs Kubernetes' crictl against the agent's CRI socket.
type crictl struct {
	t    *testing.T
	e    *env
	bin  string
	sock string
}

func (c *crictl) run(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.bin, append([]string{"--runtime-endpoint", "unix://" + c.sock, "--image-endpoint", "unix://" + c.sock, "--timeout", "30s"}, args...)...)
	cmd.Env = append(os.Environ(), "HOME="+c.t.TempDir())
	out, err := cmd.CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

func (c *crictl) ok(want string, args ...string) string {
	c.t.Helper()
	out, err := c.run(args...)
	if err != nil || !strings.Contains(out, want) {
		c.t.Fatalf("crictl %s = %q, %v; want %q\n%s", strings.Join(args, " "), out, err, want, c.e.daemonLog())
	}
	return out
}

// TestCRIImagesAndStatus drives the agent's CRI socket with crictl: the
// runtime's version and status (its handlers, its conditions), and the
// image service — pull, list, inspect, remove — and a call not served yet
// answered Unimplemented by name.
func TestCRIImagesAndStatus(t *testing.T) {
	bin, err := exec.LookPath("crictl")
	if err != nil {
		if bin, err = exec.LookPath(filepath.Join(os.Getenv("HOME"), "go", "bin", "crictl")); err != nil {
			t.Skip("crictl is not installed (scripts/install-deps installs it)")
		}
	}
	sock := filepath.Join(t.TempDir(), "cri.sock")
	e := newEnvWith(t, "--cri-socket", sock)
	c := &crictl{t: t, e: e, bin: bin, sock: sock}
	c.ok("RuntimeName:  switchyard", "version")
	c.ok("RuntimeApiVersion:  v1", "version")
	info := c.ok(`"type": "RuntimeReady"`, "info")
	for _, want := range []string{`"type": "NetworkReady"`, `"name": "runc"`, `"name": "wasm"`} {
		if !strings.Contains(info, want) {
			t.Fatalf("crictl info = %s; want %s", info, want)
		}
	}
	c.ok("Image is up to date for sha256:", "pull", e.images.busybox)
	c.ok("Image is up to date for sha256:", "pull", e.images.wasm)
	repo, tag, _ := strings.Cut(strings.TrimPrefix(e.images.busybox, strings.SplitN(e.images.busybox, "/", 2)[0]+"/"), ":")
	out := c.ok(repo, "images")
	if !strings.Contains(out, tag) {
		t.Fatalf("crictl images = %q; want %s with its tag %s", out, repo, tag)
	}
	c.ok(`"repoTags": [`, "inspecti", e.images.busybox)
	c.ok("Deleted: "+e.images.busybox, "rmi", e.images.busybox)
	if out, err := c.run("inspecti", e.images.busybox); err == nil {
		t.Fatalf("crictl inspecti after rmi = %q; want no such image", out)
	}
	if out, err := c.run("pull", strings.Replace(e.images.busybox, "e2e/busybox", "e2e/nosuch", 1)); err == nil || !strings.Contains(out, "not found") {
		t.Fatalf("crictl pull of a missing image = %q, %v; want not found", out, err)
	}
	// What is not served yet says so, by name.
	if out, err := c.run("pods"); err == nil || !strings.Contains(out, "ListPodSandbox") || !strings.Contains(out, "Unimplemented") {
		t.Fatalf("crictl pods = %q, %v; want Unimplemented naming ListPodSandbox", out, err)
	}
}
