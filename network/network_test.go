package network

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/switchyard/switchyard/internal/testutil"
	"github.com/switchyard/switchyard/runtime"
)

// requireNet skips where the test cannot make namespaces and bridges.
func requireNet(t *testing.T) {
	t.Helper()
	if os.Getuid() != 0 {
		t.Skip("needs root")
	}
	if _, err := os.Stat("/usr/lib/cni/bridge"); err != nil {
		t.Skip("needs the CNI plugins (apt-get install containernetworking-plugins)")
	}
	if _, err := exec.LookPath("iptables"); err != nil {
		t.Skip("needs iptables")
	}
}

// testManager opens a manager on a temporary root with a bridge and subnet
// of this test's own, and removes everything it made at the end.
func testManager(t *testing.T, bridge, subnet string) *Manager {
	t.Helper()
	requireNet(t)
	m, err := Open(context.Background(), t.TempDir(), WithDefaultBridge(bridge, netip.MustParsePrefix(subnet)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := m.RemoveAll(context.Background()); err != nil {
			t.Errorf("remove all: %v", err)
		}
		if out, _ := exec.Command("ip", "link", "show", bridge).CombinedOutput(); !strings.Contains(string(out), "does not exist") {
			t.Errorf("bridge %s still there: %s", bridge, out)
		}
	})
	return m
}

// listenIn listens on TCP in the network namespace at ns.
func listenIn(t *testing.T, ns string) net.Listener {
	t.Helper()
	type res struct {
		ln  net.Listener
		err error
	}
	ch := make(chan res, 1)
	go func() {
		goruntime.LockOSThread() // unlocked once back in the host's namespace
		orig, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			ch <- res{nil, err}
			return
		}
		defer unix.Close(orig)
		fd, err := unix.Open(ns, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			ch <- res{nil, err}
			return
		}
		defer unix.Close(fd)
		if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
			ch <- res{nil, err}
			return
		}
		ln, err := net.Listen("tcp4", ":0")
		if unix.Setns(orig, unix.CLONE_NEWNET) == nil {
			goruntime.UnlockOSThread()
		}
		ch <- res{ln, err}
	}()
	r := <-ch
	if r.err != nil {
		t.Fatal(r.err)
	}
	t.Cleanup(func() { r.ln.Close() })
	go func() {
		for {
			c, err := r.ln.Accept()
			if err != nil {
				return
			}
			fmt.Fprintln(c, "hello from the namespace")
			c.Close()
		}
	}()
	return r.ln
}

// A namespace attached to the default network gets an address of its
// subnet and is reachable from the host at it; detached, its address is
// free again and nothing of it is left in the IPAM state or the cache.
func TestAttachDetach(t *testing.T) {
	m := testManager(t, "sytest0", "10.250.0.0/24")
	ctx := context.Background()
	ns := filepath.Join(t.TempDir(), "ns")
	if err := NewNamespace(ns); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = RemoveNamespace(ns) })
	ep := Endpoint{ContainerID: "test-attach", Network: DefaultName, NetNS: ns}
	att, err := m.Attach(ctx, ep)
	if err != nil {
		t.Fatal(err)
	}
	if !netip.MustParsePrefix("10.250.0.0/24").Contains(att.Address.Addr()) || att.Gateway != netip.MustParseAddr("10.250.0.1") {
		t.Fatalf("attachment %+v: want an address of 10.250.0.0/24 behind 10.250.0.1", att)
	}
	if n, _ := m.Get(DefaultName); n.Containers != 1 {
		t.Fatalf("network %+v: want one container attached", n)
	}
	ln := listenIn(t, ns)
	port := ln.Addr().(*net.TCPAddr).Port
	c, err := net.DialTimeout("tcp", netip.AddrPortFrom(att.Address.Addr(), uint16(port)).String(), 5*time.Second)
	if err != nil {
		t.Fatalf("the host cannot reach the container at %s: %v", att.Address.Addr(), err)
	}
	buf := make([]byte, 64)
	n, _ := c.Read(buf)
	c.Close()
	if !strings.Contains(string(buf[:n]), "hello") {
		t.Fatalf("read %q", buf[:n])
	}
	if err := m.Detach(ctx, ep); err != nil {
		t.Fatal(err)
	}
	if err := m.Detach(ctx, ep); err != nil {
		t.Fatalf("a second detach: %v", err)
	}
	if ents, _ := os.ReadDir(filepath.Join(m.root, "ipam", DefaultName)); hasAddress(ents) {
		t.Errorf("IPAM state after the detach: %v", ents)
	}
	if n, _ := m.Get(DefaultName); n.Containers != 0 {
		t.Errorf("network %+v after the detach: want none attached", n)
	}
}

