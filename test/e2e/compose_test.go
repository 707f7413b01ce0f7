package e2e

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/internal/testimages"
)

// dockerClient runs the docker CLI against the agent's Docker API socket.
type dockerClient struct {
	t    *testing.T
	e    *env
	bin  string
	sock string
	home string
}

// newDockerEnv starts an agent with a Docker API socket; it skips when the
// docker CLI is missing (scripts/install-deps does not install it: it
// comes with the machine).
func newDockerEnv(t *testing.T) (*env, *dockerClient) {
	bin, err := exec.LookPath("docker")
	if err != nil {
		t.Skip("the docker CLI is not installed")
	}
	sock := filepath.Join(t.TempDir(), "docker.sock")
	e := newEnvWith(t, "--docker-socket", sock)
	return e, &dockerClient{t: t, e: e, bin: bin, sock: sock, home: t.TempDir()}
}

func (d *dockerClient) run(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, d.bin, append([]string{"-H", "unix://" + d.sock}, args...)...)
	cmd.Env = []string{"HOME=" + d.home, "DOCKER_CLI_HINTS=false"}
	out, err := cmd.CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// ok runs docker and fails unless it succeeds with want in its output.
func (d *dockerClient) ok(want string, args ...string) string {
	d.t.Helper()
	out, err := d.run(args...)
	if err != nil || !strings.Contains(out, want) {
		d.t.Fatalf("docker %s = %q, %v; want %q\n%s", strings.Join(args, " "), out, err, want, d.e.daemonLog())
	}
	return out
}

// fails runs docker and fails unless it fails with want in its output.
func (d *dockerClient) fails(want string, args ...string) {
	d.t.Helper()
	out, err := d.run(args...)
	if err == nil || !strings.Contains(out, want) {
		d.t.Fatalf("docker %s = %q, %v; want a failure saying %q", strings.Join(args, " "), out, err, want)
	}
}

