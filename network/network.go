package network

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/containernetworking/cni/libcni"
	types100 "github.com/containernetworking/cni/pkg/types/100"

	"github.com/switchyard/switchyard/runtime"
)

// cniVersion is the CNI spec version of the conflists switchyard writes:
// the newest Debian's containernetworking-plugins (1.1.1) speak.
const cniVersion = "1.0.0"

// DefaultName is the name of the network containers join when they ask for
// none in particular, as docker's and podman's default networks.
const DefaultName = "bridge"

// Network is one network of the node: a Linux bridge with a subnet whose
// first address is the gateway, and outbound traffic masqueraded.
type Network struct {
	// Name names the network (DefaultName for the default one).
	Name string `json:"name"`
	// Bridge is its Linux bridge device.
	Bridge string `json:"bridge"`
	// Subnet is where its containers' addresses come from.
	Subnet netip.Prefix `json:"subnet"`
	// Gateway is the bridge's address: the containers' route out, and
	// their DNS server.
	Gateway netip.Addr `json:"gateway"`
	// Default marks the network containers join unless they ask otherwise.
	Default bool `json:"default,omitempty"`
	// Containers counts the containers attached now.
	Containers int `json:"containers"`
	// DNS is the address of the network's DNS server (its gateway), which
	// answers its containers' names; zero when it has none.
	DNS netip.Addr `json:"dns,omitzero"`
	// Labels are the user's metadata (docker network create --label).
	Labels map[string]string `json:"labels,omitempty"`
	// Created is when the network was made; zero for one made before
	// switchyard recorded it.
	Created time.Time `json:"created,omitzero"`
}

// Manager keeps the node's networks under a root directory: a CNI conflist
// per network, the IPAM state and the libcni cache, and attaches network
// namespaces to them through the CNI plugins. It is safe for concurrent
// use.
type Manager struct {
	root string
	cni  *libcni.CNIConfig
	opts options

	mu sync.Mutex
	// nets maps a name to its network and conflist. Guarded by mu.
	nets map[string]*entry
	// detached is signalled (with mu) whenever a background detach
	// (DetachLater) has finished.
	detached *sync.Cond
}

type entry struct {
	net Network
	// list is the chain for a container without published ports, ports
	// the chain with portmap after the bridge: portmap's DEL runs iptables
	// even when it has nothing to remove.
	list, ports *libcni.NetworkConfigList
	// names are the network's DNS records, served by dns (nil when the
	// server could not start).
	names    *names
	dns      *dnsServer
	dnsTried bool
	// attaching counts the attachments in progress, which the cache does
	// not show yet: Remove refuses while there are any. Guarded by
	// Manager.mu.
	attaching int
	// detaching counts the detaches in the background (DetachLater):
	// Remove and Close wait for them. Guarded by Manager.mu.
	detaching int
	// releasing counts, by host port (hostPort), the published ports of
	// those detaches, whose forwarding rules are still there: an attach
	// that publishes one of them waits until they are gone. Guarded by
	// Manager.mu.
	releasing map[string]int
}

// Open returns the networks under root, making the default bridge network
// the first time, and sets up each network's forwarding and masquerading
// rules (once per network, not per container).
func Open(ctx context.Context, root string, opts ...Option) (*Manager, error) {
	o, err := makeOptions(opts)
	if err != nil {
		return nil, err
	}
	for _, dir := range []string{root, filepath.Join(root, "ipam"), filepath.Join(root, "cache")} {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("networks %s: %w", root, err)
		}
	}
	m := &Manager{root: root, opts: o, nets: map[string]*entry{},
		cni: libcni.NewCNIConfigWithCacheDir(o.pluginDirs, filepath.Join(root, "cache"), nil)}
	m.detached = sync.NewCond(&m.mu)
	files, err := filepath.Glob(filepath.Join(root, "*.conflist"))
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		e, err := m.load(f)
		if err != nil {
			o.log.Warn("networks: skipping a network whose conflist cannot be read", "file", f, "err", err)
			continue
		}
		m.nets[e.net.Name] = e
	}
	if m.opts.noSetup {
		return m, nil
	}
	if _, ok := m.nets[DefaultName]; !ok {
		if _, err := m.create(ctx, Network{Name: DefaultName, Bridge: o.bridge, Subnet: o.subnet}); err != nil {
			return nil, err
		}
	}
	for _, e := range m.nets {
		if err := ensureRules(ctx, e.net); err != nil {
			m.Close()
			return nil, fmt.Errorf("network %s: %w", e.net.Name, err)
		}
		m.startDNS(e)
	}
	m.restoreNames()
	return m, nil
}

