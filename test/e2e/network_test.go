package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/switchyard/switchyard/internal/testimages"
	"github.com/switchyard/switchyard/internal/testutil"
)

// httpd is the command of a busybox web server on port 8080 that serves
// page at /, and ends at once on SIGTERM (as PID 1 it would ignore it).
func httpd(page string) []string {
	return []string{"sh", "-c", `trap "exit 0" TERM; mkdir -p /www; echo ` + page + ` > /www/index.html; httpd -f -p 8080 -h /www & wait`}
}

// inspectNet is the network part of `switchyard inspect`.
type inspectNet struct {
	Network *struct {
		Mode    string       `json:"mode"`
		Network string       `json:"network"`
		Address netip.Prefix `json:"address"`
		Gateway netip.Addr   `json:"gateway"`
	} `json:"network"`
}

func (e *env) inspectNetwork(name string) inspectNet {
	e.t.Helper()
	var out []inspectNet
	if err := json.Unmarshal([]byte(e.ok("inspect", name)), &out); err != nil || len(out) != 1 {
		e.t.Fatalf("inspect %s: %v", name, err)
	}
	return out[0]
}

// A container joins the default network unless it asks otherwise: it has
// an address of the network's subnet, answers the host and another
// container there, gets /etc/hosts, /etc/hostname and /etc/resolv.conf of
// its own; --network none has loopback alone and --network host the
// host's interfaces. Removed, it leaves no address, namespace or veth.
func TestDefaultNetwork(t *testing.T) {
	e := newEnv(t)
	linksBefore := hostLinks(t)
	e.ok("pull", e.images.busybox)
	e.ok(append([]string{"run", "-d", "--name", "web", e.images.busybox}, httpd("hello from web")...)...)
	in := e.inspectNetwork("web")
	if in.Network == nil || in.Network.Mode != "bridge" || in.Network.Network != "bridge" ||
		!netip.MustParsePrefix(e2eSubnet).Contains(in.Network.Address.Addr()) {
		t.Fatalf("inspect web: network %+v; want an address of %s on bridge", in.Network, e2eSubnet)
	}
	ip := in.Network.Address.Addr().String()
	url := "http://" + ip + ":8080/"
	var body string
	waitFor(t, "web to answer the host at "+url, 30*time.Second, func() bool {
		c := http.Client{Timeout: 2 * time.Second}
		resp, err := c.Get(url)
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		body = string(b)
		return resp.StatusCode == http.StatusOK
	})
	if !strings.Contains(body, "hello from web") {
		t.Fatalf("web answered %q", body)
	}
	// Another container reaches it at its address.
	out := e.ok("run", "--rm", e.images.busybox, "sh", "-c", "printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc "+ip+" 8080")
	if !strings.Contains(out, "hello from web") {
		t.Errorf("a second container got %q from %s", out, url)
	}
	// Its own /etc files.
	out = e.ok("exec", "web", "cat", "/etc/hosts", "/etc/hostname")
	if !strings.Contains(out, ip+"\tweb-rep-0") || !strings.Contains(out, "127.0.0.1\tlocalhost") {
		t.Errorf("web's /etc/hosts and /etc/hostname: %q", out)
	}
	if out := e.ok("exec", "web", "cat", "/etc/resolv.conf"); strings.Contains(out, "nameserver 127.") {
		t.Errorf("web's resolv.conf names a loopback nameserver: %q", out)
	}
	// none: loopback alone; host: the host's interfaces.
	if out := e.ok("run", "--rm", "--network", "none", e.images.busybox, "ip", "-o", "link"); strings.Count(strings.TrimSpace(out), "\n") != 0 || !strings.Contains(out, "lo:") {
		t.Errorf("--network none: links %q; want lo alone", out)
	}
	if out := e.ok("run", "--rm", "--network", "host", e.images.busybox, "ip", "-o", "link"); !strings.Contains(out, e2eBridge) {
		t.Errorf("--network host: links %q; want the host's (%s among them)", out, e2eBridge)
	}
	if res := e.sy("run", "--rm", "--network", "nosuch", e.images.busybox, "true"); res.code == 0 || !strings.Contains(res.stderr, "network nosuch") {
		t.Errorf("an unknown network: exit %d, %q; want it named", res.code, res.stderr)
	}
	e.ok("rm", "-f", "web")
	ipam, _ := os.ReadDir(filepath.Join(e.root, "networks", "ipam", "bridge"))
	for _, f := range ipam {
		if _, err := netip.ParseAddr(f.Name()); err == nil {
			t.Errorf("an address is still allocated after every container went: %s", f.Name())
		}
	}
	// The veths go with their namespaces, in the kernel's background.
	if !testutil.Poll(10*time.Second, func() bool { return len(hostLinks(t)) == len(linksBefore)+1 }) { // + the bridge
		t.Errorf("host links before %v, after %v; want the bridge alone added", linksBefore, hostLinks(t))
	}
}