// TestDockerNetworksVolumesEvents drives networks, volumes and events
// through the real docker CLI: containers on a user network find each
// other by name and alias, a created container is disconnected and
// connected again with aliases (what compose does), a volume outlives its
// container and is refused removal while in use, and events tell what
// happened, past and live.
func TestDockerNetworksVolumesEvents(t *testing.T) {
	e, d := newDockerEnv(t)
	start := time.Now()
	d.ok("bridge", "network", "ls", "--format", "{{.Name}}")
	d.ok("", "network", "create", "--label", "team=a", "--subnet", "10.94.7.0/24", "appnet")
	d.ok("appnet bridge local", "network", "ls", "--filter", "label=team=a", "--format", "{{.Name}} {{.Driver}} {{.Scope}}")
	d.ok("10.94.7.0/24 10.94.7.1", "network", "inspect", "--format", "{{range .IPAM.Config}}{{.Subnet}} {{.Gateway}}{{end}}", "appnet")
	d.fails("already exists", "network", "create", "appnet")
	d.fails("not found", "network", "inspect", "nosuchnet")
	d.fails("pre-defined", "network", "rm", "bridge")

	d.ok("", "volume", "create", "--label", "keep=yes", "data")
	d.ok("local data", "volume", "ls", "--format", "{{.Driver}} {{.Name}}")
	d.ok("yes", "volume", "inspect", "--format", `{{index .Labels "keep"}}`, "data")

	// A server on the network with an alias; a client finds it by both.
	d.ok("", "run", "-d", "--name", "srv", "--network", "appnet", "--network-alias", "backend", "-v", "data:/data", e.images.busybox,
		"sh", "-c", `trap "exit 0" TERM; echo kept > /data/f; mkdir -p /www; echo hello from srv > /www/index.html; httpd -f -p 8080 -h /www & wait`)
	for _, name := range []string{"srv", "backend"} {
		waitFor(t, "the client to reach the server as "+name, 30*time.Second, func() bool {
			out, err := d.run("run", "--rm", "--network", "appnet", e.images.busybox, "sh", "-c", "printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc "+name+" 8080")
			return err == nil && strings.Contains(out, "hello from srv")
		})
	}
	d.ok("srv", "network", "inspect", "--format", "{{range .Containers}}{{.Name}} {{end}}", "appnet")
	// A container that shares srv's network reaches it on loopback, and
	// its end leaves srv's network in place.
	d.ok("hello from srv", "run", "--rm", "--network", "container:srv", e.images.busybox, "sh", "-c", "printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc 127.0.0.1 8080")
	d.fails("No such container: nosuch", "run", "--rm", "--network", "container:nosuch", e.images.busybox, "true")
	waitFor(t, "srv to answer by name after the sharer left", 30*time.Second, func() bool {
		out, err := d.run("run", "--rm", "--network", "appnet", e.images.busybox, "sh", "-c", "printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc srv 8080")
		return err == nil && strings.Contains(out, "hello from srv")
	})
	// exec with standard input, environment, user and working directory.
	in := exec.Command(d.bin, "-H", "unix://"+d.sock, "exec", "-i", "srv", "sh", "-c", "tr a-z A-Z; echo done")
	in.Env = []string{"HOME=" + d.home}
	in.Stdin = strings.NewReader("from stdin\n")
	if out, err := in.CombinedOutput(); err != nil || string(out) != "FROM STDIN\ndone\n" {
		t.Fatalf("docker exec -i = %q, %v; want the input upper-cased, then done", out, err)
	}
	d.ok("v=42 uid=65534 /tmp", "exec", "-e", "V=42", "-u", "65534", "-w", "/tmp", "srv", "sh", "-c", "echo v=$V uid=$(id -u) $(pwd)")
	d.ok("uid=65534 gid=65534", "exec", "-u", "nobody", "srv", "sh", "-c", "echo uid=$(id -u) gid=$(id -g)") // a name, from the image's /etc/passwd
	d.fails(`no user "nosuchuser"`, "exec", "-u", "nosuchuser", "srv", "true")
	// exec -it in a real terminal: the command has a terminal of the
	// client's size, reads what is typed, and its exit code is docker's.
	// At API 1.41 the docker CLI sends the size in a resize after the
	// exec has started (dockerd's exec has the same race): the command
	// waits up to 5 s for it to arrive, as a resize promises no more.
	waitSize := `i=0; until [ "$(stty size 2>/dev/null)" = "33 101" ] || [ $i -ge 100 ]; do i=$((i+1)); sleep 0.05; done`
	out, code := inTerminal(t, "typed\n", []string{"HOME=" + d.home}, d.bin+" -H unix://"+d.sock+` exec -it srv sh -c 'tty; `+waitSize+`; stty size; read x; echo got $x; exit 4'`)
	if code != 4 || !strings.Contains(out, "/dev/pts/") || !strings.Contains(out, "33 101") || !strings.Contains(out, "got typed") {
		t.Fatalf("docker exec -it under a terminal = %q, exit %d; want a terminal of 33x101, the typed line, and exit code 4", out, code)
	}
	d.fails("volume is in use", "volume", "rm", "data")
	d.fails("container(s) attached", "network", "rm", "appnet")

	// What compose does to each container it makes: created, then
	// disconnected and connected again with more aliases, then started.
	d.ok("", "create", "--name", "late", "--network", "appnet", e.images.busybox,
		"sh", "-c", `trap "exit 0" TERM; mkdir -p /www; echo hello from late > /www/index.html; httpd -f -p 8080 -h /www & wait`)
	d.ok("", "network", "disconnect", "appnet", "late")
	d.ok("", "network", "connect", "--alias", "later", "appnet", "late")
	d.fails("already connected", "network", "connect", "appnet", "late")
	d.ok("late", "start", "late")
	waitFor(t, "the client to reach the reconnected container by its new alias", 30*time.Second, func() bool {
		out, err := d.run("run", "--rm", "--network", "appnet", e.images.busybox, "sh", "-c", "printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc later 8080")
		return err == nil && strings.Contains(out, "hello from late")
	})
	// Disconnected, a running container keeps loopback alone.
	d.ok("", "network", "disconnect", "appnet", "late")
	if out, err := d.run("exec", "late", "ip", "-o", "-4", "addr"); err != nil || strings.Contains(out, "eth0") {
		t.Fatalf("addresses after disconnect = %q, %v; want loopback only", out, err)
	}
	d.ok("late", "rm", "-f", "late")

	d.ok("srv", "rm", "-f", "srv")
	testInteractiveRun(t, e, d)
	// The volume outlived its container.
	d.ok("kept", "run", "--rm", "-v", "data:/data", e.images.busybox, "cat", "/data/f")
	d.ok("data", "volume", "rm", "data")
	d.fails("no such volume", "volume", "inspect", "data")
	d.ok("appnet", "network", "rm", "appnet")
	d.fails("not found", "network", "inspect", "appnet")

	// Events: the past (since/until), in docker's shapes.
	since := strconv.FormatInt(start.Unix()-1, 10)
	until := strconv.FormatInt(time.Now().Unix()+1, 10)
	out = d.ok("container create", "events", "--since", since, "--until", until, "--filter", "container=srv", "--format", "{{.Type}} {{.Action}}")
	for _, want := range []string{"container create", "container start", "container kill", "container die", "container destroy"} {
		if !strings.Contains(out, want) {
			t.Fatalf("events of srv = %q; want %q", out, want)
		}
	}
	out = d.ok("network create", "events", "--since", since, "--until", until, "--filter", "type=network", "--format", "{{.Type}} {{.Action}} {{.Actor.Attributes.name}}")
	for _, want := range []string{"network create appnet", "network connect appnet", "network disconnect appnet", "network destroy appnet"} {
		if !strings.Contains(out, want) {
			t.Fatalf("network events = %q; want %q", out, want)
		}
	}
	d.ok("volume destroy data", "events", "--since", since, "--until", until, "--filter", "type=volume", "--format", "{{.Type}} {{.Action}} {{.Actor.ID}}")

	// Live: a follower sees a container start and die as they happen.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	follow := exec.CommandContext(ctx, d.bin, "-H", "unix://"+d.sock, "events", "--filter", "type=container", "--format", "{{json .}}")
	follow.Env = []string{"HOME=" + d.home}
	stdout, err := follow.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := follow.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); _ = follow.Wait() }()
	dec := json.NewDecoder(stdout)
	got := make(chan string, 16)
	go func() {
		for {
			var m struct {
				Action string
				Actor  struct{ Attributes map[string]string }
			}
			if dec.Decode(&m) != nil {
				close(got)
				return
			}
			got <- m.Action + " " + m.Actor.Attributes["name"] + " " + m.Actor.Attributes["exitCode"]
		}
	}()
	// The follower subscribes once its request is in: retry the run until
	// its start is seen.
	deadline := time.After(40 * time.Second)
	seen := map[string]bool{}
	for i := 0; !seen["die"]; i++ {
		name := "live" + strconv.Itoa(i)
		if _, err := d.run("run", "--rm", "--name", name, e.images.busybox, "sh", "-c", "exit 7"); err == nil {
			t.Fatalf("docker run of exit 7 succeeded")
		}
		for wait := time.After(2 * time.Second); ; {
			select {
			case ev, ok := <-got:
				if !ok {
					t.Fatalf("docker events ended early")
				}
				if strings.HasPrefix(ev, "die "+name+" 7") {
					seen["die"] = true
				}
				continue
			case <-wait:
			case <-deadline:
				t.Fatalf("docker events never showed a container's die with its exit code")
			}
			break
		}
	}
}