// startDNS starts e's DNS server; a network whose server cannot start
// (port 53 of its gateway taken) works without one, and says so.
func (m *Manager) startDNS(e *entry) {
	if m.opts.noDNS || e.dnsTried {
		return
	}
	e.dnsTried = true
	s, err := startDNS(e.net.Gateway, e.net.Subnet, e.names, hostResolvers(), m.opts.log)
	if err != nil {
		m.opts.log.Warn("network: no DNS server: containers resolve the host's names only, not each other's", "network", e.net.Name, "err", err)
		return
	}
	e.dns = s
	e.net.DNS = e.net.Gateway
}

// namesArg is the capability argument that keeps an attachment's DNS
// names in the libcni cache (plugins get only the capabilities they
// declare), so that a new agent serves them again.
const namesArg = "io.switchyard.names"

// restoreNames gives the DNS servers the names of the attachments in the
// cache: those a previous agent made.
func (m *Manager) restoreNames() {
	atts, err := m.cni.GetCachedAttachments("")
	if err != nil {
		return
	}
	for _, a := range atts {
		e, ok := m.nets[a.Network]
		if !ok {
			continue
		}
		var rn recordNames
		switch raw := a.CapabilityArgs[namesArg].(type) {
		case map[string]any:
			rn.names, rn.aliases = stringList(raw["names"]), stringList(raw["aliases"])
			rn.group, _ = raw["group"].(string)
		case []any: // an earlier agent's: names alone
			rn.names = stringList(raw)
		}
		res, err := m.cni.GetNetworkListCachedResult(e.list, &libcni.RuntimeConf{ContainerID: a.ContainerID, IfName: a.IfName})
		if err != nil || res == nil {
			continue
		}
		r, err := types100.NewResultFromResult(res)
		if err != nil || len(r.IPs) == 0 {
			continue
		}
		if ip, ok := netip.AddrFromSlice(r.IPs[0].Address.IP); ok {
			e.names.add(a.ContainerID, ip.Unmap(), rn)
		}
	}
}

// Close stops the networks' DNS servers. The networks stay.
func (m *Manager) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, e := range m.nets {
		m.awaitDetaches(e)
	}
	for _, e := range m.nets {
		if e.dns != nil {
			e.dns.close()
			e.dns = nil
		}
	}
	return nil
}

// conflist is the CNI configuration switchyard writes for a network.
type conflist struct {
	CNIVersion string   `json:"cniVersion"`
	Name       string   `json:"name"`
	Plugins    []plugin `json:"plugins"`
	// Labels and Created are switchyard's own keys, which libcni and the
	// plugins pass over.
	Labels  map[string]string `json:"switchyard.labels,omitempty"`
	Created time.Time         `json:"switchyard.created,omitzero"`
}

type plugin struct {
	Type         string          `json:"type"`
	Bridge       string          `json:"bridge,omitempty"`
	IsGateway    bool            `json:"isGateway,omitempty"`
	HairpinMode  bool            `json:"hairpinMode,omitempty"`
	IPAM         *ipam           `json:"ipam,omitempty"`
	Capabilities map[string]bool `json:"capabilities,omitempty"`
}

type ipam struct {
	Type    string        `json:"type"`
	Ranges  [][]ipamRange `json:"ranges"`
	Routes  []ipamRoute   `json:"routes"`
	DataDir string        `json:"dataDir"`
}

type ipamRange struct {
	Subnet  string `json:"subnet"`
	Gateway string `json:"gateway"`
}

type ipamRoute struct {
	Dst string `json:"dst"`
}