func hasAddress(ents []os.DirEntry) bool {
	for _, e := range ents {
		if _, err := netip.ParseAddr(e.Name()); err == nil {
			return true
		}
	}
	return false
}

// User networks: created with a free or a given subnet, refused when they
// overlap or are named badly, listed with the default first, removed only
// when nothing is attached; the default network stays.
func TestUserNetworks(t *testing.T) {
	m := testManager(t, "sytest1", "10.250.1.0/24")
	ctx := context.Background()
	a, err := m.Create(ctx, "app-net", netip.MustParsePrefix("10.250.2.0/24"), netip.Addr{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if a.Gateway != netip.MustParseAddr("10.250.2.1") || !strings.HasPrefix(a.Bridge, "sy-") {
		t.Fatalf("created %+v", a)
	}
	for _, tc := range []struct {
		name, subnet string
		want         error
	}{
		{"app-net", "10.250.3.0/24", runtime.ErrAlreadyExists},
		{"overlap", "10.250.2.128/25", runtime.ErrAlreadyExists},
		{"-bad", "", runtime.ErrInvalidArgument},
		{"host", "", runtime.ErrInvalidArgument},
		{"wide", "10.0.0.0/4", runtime.ErrInvalidArgument},
	} {
		var p netip.Prefix
		if tc.subnet != "" {
			p = netip.MustParsePrefix(tc.subnet)
		}
		if _, err := m.Create(ctx, tc.name, p, netip.Addr{}, nil); !errors.Is(err, tc.want) {
			t.Errorf("create %s %s: %v, want %v", tc.name, tc.subnet, err, tc.want)
		}
	}
	list := m.List()
	if len(list) != 2 || list[0].Name != DefaultName || list[1].Name != "app-net" {
		t.Fatalf("list %+v", list)
	}
	ns := filepath.Join(t.TempDir(), "ns")
	if err := NewNamespace(ns); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = RemoveNamespace(ns) })
	ep := Endpoint{ContainerID: "test-user", Network: "app-net", NetNS: ns}
	if _, err := m.Attach(ctx, ep); err != nil {
		t.Fatal(err)
	}
	if err := m.Remove(ctx, "app-net"); !errors.Is(err, runtime.ErrFailedPrecondition) {
		t.Fatalf("remove while attached: %v", err)
	}
	if err := m.Detach(ctx, ep); err != nil {
		t.Fatal(err)
	}
	if err := m.Remove(ctx, "app-net"); err != nil {
		t.Fatal(err)
	}
	if err := m.Remove(ctx, DefaultName); !errors.Is(err, runtime.ErrFailedPrecondition) {
		t.Fatalf("remove the default: %v", err)
	}
	// A new manager on the root finds what the first left.
	again, err := Open(ctx, m.root, WithDefaultBridge("sytest1", netip.MustParsePrefix("10.250.1.0/24")))
	if err != nil {
		t.Fatal(err)
	}
	if l := again.List(); len(l) != 1 || l[0].Subnet != netip.MustParsePrefix("10.250.1.0/24") {
		t.Fatalf("reopened: %+v", l)
	}
}

// The fast detach: the namespace goes first, and with it the interface,
// in the kernel's background; the plugins then release the address alone.
func TestDetachAfterTheNamespaceWent(t *testing.T) {
	m := testManager(t, "sytest2", "10.250.4.0/24")
	ctx := context.Background()
	links := func() int {
		out, _ := exec.Command("ip", "-o", "link").Output()
		return strings.Count(string(out), "\n")
	}
	ns := filepath.Join(t.TempDir(), "ns")
	if err := NewNamespace(ns); err != nil {
		t.Fatal(err)
	}
	ep := Endpoint{ContainerID: "test-fast", Network: DefaultName, NetNS: ns}
	if _, err := m.Attach(ctx, ep); err != nil {
		t.Fatal(err)
	}
	with := links()
	if err := RemoveNamespace(ns); err != nil {
		t.Fatal(err)
	}
	if err := m.Detach(ctx, Endpoint{ContainerID: ep.ContainerID, Network: ep.Network}); err != nil {
		t.Fatal(err)
	}
	if ents, _ := os.ReadDir(filepath.Join(m.root, "ipam", DefaultName)); hasAddress(ents) {
		t.Errorf("IPAM state after the detach: %v", ents)
	}
	if !testutil.Poll(10*time.Second, func() bool { return links() == with-1 }) {
		t.Errorf("the host end of the veth is still there: %d links, had %d with it", links(), with)
	}
}

