package e2e

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/switchyard/switchyard/internal/imagebuild"
	"github.com/switchyard/switchyard/internal/testimages"
	"github.com/switchyard/switchyard/internal/testutil"
	"github.com/switchyard/switchyard/internal/tlstest"
)

// delegatePort is the port agent B serves its API on, inside its own
// network namespace, so that no other listener can hold it.
const delegatePort = 7443

// delegateWorld is the two-agent world: a network namespace joined to the
// root namespace by a veth pair with a private /30, a registry on the root
// side of the pair, agent B inside the namespace serving runc over TLS
// with a token and client certificates, and agent A in the root namespace
// with only the wasm runtime and B as its delegate "b".
type delegateWorld struct {
	t      *testing.T
	dir    string
	netns  string // sy-b-<random>
	vethA  string // the root namespace's end of the pair
	hostIP string // 10.231.N.1, on vethA
	nsIP   string // 10.231.N.2, inside netns

	registry string // hostIP:PORT
	busybox  string // linux image reference
	wasm     string // wasip1/wasm image reference

	serverCA *tlstest.CA // signed B's server certificate
	clientCA *tlstest.CA // B accepts client certificates it signed
	token    string      // B's bearer token
	files    struct {
		serverCA, clientCA    string
		serverCert, serverKey string
		clientCert, clientKey string
		token                 string
	}

	a, b *syAgent
}

// needDelegateWorld skips t, with the reason, unless the machine can build
// the world: what the end-to-end tests need, plus ip and nsenter.
func needDelegateWorld(t *testing.T) {
	t.Helper()
	needE2E(t)
	for _, tool := range []string{"ip", "nsenter"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("the delegate test needs %s on PATH to make a network namespace (apt-get install iproute2 util-linux)", tool)
		}
	}
}

// newDelegateWorld builds the world and starts both agents. Everything it
// makes is undone in t.Cleanup, even when the test fails.
func newDelegateWorld(t *testing.T) *delegateWorld {
	t.Helper()
	needDelegateWorld(t)
	w := &delegateWorld{t: t, dir: t.TempDir()} // first, so that it is removed last
	w.makeNetwork()
	w.serveImages()
	w.makeCredentials()

	w.b = newSyAgent(t, "b", filepath.Join(w.dir, "b"), w.netns,
		"--runtimes", "runc",
		"--listen", fmt.Sprintf("tcp://%s:%d", w.nsIP, delegatePort),
		"--tls-cert", w.files.serverCert, "--tls-key", w.files.serverKey,
		"--tls-client-ca", w.files.clientCA,
		"--token-file", w.files.token,
		"--insecure-registry", w.registry)
	w.a = newSyAgent(t, "a", filepath.Join(w.dir, "a"), "",
		"--runtimes", "wasm",
		"--delegate", "b="+w.delegateURL(),
		"--delegate-ca", w.files.serverCA,
		"--delegate-cert", w.files.clientCert, "--delegate-key", w.files.clientKey,
		"--delegate-token-file", w.files.token,
		"--insecure-registry", w.registry)
	t.Cleanup(w.cleanupAgents)
	w.b.start()
	w.a.start()
	return w
}

// delegateURL is B's API address as A and other clients dial it.
func (w *delegateWorld) delegateURL() string {
	return fmt.Sprintf("https://%s:%d", w.nsIP, delegatePort)
}