// withPorts is c with portmap after the bridge, for containers that
// publish ports.
func withPorts(c conflist) conflist {
	c.Plugins = append(c.Plugins[:len(c.Plugins):len(c.Plugins)], plugin{Type: "portmap", Capabilities: map[string]bool{"portMappings": true}})
	return c
}

// conflistOf is n's conflist: the bridge plugin (no per-container
// masquerade: the network's own rule does it).
func (m *Manager) conflistOf(n Network) conflist {
	return conflist{CNIVersion: cniVersion, Name: n.Name, Labels: n.Labels, Created: n.Created, Plugins: []plugin{
		{Type: "bridge", Bridge: n.Bridge, IsGateway: true, HairpinMode: true, IPAM: &ipam{
			Type:    "host-local",
			Ranges:  [][]ipamRange{{{Subnet: n.Subnet.String(), Gateway: n.Gateway.String()}}},
			Routes:  []ipamRoute{{Dst: "0.0.0.0/0"}},
			DataDir: filepath.Join(m.root, "ipam"),
		}},
	}}
}

// load reads a conflist switchyard wrote.
func (m *Manager) load(path string) (*entry, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var c conflist
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, err
	}
	if len(c.Plugins) == 0 || c.Plugins[0].Type != "bridge" || c.Plugins[0].IPAM == nil ||
		len(c.Plugins[0].IPAM.Ranges) == 0 || len(c.Plugins[0].IPAM.Ranges[0]) == 0 {
		return nil, fmt.Errorf("not a bridge network switchyard wrote")
	}
	r := c.Plugins[0].IPAM.Ranges[0][0]
	subnet, err := netip.ParsePrefix(r.Subnet)
	if err != nil {
		return nil, err
	}
	gw, err := netip.ParseAddr(r.Gateway)
	if err != nil {
		return nil, err
	}
	n := Network{Name: c.Name, Bridge: c.Plugins[0].Bridge, Subnet: subnet, Gateway: gw, Default: c.Name == DefaultName,
		Labels: c.Labels, Created: c.Created}
	return m.entryOf(n)
}

// entryOf makes n's two chains.
func (m *Manager) entryOf(n Network) (*entry, error) {
	c := m.conflistOf(n)
	var lists [2]*libcni.NetworkConfigList
	for i, cl := range []conflist{c, withPorts(c)} {
		b, err := json.Marshal(cl)
		if err != nil {
			return nil, err
		}
		if lists[i], err = libcni.ConfListFromBytes(b); err != nil {
			return nil, err
		}
	}
	alive := func(id string) bool {
		_, err := os.Stat(filepath.Join(m.root, "cache", "results", n.Name+"-"+id+"-"+ifName))
		return err == nil
	}
	return &entry{net: n, list: lists[0], ports: lists[1], names: newNames(alive)}, nil
}

// Create makes the network name on subnet (a free private /24 when zero),
// with gateway as the bridge's address (the subnet's first when zero) and
// the labels given.
func (m *Manager) Create(ctx context.Context, name string, subnet netip.Prefix, gateway netip.Addr, labels map[string]string) (Network, error) {
	if err := checkName(name); err != nil {
		return Network{}, err
	}
	n := Network{Name: name, Bridge: bridgeName(name), Subnet: subnet, Gateway: gateway, Labels: labels}
	return m.create(ctx, n)
}