// TestDockerCompose drives a two-service project through docker-compose
// 1.29: a network, a published port, a named volume and depends_on, with
// the client reaching the server by its service name; then ps, logs, exec
// and down -v, which leaves nothing behind.
func TestDockerCompose(t *testing.T) {
	compose, err := exec.LookPath("docker-compose")
	if err != nil {
		t.Skip("docker-compose is not installed (scripts/install-deps installs it)")
	}
	e, d := newDockerEnv(t)
	port := freePort(t)
	dir := t.TempDir()
	file := `version: "3.8"
services:
  web:
    image: ` + e.images.busybox + `
    command: ["sh", "-c", "trap 'exit 0' TERM; mkdir -p /www; echo hello from compose web > /www/index.html; echo up >> /data/runs; httpd -f -p 80 -h /www & wait"]
    ports: ["127.0.0.1:` + port + `:80"]
    labels: {tier: front}
    volumes: ["data:/data"]
    networks: [appnet]
    environment: {A: "1"}
  client:
    image: ` + e.images.busybox + `
    command: ["sh", "-c", "trap 'exit 0' TERM; while :; do printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc web 80 && echo fetched; sleep 1; done & wait"]
    depends_on: [web]
    networks: [appnet]
networks:
  appnet: {}
volumes:
  data: {}
`
	if err := os.WriteFile(filepath.Join(dir, "docker-compose.yml"), []byte(file), 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, compose, append([]string{"-p", "swyc"}, args...)...)
		cmd.Dir = dir
		cmd.Env = []string{"HOME=" + d.home, "DOCKER_HOST=unix://" + d.sock, "PATH=" + os.Getenv("PATH"), "COMPOSE_INTERACTIVE_NO_CLI=1"}
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	ok := func(want string, args ...string) string {
		t.Helper()
		out, err := run(args...)
		if err != nil || !strings.Contains(out, want) {
			t.Fatalf("docker-compose %s = %q, %v; want %q\n%s", strings.Join(args, " "), out, err, want, e.daemonLog())
		}
		return out
	}
	t.Cleanup(func() { _, _ = run("down", "-v", "-t", "1") })

	ok("Creating swyc_client_1", "up", "-d")
	ok("Up", "ps")
	// The host reaches web on its published port.
	waitFor(t, "web to answer on its published port", 30*time.Second, func() bool {
		body, err := httpGet("http://127.0.0.1:" + port + "/")
		return err == nil && strings.Contains(body, "hello from compose web")
	})
	// The client reaches web by its service name.
	waitFor(t, "the client to fetch from web by its service name", 30*time.Second, func() bool {
		out, err := run("logs", "client")
		return err == nil && strings.Contains(out, "fetched") && strings.Contains(out, "hello from compose web")
	})
	ok("1", "exec", "-T", "web", "sh", "-c", "echo $A")
	ok("front", "exec", "-T", "web", "sh", "-c", "echo front")
	d.ok("swyc_appnet", "network", "ls", "--format", "{{.Name}}")
	d.ok("swyc_data", "volume", "ls", "--format", "{{.Name}}")
	// A second up changes nothing.
	ok("is up-to-date", "up", "-d")
	ok("Removing network swyc_appnet", "down", "-v", "-t", "1")
	if out := d.ok("", "ps", "-a", "--format", "{{.Names}}"); strings.Contains(out, "swyc") {
		t.Fatalf("docker ps -a after down = %q", out)
	}
	if out := d.ok("", "volume", "ls", "--format", "{{.Name}}"); strings.Contains(out, "swyc_data") {
		t.Fatalf("docker volume ls after down -v = %q", out)
	}
	if out := d.ok("", "network", "ls", "--format", "{{.Name}}"); strings.Contains(out, "swyc") {
		t.Fatalf("docker network ls after down = %q", out)
	}
}