// hostLinks lists the host's network devices.
func hostLinks(t *testing.T) []string {
	t.Helper()
	out, err := exec.Command("ip", "-o", "link").Output()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if f := strings.Fields(l); len(f) > 1 {
			names = append(names, strings.TrimSuffix(f[1], ":"))
		}
	}
	return names
}

// User networks through the CLI: created with a given or a free subnet,
// listed and inspected, joined by name, refused when in use or named
// badly, removed; the default network cannot go.
func TestNetworkCommands(t *testing.T) {
	e := newEnv(t)
	e.ok("pull", e.images.busybox)
	out := e.ok("network", "create", "--subnet", "10.252.7.0/24", "appnet")
	if !strings.Contains(out, "appnet: 10.252.7.0/24, gateway 10.252.7.1") {
		t.Errorf("network create: %q", out)
	}
	if res := e.sy("network", "create", "--subnet", "10.252.7.128/25", "other"); res.code == 0 || !strings.Contains(res.stderr, "overlaps network appnet") {
		t.Errorf("an overlapping subnet: exit %d, %q", res.code, res.stderr)
	}
	if res := e.sy("network", "create", "--subnet", "nonsense", "other"); res.code == 0 || !strings.Contains(res.stderr, "CIDR") {
		t.Errorf("a bad subnet: exit %d, %q", res.code, res.stderr)
	}
	ls := e.ok("network", "ls")
	if !strings.Contains(ls, "bridge (default)") || !strings.Contains(ls, "appnet") || strings.Index(ls, "bridge") > strings.Index(ls, "appnet") {
		t.Errorf("network ls:\n%s", ls)
	}
	e.ok("run", "-d", "--network", "appnet", "--name", "member", e.images.busybox, "sleep", "1000")
	in := e.inspectNetwork("member")
	if in.Network == nil || in.Network.Network != "appnet" || !netip.MustParsePrefix("10.252.7.0/24").Contains(in.Network.Address.Addr()) {
		t.Fatalf("member: %+v; want an address on appnet", in.Network)
	}
	var nets []struct {
		Name       string `json:"name"`
		Containers int    `json:"containers"`
	}
	if err := json.Unmarshal([]byte(e.ok("network", "inspect", "appnet")), &nets); err != nil || len(nets) != 1 || nets[0].Containers != 1 {
		t.Errorf("network inspect appnet: %+v %v; want one container", nets, err)
	}
	if res := e.sy("network", "rm", "appnet"); res.code == 0 || !strings.Contains(res.stderr, "1 container(s) attached") {
		t.Errorf("rm of a network in use: exit %d, %q", res.code, res.stderr)
	}
	if res := e.sy("network", "rm", "bridge"); res.code == 0 || !strings.Contains(res.stderr, "default network") {
		t.Errorf("rm of the default network: exit %d, %q", res.code, res.stderr)
	}
	e.ok("rm", "-f", "member")
	e.ok("network", "rm", "appnet")
	if res := e.sy("network", "inspect", "appnet"); res.code == 0 || !strings.Contains(res.stderr, "not found") {
		t.Errorf("inspect of a removed network: exit %d, %q", res.code, res.stderr)
	}
}

// hostAddr is an IPv4 address of the host's own, not loopback and not a
// bridge of switchyard's.
func hostAddr(t *testing.T) string {
	t.Helper()
	ifs, _ := net.Interfaces()
	for _, i := range ifs {
		if strings.HasPrefix(i.Name, "sy") || i.Flags&net.FlagLoopback != 0 || i.Flags&net.FlagUp == 0 {
			continue
		}
		addrs, _ := i.Addrs()
		for _, a := range addrs {
			if ipn, ok := a.(*net.IPNet); ok && ipn.IP.To4() != nil {
				return ipn.IP.String()
			}
		}
	}
	t.Skip("the host has no IPv4 address but loopback")
	return ""
}