func (m *Manager) create(ctx context.Context, n Network) (Network, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.nets[n.Name]; ok {
		return Network{}, fmt.Errorf("network %s: %w", n.Name, runtime.ErrAlreadyExists)
	}
	if !n.Subnet.IsValid() {
		s, err := m.freeSubnet()
		if err != nil {
			return Network{}, err
		}
		n.Subnet = s
	}
	n.Subnet = n.Subnet.Masked()
	if !n.Subnet.Addr().Is4() || n.Subnet.Bits() > 30 || n.Subnet.Bits() < 8 {
		return Network{}, fmt.Errorf("network %s: subnet %s: want an IPv4 subnet from /8 to /30, such as 10.91.0.0/24: %w", n.Name, n.Subnet, runtime.ErrInvalidArgument)
	}
	if !n.Gateway.IsValid() {
		n.Gateway = n.Subnet.Addr().Next()
	}
	if n.Created.IsZero() {
		n.Created = time.Now().UTC().Truncate(time.Second)
	}
	if !n.Subnet.Contains(n.Gateway) || n.Gateway == n.Subnet.Addr() {
		return Network{}, fmt.Errorf("network %s: gateway %s is not a host address of subnet %s: %w", n.Name, n.Gateway, n.Subnet, runtime.ErrInvalidArgument)
	}
	for _, e := range m.nets {
		if e.net.Subnet.Overlaps(n.Subnet) {
			return Network{}, fmt.Errorf("network %s: subnet %s overlaps network %s (%s); choose another subnet: %w", n.Name, n.Subnet, e.net.Name, e.net.Subnet, runtime.ErrAlreadyExists)
		}
		if e.net.Bridge == n.Bridge {
			return Network{}, fmt.Errorf("network %s: bridge %s is network %s's: %w", n.Name, n.Bridge, e.net.Name, runtime.ErrAlreadyExists)
		}
	}
	if err := checkHostRoutes(n.Subnet); err != nil {
		return Network{}, fmt.Errorf("network %s: %w", n.Name, err)
	}
	b, err := json.MarshalIndent(m.conflistOf(n), "", "  ")
	if err != nil {
		return Network{}, err
	}
	n.Default = n.Name == DefaultName
	e, err := m.entryOf(n)
	if err != nil {
		return Network{}, fmt.Errorf("network %s: %w", n.Name, err)
	}
	path := filepath.Join(m.root, n.Name+".conflist")
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return Network{}, fmt.Errorf("network %s: %w", n.Name, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return Network{}, fmt.Errorf("network %s: %w", n.Name, err)
	}
	if err := ensureRules(ctx, n); err != nil {
		os.Remove(path)
		return Network{}, fmt.Errorf("network %s: %w", n.Name, err)
	}
	m.nets[n.Name] = e
	m.startDNS(e)
	return e.net, nil
}

// freeSubnet is the first 10.91.N.0/24 no network uses. Guarded by mu.
func (m *Manager) freeSubnet() (netip.Prefix, error) {
	for i := range 256 {
		p := netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 91, byte(i), 0}), 24)
		if !slices.ContainsFunc(m.list(), func(n Network) bool { return n.Subnet.Overlaps(p) }) && checkHostRoutes(p) == nil {
			return p, nil
		}
	}
	return netip.Prefix{}, fmt.Errorf("no free subnet in 10.91.0.0/16: give one with --subnet: %w", runtime.ErrResourceExhausted)
}

// checkHostRoutes refuses a subnet that overlaps an address of the host's
// own interfaces: its containers could not reach that network.
func checkHostRoutes(p netip.Prefix) error {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil // cannot tell: let the bridge plugin judge
	}
	for _, a := range addrs {
		ipn, ok := a.(*net.IPNet)
		if !ok {
			continue
		}
		ip, ok := netip.AddrFromSlice(ipn.IP)
		if !ok || !ip.Unmap().Is4() {
			continue
		}
		ones, _ := ipn.Mask.Size()
		hp := netip.PrefixFrom(ip.Unmap(), ones).Masked()
		if hp.Overlaps(p) && !strings.HasPrefix(ifaceOf(ipn), "sy") {
			return fmt.Errorf("subnet %s overlaps the host's network %s; choose another subnet: %w", p, hp, runtime.ErrInvalidArgument)
		}
	}
	return nil
}

// ifaceOf names the interface holding ipn, "" when none does.
func ifaceOf(ipn *net.IPNet) string {
	ifs, _ := net.Interfaces()
	for _, i := range ifs {
		addrs, _ := i.Addrs()
		for _, a := range addrs {
			if a.String() == ipn.String() {
				return i.Name
			}
		}
	}
	return ""
}

// bridgeName is the bridge device of a user network: "sy-" and a hash of
// the name, within the kernel's 15 characters.
func bridgeName(name string) string {
	sum := sha256.Sum256([]byte(name))
	return "sy-" + hex.EncodeToString(sum[:])[:8]
}