// dockerPyScript pulls, runs, reads logs, lists and removes through
// docker-py, as a user's script does.
const dockerPyScript = `
import sys
import docker

image = sys.argv[1]
c = docker.DockerClient(base_url=sys.argv[2], version="auto")
assert c.ping()
img = c.images.pull(image)
print("pulled", img.tags[0] if img.tags else img.id)
out = c.containers.run(image, ["sh", "-c", "echo hello from docker-py"], remove=True)
print(out.decode().strip())
ct = c.containers.run(image, ["sh", "-c", "echo started; sleep 300"], detach=True, name="pyweb", labels={"by": "py"})
for line in ct.logs(stream=True, follow=True):
    print("log", line.decode().strip())
    break
ct.reload()
print("status", ct.status, ct.name)
print("listed", [x.name for x in c.containers.list(filters={"label": "by=py"})])
res = ct.exec_run(["sh", "-c", "exit 5"])
print("exec", res.exit_code)
ct.stop(timeout=1)
print("waited", ct.wait()["StatusCode"])
ct.remove()
print("left", [x.name for x in c.containers.list(all=True, filters={"name": "pyweb"})])
try:
    c.containers.get("pyweb")
except docker.errors.NotFound:
    print("gone")
`

// TestDockerPy drives the agent with docker-py 7, which speaks the API
// through its own code, not the docker CLI's.
func TestDockerPy(t *testing.T) {
	if exec.Command("python3", "-c", "import docker").Run() != nil {
		t.Skip("python3-docker is not installed (scripts/install-deps installs it)")
	}
	e, d := newDockerEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "python3", "-c", dockerPyScript, e.images.busybox, "unix://"+d.sock)
	cmd.Env = []string{"HOME=" + d.home, "PATH=" + os.Getenv("PATH")}
	out, err := cmd.CombinedOutput()
	want := []string{"pulled " + e.images.busybox, "hello from docker-py", "log started", "status running pyweb",
		"listed ['pyweb']", "exec 5", "waited 137", "left []", "gone"}
	for _, w := range want {
		if !strings.Contains(string(out), w) {
			t.Fatalf("docker-py script: %v\n%s\nwant %q\n%s", err, out, w, e.daemonLog())
		}
	}
	if err != nil {
		t.Fatalf("docker-py script: %v\n%s", err, out)
	}
}

