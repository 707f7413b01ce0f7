package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/switchyard/switchyard/internal/testimages"
	"github.com/switchyard/switchyard/internal/testutil"
	"github.com/switchyard/switchyard/network"
)

// wasmSource is the test WebAssembly program. With no arguments it greets
// and exits 0; "exit N" prints a line and exits N; "sleep" prints a line
// and then a tick a second until it is stopped.
const wasmSource = `package main

import (
	"fmt"
	"os"
	"strconv"
	"time"
)

func main() {
	args := os.Args[1:]
	switch {
	case len(args) == 2 && args[0] == "exit":
		code, _ := strconv.Atoi(args[1])
		fmt.Println("wasm: exiting with", code)
		os.Exit(code)
	case len(args) == 1 && args[0] == "sleep":
		fmt.Println("wasm: sleeping")
		for i := 1; ; i++ {
			time.Sleep(time.Second)
			fmt.Println("wasm: tick", i)
		}
	default:
		fmt.Println("hello from wasm,", os.Getenv("NAME"))
	}
}
`

// cliTimeout bounds every CLI call, so that a hung command fails its test
// instead of the whole package.
const cliTimeout = 2 * time.Minute

// images are the references of the test images in the test's registry.
type images struct {
	busybox string // linux/<host arch>
	wasm    string // wasmSource as an OCI wasm artifact (wasip1/wasm)
	windows string // windows/amd64: nothing here runs it
}

// env is one test's world: a registry with the test images, and an agent on
// a temporary root and socket.
type env struct {
	t      *testing.T
	dir    string // holds root, socket and the agent's log
	root   string
	sock   string
	images images

	daemon *exec.Cmd
	exited chan struct{} // closed when the agent process has been reaped
	// daemonArgs are added to every start of the agent.
	daemonArgs []string
}

// newEnv serves the test images, starts an agent and registers the cleanup
// of everything the test will make.
func newEnv(t *testing.T) *env {
	t.Helper()
	return newEnvWith(t)
}

// newEnvWith is newEnv with the agent started with extra arguments.
func newEnvWith(t *testing.T, daemonArgs ...string) *env {
	t.Helper()
	return newEnvOn(t, nil, daemonArgs...)
}

// newEnvOn is newEnvWith with prepare run on the agent's root directory
// (made, empty) before the agent starts: a test mounts a small disk there.
func newEnvOn(t *testing.T, prepare func(root string), daemonArgs ...string) *env {
	t.Helper()
	needE2E(t)
	dir := t.TempDir() // first, so that it is removed last
	e := &env{t: t, dir: dir, root: filepath.Join(dir, "root"), sock: filepath.Join(dir, "sy.sock"), daemonArgs: daemonArgs}
	if prepare != nil {
		if err := os.MkdirAll(e.root, 0o755); err != nil {
			t.Fatal(err)
		}
		prepare(e.root)
	}
	host := testimages.Serve(t)
	e.images = images{
		busybox: testimages.Push(t, host, "e2e/busybox", testimages.Busybox(t)),
		wasm:    testimages.Push(t, host, "e2e/wasm", testimages.WasmModule(t, wasmSource, testimages.ConventionArtifact)),
		windows: testimages.Push(t, host, "e2e/windows", testimages.Windows(t)),
	}
	t.Cleanup(e.cleanup)
	e.startDaemon()
	return e
}