// checkName accepts docker's network names: a letter or digit, then
// letters, digits, '_', '.' or '-', at most 64 in all.
func checkName(name string) error {
	ok := name != "" && len(name) <= 64
	for i, r := range name {
		alnum := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
		if !alnum && (i == 0 || r != '_' && r != '.' && r != '-') {
			ok = false
		}
	}
	if !ok {
		return fmt.Errorf("network name %q: want a letter or digit, then letters, digits, '_', '.' or '-' (at most 64): %w", name, runtime.ErrInvalidArgument)
	}
	if name == "none" || name == "host" {
		return fmt.Errorf("network name %q is a network mode, not a network: %w", name, runtime.ErrInvalidArgument)
	}
	return nil
}

// Info returns the network name without counting its containers (which
// reads the cache of every attachment): what a create needs.
func (m *Manager) Info(name string) (Network, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.nets[name]
	if !ok {
		return Network{}, notFound(name)
	}
	return e.net, nil
}

// notFound is the error for a network that does not exist.
func notFound(name string) error {
	return fmt.Errorf("network %s: %w; `switchyard network ls` lists them", name, runtime.ErrNotFound)
}

// Get returns the network name, with the containers attached to it.
func (m *Manager) Get(name string) (Network, error) {
	n, err := m.Info(name)
	if err != nil {
		return Network{}, err
	}
	n.Containers = m.attached(name)
	return n, nil
}

// List returns the networks, the default first, then by name.
func (m *Manager) List() []Network {
	m.mu.Lock()
	list := m.list()
	m.mu.Unlock()
	for i := range list {
		list[i].Containers = m.attached(list[i].Name)
	}
	return list
}