// The removal's detach: the plugins release the address in the
// background; removing the network waits for them rather than refusing,
// and leaves no IPAM state or cached result.
func TestDetachLater(t *testing.T) {
	m := testManager(t, "sytest5", "10.250.9.0/24")
	ctx := context.Background()
	if _, err := m.Create(ctx, "later-net", netip.MustParsePrefix("10.250.10.0/24"), netip.Addr{}, nil); err != nil {
		t.Fatal(err)
	}
	var eps []Endpoint
	for i := range 3 {
		ns := filepath.Join(t.TempDir(), "ns")
		if err := NewNamespace(ns); err != nil {
			t.Fatal(err)
		}
		ep := Endpoint{ContainerID: fmt.Sprintf("test-later-%d", i), Network: "later-net", NetNS: ns, Names: []string{fmt.Sprintf("later%d", i)}}
		if _, err := m.Attach(ctx, ep); err != nil {
			t.Fatal(err)
		}
		if err := RemoveNamespace(ns); err != nil {
			t.Fatal(err)
		}
		eps = append(eps, Endpoint{ContainerID: ep.ContainerID, Network: ep.Network})
	}
	for _, ep := range eps {
		m.DetachLater(ep)
	}
	m.DetachLater(Endpoint{ContainerID: "test-gone", Network: "no-such-net"}) // nothing to release
	if err := m.Remove(ctx, "later-net"); err != nil {
		t.Fatalf("remove after background detaches: %v", err)
	}
	if ents, _ := os.ReadDir(filepath.Join(m.root, "ipam", "later-net")); hasAddress(ents) {
		t.Errorf("IPAM state after the detaches: %v", ents)
	}
	if ents, _ := os.ReadDir(filepath.Join(m.root, "cache", "results")); len(ents) != 0 {
		t.Errorf("cached results after the detaches: %v", ents)
	}
}