// testInteractiveRun runs containers that take input: docker run -i with
// its input piped, and docker run -it in a real terminal (script gives the
// docker CLI one), as a person types.
func testInteractiveRun(t *testing.T, e *env, d *dockerClient) {
	t.Helper()
	in := exec.Command(d.bin, "-H", "unix://"+d.sock, "run", "-i", "--rm", e.images.busybox, "sh", "-c", "tr a-z A-Z; echo end")
	in.Env = []string{"HOME=" + d.home}
	in.Stdin = strings.NewReader("piped in\n")
	if out, err := in.CombinedOutput(); err != nil || string(out) != "PIPED IN\nend\n" {
		t.Fatalf("docker run -i = %q, %v; want the input upper-cased, then end", out, err)
	}
	terminal := func(input, cmdline string) (string, int) {
		return inTerminal(t, input, []string{"HOME=" + d.home}, cmdline)
	}
	docker := d.bin + " -H unix://" + d.sock
	out, code := terminal("typed\n", docker+" run -it --rm "+e.images.busybox+` sh -c 'tty; stty size; read x; echo got $x; exit 5'`)
	if code != 5 || !strings.Contains(out, "/dev/pts/0") || !strings.Contains(out, "33 101") || !strings.Contains(out, "got typed") {
		t.Fatalf("docker run -it = %q, exit %d; want a terminal of 33x101, the typed line, and exit code 5", out, code)
	}
	// An interactive shell: its prompt shows before a newline, what is
	// typed runs, and exit ends it with its code.
	out, code = terminal("echo hi from $((6*7))\nexit 3\n", docker+" run -it --rm --name shell "+e.images.busybox+" sh")
	if code != 3 || !strings.Contains(out, "# ") || !strings.Contains(out, "hi from 42") {
		t.Fatalf("docker run -it sh = %q, exit %d; want a prompt, the command's output and exit code 3", out, code)
	}
	// A shell started in the background with a terminal, attached to
	// later; what it printed shows in docker logs, raw.
	d.ok("", "run", "-dit", "--name", "later", e.images.busybox, "sh")
	out, code = terminal("echo attached to $((6*7))\nexit 7\n", docker+" attach later")
	if code != 7 || !strings.Contains(out, "attached to 42") {
		t.Fatalf("docker attach = %q, exit %d; want the command's output and exit code 7", out, code)
	}
	d.ok("attached to 42", "logs", "later")
	d.ok("later", "rm", "-f", "later")
}