func (m *Manager) list() []Network {
	out := make([]Network, 0, len(m.nets))
	for _, e := range m.nets {
		out = append(out, e.net)
	}
	slices.SortFunc(out, func(a, b Network) int {
		if a.Default != b.Default {
			if a.Default {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Name, b.Name)
	})
	return out
}

// attached counts the containers attached to the network name.
func (m *Manager) attached(name string) int {
	atts, err := m.cni.GetCachedAttachments("")
	if err != nil {
		return 0
	}
	n := 0
	for _, a := range atts {
		if a.Network == name {
			n++
		}
	}
	return n
}

// Remove removes the network name, refusing the default network and one a
// container is attached to.
func (m *Manager) Remove(ctx context.Context, name string) error {
	if name == DefaultName {
		return fmt.Errorf("network %s is the default network and cannot be removed: %w", name, runtime.ErrFailedPrecondition)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.nets[name]
	if !ok {
		return fmt.Errorf("network %s: %w", name, runtime.ErrNotFound)
	}
	// A container removed just before has let its address go, or is
	// letting it go: that is not an attachment.
	m.awaitDetaches(e)
	if n := m.attached(name) + e.attaching; n > 0 {
		return fmt.Errorf("network %s has %d container(s) attached: remove them or move them first: %w", name, n, runtime.ErrFailedPrecondition)
	}
	if err := removeRules(ctx, e.net); err != nil {
		return fmt.Errorf("network %s: %w", name, err)
	}
	if e.dns != nil {
		e.dns.close()
	}
	if err := deleteLink(e.net.Bridge); err != nil {
		m.opts.log.Warn("network: removing its bridge", "network", name, "bridge", e.net.Bridge, "err", err)
	}
	if err := os.Remove(filepath.Join(m.root, name+".conflist")); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("network %s: %w", name, err)
	}
	_ = os.RemoveAll(filepath.Join(m.root, "ipam", name))
	delete(m.nets, name)
	return nil
}

// Endpoint is one container's place on a network.
type Endpoint struct {
	// ContainerID identifies the attachment to the plugins: unique per
	// container (runc's key), stable for its life.
	ContainerID string
	// Network names the network.
	Network string
	// NetNS is the path of the container's pinned network namespace.
	NetNS string
	// Ports are published on the host through portmap; every host port is
	// set (the caller chose the free ones), and the same ports are given
	// to Detach.
	Ports []runtime.PortMapping
	// Names are the names the network's DNS server answers with the
	// container's address to every container of the network (its name,
	// its service's).
	Names []string
	// Aliases are names it answers only to the containers of Group (a
	// deployment's service names).
	Group   string
	Aliases []string
}

func (ep Endpoint) recordNames() recordNames {
	return recordNames{names: ep.Names, group: ep.Group, aliases: ep.Aliases}
}

// Attachment is what attaching gave a container.
type Attachment struct {
	// Network names the network.
	Network string `json:"network"`
	// Interface is the container's interface on it (eth0).
	Interface string `json:"interface"`
	// Address is the container's address, with the subnet's length.
	Address netip.Prefix `json:"address"`
	// Gateway is the network's gateway.
	Gateway netip.Addr `json:"gateway"`
	// MAC is the interface's hardware address.
	MAC string `json:"mac,omitempty"`
}

// ifName is the container's interface on its network.
const ifName = "eth0"

// Attach connects ep's namespace to its network (CNI ADD).
func (m *Manager) Attach(ctx context.Context, ep Endpoint) (att Attachment, err error) {
	m.mu.Lock()
	e, ok := m.nets[ep.Network]
	if ok {
		e.attaching++
		// A container just removed may still hold rules for these ports
		// (its release runs in the background): they go first.
		m.awaitPortsReleased(e, ep.Ports)
	}
	m.mu.Unlock()
	if !ok {
		return Attachment{}, notFound(ep.Network)
	}
	defer func() {
		m.mu.Lock()
		e.attaching--
		m.mu.Unlock()
	}()
	list := e.chain(ep)
	defer func() {
		if err != nil {
			// Whatever the plugins did before the failure is undone.
			_ = m.cni.DelNetworkList(context.WithoutCancel(ctx), list, m.runtimeConf(ep))
		}
	}()
	res, err := m.cni.AddNetworkList(ctx, list, m.runtimeConf(ep))
	if err != nil {
		return Attachment{}, fmt.Errorf("network %s: attach: %w", ep.Network, err)
	}
	r, err := types100.NewResultFromResult(res)
	if err != nil {
		return Attachment{}, fmt.Errorf("network %s: attach: %w", ep.Network, err)
	}
	att = Attachment{Network: ep.Network, Interface: ifName, Gateway: e.net.Gateway}
	for _, ipc := range r.IPs {
		ip, ok := netip.AddrFromSlice(ipc.Address.IP)
		if !ok {
			continue
		}
		ones, _ := ipc.Address.Mask.Size()
		att.Address = netip.PrefixFrom(ip.Unmap(), ones)
		if gw, ok := netip.AddrFromSlice(ipc.Gateway); ok {
			att.Gateway = gw.Unmap()
		}
		break
	}
	for _, i := range r.Interfaces {
		if i.Name == ifName && i.Sandbox != "" {
			att.MAC = i.Mac
		}
	}
	if !att.Address.IsValid() {
		return Attachment{}, fmt.Errorf("network %s: attach: the plugins gave no IPv4 address", ep.Network)
	}
	e.names.add(ep.ContainerID, att.Address.Addr(), ep.recordNames())
	return att, nil
}

// Detach disconnects ep (CNI DEL with the cached result), releasing its
// address. Detaching what is not attached succeeds. With ep.NetNS empty
// the plugins release the address and leave the interface alone: it goes
// with its namespace. That is the fast way when the namespace is being
// removed anyway, since deleting a veth waits for the kernel's RCU grace
// period (tens of milliseconds) and removing the namespace does that in
// the background.
func (m *Manager) Detach(ctx context.Context, ep Endpoint) error {
	e, err := m.entry(ep.Network)
	if err != nil {
		return err
	}
	e.names.remove(ep.ContainerID)
	if err := m.cni.DelNetworkList(ctx, e.chain(ep), m.runtimeConf(ep)); err != nil {
		return fmt.Errorf("network %s: detach: %w", ep.Network, err)
	}
	return nil
}

// DetachLater is Detach in the background, for a container that is being
// removed and whose namespace is gone already (ep.NetNS empty): its removal
// does not wait for the plugins to release its address and its published
// ports' rules (CNI DEL, about 10 ms of plugin processes; about 100 ms
// with portmap's rules). Its names stop resolving at once; an attach that
// publishes one of its host ports waits for its rules to go. Remove of the
// network and Close wait for what is pending; a detach the agent did not
// live to finish is collected when it next starts (CollectGarbage), as any
// attachment of a container that is gone.
func (m *Manager) DetachLater(ep Endpoint) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.nets[ep.Network]
	if !ok {
		return // a network removed has nothing to release
	}
	e.names.remove(ep.ContainerID)
	e.detaching++
	if len(ep.Ports) > 0 && e.releasing == nil {
		e.releasing = map[string]int{}
	}
	for _, p := range ep.Ports {
		e.releasing[hostPort(p)]++
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), detachBound)
		defer cancel()
		err := m.cni.DelNetworkList(ctx, e.chain(ep), m.runtimeConf(ep))
		if err != nil {
			m.opts.log.Warn("network: releasing a removed container's address; the next start of the agent collects it", "network", ep.Network, "container", ep.ContainerID, "err", err)
		}
		m.mu.Lock()
		e.detaching--
		for _, p := range ep.Ports {
			if e.releasing[hostPort(p)]--; e.releasing[hostPort(p)] <= 0 {
				delete(e.releasing, hostPort(p))
			}
		}
		m.detached.Broadcast()
		m.mu.Unlock()
	}()
}

