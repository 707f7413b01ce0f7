package e2e

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestDockerSocket drives a real agent's Docker API with the real docker
// CLI: the handshake, and a runc container made by switchyard's own CLI
// listed, read, stopped and removed through docker.
func TestDockerSocket(t *testing.T) {
	bin, err := exec.LookPath("docker")
	if err != nil {
		t.Skip("the docker CLI is not installed")
	}
	dsock := filepath.Join(t.TempDir(), "docker.sock")
	e := newEnvWith(t, "--docker-socket", dsock)
	docker := func(args ...string) (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, append([]string{"-H", "unix://" + dsock}, args...)...)
		cmd.Env = []string{"HOME=" + t.TempDir(), "DOCKER_CLI_HINTS=false"}
		out, err := cmd.CombinedOutput()
		return strings.TrimSpace(string(out)), err
	}
	ok := func(want string, args ...string) string {
		t.Helper()
		out, err := docker(args...)
		if err != nil || !strings.Contains(out, want) {
			t.Fatalf("docker %s = %q, %v; want %q\n%s", strings.Join(args, " "), out, err, want, e.daemonLog())
		}
		return out
	}
	ok("runc runc,wasm", "info", "--format", "{{.DefaultRuntime}} {{range $k, $v := .Runtimes}}{{$k}},{{end}}")
	e.ok("run", "-d", "--name", "web", e.images.busybox, "sh", "-c", "echo hello from runc; exec sleep 300")
	ok("web-rep-0 "+e.images.busybox+" running", "ps", "--format", "{{.Names}} {{.Image}} {{.State}}")
	waitFor(t, "docker logs to show the container's output", 30*time.Second, func() bool {
		out, err := docker("logs", "web-rep-0")
		return err == nil && strings.Contains(out, "hello from runc")
	})
	ok("runc", "inspect", "--format", "{{.HostConfig.Runtime}}", "web-rep-0")
	ok("web-rep-0", "stop", "-t", "1", "web-rep-0")
	ok("exited", "ps", "-a", "--format", "{{.State}}", "--filter", "name=web")
	ok("web-rep-0", "rm", "web-rep-0")
	if out := e.ok("ps", "-a"); strings.Contains(out, "web-rep-0") {
		t.Fatalf("switchyard ps -a after docker rm: %q", out)
	}

	// docker run: create (pulling on the 404 for an image not here),
	// wait, attach, start; the workload's output and exit code.
	ok("hello from runc", "run", "--rm", e.images.busybox, "echo", "hello from runc")
	out, err := docker("run", "--rm", e.images.busybox, "sh", "-c", "echo bye >&2; exit 3")
	if ee, isExit := err.(*exec.ExitError); !isExit || ee.ExitCode() != 3 || !strings.Contains(out, "bye") {
		t.Fatalf("docker run exiting 3 = %q, %v; want its stderr and code 3", out, err)
	}
	// A wasm image just runs, routed by its platform, with no flags.
	ok("hello from wasm, docker", "run", "--rm", "-e", "NAME=docker", e.images.wasm)
	// Nothing here runs windows: the route-to-peer answer names the remedy.
	out, err = docker("run", "--rm", e.images.windows)
	if err == nil || !strings.Contains(out, "route to peer") || !strings.Contains(out, "windows/amd64") || !strings.Contains(out, "--delegate") {
		t.Fatalf("docker run of a windows image = %q, %v; want the route-to-peer answer", out, err)
	}
	// Detached, named, with a label; a name taken is docker's conflict.
	ok("", "run", "-d", "--name", "dweb", "--label", "tier=web", "-p", "8080", e.images.busybox, "sleep", "300")
	ok("dweb running", "ps", "--filter", "label=tier=web", "--format", "{{.Names}} {{.State}}")
	ok("0.0.0.0:", "ps", "--filter", "name=dweb", "--format", "{{.Ports}}") // a free host port, chosen at create
	ok("->8080/tcp", "ps", "--filter", "name=dweb", "--format", "{{.Ports}}")
	if out, err := docker("run", "-d", "--name", "dweb", e.images.busybox, "true"); err == nil || !strings.Contains(out, "is already in use") {
		t.Fatalf("docker run with a taken name = %q, %v; want the conflict", out, err)
	}
	if out := e.ok("ps"); !strings.Contains(out, "dweb-rep-0") {
		t.Fatalf("switchyard ps does not show the container docker made: %q", out)
	}
	// exec: output, and the command's exit code as docker's own.
	ok("hi from exec", "exec", "dweb", "echo", "hi from exec")
	if out, err := docker("exec", "dweb", "sh", "-c", "echo err >&2; exit 4"); err == nil || !strings.Contains(out, "err") {
		t.Fatalf("docker exec exiting 4 = %q, %v", out, err)
	} else if ee, isExit := err.(*exec.ExitError); !isExit || ee.ExitCode() != 4 {
		t.Fatalf("docker exec exit code = %v; want 4", err)
	}
	// stats --no-stream: docker's table from one sample pair.
	ok("dweb", "stats", "--no-stream", "--format", "{{.Name}} {{.MemUsage}}", "dweb")
	// rename: the new name resolves, the old one is gone.
	ok("", "rename", "dweb", "dweb2")
	ok("dweb2 running", "ps", "--format", "{{.Names}} {{.State}}", "--filter", "label=tier=web")
	if out, err := docker("inspect", "--type", "container", "dweb"); err == nil || !strings.Contains(out, "No such container") {
		t.Fatalf("docker inspect of the old name = %q, %v", out, err)
	}
	ok("dweb2", "rm", "-f", "dweb2")

	// Images: pull, list, inspect, tag, remove.
	ok("Downloaded newer image for "+e.images.busybox, "pull", e.images.busybox)
	ok(e.images.busybox, "images", "--format", "{{.Repository}}:{{.Tag}}")
	ok("linux amd64", "image", "inspect", "--format", "{{.Os}} {{.Architecture}}", e.images.busybox)
	copyRef := strings.TrimSuffix(e.images.busybox, ":latest") + ":copy"
	ok("", "tag", e.images.busybox, copyRef)
	ok(copyRef, "images", "--format", "{{.Repository}}:{{.Tag}}")
	ok("Untagged: "+copyRef, "rmi", copyRef)
	if out, err := docker("rmi", copyRef); err == nil || !strings.Contains(out, "No such image") {
		t.Fatalf("docker rmi of a removed tag = %q, %v; want No such image", out, err)
	}
}