// makeNetwork creates the namespace and the veth pair on a /30 of
// 10.231.0.0/16 that no interface of this machine uses yet. It touches no
// address but the two it assigns.
func (w *delegateWorld) makeNetwork() {
	t := w.t
	t.Helper()
	suffix := delegateRandHex(t, 3)
	w.netns = "sy-b-" + suffix
	w.vethA = "syva" + suffix // interface names stop at 15 bytes
	vethB := "syvb" + suffix
	used := runIP(t, "ip", "-4", "-o", "addr", "show")
	for i := 0; ; i++ {
		n := int(delegateRandByte(t))
		if !strings.Contains(used, fmt.Sprintf(" 10.231.%d.", n)) {
			w.hostIP, w.nsIP = fmt.Sprintf("10.231.%d.1", n), fmt.Sprintf("10.231.%d.2", n)
			break
		}
		if i == 20 {
			t.Fatal("no free /30 in 10.231.0.0/16 for the test's veth pair")
		}
	}
	runIP(t, "ip", "netns", "add", w.netns)
	t.Cleanup(func() {
		// Deleting one end of a veth pair deletes both; the namespace goes
		// once no process is left in it (the agents were stopped before).
		if linkExists(w.vethA) {
			if out, err := exec.Command("ip", "link", "del", w.vethA).CombinedOutput(); err != nil {
				t.Errorf("cleanup: ip link del %s: %v: %s", w.vethA, err, out)
			}
		}
		if out, err := exec.Command("ip", "netns", "del", w.netns).CombinedOutput(); err != nil {
			t.Errorf("cleanup: ip netns del %s: %v: %s", w.netns, err, out)
		}
	})
	runIP(t, "ip", "link", "add", w.vethA, "type", "veth", "peer", "name", vethB)
	runIP(t, "ip", "link", "set", vethB, "netns", w.netns)
	runIP(t, "ip", "addr", "add", w.hostIP+"/30", "dev", w.vethA)
	runIP(t, "ip", "link", "set", w.vethA, "up")
	runIP(t, "ip", "-n", w.netns, "addr", "add", w.nsIP+"/30", "dev", vethB)
	runIP(t, "ip", "-n", w.netns, "link", "set", vethB, "up")
	runIP(t, "ip", "-n", w.netns, "link", "set", "lo", "up")
}

// serveImages serves an in-memory registry on the root side of the veth
// pair, where both agents reach it (B pulls for itself, from inside its
// namespace), and pushes the test images to it. It is not loopback, so
// both agents get --insecure-registry for it.
func (w *delegateWorld) serveImages() {
	t := w.t
	t.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort(w.hostIP, "0"))
	if err != nil {
		t.Fatalf("registry: listen on %s: %v", w.hostIP, err)
	}
	srv := &http.Server{Handler: ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0)))}
	done := make(chan error, 1) // written once by the serving goroutine
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		_ = srv.Close()
		if err := <-done; err != nil && !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("registry server: %v", err)
		}
	})
	w.registry = ln.Addr().String()
	push := func(repo string, img remote.Taggable) string {
		ref, err := name.NewTag(w.registry+"/"+repo+":latest", name.Insecure)
		if err != nil {
			t.Fatal(err)
		}
		if err := imagebuild.Push(t.Context(), ref, img); err != nil {
			t.Fatalf("push %s: %v", ref, err)
		}
		return ref.String()
	}
	w.busybox = push("e2e/busybox", testimages.Busybox(t))
	w.wasm = push("e2e/wasm", testimages.WasmModule(t, wasmSource, testimages.ConventionArtifact))
}