// detachBound bounds one background detach.
const detachBound = 30 * time.Second

// hostPort names a published port's host side for releasing: protocol and
// port, whatever the host address, since a rule for every address shadows
// one for a single address and the other way round.
func hostPort(p runtime.PortMapping) string {
	return p.Proto() + "/" + strconv.Itoa(int(p.HostPort))
}

// awaitPortsReleased waits, with m.mu held (Wait lets it go meanwhile),
// until no background detach of e still holds rules for one of ports: the
// old container's rules would come first and take the new one's
// connections until they go.
func (m *Manager) awaitPortsReleased(e *entry, ports []runtime.PortMapping) {
	for slices.ContainsFunc(ports, func(p runtime.PortMapping) bool { return e.releasing[hostPort(p)] > 0 }) {
		m.detached.Wait()
	}
}

// awaitDetaches waits, with m.mu held (Wait lets it go meanwhile), until
// no background detach of e is pending.
func (m *Manager) awaitDetaches(e *entry) {
	for e.detaching > 0 {
		m.detached.Wait()
	}
}

func (m *Manager) entry(name string) (*entry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.nets[name]
	if !ok {
		return nil, notFound(name)
	}
	return e, nil
}

// chain is the chain for ep: with portmap when it publishes ports.
func (e *entry) chain(ep Endpoint) *libcni.NetworkConfigList {
	if len(ep.Ports) > 0 {
		return e.ports
	}
	return e.list
}

func (m *Manager) runtimeConf(ep Endpoint) *libcni.RuntimeConf {
	rt := &libcni.RuntimeConf{ContainerID: ep.ContainerID, NetNS: ep.NetNS, IfName: ifName, CapabilityArgs: map[string]any{}}
	if len(ep.Names) > 0 || len(ep.Aliases) > 0 {
		rt.CapabilityArgs[namesArg] = map[string]any{"names": ep.Names, "group": ep.Group, "aliases": ep.Aliases}
	}
	if len(ep.Ports) > 0 {
		maps := make([]map[string]any, len(ep.Ports))
		for i, p := range ep.Ports {
			pm := map[string]any{"hostPort": int(p.HostPort), "containerPort": int(p.ContainerPort), "protocol": p.Proto()}
			if p.HostIP.IsValid() {
				pm["hostIP"] = p.HostIP.String()
			}
			maps[i] = pm
		}
		rt.CapabilityArgs["portMappings"] = maps
	}
	return rt
}