// A host port another process holds is refused at once, naming the
// process; a free one is held until the sockets close; port 0 gets a free
// port.
func TestHoldPorts(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	port := uint16(taken.Addr().(*net.TCPAddr).Port)
	lo := netip.MustParseAddr("127.0.0.1")
	_, _, err = HoldPorts([]runtime.PortMapping{{HostIP: lo, ContainerPort: 80}, {HostIP: lo, HostPort: port, ContainerPort: 81}})
	if !errors.Is(err, runtime.ErrAlreadyExists) || !strings.Contains(err.Error(), fmt.Sprintf("pid %d", os.Getpid())) {
		t.Fatalf("a taken port: %v; want it refused naming this process", err)
	}
	held, resolved, err := HoldPorts([]runtime.PortMapping{{HostIP: lo, ContainerPort: 80}, {HostIP: lo, ContainerPort: 53, Protocol: "udp"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(held) != 2 || resolved[0].HostPort == 0 || resolved[1].HostPort == 0 {
		t.Fatalf("held %d, resolved %+v", len(held), resolved)
	}
	if _, err := net.Listen("tcp", netip.AddrPortFrom(lo, resolved[0].HostPort).String()); err == nil {
		t.Fatalf("port %d was not held", resolved[0].HostPort)
	}
	for _, f := range held {
		f.Close()
	}
	if ln, err := net.Listen("tcp", netip.AddrPortFrom(lo, resolved[0].HostPort).String()); err != nil {
		t.Fatalf("port %d still held after the sockets closed: %v", resolved[0].HostPort, err)
	} else {
		ln.Close()
	}
}

// Collect detaches what no live container owns, and keeps the rest.
func TestCollect(t *testing.T) {
	m := testManager(t, "sytest3", "10.250.5.0/24")
	ctx := context.Background()
	var eps []Endpoint
	for _, id := range []string{"keep-me", "gone-one"} {
		ns := filepath.Join(t.TempDir(), id)
		if err := NewNamespace(ns); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = RemoveNamespace(ns) })
		ep := Endpoint{ContainerID: id, Network: DefaultName, NetNS: ns, Names: []string{id}}
		if _, err := m.Attach(ctx, ep); err != nil {
			t.Fatal(err)
		}
		eps = append(eps, ep)
	}
	if err := m.Collect(ctx, []string{"keep-me"}); err != nil {
		t.Fatal(err)
	}
	if n, _ := m.Get(DefaultName); n.Containers != 1 {
		t.Fatalf("after the collection %d attachments, want 1", n.Containers)
	}
	if atts, _ := m.cni.GetCachedAttachments("gone-one"); len(atts) != 0 {
		t.Errorf("the collected attachment is still cached: %+v", atts)
	}
	if err := m.Detach(ctx, eps[0]); err != nil {
		t.Fatal(err)
	}
}

// A container's published ports are released in the background after its
// removal (DetachLater); a new attachment that publishes the same host
// port waits until the old rules are gone, which would otherwise come
// first and take its connections.
func TestAttachWaitsForThePortsRelease(t *testing.T) {
	m := testManager(t, "sytest7", "10.250.13.0/24")
	ctx := context.Background()
	free, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := uint16(free.Addr().(*net.TCPAddr).Port)
	free.Close()
	ports := []runtime.PortMapping{{HostIP: netip.MustParseAddr("127.0.0.1"), HostPort: port, ContainerPort: 8080}}
	attach := func(id string) Endpoint {
		ns := filepath.Join(t.TempDir(), "ns")
		if err := NewNamespace(ns); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = RemoveNamespace(ns) })
		ep := Endpoint{ContainerID: id, Network: DefaultName, NetNS: ns, Ports: ports}
		if _, err := m.Attach(ctx, ep); err != nil {
			t.Fatal(err)
		}
		return ep
	}
	old := attach("test-port-old")
	if !strings.Contains(natTable(t), old.ContainerID) {
		t.Fatalf("no forwarding rule names %s:\n%s", old.ContainerID, natTable(t))
	}
	// Removed: the namespace first, the address and rules in the background.
	if err := RemoveNamespace(old.NetNS); err != nil {
		t.Fatal(err)
	}
	m.DetachLater(Endpoint{ContainerID: old.ContainerID, Network: old.Network, Ports: old.Ports})
	next := attach("test-port-next")
	if nat := natTable(t); strings.Contains(nat, old.ContainerID) {
		t.Errorf("the new attachment was made while the old one's rules were still there:\n%s", nat)
	}
	if err := m.Detach(ctx, Endpoint{ContainerID: next.ContainerID, Network: next.Network, Ports: next.Ports}); err != nil {
		t.Fatal(err)
	}

	// The wait itself, made certain: with a release of the port held
	// pending, an attach that publishes it does not go on (an attach takes
	// about 100 ms here) until the release ends.
	e, err := m.entry(DefaultName)
	if err != nil {
		t.Fatal(err)
	}
	m.mu.Lock()
	if e.releasing == nil {
		e.releasing = map[string]int{}
	}
	e.releasing[hostPort(ports[0])]++
	m.mu.Unlock()
	ns := filepath.Join(t.TempDir(), "ns")
	if err := NewNamespace(ns); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = RemoveNamespace(ns) })
	held := Endpoint{ContainerID: "test-port-held", Network: DefaultName, NetNS: ns, Ports: ports}
	done := make(chan error, 1)
	go func() {
		_, err := m.Attach(ctx, held)
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("attached (%v) while a release of its port was pending", err)
	case <-time.After(time.Second):
	}
	m.mu.Lock()
	delete(e.releasing, hostPort(ports[0]))
	m.detached.Broadcast()
	m.mu.Unlock()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the attach did not go on once the release ended")
	}
	if err := m.Detach(ctx, Endpoint{ContainerID: held.ContainerID, Network: held.Network, Ports: held.Ports}); err != nil {
		t.Fatal(err)
	}
}

// natTable is the host's nat table.
func natTable(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("iptables-save", "-t", "nat").Output()
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}