// startDaemon starts the agent and waits until `switchyard ps` answers.
func (e *env) startDaemon() {
	t := e.t
	t.Helper()
	logf, err := os.OpenFile(filepath.Join(e.dir, "daemon.log"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	cmd := exec.Command(build.bin, append([]string{"daemon", "--root", e.root, "--socket", e.sock, "--log-level", "info",
		"--bridge", e2eBridge, "--bridge-subnet", e2eSubnet}, e.daemonArgs...)...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatalf("start the agent: %v", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	e.daemon, e.exited = cmd, exited
	waitFor(t, "the agent to answer `switchyard ps`", 60*time.Second, func() bool {
		select {
		case <-exited:
			t.Fatalf("the agent exited at start: %v\n%s", cmd.ProcessState, e.daemonLog())
		default:
		}
		return e.sy("ps").code == 0
	})
}

// killDaemon SIGKILLs the agent and reaps it.
func (e *env) killDaemon() {
	e.t.Helper()
	if err := e.daemon.Process.Kill(); err != nil {
		e.t.Fatalf("kill the agent: %v", err)
	}
	<-e.exited
	e.daemon = nil
}

// stopDaemon stops the agent as an operator does (SIGTERM), killing it if
// it has not ended within 20 s.
func (e *env) stopDaemon() {
	if e.daemon == nil {
		return
	}
	_ = e.daemon.Process.Signal(syscall.SIGTERM)
	select {
	case <-e.exited:
	case <-time.After(20 * time.Second):
		e.t.Errorf("the agent did not stop within 20 s of SIGTERM; killing it")
		_ = e.daemon.Process.Kill()
		<-e.exited
	}
	e.daemon = nil
}

// daemonLog returns the agent's log so far.
func (e *env) daemonLog() string {
	b, _ := os.ReadFile(filepath.Join(e.dir, "daemon.log"))
	return string(b)
}

// cleanup removes every container, stops the agent, ends the processes the
// agent left on purpose (the wasm host and any shim) and unmounts what is
// still mounted under the root, so that the temporary directory can go.
func (e *env) cleanup() {
	t := e.t
	if e.daemon != nil {
		rows, err := e.psAllErr()
		if err != nil {
			t.Errorf("cleanup: %v", err)
		}
		for _, r := range rows {
			if res := e.sy("rm", "-f", r.Name); res.code != 0 {
				t.Errorf("cleanup: rm -f %s: %s", r.Name, res.stderr)
			}
		}
		e.stopDaemon()
	}
	if t.Failed() {
		t.Logf("agent log:\n%s", e.daemonLog())
	}
	// The wasm host and the shims outlive the agent by design; they are
	// found by their root in their command line and ended by pid.
	for _, pid := range pidsMentioning(e.root + "/") {
		if p, err := os.FindProcess(pid); err == nil {
			_ = p.Kill()
		}
	}
	if !testutil.Poll(20*time.Second, func() bool { return len(pidsMentioning(e.root+"/")) == 0 }) {
		t.Errorf("cleanup: processes of root %s still alive after SIGKILL: %v", e.root, pidsMentioning(e.root+"/"))
	}
	for _, m := range mountsUnder(e.dir) {
		if err := syscall.Unmount(m, syscall.MNT_DETACH); err != nil {
			t.Errorf("cleanup: unmount %s: %v", m, err)
		}
	}
	// The networks the agent made: their bridges and rules.
	if _, err := os.Stat(filepath.Join(e.root, "networks")); err == nil {
		m, err := network.Open(context.Background(), filepath.Join(e.root, "networks"),
			network.WithDefaultBridge(e2eBridge, netip.MustParsePrefix(e2eSubnet)), network.WithoutDNS())
		if err == nil {
			err = m.RemoveAll(context.Background())
		}
		if err != nil {
			t.Errorf("cleanup: networks: %v", err)
		}
	}
}

// The default network of the tests' agents: a bridge and subnet of their
// own, apart from a real node's.
const (
	e2eBridge = "sye2e0"
	e2eSubnet = "10.251.0.0/16"
)

// result is what one CLI call did.
type result struct {
	stdout, stderr string
	code           int
}

// sy runs the switchyard CLI against the test's agent, as a user does (the
// socket comes from SWITCHYARD_SOCKET).
func (e *env) sy(args ...string) result {
	e.t.Helper()
	return runCLI(e.t, e.sock, "", args...)
}

// runCLI runs the built switchyard with args against the agent on sock and
// returns its output and exit code; a CLI that cannot run, or runs past
// cliTimeout, fails the test. label names the agent in that message.
func runCLI(t *testing.T, sock, label string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cliTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, build.bin, args...)
	cmd.Env = append(os.Environ(), "SWITCHYARD_SOCKET="+sock)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := result{stdout: stdout.String(), stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee) && ctx.Err() == nil:
		res.code = ee.ExitCode()
	default:
		t.Fatalf("%sswitchyard %s: %v (stderr: %s)", label, strings.Join(args, " "), err, res.stderr)
	}
	return res
}

// ok runs the CLI and fails the test unless it exits 0; it returns stdout.
func (e *env) ok(args ...string) string {
	e.t.Helper()
	res := e.sy(args...)
	if res.code != 0 {
		e.t.Fatalf("switchyard %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), res.code, res.stdout, res.stderr)
	}
	return res.stdout
}

// psRow is one row of `switchyard ps --format json`.
type psRow struct {
	Name     string    `json:"name"`
	Image    string    `json:"image"`
	Platform string    `json:"platform"`
	Runtime  string    `json:"runtime"`
	State    string    `json:"state"`
	ExitCode *int      `json:"exit_code"`
	Reason   string    `json:"reason"`
	Created  time.Time `json:"created"`
	Health   string    `json:"health"`
}

// exited reports whether the row is an exited container with the code.
func (r psRow) exited(code int) bool {
	return r.State == "exited" && r.ExitCode != nil && *r.ExitCode == code
}

// psAll returns `ps -a --format json` by container name.
func (e *env) psAll() map[string]psRow {
	e.t.Helper()
	m, err := e.psAllErr()
	if err != nil {
		e.t.Fatal(err)
	}
	return m
}

// psAllErr is psAll that returns its failure.
func (e *env) psAllErr() (map[string]psRow, error) {
	res := e.sy("ps", "-a", "--format", "json")
	if res.code != 0 {
		return nil, fmt.Errorf("ps -a --format json: exit %d: %s", res.code, res.stderr)
	}
	var rows []psRow
	if err := json.Unmarshal([]byte(res.stdout), &rows); err != nil {
		return nil, fmt.Errorf("ps -a --format json: %w\n%s", err, res.stdout)
	}
	m := make(map[string]psRow, len(rows))
	for _, r := range rows {
		m[r.Name] = r
	}
	return m, nil
}

// names returns the sorted names of rows whose name has prefix.
func names(rows map[string]psRow, prefix string) []string {
	var out []string
	for n := range rows {
		if strings.HasPrefix(n, prefix) {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

// metric reads one sample of the agent's /metrics, by its full series
// name ("name{label=\"v\"}"); absent is 0.
func (e *env) metric(series string) float64 {
	e.t.Helper()
	hc := &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", e.sock)
		},
	}}
	defer hc.CloseIdleConnections()
	resp, err := hc.Get("http://switchyard/metrics")
	if err != nil {
		e.t.Fatalf("GET /metrics: %v", err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				e.t.Fatalf("/metrics: %q: %v", line, err)
			}
			return f
		}
	}
	return 0
}

// writeSpec writes a deployment spec into the test's directory and returns
// its path.
func (e *env) writeSpec(name, yaml string) string {
	e.t.Helper()
	p := filepath.Join(e.dir, name)
	if err := os.WriteFile(p, []byte(yaml), 0o644); err != nil {
		e.t.Fatal(err)
	}
	return p
}

// waitFor polls cond until it holds, failing the test after timeout.
func waitFor(t *testing.T, desc string, timeout time.Duration, cond func() bool) {
	t.Helper()
	testutil.Eventually(t, timeout, desc, cond)
}

// pidsMentioning returns the processes whose command line contains s.
func pidsMentioning(s string) []int {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	self := os.Getpid()
	var pids []int
	for _, ent := range ents {
		pid, err := strconv.Atoi(ent.Name())
		if err != nil || pid == self {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", ent.Name(), "cmdline"))
		if err != nil {
			continue
		}
		if strings.Contains(string(bytes.ReplaceAll(b, []byte{0}, []byte{' '})), s) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// mountsUnder returns the mount points below dir, deepest first.
func mountsUnder(dir string) []string {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil
	}
	var out []string
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) > 4 && strings.HasPrefix(f[4], dir+"/") {
			out = append(out, f[4])
		}
	}
	sort.Sort(sort.Reverse(sort.StringSlice(out)))
	return out
}