func httpGet(url string) (string, error) {
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

// Published ports answer on 127.0.0.1 and the host's own address, and from
// another container; a free host port is chosen for -p CONTAINERPORT; ps
// shows them; a taken host port is refused at create naming who holds it;
// removing the container removes its rules.
func TestPublishedPorts(t *testing.T) {
	e := newEnv(t)
	e.ok("pull", e.images.busybox)
	natBefore := natRules(t)
	serve := httpd("hello from web")
	lp, ap := freePort(t), freePort(t) // strings, as tls_test.go has it
	e.ok(append([]string{"run", "-d", "--name", "pweb", "-p", "127.0.0.1:" + lp + ":8080", "-p", ap + ":8080", "-p", "8080", e.images.busybox}, serve...)...)
	for _, url := range []string{"http://127.0.0.1:" + lp + "/", "http://" + hostAddr(t) + ":" + ap + "/"} {
		var body string
		waitFor(t, "pweb to answer at "+url, 30*time.Second, func() bool {
			b, err := httpGet(url)
			body = b
			return err == nil
		})
		if !strings.Contains(body, "hello from web") {
			t.Errorf("%s answered %q", url, body)
		}
	}
	// The free port.
	var ps []struct {
		Name  string   `json:"name"`
		Ports []string `json:"ports"`
	}
	if err := json.Unmarshal([]byte(e.ok("ps", "--format", "json")), &ps); err != nil || len(ps) != 1 || len(ps[0].Ports) != 3 {
		t.Fatalf("ps: %+v %v; want pweb with three ports", ps, err)
	}
	want := "127.0.0.1:" + lp + "->8080/tcp"
	if ps[0].Ports[0] != want || !strings.HasPrefix(ps[0].Ports[2], "0.0.0.0:") || strings.HasPrefix(ps[0].Ports[2], "0.0.0.0:0->") {
		t.Errorf("ps ports %v; want %s first and a chosen port last", ps[0].Ports, want)
	}
	if out := e.ok("ps"); !strings.Contains(out, want) {
		t.Errorf("ps table without the ports:\n%s", out)
	}
	free := strings.TrimSuffix(strings.TrimPrefix(ps[0].Ports[2], "0.0.0.0:"), "->8080/tcp")
	if b, err := httpGet("http://127.0.0.1:" + free + "/"); err != nil || !strings.Contains(b, "hello") {
		t.Errorf("the chosen port %s: %q, %v", free, b, err)
	}
	// From another container, through the host's address.
	out := e.ok("run", "--rm", e.images.busybox, "sh", "-c", "printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc "+hostAddr(t)+" "+ap)
	if !strings.Contains(out, "hello from web") {
		t.Errorf("another container through %s:%s got %q", hostAddr(t), ap, out)
	}
	// A port another process holds.
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	tp := taken.Addr().(*net.TCPAddr).Port
	res := e.sy("run", "-d", "--name", "clash", "-p", fmt.Sprintf("127.0.0.1:%d:80", tp), e.images.busybox, "sleep", "100")
	if res.code == 0 || !strings.Contains(res.stderr, fmt.Sprintf("host port %d/tcp is in use by pid %d", tp, os.Getpid())) {
		t.Errorf("a taken port: exit %d, %q; want it refused naming this test's process", res.code, res.stderr)
	}
	if _, ok := e.psAll()["clash-rep-0"]; ok {
		t.Errorf("the refused container was left behind")
	}
	if res := e.sy("run", "-d", "-p", "80/sctp", e.images.busybox, "true"); res.code == 0 || !strings.Contains(res.stderr, "tcp or udp") {
		t.Errorf("a bad -p: exit %d, %q", res.code, res.stderr)
	}
	e.ok("rm", "-f", "pweb")
	if after := natRules(t); after != natBefore {
		t.Errorf("nat rules after the container went:\n%s\nbefore:\n%s", after, natBefore)
	}
}

// natRules are the nat table's rules of the plugins' per-container chains
// (CNI-DN-...), which come and go with containers.
func natRules(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("iptables-save", "-t", "nat").Output()
	if err != nil {
		t.Fatal(err)
	}
	var keep []string
	for _, l := range strings.Split(string(out), "\n") {
		if strings.Contains(l, "CNI-DN-") {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}

// namesSpec is a deployment of web (busybox httpd, replicas of it) and a
// client job that fetches http://web:8080/ by name: no address is written
// anywhere.
func namesSpec(image string, replicas int) string {
	return namesSpecOf("names", image, replicas)
}

// namesSpecOf is namesSpec for deployment dep, whose web serves "hello
// from web of DEP".
func namesSpecOf(dep, image string, replicas int) string {
	return fmt.Sprintf(`version: v1
deployment: %[3]s
services:
  web:
    rtype: service
    image:
      name: %[1]s
    command:
      entrypoint: ["/bin/sh", "-c"]
      args: ['trap "exit 0" TERM; mkdir -p /www; echo hello from web of %[3]s > /www/index.html; httpd -f -p 8080 -h /www & wait']
    scale:
      mode: fixed
      replicas: %[2]d
  client:
    rtype: job
    image:
      name: %[1]s
    command:
      entrypoint: ["/bin/sh", "-c"]
      args: ['for i in $(seq 100); do out=$(printf "GET / HTTP/1.0\r\n\r\n" | nc web 8080) && case "$out" in *hello*) echo "client got: $out"; exit 0;; esac; sleep 0.2; done; exit 1']
`, image, replicas, dep)
}

// Containers find each other by name through their network's DNS server:
// a deployment's service by its name (every replica's address, following
// scaling), a container by its own name; the rest is asked of the host's
// resolvers.
func TestNamesResolve(t *testing.T) {
	e := newEnv(t)
	e.ok("pull", e.images.busybox)
	spec := e.writeSpec("names.yaml", namesSpec(e.images.busybox, 1))
	e.ok("up", "-f", spec)
	waitFor(t, "the client job to fetch http://web:8080/", time.Minute, func() bool { return e.psAll()["names-client-rep-0"].exited(0) })
	if out := e.ok("logs", "names-client"); !strings.Contains(out, "hello from web of names") {
		t.Errorf("client's log: %q", out)
	}
	// Another deployment's web is not this one's: a service's bare name
	// answers the containers of its own deployment.
	other := e.writeSpec("other.yaml", namesSpecOf("other", e.images.busybox, 1))
	e.ok("up", "-f", other)
	waitFor(t, "the other deployment's client", time.Minute, func() bool { return e.psAll()["other-client-rep-0"].exited(0) })
	if out := e.ok("logs", "other-client"); !strings.Contains(out, "hello from web of other") {
		t.Errorf("the other deployment's client got %q; want its own web", out)
	}
	e.ok("down", "-f", other)
	// Scaled to 3, the name answers all three.
	e.ok("up", "-f", e.writeSpec("names.yaml", namesSpec(e.images.busybox, 3)))
	var want []string
	for n := range 3 {
		in := e.inspectNetwork(fmt.Sprintf("names-web-rep-%d", n))
		if in.Network == nil || !in.Network.Address.IsValid() {
			t.Fatalf("replica %d has no address: %+v", n, in.Network)
		}
		want = append(want, in.Network.Address.Addr().String())
	}
	// From outside the deployment, by the service's full name.
	out := e.ok("run", "--rm", e.images.busybox, "nslookup", "names-web")
	for _, a := range want {
		if !strings.Contains(out, a) {
			t.Errorf("nslookup names-web: %q; want every replica's address (%v)", out, want)
			break
		}
	}
	// A container by its name.
	e.ok("run", "-d", "--name", "solo", e.images.busybox, "sleep", "1000")
	solo := e.inspectNetwork("solo").Network.Address.Addr().String()
	if out := e.ok("run", "--rm", e.images.busybox, "nslookup", "solo"); !strings.Contains(out, solo) {
		t.Errorf("nslookup solo: %q; want %s", out, solo)
	}
	// A new agent serves the names the last one knew.
	e.stopDaemon()
	e.startDaemon()
	if out := e.ok("run", "--rm", e.images.busybox, "nslookup", "solo"); !strings.Contains(out, solo) {
		t.Errorf("nslookup solo after an agent restart: %q; want %s", out, solo)
	}
	// Stopped, its network went: its name no longer answers.
	e.ok("kill", "solo")
	waitFor(t, "solo's name to stop answering once it has stopped", 10*time.Second, func() bool {
		return !strings.Contains(e.sy("run", "--rm", e.images.busybox, "nslookup", "solo").stdout, solo)
	})
	// Scaled back to 1: the removed replicas are gone from the answer.
	e.ok("up", "-f", e.writeSpec("names.yaml", namesSpec(e.images.busybox, 1)))
	out = e.ok("run", "--rm", e.images.busybox, "nslookup", "names-web")
	if !strings.Contains(out, want[0]) || strings.Contains(out, want[1]) || strings.Contains(out, want[2]) {
		t.Errorf("nslookup names-web after scaling to 1: %q; want %s alone", out, want[0])
	}
	e.ok("down", "-f", spec)
	e.ok("rm", "-f", "solo")
}

// A container whose namespace is gone (the machine rebooted: the pin was a
// mount) is attached again when it starts, its published port held again.
func TestStartAfterTheNamespaceWent(t *testing.T) {
	e := newEnv(t)
	e.ok("pull", e.images.busybox)
	port := freePort(t)
	e.ok(append([]string{"run", "-d", "--name", "rb", "-p", "127.0.0.1:" + port + ":8080", e.images.busybox}, httpd("hello again")...)...)
	var st []struct {
		StateDir string `json:"state_dir"`
	}
	if err := json.Unmarshal([]byte(e.ok("inspect", "rb")), &st); err != nil || len(st) != 1 {
		t.Fatalf("inspect rb: %v", err)
	}
	e.ok("stop", "rb")
	// What a reboot leaves: the pin's file, no longer a mount. (The exit
	// hook may have removed the namespace already: the file is put back.)
	ns := filepath.Join(st[0].StateDir, "netns")
	_ = exec.Command("umount", ns).Run()
	if err := os.WriteFile(ns, nil, 0o444); err != nil {
		t.Fatal(err)
	}
	e.ok("start", "rb")
	url := "http://127.0.0.1:" + port + "/"
	waitFor(t, "rb to answer at "+url+" again", 30*time.Second, func() bool {
		b, err := httpGet(url)
		return err == nil && strings.Contains(b, "hello again")
	})
	e.ok("rm", "-f", "rb")
}

// A published container keeps serving while its agent is SIGKILLed and
// after a new one starts.
func TestPublishedPortSurvivesTheAgent(t *testing.T) {
	e := newEnv(t)
	e.ok("pull", e.images.busybox)
	port := freePort(t)
	e.ok(append([]string{"run", "-d", "--name", "steady", "-p", "127.0.0.1:" + port + ":8080", e.images.busybox}, httpd("steady")...)...)
	url := "http://127.0.0.1:" + port + "/"
	answers := func() bool { b, err := httpGet(url); return err == nil && strings.Contains(b, "steady") }
	waitFor(t, "steady to answer", 30*time.Second, answers)
	e.killDaemon()
	if !answers() {
		t.Errorf("with its agent killed, the container no longer answers at %s", url)
	}
	// Nobody may take its port meanwhile: its shim holds it.
	if ln, err := net.Listen("tcp", "127.0.0.1:"+port); err == nil {
		ln.Close()
		t.Errorf("port %s was free with the agent down", port)
	}
	e.startDaemon()
	if !answers() {
		t.Errorf("after a new agent started, the container no longer answers at %s", url)
	}
	e.ok("rm", "-f", "steady")
}

// Many run --rm -p cycles leave the host's networking exactly as one did:
// iptables rules, links, IPAM state, the libcni cache, namespaces. CI runs
// 10; SWITCHYARD_NET_CYCLES=100 runs the 100.
func TestRunRmPublishCyclesLeaveNothing(t *testing.T) {
	e := newEnv(t)
	e.ok("pull", e.images.busybox)
	cycles := 10
	if v := os.Getenv("SWITCHYARD_NET_CYCLES"); v != "" {
		fmt.Sscan(v, &cycles)
	}
	cycle := func() { e.ok("run", "--rm", "-p", "127.0.0.1::8080", "-p", "9053/udp", e.images.busybox, "true") }
	cycle() // the first makes what stays: the bridge, portmap's shared chains
	snapshot := func() string {
		var b strings.Builder
		for _, table := range []string{"filter", "nat"} {
			out, _ := exec.Command("iptables-save", "-t", table).Output()
			for _, l := range strings.Split(string(out), "\n") {
				switch {
				case l == "" || strings.HasPrefix(l, "#"):
				case strings.HasPrefix(l, ":"): // a chain and its counters: the chain
					b.WriteString(strings.Fields(l)[0] + "\n")
				default:
					b.WriteString(l + "\n")
				}
			}
		}
		b.WriteString(strings.Join(hostLinks(t), ",") + "\n")
		for _, dir := range []string{"networks/ipam/bridge", "networks/cache/results", "runc/containers"} {
			ents, _ := os.ReadDir(filepath.Join(e.root, dir))
			for _, ent := range ents {
				b.WriteString(dir + "/" + ent.Name() + "\n")
			}
		}
		return b.String()
	}
	settled := func(want string) bool {
		return testutil.Poll(10*time.Second, func() bool { return snapshot() == want })
	}
	// The first cycle's address is released in the background (a removal
	// does not wait for the plugins): the baseline is what is left once
	// that is done.
	var before string
	testutil.Poll(10*time.Second, func() bool {
		before = snapshot()
		return !strings.Contains(before, "networks/cache/results/")
	})
	for range cycles {
		cycle()
	}
	if !settled(before) {
		t.Errorf("after %d cycles:\n%s\nbefore:\n%s", cycles, snapshot(), before)
	}
}

// A container's network goes when it exits, even with its agent down: its
// address is free and its namespace gone; a new agent starts it again on
// its network and its published port.
func TestNetworkGoesAtExitWithoutTheAgent(t *testing.T) {
	e := newEnv(t)
	e.ok("pull", e.images.busybox)
	port := freePort(t)
	e.ok(append([]string{"run", "-d", "--name", "leaver", "-p", "127.0.0.1:" + port + ":8080", e.images.busybox}, httpd("back")...)...)
	var st []struct {
		PID      int    `json:"pid"`
		StateDir string `json:"state_dir"`
	}
	if err := json.Unmarshal([]byte(e.ok("inspect", "leaver")), &st); err != nil || len(st) != 1 || st[0].PID == 0 {
		t.Fatalf("inspect leaver: %+v %v", st, err)
	}
	e.killDaemon()
	if err := syscall.Kill(st[0].PID, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	ipam := filepath.Join(e.root, "networks", "ipam", "bridge")
	torn := func() bool {
		ents, _ := os.ReadDir(ipam)
		for _, f := range ents {
			if _, err := netip.ParseAddr(f.Name()); err == nil {
				return false
			}
		}
		_, err := os.Stat(filepath.Join(st[0].StateDir, "netns"))
		return os.IsNotExist(err)
	}
	waitFor(t, "the exited container's network to be torn down with no agent", 30*time.Second, torn)
	// Its shim, which held the port, ends right after the teardown.
	waitFor(t, "the exited container's host port to be free", 10*time.Second, func() bool {
		ln, err := net.Listen("tcp", "127.0.0.1:"+port)
		if err == nil {
			ln.Close()
		}
		return err == nil
	})
	e.startDaemon()
	if in := e.inspectNetwork("leaver"); in.Network == nil || in.Network.Address.IsValid() {
		t.Errorf("an exited container's network: %+v; want no address", in.Network)
	}
	e.ok("start", "leaver")
	url := "http://127.0.0.1:" + port + "/"
	waitFor(t, "leaver to answer again", 30*time.Second, func() bool {
		b, err := httpGet(url)
		return err == nil && strings.Contains(b, "back")
	})
	e.ok("rm", "-f", "leaver")
}

// Networks are isolated, as docker's are: a container on one cannot open a
// connection to a container on another, though it reaches it through a
// published port.
func TestNetworksAreIsolated(t *testing.T) {
	e := newEnv(t)
	e.ok("pull", e.images.busybox)
	port := freePort(t)
	e.ok(append([]string{"run", "-d", "--name", "inner", "-p", port + ":8080", e.images.busybox}, httpd("inside")...)...)
	ip := e.inspectNetwork("inner").Network.Address.Addr().String()
	e.ok("network", "create", "--subnet", "10.252.9.0/24", "outer")
	get := func(addr, p string) string {
		return e.sy("run", "--rm", "--network", "outer", e.images.busybox, "sh", "-c",
			"printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 2 "+addr+" "+p).stdout
	}
	if out := get(ip, "8080"); strings.Contains(out, "inside") {
		t.Errorf("a container on another network reached %s:8080 directly: %q", ip, out)
	}
	if out := get(hostAddr(t), port); !strings.Contains(out, "inside") {
		t.Errorf("a container on another network did not reach the published port %s:%s: %q", hostAddr(t), port, out)
	}
	e.ok("rm", "-f", "inner")
	e.ok("network", "rm", "outer")
}

// A wasm module serves on the listener its published port gives it: the
// example web server answers on the host, and a Linux container reaches it
// through the host's address and by the module's name.
func TestWasmModuleListens(t *testing.T) {
	e := newEnv(t)
	src, err := os.ReadFile(filepath.Join("..", "..", "examples", "hello-wasm-http", "main.go"))
	if err != nil {
		t.Fatal(err)
	}
	registry := strings.SplitN(e.images.busybox, "/", 2)[0]
	ref := testimages.Push(t, registry, "e2e/wasm-http", testimages.WasmModule(t, string(src), testimages.ConventionArtifact))
	e.ok("pull", ref)
	e.ok("pull", e.images.busybox)
	port := freePort(t)
	e.ok("run", "-d", "--name", "whttp", "-p", port+":8080", ref)
	url := "http://127.0.0.1:" + port + "/hi"
	var body string
	waitFor(t, "the wasm module to answer at "+url, 30*time.Second, func() bool {
		b, err := httpGet(url)
		body = b
		return err == nil
	})
	if !strings.Contains(body, "hello from wasm, wasip1/wasm, path /hi") {
		t.Errorf("the module answered %q", body)
	}
	if out := e.ok("ps"); !strings.Contains(out, "0.0.0.0:"+port+"->8080/tcp") {
		t.Errorf("ps does not show the module's port:\n%s", out)
	}
	out := e.ok("run", "--rm", e.images.busybox, "sh", "-c", "printf 'GET /from-linux HTTP/1.0\\r\\n\\r\\n' | nc "+hostAddr(t)+" "+port)
	if !strings.Contains(out, "path /from-linux") {
		t.Errorf("a Linux container through the host's address got %q", out)
	}
	// By its name, which answers with the host's address on the network.
	out = e.ok("run", "--rm", e.images.busybox, "sh", "-c", "printf 'GET /by-name HTTP/1.0\r\n\r\n' | nc whttp "+port)
	if !strings.Contains(out, "path /by-name") {
		t.Errorf("a Linux container by the module's name got %q", out)
	}
	if res := e.sy("run", "-d", "-p", "53/udp", ref); res.code == 0 || !strings.Contains(res.stderr, "TCP alone") {
		t.Errorf("a UDP port for a module: exit %d, %q", res.code, res.stderr)
	}
	e.ok("rm", "-f", "whttp")
	if ln, err := net.Listen("tcp", "127.0.0.1:"+port); err != nil {
		t.Errorf("the module's port is still held after its removal: %v", err)
	} else {
		ln.Close()
	}
}

// A renamed container answers by its new name on its network, and no
// longer by its old one.
func TestRenameKeepsNamesTrue(t *testing.T) {
	e := newEnv(t)
	e.ok("pull", e.images.busybox)
	e.ok("run", "-d", "--name", "before", e.images.busybox, "sleep", "1000")
	ip := e.inspectNetwork("before").Network.Address.Addr().String()
	e.ok("rename", "before", "after")
	if out := e.ok("run", "--rm", e.images.busybox, "nslookup", "after"); !strings.Contains(out, ip) {
		t.Errorf("nslookup after: %q; want %s", out, ip)
	}
	if out := e.sy("run", "--rm", e.images.busybox, "nslookup", "before").stdout; strings.Contains(out, ip) {
		t.Errorf("nslookup before still answers %s after the rename: %q", ip, out)
	}
	e.ok("rm", "-f", "after")
}