// RemoveAll removes every network, the default one too, with its rules and
// bridge, and switchyard's chains: for tests, and for a node that is being
// uninstalled. Attached containers should be gone first; what attachments
// are left (a test that failed half-way, a pod nobody removed) are
// detached first, so that their port rules and addresses go too.
func (m *Manager) RemoveAll(ctx context.Context) error {
	var errs []error
	// Background detaches finish first: Collect would race them, and
	// their plugins would write IPAM state again after it is removed.
	m.mu.Lock()
	for _, e := range m.nets {
		m.awaitDetaches(e)
	}
	m.mu.Unlock()
	if err := m.Collect(ctx, nil); err != nil {
		errs = append(errs, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for name, e := range m.nets {
		if e.dns != nil {
			e.dns.close()
		}
		if err := removeRules(ctx, e.net); err != nil {
			errs = append(errs, err)
		}
		if err := deleteLink(e.net.Bridge); err != nil {
			errs = append(errs, err)
		}
		_ = os.Remove(filepath.Join(m.root, name+".conflist"))
		_ = os.RemoveAll(filepath.Join(m.root, "ipam", name))
		delete(m.nets, name)
	}
	if len(errs) == 0 {
		if err := removeChainsIfUnused(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Collect detaches every attachment in the cache that belongs to no
// container of live (CNI container ids): those of containers removed while
// their agent was not there to detach them. It releases their addresses
// and ports; their namespaces went with them.
func (m *Manager) Collect(ctx context.Context, live []string) error {
	keep := map[string]bool{}
	for _, id := range live {
		keep[id] = true
	}
	atts, err := m.cni.GetCachedAttachments("")
	if err != nil {
		return err
	}
	var errs []error
	for _, a := range atts {
		if keep[a.ContainerID] {
			continue
		}
		ep := Endpoint{ContainerID: a.ContainerID, Network: a.Network}
		if pm, ok := a.CapabilityArgs["portMappings"].([]any); ok {
			for _, v := range pm {
				if mp, ok := v.(map[string]any); ok {
					p := runtime.PortMapping{Protocol: fmt.Sprint(mp["protocol"])}
					if f, ok := mp["hostPort"].(float64); ok {
						p.HostPort = uint16(f)
					}
					if f, ok := mp["containerPort"].(float64); ok {
						p.ContainerPort = uint16(f)
					}
					if s, ok := mp["hostIP"].(string); ok {
						p.HostIP, _ = netip.ParseAddr(s)
					}
					ep.Ports = append(ep.Ports, p)
				}
			}
		}
		m.opts.log.Info("network: collecting an attachment whose container is gone", "network", a.Network, "container", a.ContainerID)
		if err := m.Detach(ctx, ep); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Publish has the default network's DNS server answer names with the
// network's gateway: the host as the containers reach it, for a workload
// that serves on the host's ports (a wasm module). id identifies the
// workload for Unpublish. It lasts as long as this Manager: the workload's
// runtime publishes it again when a new agent starts.
//
// names answer every container; aliases the containers of group alone.
func (m *Manager) Publish(id string, names []string, group string, aliases []string) {
	m.mu.Lock()
	e, ok := m.nets[DefaultName]
	m.mu.Unlock()
	if ok {
		e.names.addStatic(id, e.net.Gateway, recordNames{names: names, group: group, aliases: aliases})
	}
}

// Unpublish drops what Publish gave id.
func (m *Manager) Unpublish(id string) {
	m.mu.Lock()
	e, ok := m.nets[DefaultName]
	m.mu.Unlock()
	if ok {
		e.names.remove(id)
	}
}

// stringList turns a decoded JSON array into strings, leaving out the rest.
func stringList(v any) []string {
	raw, _ := v.([]any)
	var out []string
	for _, x := range raw {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// Rename replaces the names the network's DNS gives the container of ep
// (at addr) with ep's. The libcni cache keeps the names the container was
// attached with: a new agent answers those until the container's next
// attachment.
func (m *Manager) Rename(ep Endpoint, addr netip.Addr) {
	m.mu.Lock()
	e, ok := m.nets[ep.Network]
	m.mu.Unlock()
	if !ok {
		return
	}
	e.names.remove(ep.ContainerID)
	e.names.add(ep.ContainerID, addr, ep.recordNames())
}
