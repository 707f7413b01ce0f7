package runc

import (
	"context"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/network"
	"github.com/switchyard/switchyard/runtime"
)

// A removal of a container that publishes a port answers once the port's
// forwarding rules are gone, as docker's does: a container started next on
// the same host port is not shadowed by the old one's rules. (Containers
// without published ports release their address in the background.)
func TestRemovalReleasesPublishedPorts(t *testing.T) {
	requireRoot(t)
	if _, err := os.Stat("/usr/lib/cni/portmap"); err != nil {
		t.Skip("needs the CNI plugins (apt-get install containernetworking-plugins)")
	}
	if _, err := exec.LookPath("iptables-save"); err != nil {
		t.Skip("needs iptables")
	}
	ctx := context.Background()
	nets, err := network.Open(ctx, t.TempDir(), network.WithDefaultBridge("sytestrp0", netip.MustParsePrefix("10.250.41.0/24")))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := nets.RemoveAll(context.Background()); err != nil {
			t.Errorf("removing the networks: %v", err)
		}
	})
	rt := newTestRuntime(t, WithNetworks(nets))
	free, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := uint16(free.Addr().(*net.TCPAddr).Port)
	free.Close()
	id := cid("published")
	cs := shSpec("published", untilStopped)
	cs.Network.Ports = []runtime.PortMapping{{HostIP: netip.MustParseAddr("127.0.0.1"), HostPort: port, ContainerPort: 8080}}
	mustRun(t, rt, id, cs)
	key, err := rt.resolve(id)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(natRules(t), key) {
		t.Fatalf("no forwarding rule names the container %s:\n%s", key, natRules(t))
	}
	if err := rt.Remove(ctx, id, true); err != nil {
		t.Fatal(err)
	}
	if rules := natRules(t); strings.Contains(rules, key) {
		t.Errorf("the removal answered with the port's rules still there:\n%s", rules)
	}
}

// natRules is the nat table.
func natRules(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("iptables-save", "-t", "nat").Output()
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}
