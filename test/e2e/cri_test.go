package e2e

import (
	"context"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// crictl runs Kubernetes' crictl against the agent's CRI socket.
type crictl struct {
	t      *testing.T
	e      *env
	bin    string
	config string
}

// newCrictl starts an agent with a CRI socket and a crictl configured for
// it; it skips when crictl is missing.
func newCrictl(t *testing.T) (*env, *crictl) {
	bin, err := exec.LookPath("crictl")
	if err != nil {
		if bin, err = exec.LookPath(filepath.Join(os.Getenv("HOME"), "go", "bin", "crictl")); err != nil {
			t.Skip("crictl is not installed (scripts/install-deps installs it)")
		}
	}
	dir := t.TempDir()
	sock := filepath.Join(dir, "cri.sock")
	e := newEnvWith(t, "--cri-socket", sock)
	config := filepath.Join(dir, "crictl.yaml")
	if err := os.WriteFile(config, []byte("runtime-endpoint: unix://"+sock+"\nimage-endpoint: unix://"+sock+"\ntimeout: 30\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return e, &crictl{t: t, e: e, bin: bin, config: config}
}

func (c *crictl) run(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.bin, append([]string{"--config", c.config}, args...)...)
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
	e, c := newCrictl(t)
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
	if out, err := c.run("ps"); err == nil || !strings.Contains(out, "ListContainers") || !strings.Contains(out, "Unimplemented") {
		t.Fatalf("crictl ps = %q, %v; want Unimplemented naming ListContainers", out, err)
	}
}

// TestCRIPods runs pod sandboxes through crictl: a pod gets a network
// namespace of its own on the default network, with an address crictl
// shows; it survives the agent's restart (the node does not collect its
// attachment); stopping releases its network, removing forgets it, and
// nothing is left behind.
func TestCRIPods(t *testing.T) {
	e, c := newCrictl(t)
	podJSON := filepath.Join(t.TempDir(), "pod.json")
	if err := os.WriteFile(podJSON, []byte(`{"metadata": {"name": "web", "namespace": "default", "uid": "u1", "attempt": 0},
		"hostname": "webhost", "labels": {"app": "web"}, "log_directory": "/tmp"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	id := c.ok("", "runp", podJSON)
	if len(id) != 64 {
		t.Fatalf("crictl runp = %q; want a pod id", id)
	}
	c.ok("Ready", "pods", "--id", id[:12])
	c.ok(id[:13], "pods", "--label", "app=web", "-q")
	if out, _ := c.run("pods", "--label", "app=db", "-q"); out != "" {
		t.Fatalf("crictl pods --label app=db = %q; want none", out)
	}
	ip := c.ok("", "inspectp", "--output", "go-template", "--template", "{{.status.network.ip}}", id)
	if !strings.HasPrefix(ip, "10.") {
		t.Fatalf("the pod's address = %q; want one of the default network", ip)
	}
	// The pod's namespace has the address on its eth0, and a server in it
	// answers the host there.
	netns := filepath.Join(e.root, "cri", "pods", id, "netns")
	reach := func(when string) {
		t.Helper()
		if out, err := exec.Command("nsenter", "--net="+netns, "ip", "-o", "-4", "addr", "show", "eth0").CombinedOutput(); err != nil || !strings.Contains(string(out), ip+"/") {
			t.Fatalf("the pod's eth0 %s = %q, %v; want %s", when, out, err, ip)
		}
		srv := exec.Command("nsenter", "--net="+netns, "busybox", "nc", "-l", "-p", "7777", "-e", "echo", "from the pod")
		if err := srv.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() { _ = srv.Process.Kill(); _ = srv.Wait() }()
		waitFor(t, "the server in the pod to answer "+when, 20*time.Second, func() bool {
			body, err := readTCP(ip + ":7777")
			return err == nil && strings.Contains(body, "from the pod")
		})
	}
	reach("at first")
	e.killDaemon()
	e.startDaemon()
	c.ok("Ready", "pods", "--id", id)
	reach("after the agent's restart")
	c.ok("", "stopp", id)
	c.ok("NotReady", "pods", "--id", id)
	c.ok("", "rmp", id)
	if out, _ := c.run("pods", "-q"); out != "" {
		t.Fatalf("crictl pods after rmp = %q; want none", out)
	}
	if ents, _ := os.ReadDir(filepath.Join(e.root, "networks", "ipam", "bridge")); len(ents) > 2 {
		names := []string{}
		for _, x := range ents {
			names = append(names, x.Name())
		}
		t.Fatalf("addresses left taken after rmp: %v", names)
	}
	// A pod with a handler this node has not is refused by name.
	if out, err := c.run("runp", "--runtime", "nosuch", podJSON); err == nil || !strings.Contains(out, "no runtime of that name") {
		t.Fatalf("crictl runp --runtime nosuch = %q, %v; want the handler refused", out, err)
	}
}

// readTCP reads what a TCP server at addr says before it closes.
func readTCP(addr string) (string, error) {
	conn, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	b, err := io.ReadAll(conn)
	return string(b), err
}
