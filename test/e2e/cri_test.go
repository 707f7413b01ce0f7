package e2e

import (
	"context"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/internal/testimages"
	"github.com/switchyard/switchyard/internal/testutil"
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
	c := &crictl{t: t, e: e, bin: bin, config: config}
	// A test that fails half-way leaves its pods: they go before the
	// agent stops (cleanups run last first), with their port rules.
	t.Cleanup(func() { _, _ = c.run("rmp", "--all", "--force") })
	return e, c
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
// image service — pull, list, inspect, remove, and a pull of an image
// that is not there.
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

// TestCRIContainers runs one pod through crictl with a Linux container
// and a wasm module and no runtime handler: each is routed by its image
// alone, both share the pod's network (its port mappings reach both, and
// port-forward too), the Linux container's log is in the CRI format at
// the kubelet's path, exec and stats answer; the pod runs on through an
// agent restart; a Windows image is refused with the remedy; stopping and
// removing the pod leaves nothing.
func TestCRIContainers(t *testing.T) {
	e, c := newCrictl(t)
	src, err := os.ReadFile(filepath.Join("..", "..", "examples", "hello-wasm-http", "main.go"))
	if err != nil {
		t.Fatal(err)
	}
	registry := strings.SplitN(e.images.busybox, "/", 2)[0]
	wasmWeb := testimages.Push(t, registry, "e2e/wasm-http", testimages.WasmModule(t, string(src), testimages.ConventionArtifact))
	c.ok("Image is up to date", "pull", e.images.busybox)
	c.ok("Image is up to date", "pull", wasmWeb)
	dir := t.TempDir()
	logs := filepath.Join(dir, "logs")
	linuxPort, wasmPort := freePort(t), freePort(t)
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	pod := write("pod.json", `{"metadata": {"name": "mixed", "namespace": "default", "uid": "u2", "attempt": 0}, "hostname": "mixedhost",
		"log_directory": "`+logs+`", "port_mappings": [{"container_port": 8080, "host_port": `+wasmPort+`}, {"container_port": 8081, "host_port": `+linuxPort+`}]}`)
	web := write("web.json", `{"metadata": {"name": "web"}, "image": {"image": "`+e.images.busybox+`"}, "log_path": "web.log",
		"command": ["/bin/sh", "-c", "mkdir -p /www; echo hello from linux > /www/index.html; httpd -p 8081 -h /www; i=0; while true; do i=$((i+1)); echo tick $i; sleep 1; done"]}`)
	mod := write("wasm.json", `{"metadata": {"name": "wasmweb"}, "image": {"image": "`+wasmWeb+`"}, "log_path": "wasm.log",
		"envs": [{"key": "PORT", "value": "8080"}],
		"annotations": {"io.kubernetes.container.ports": "[{\"containerPort\": 8080, \"protocol\": \"TCP\"}]"}}`)
	win := write("win.json", `{"metadata": {"name": "win"}, "image": {"image": "`+e.images.windows+`"}}`)
	if err := os.MkdirAll(logs, 0o755); err != nil {
		t.Fatal(err)
	}
	// The container events a kubelet's evented PLEG follows.
	events := exec.Command(c.bin, "--config", c.config, "events", "--output", "json")
	var evOut testutil.SyncBuffer
	events.Stdout = &evOut
	if err := events.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = events.Process.Kill(); _ = events.Wait() }()
	podID := c.ok("", "runp", pod)
	webID := c.ok("", "create", podID, web, pod)
	modID := c.ok("", "create", podID, mod, pod)
	c.ok("", "start", webID, modID)
	// Routed by the image alone: runc for the Linux one, wasm for the module.
	for id, want := range map[string]string{webID: "runc", modID: "wasm"} {
		if out := c.ok("", "inspect", id); !strings.Contains(out, `"runtime": "`+want+`"`) {
			t.Fatalf("crictl inspect %s = %s; want the runtime %s", id, out, want)
		}
	}
	answer := func(when string) {
		t.Helper()
		for port, want := range map[string]string{linuxPort: "hello from linux", wasmPort: "hello from wasm"} {
			url := "http://127.0.0.1:" + port + "/"
			waitFor(t, url+" to answer "+when, 30*time.Second, func() bool {
				b, err := httpGet(url)
				return err == nil && strings.Contains(b, want)
			})
		}
	}
	answer("at first")
	waitFor(t, "crictl events to show web's create and start", 20*time.Second, func() bool {
		out := evOut.String()
		return strings.Contains(out, webID) && strings.Contains(out, "CONTAINER_CREATED_EVENT") && strings.Contains(out, "CONTAINER_STARTED_EVENT")
	})
	waitFor(t, "the CRI log at the kubelet's path", 20*time.Second, func() bool {
		b, _ := os.ReadFile(filepath.Join(logs, "web.log"))
		return regexp.MustCompile(`(?m)^\S+Z stdout F tick 2$`).Match(b)
	})
	c.ok("tick", "logs", "--tail", "1", webID)
	c.ok("serving", "logs", modID)
	// exec through the streaming server, and ExecSync with its exit code.
	c.ok("mixedhost", "exec", webID, "hostname")
	if out, err := c.run("exec", "-s", webID, "sh", "-c", "echo out; exit 3"); err == nil || !strings.Contains(out, "out") {
		t.Fatalf("crictl exec -s with exit 3 = %q, %v; want the output and a failure", out, err)
	}
	c.ok("web", "stats", "-a")
	// port-forward, into the pod's network.
	fwd := freePort(t)
	pf := exec.Command(c.bin, "--config", c.config, "port-forward", podID, fwd+":8081")
	if err := pf.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "port-forward to reach the Linux container", 20*time.Second, func() bool {
		b, err := httpGet("http://127.0.0.1:" + fwd + "/")
		return err == nil && strings.Contains(b, "hello from linux")
	})
	_ = pf.Process.Kill()
	_ = pf.Wait()
	// A Windows image: its pull is refused with the platform and the
	// remedy (what a kubelet reports on the pod), and so is its create.
	if out, err := c.run("pull", e.images.windows); err == nil || !strings.Contains(out, "FailedPrecondition") ||
		!strings.Contains(out, "needs platform windows/amd64") || !strings.Contains(out, "--delegate") {
		t.Fatalf("crictl pull of a Windows image = %q, %v; want FailedPrecondition naming windows/amd64 and the remedy", out, err)
	}
	if out, err := c.run("create", podID, win, pod); err == nil || !strings.Contains(out, "pull it first") {
		t.Fatalf("crictl create of a Windows image = %q, %v; want it refused", out, err)
	}
	// The agent restarts under the running pod.
	e.killDaemon()
	e.startDaemon()
	c.ok("Running", "ps", "--id", webID)
	c.ok("Running", "ps", "--id", modID)
	answer("after the agent's restart")
	c.ok("", "stopp", podID)
	c.ok("Exited", "ps", "-a", "--id", webID)
	c.ok("", "rmp", podID)
	if out, _ := c.run("ps", "-a", "-q"); out != "" {
		t.Fatalf("crictl ps -a after rmp = %q; want none", out)
	}
	if out := e.ok("ps", "-a"); strings.Contains(out, "k8s_") {
		t.Fatalf("switchyard ps -a after rmp shows the pod's containers:\n%s", out)
	}
}