// TestDockerRestartPolicy: a container made with --restart is restarted
// by the agent as dockerd restarts it — on-failure up to its count,
// always after a kill but not after a stop by hand, and again after the
// agent itself was killed and started — and never after its removal.
func TestDockerRestartPolicy(t *testing.T) {
	e, d := newDockerEnv(t)
	since := strconv.FormatInt(time.Now().Unix()-1, 10)
	d.ok("", "run", "-d", "--restart", "on-failure:2", "--name", "flaky", e.images.busybox, "sh", "-c", "exit 3")
	starts := func(name string) int {
		out, _ := d.run("events", "--since", since, "--until", strconv.FormatInt(time.Now().Unix()+1, 10),
			"--filter", "container="+name, "--filter", "event=start", "--format", "{{.Action}}")
		return strings.Count(out, "start")
	}
	waitFor(t, "flaky to be started three times (the run and two restarts)", 30*time.Second, func() bool { return starts("flaky") == 3 })
	waitFor(t, "flaky to stay exited with its code", 30*time.Second, func() bool {
		out, err := d.run("inspect", "--format", "{{.State.Status}} {{.State.ExitCode}}", "flaky")
		return err == nil && out == "exited 3"
	})
	d.ok("on-failure 2", "inspect", "--format", "{{.HostConfig.RestartPolicy.Name}} {{.HostConfig.RestartPolicy.MaximumRetryCount}}", "flaky")
	if out, _ := d.run("inspect", "--format", "{{json .Config.Labels}}", "flaky"); strings.Contains(out, "switchyard.") {
		t.Fatalf("labels show switchyard's own: %s", out)
	}

	d.ok("", "run", "-d", "--restart", "always", "--name", "keeper", e.images.busybox, "sleep", "300")
	startedAt := func() string {
		out, _ := d.run("inspect", "--format", "{{.State.Status}} {{.State.StartedAt}}", "keeper")
		return out
	}
	first := startedAt()
	d.ok("keeper", "kill", "keeper")
	waitFor(t, "keeper to be restarted after a kill", 30*time.Second, func() bool {
		now := startedAt()
		return strings.HasPrefix(now, "running ") && now != first
	})
	// A container stopped by hand under unless-stopped, and one created
	// with always but never started, stay as they are across the agent's
	// restart; keeper, running, is supervised again.
	d.ok("", "run", "-d", "--restart", "unless-stopped", "--name", "rested", e.images.busybox, "sleep", "300")
	d.ok("rested", "stop", "-t", "1", "rested")
	d.ok("", "create", "--restart", "always", "--name", "never", e.images.busybox, "sleep", "300")
	e.killDaemon()
	e.startDaemon()
	state := func(name string) string {
		out, _ := d.run("inspect", "--format", "{{.State.Status}}", name)
		return out
	}
	holdsFor(t, "a container stopped by hand under unless-stopped to stay exited after the agent's restart", 2*time.Second,
		func() bool { return state("rested") == "exited" })
	holdsFor(t, "a container created with always and never started to stay created after the agent's restart", 2*time.Second,
		func() bool { return state("never") == "created" })
	d.ok("rested", "rm", "rested")
	d.ok("never", "rm", "never")
	second := startedAt()
	d.ok("keeper", "kill", "keeper")
	waitFor(t, "keeper to be restarted after a kill, under a new agent", 30*time.Second, func() bool {
		now := startedAt()
		return strings.HasPrefix(now, "running ") && now != second
	})
	// A stop by hand is left stopped.
	d.ok("keeper", "stop", "-t", "1", "keeper")
	holdsFor(t, "keeper, stopped by hand, to stay stopped", 2*time.Second, func() bool { return !strings.HasPrefix(startedAt(), "running") })
	d.ok("keeper", "start", "keeper")
	d.ok("keeper", "rm", "-f", "keeper")
	d.fails("No such container", "inspect", "--type", "container", "keeper")
	d.fails("--restart and --rm", "run", "--rm", "--restart", "always", e.images.busybox, "true")

	// switchyard's own CLI sets the same policy.
	e.ok("run", "-d", "--restart", "on-failure:1", "--name", "cliflaky", e.images.busybox, "sh", "-c", "exit 2")
	waitFor(t, "cliflaky to be started twice (the run and one restart)", 30*time.Second, func() bool { return starts("cliflaky-rep-0") == 2 })
	if r := e.sy("run", "--rm", "--restart", "always", e.images.busybox, "true"); r.code == 0 || !strings.Contains(r.stderr, "conflict") {
		t.Fatalf("run --rm --restart always = %+v; want the conflict", r)
	}
}

// TestDockerPlatformAndTop: one multi-platform image runs as Linux by
// default and as WebAssembly when docker run asks for wasip1/wasm; docker
// top lists a container's processes as ps -ef does.
func TestDockerPlatformAndTop(t *testing.T) {
	e, d := newDockerEnv(t)
	host, _, _ := strings.Cut(e.images.busybox, "/")
	multi := testimages.Push(t, host, "e2e/multi", testimages.Index(t, testimages.Busybox(t), testimages.WasmModule(t, wasmSource, testimages.ConventionPlatform)))
	d.ok("from linux", "run", "--rm", multi, "echo", "from linux")
	d.ok("hello from wasm, multi", "run", "--rm", "--platform", "wasip1/wasm", "-e", "NAME=multi", multi)
	d.ok("runc", "run", "--rm", "--platform", "linux/"+goruntime.GOARCH, multi, "sh", "-c", "echo runc")

	d.ok("", "run", "-d", "--name", "topped", e.images.busybox, "sh", "-c", "sleep 300 & wait")
	waitFor(t, "docker top to show the container's two processes", 30*time.Second, func() bool {
		out, err := d.run("top", "topped")
		return err == nil && strings.Contains(out, "UID") && strings.Contains(out, "CMD") &&
			strings.Contains(out, "sh -c sleep 300 & wait") && strings.Count(out, "sleep 300") == 2
	})
	d.fails("not supported", "top", "topped", "aux")
	d.ok("topped", "rm", "-f", "topped")
}

// holdsFor fails the test unless cond holds at every look for d: what a
// test asserts does not happen (a restart) is looked for, bounded in time.
func holdsFor(t *testing.T, desc string, d time.Duration, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(d); time.Now().Before(deadline); {
		if !cond() {
			t.Fatalf("want %s; it did not", desc)
		}
	}
}