// makeCredentials writes B's server certificate, the client certificate
// A presents, and the token.
func (w *delegateWorld) makeCredentials() {
	t := w.t
	t.Helper()
	dir := filepath.Join(w.dir, "tls")
	if err := os.MkdirAll(filepath.Join(dir, "client"), 0o700); err != nil {
		t.Fatal(err)
	}
	w.serverCA = tlstest.NewCA(t, "switchyard delegate test server CA")
	w.clientCA = tlstest.NewCA(t, "switchyard delegate test client CA")
	w.files.serverCA = w.serverCA.WriteCA(t, dir)
	w.files.serverCert, w.files.serverKey = w.serverCA.WriteServer(t, dir, w.nsIP)
	w.files.clientCA = w.clientCA.WriteCA(t, filepath.Join(dir, "client"))
	w.files.clientCert, w.files.clientKey = w.clientCA.WriteClient(t, dir, "agent-a")
	w.token = delegateRandHex(t, 16)
	w.files.token = filepath.Join(dir, "token")
	if err := os.WriteFile(w.files.token, []byte(w.token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
}

// cleanupAgents removes every container through the agent that owns it
// (A first, while B still answers for the containers A handed it), stops
// both agents and ends what they left running on purpose. A B that the
// test left stopped is started again so that its containers can be removed.
func (w *delegateWorld) cleanupAgents() {
	if w.b.started && w.b.cmd == nil {
		if err := w.b.startErr(); err != nil {
			w.t.Errorf("cleanup: restart agent b to remove its containers: %v", err)
		}
	}
	w.a.removeAll()
	w.b.removeAll()
	w.a.stop()
	w.b.stop()
	w.a.reap()
	w.b.reap()
}

// syAgent is one `switchyard daemon`, in the root network namespace or in
// netns, with its root, socket and log under dir.
type syAgent struct {
	t     *testing.T
	name  string
	dir   string
	root  string
	sock  string
	netns string   // "" = the root network namespace
	args  []string // daemon flags after --root and --socket

	started bool
	cmd     *exec.Cmd     // nil while stopped
	exited  chan struct{} // closed when cmd has been reaped
}

func newSyAgent(t *testing.T, name, dir, netns string, args ...string) *syAgent {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return &syAgent{t: t, name: name, dir: dir, root: filepath.Join(dir, "root"),
		sock: filepath.Join(dir, "sy.sock"), netns: netns, args: args}
}

// start starts the agent and waits until `switchyard ps` answers.
func (g *syAgent) start() {
	g.t.Helper()
	if err := g.startErr(); err != nil {
		g.t.Fatal(err)
	}
}

// startErr is start that returns its failure.
func (g *syAgent) startErr() error {
	logf, err := os.OpenFile(g.logPath(), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
	// The delegation tests run two agents side by side: without networks
	// of their own, which would share a bridge.
	argv := append([]string{build.bin, "daemon", "--root", g.root, "--socket", g.sock, "--log-level", "info", "--bridge", "none"}, g.args...)
	if g.netns != "" {
		// nsenter joins only the network namespace. `ip netns exec` would
		// also give the agent a mount namespace of its own, hiding its
		// rootfs mounts from this test's cleanup and from the agent that
		// restarts on the same root.
		argv = append([]string{"nsenter", "--net=/run/netns/" + g.netns, "--"}, argv...)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start agent %s: %w", g.name, err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	g.cmd, g.exited, g.started = cmd, exited, true
	var gone bool
	ok := testutil.Poll(60*time.Second, func() bool {
		select {
		case <-exited:
			gone = true
			return true
		default:
		}
		return g.sy("ps").code == 0
	})
	switch {
	case gone:
		g.cmd = nil
		return fmt.Errorf("agent %s exited at start: %v\n%s", g.name, cmd.ProcessState, g.log())
	case !ok:
		return fmt.Errorf("agent %s: `switchyard ps` did not answer within 60 s\n%s", g.name, g.log())
	}
	return nil
}

// stop stops the agent as an operator does (SIGTERM) and waits for it to
// exit, killing it if it has not within 20 s.
func (g *syAgent) stop() {
	if g.cmd == nil {
		return
	}
	_ = g.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-g.exited:
	case <-time.After(20 * time.Second):
		g.t.Errorf("agent %s did not stop within 20 s of SIGTERM; killing it", g.name)
		_ = g.cmd.Process.Kill()
		<-g.exited
	}
	g.cmd = nil
}

// removeAll removes every container the agent lists.
func (g *syAgent) removeAll() {
	if g.cmd == nil {
		return
	}
	rows, err := g.psErr()
	if err != nil {
		g.t.Errorf("cleanup: agent %s: %v", g.name, err)
	}
	for _, r := range rows {
		if res := g.sy("rm", "-f", r.Name); res.code != 0 {
			g.t.Errorf("cleanup: agent %s: rm -f %s: %s", g.name, r.Name, res.stderr)
		}
	}
}

// reap ends the processes the agent leaves running on purpose (shims, the
// wasm host), found by the root in their command line, and unmounts what
// is still mounted under its directory. The agent must be stopped.
func (g *syAgent) reap() {
	t := g.t
	for _, pid := range pidsMentioning(g.root + "/") {
		if p, err := os.FindProcess(pid); err == nil {
			_ = p.Kill()
		}
	}
	if !testutil.Poll(20*time.Second, func() bool { return len(pidsMentioning(g.root+"/")) == 0 }) {
		t.Errorf("cleanup: processes of root %s still alive after SIGKILL: %v", g.root, pidsMentioning(g.root+"/"))
	}
	for _, m := range mountsUnder(g.dir) {
		if err := syscall.Unmount(m, syscall.MNT_DETACH); err != nil {
			t.Errorf("cleanup: unmount %s: %v", m, err)
		}
	}
	if t.Failed() {
		t.Logf("agent %s log:\n%s", g.name, g.log())
	}
}

func (g *syAgent) logPath() string { return filepath.Join(g.dir, "daemon.log") }

// log returns the agent's log so far.
func (g *syAgent) log() string {
	b, _ := os.ReadFile(g.logPath())
	return string(b)
}

// sy runs the switchyard CLI against this agent's socket, as a user does.
func (g *syAgent) sy(args ...string) result {
	g.t.Helper()
	return runCLI(g.t, g.sock, "agent "+g.name+": ", args...)
}

// ok runs the CLI and fails the test unless it exits 0; it returns stdout.
func (g *syAgent) ok(args ...string) string {
	g.t.Helper()
	res := g.sy(args...)
	if res.code != 0 {
		g.t.Fatalf("agent %s: switchyard %s: exit %d\nstdout: %s\nstderr: %s", g.name, strings.Join(args, " "), res.code, res.stdout, res.stderr)
	}
	return res.stdout
}

// ps returns `ps -a --format json` by container name.
func (g *syAgent) ps() map[string]psRow {
	g.t.Helper()
	m, err := g.psErr()
	if err != nil {
		g.t.Fatal(err)
	}
	return m
}

func (g *syAgent) psErr() (map[string]psRow, error) {
	res := g.sy("ps", "-a", "--format", "json")
	if res.code != 0 {
		return nil, fmt.Errorf("agent %s: ps -a --format json: exit %d: %s", g.name, res.code, res.stderr)
	}
	var rows []psRow
	if err := json.Unmarshal([]byte(res.stdout), &rows); err != nil {
		return nil, fmt.Errorf("agent %s: ps -a --format json: %w\n%s", g.name, err, res.stdout)
	}
	m := make(map[string]psRow, len(rows))
	for _, r := range rows {
		m[r.Name] = r
	}
	return m, nil
}

// runtimeRow is one runtime of `switchyard info --format json`.
type runtimeRow struct {
	Name       string   `json:"name"`
	Platforms  []string `json:"platforms"`
	Healthy    bool     `json:"healthy"`
	Error      string   `json:"error"`
	Containers int      `json:"containers"`
}

// info returns `info --format json` by runtime name.
func (g *syAgent) info() map[string]runtimeRow {
	g.t.Helper()
	var rows []runtimeRow
	out := g.ok("info", "--format", "json")
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		g.t.Fatalf("agent %s: info --format json: %v\n%s", g.name, err, out)
	}
	m := make(map[string]runtimeRow, len(rows))
	for _, r := range rows {
		m[r.Name] = r
	}
	return m
}

// runIP runs a command and fails the test unless it succeeds; it
// returns the output.
func runIP(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v: %s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// linkExists reports whether the root namespace has a link named name.
func linkExists(name string) bool {
	return exec.Command("ip", "link", "show", "dev", name).Run() == nil
}

func delegateRandHex(t *testing.T, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

func delegateRandByte(t *testing.T) byte {
	t.Helper()
	b := make([]byte, 1)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b[0]
}

// writeDelegateFile writes data to path, failing the test on error.
func writeDelegateFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}
