package runc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/switchyard/switchyard/internal/statedir"
	"github.com/switchyard/switchyard/network"
	"github.com/switchyard/switchyard/runtime"
)

// Networks is what the runtime needs of the node's networks: a
// *network.Manager.
type Networks interface {
	// Info describes a network, without counting its containers.
	Info(name string) (network.Network, error)
	Attach(ctx context.Context, ep network.Endpoint) (network.Attachment, error)
	Detach(ctx context.Context, ep network.Endpoint) error
	// Rename replaces the names the network's DNS gives ep's container.
	Rename(ep network.Endpoint, addr netip.Addr)
}

// netFile records a container's network in its state directory. It is
// written before the namespace is made, so that whatever step a create or
// a removal stops at, the next removal or sweep can undo the attachment.
const netFile = "network.json"

// netRecord is what netFile holds.
type netRecord struct {
	// Mode is the request's mode, resolved: bridge, none, host or a
	// network's name.
	Mode string `json:"mode"`
	// Network and NetNS are set for a container on a network: the
	// network's name and the pinned namespace.
	Network string `json:"network,omitempty"`
	NetNS   string `json:"netns,omitempty"`
	// Ports are the published ports, every host port chosen: the
	// attachment's portmap rules, removed with it.
	Ports []runtime.PortMapping `json:"ports,omitempty"`
	// DNS is the network's DNS server, the container's nameserver.
	DNS netip.Addr `json:"dns,omitzero"`
	// Names are the names the network's DNS server gives the container
	// for every container of the network; Aliases for those of Group.
	Names   []string `json:"names,omitempty"`
	Group   string   `json:"group,omitempty"`
	Aliases []string `json:"aliases,omitempty"`
	// Attachment is what attaching gave, once it has.
	Attachment *network.Attachment `json:"attachment,omitempty"`
	// Hostname is the container's hostname when the request set one.
	Hostname string `json:"hostname,omitempty"`
	// Nameservers replace DNS as the container's nameservers when set.
	Nameservers []netip.Addr `json:"nameservers,omitempty"`
	// ExtraHosts are more /etc/hosts entries.
	ExtraHosts []runtime.HostEntry `json:"extra_hosts,omitempty"`
	// Joined is set for a container that shares another's network
	// (container:NAME): NetNS is the other's, which this container must
	// never tear down, and JoinedDir the other's state directory, whose
	// /etc files it shares.
	Joined    bool   `json:"joined,omitempty"`
	JoinedDir string `json:"joined_dir,omitempty"`
	// JoinedEtc, when set, is the directory of the shared /etc files in
	// place of JoinedDir/etc: a pod's.
	JoinedEtc string `json:"joined_etc,omitempty"`
}

// networkPod is the mode of a container on its pod's network.
const networkPod = "pod"

// hostname is the container's hostname: the request's, else its id cut to
// the 63 characters a host name may have.
func (rec *netRecord) hostname(id runtime.ContainerID) string {
	if rec != nil && rec.Hostname != "" {
		return rec.Hostname
	}
	return hostname(id)
}

// hosts is the container's /etc/hosts: its own name at addr, then the
// request's extra entries.
func (rec *netRecord) hosts(id runtime.ContainerID, addr netip.Addr) []byte {
	b := network.Hosts(rec.hostname(id), addr)
	for _, h := range rec.ExtraHosts {
		b = append(b, []byte(h.Address.String()+"\t"+h.Name+"\n")...)
	}
	return b
}

// networkOf resolves the request's mode: the default network when it
// names none and the runtime has networks, loopback alone when it has
// none. A named network must exist.
func (r *Runtime) networkOf(cs *runtime.CreateSpec) (netRecord, error) {
	if p := cs.Pod; p != nil && p.NetNS != "" {
		if !network.IsNamespace(p.NetNS) {
			return netRecord{}, fmt.Errorf("pod %s: its network namespace %s is gone (the pod was stopped, or the machine restarted); run the pod again: %w", p.ID, p.NetNS, runtime.ErrFailedPrecondition)
		}
		return netRecord{Mode: networkPod, NetNS: p.NetNS, Joined: true, JoinedEtc: p.EtcDir, Hostname: p.Hostname}, nil
	}
	if other, joins, err := cs.Network.JoinedContainer(); joins {
		if err != nil {
			return netRecord{}, err
		}
		return r.joinedNetwork(cs.Network.Mode, other)
	}
	mode := cs.Network.Mode
	switch mode {
	case runtime.NetworkNone, runtime.NetworkHost:
		return netRecord{Mode: mode}, nil
	case "":
		if r.opt.networks == nil {
			return netRecord{Mode: runtime.NetworkNone}, nil
		}
		mode = runtime.NetworkBridge
	}
	if r.opt.networks == nil {
		return netRecord{}, fmt.Errorf("network %s: this runtime has no networks (only none and host): %w", mode, runtime.ErrNotSupported)
	}
	name := mode
	if mode == runtime.NetworkBridge {
		name = network.DefaultName
	}
	n, err := r.opt.networks.Info(name)
	if err != nil {
		return netRecord{}, err
	}
	return netRecord{Mode: mode, Network: name, DNS: n.DNS}, nil
}

// joinedNetwork is the network of a container that shares other's: its
// pinned namespace (other must be created or running), or the host's
// when other is on the host's network.
func (r *Runtime) joinedNetwork(mode string, other runtime.ContainerID) (netRecord, error) {
	key, err := r.resolve(other)
	if err != nil {
		return netRecord{}, fmt.Errorf("network %s: container %s: %w", mode, other, runtime.ErrNotFound)
	}
	dir := r.dirOf(key)
	rec := readNet(dir)
	switch {
	case rec != nil && rec.Mode == runtime.NetworkHost:
		return netRecord{Mode: runtime.NetworkHost}, nil
	case rec != nil && rec.Joined:
		// Sharing a sharer's is sharing the first one's.
		return netRecord{Mode: mode, NetNS: rec.NetNS, Joined: true, JoinedDir: rec.JoinedDir, Hostname: rec.Hostname}, nil
	case rec == nil || rec.NetNS == "":
		return netRecord{}, fmt.Errorf("network %s: container %s has no network of its own to share (it runs with --network none); join a container on a network: %w", mode, other, runtime.ErrFailedPrecondition)
	case !network.IsNamespace(rec.NetNS):
		return netRecord{}, fmt.Errorf("network %s: container %s is not running, and its network goes with its run; start it first: %w", mode, other, runtime.ErrFailedPrecondition)
	}
	return netRecord{Mode: mode, NetNS: rec.NetNS, Joined: true, JoinedDir: dir, Hostname: rec.hostname(other)}, nil
}

// attachAsync makes the container's namespace and attaches it to its
// network in the background, so that the attachment overlaps the root
// filesystem's preparation and `runc create`. The returned wait gives the
// attachment; it must be called before the create returns.
func (r *Runtime) attachAsync(ctx context.Context, key, dir string, rec *netRecord) (wait func() error, err error) {
	rec.NetNS = filepath.Join(dir, "netns")
	// Recorded before the namespace exists, so that an agent that dies
	// next leaves the next one a namespace to tear down. Atomic, not
	// durable: a crash of the machine takes the namespace with it, and the
	// record is made durable with the attachment, before the create is
	// answered.
	if err := statedir.WriteJSONAtomic(filepath.Join(dir, netFile), rec); err != nil {
		return nil, err
	}
	if err := network.NewNamespace(rec.NetNS); err != nil {
		return nil, err
	}
	type result struct {
		att network.Attachment
		err error
	}
	done := make(chan result, 1)
	ep := network.Endpoint{ContainerID: key, Network: rec.Network, NetNS: rec.NetNS, Ports: rec.Ports,
		Names: rec.Names, Group: rec.Group, Aliases: rec.Aliases}
	// The record with the attachment is written (durably) as soon as the
	// attachment is known, while runc creates the container, from a copy:
	// the caller's record is the caller's until wait returns.
	written := *rec
	go func() {
		att, err := r.opt.networks.Attach(ctx, ep)
		if err == nil {
			written.Attachment = &att
			err = writeJSON(filepath.Join(dir, netFile), &written)
		}
		done <- result{att, err}
	}()
	return func() error {
		res := <-done
		if res.err != nil {
			return res.err
		}
		rec.Attachment = &res.att
		return nil
	}, nil
}

// detach undoes what attachAsync did for the container in dir, in a
// removal: the namespace now, and the attachment (CNI DEL of the cached
// result) through release, which the removal calls once it is done, for
// networks that release in the background: the plugins' processes then do
// not compete for the cores with the rest of the removal. Other networks
// release it now, and release is nil. A container without a network has
// nothing to undo.
func (r *Runtime) detach(ctx context.Context, key, dir string) (release func(), err error) {
	if r.opt.networks == nil {
		// The namespace goes all the same.
		_, _, err := unpinNetwork(dir)
		return nil, err
	}
	if _, err := os.Lstat(filepath.Join(dir, netFile)); errors.Is(err, fs.ErrNotExist) {
		// No network (--network none): no exit hook to order with, and
		// no lock file to make (and delete) on the removal's path.
		return nil, nil
	}
	unlock, err := lockNet(dir)
	if err != nil {
		return nil, err
	}
	defer unlock()
	// The record is not written again: the directory goes next, and a
	// removal cut short reads the old one and tears down again, which is
	// harmless.
	_, ep, err := unpinNetwork(dir)
	if err != nil || ep == nil {
		return nil, err
	}
	if ld, ok := r.opt.networks.(laterDetacher); ok {
		return func() { ld.DetachLater(*ep) }, nil
	}
	return nil, releaseAddress(ctx, r.opt.networks, *ep)
}

// laterDetacher is a Networks that can release an attachment in the
// background (network.Manager's DetachLater): a removal, which takes the
// namespace away first, need not wait for the plugins.
type laterDetacher interface {
	DetachLater(ep network.Endpoint)
}

// TeardownNetwork tears down the network of the container whose state
// directory is dir once it has exited: its namespace, its address, its
// published ports' rules. The record stays, without the attachment, so
// that the next start attaches it again. It is what a network exit hook
// (WithNetworkExitHook) calls, in a process of its own; doing it twice, or
// for a container without a network, is fine.
func TeardownNetwork(ctx context.Context, nets Networks, dir string) error {
	unlock, err := lockNet(dir)
	if err != nil {
		return err
	}
	defer unlock()
	return teardownNetwork(ctx, nets, dir)
}

// netLockFile orders the changes of a container's network record between
// the runtime and the exit hook, a process of its own (flock).
const netLockFile = "network.lock"

// lockNet takes the lock of the container's network record in dir. It is
// not reentrant: a holder calls the unlocked helpers.
func lockNet(dir string) (func(), error) {
	f, err := os.OpenFile(filepath.Join(dir, netLockFile), os.O_RDWR|os.O_CREATE|unix.O_CLOEXEC, 0o600)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return func() {}, nil // the container is gone: nothing to order
		}
		return nil, err
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
		f.Close()
		return nil, err
	}
	return func() { f.Close() }, nil // closing releases the lock
}

// teardownNetwork is TeardownNetwork with the record's lock held.
func teardownNetwork(ctx context.Context, nets Networks, dir string) error {
	rec, ep, err := unpinNetwork(dir)
	if err != nil || rec == nil {
		return err
	}
	if ep != nil {
		if err := releaseAddress(ctx, nets, *ep); err != nil {
			return err
		}
	}
	if rec.Attachment != nil {
		rec.Attachment = nil
		if err := writeJSON(filepath.Join(dir, netFile), rec); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}

// unpinNetwork removes the namespace of the container in dir, with its
// interface, in the kernel's background: then the plugins only release
// the address, which is quicker than their deleting the interface. It
// returns the container's network record (nil when the container has no
// namespace of its own: none, or a shared one, the other's to release)
// and the endpoint whose address is left to release (nil for none).
func unpinNetwork(dir string) (*netRecord, *network.Endpoint, error) {
	var rec netRecord
	if err := readJSON(filepath.Join(dir, netFile), &rec); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil, nil
		}
		return nil, nil, err
	}
	if rec.NetNS == "" || rec.Joined {
		return nil, nil, nil
	}
	if err := network.RemoveNamespace(rec.NetNS); err != nil {
		return nil, nil, err
	}
	if rec.Network == "" {
		return &rec, nil, nil
	}
	return &rec, &network.Endpoint{ContainerID: filepath.Base(dir), Network: rec.Network, Ports: rec.Ports}, nil
}

// releaseAddress releases ep's address now; a network removed meanwhile has
// nothing to release.
func releaseAddress(ctx context.Context, nets Networks, ep network.Endpoint) error {
	if err := nets.Detach(ctx, ep); err != nil && !errors.Is(err, runtime.ErrNotFound) {
		return err
	}
	return nil
}

// readNet reads the container's network record; nil when it has none
// (a container made before networks).
func readNet(dir string) *netRecord {
	var rec netRecord
	if readJSON(filepath.Join(dir, netFile), &rec) != nil {
		return nil
	}
	return &rec
}

// status is the record as Inspect reports it.
func (rec *netRecord) status() *runtime.NetworkStatus {
	st := &runtime.NetworkStatus{Mode: rec.Mode, Network: rec.Network, Ports: rec.Ports}
	if a := rec.Attachment; a != nil {
		st.Address, st.Gateway, st.MAC = a.Address, a.Gateway, a.MAC
	}
	return st
}

// etcFiles writes the container's /etc/hosts, /etc/hostname and
// /etc/resolv.conf into dir/etc, to be bind-mounted; for the host's
// network they are the host's own hosts and resolv.conf. It returns the
// mounts, destination to source.
func etcFiles(dir string, id runtime.ContainerID, rec netRecord) (map[string]string, error) {
	if rec.Joined {
		// The other container's own files: what it says of its names,
		// its DNS and its hostname holds for both.
		mounts := map[string]string{}
		etc := filepath.Join(rec.JoinedDir, "etc")
		if rec.JoinedEtc != "" {
			etc = rec.JoinedEtc
		}
		for _, name := range []string{"hosts", "hostname", "resolv.conf"} {
			p := filepath.Join(etc, name)
			if _, err := os.Stat(p); err == nil {
				mounts["/etc/"+name] = p
			}
		}
		return mounts, nil
	}
	if rec.Mode == runtime.NetworkHost && len(rec.ExtraHosts) == 0 && len(rec.Nameservers) == 0 {
		return map[string]string{"/etc/hosts": "/etc/hosts", "/etc/resolv.conf": "/etc/resolv.conf"}, nil
	}
	etc := filepath.Join(dir, "etc")
	if err := os.MkdirAll(etc, 0o755); err != nil {
		return nil, err
	}
	host := hostResolvConf(rec.DNS)
	resolv := network.ResolvConf(host, rec.DNS)
	if len(rec.Nameservers) > 0 {
		// The request's nameservers in place of any, the host's search
		// domains and options kept.
		resolv = nil
		for _, a := range rec.Nameservers {
			resolv = append(resolv, []byte("nameserver "+a.String()+"\n")...)
		}
		for _, line := range strings.Split(string(network.ResolvConf(host, netip.Addr{})), "\n") {
			if line != "" && !strings.HasPrefix(line, "nameserver ") {
				resolv = append(resolv, []byte(line+"\n")...)
			}
		}
	}
	files := map[string][]byte{
		"hosts":       rec.hosts(id, netip.Addr{}),
		"hostname":    []byte(rec.hostname(id) + "\n"),
		"resolv.conf": resolv,
	}
	if rec.Mode == runtime.NetworkHost {
		hosts, err := os.ReadFile("/etc/hosts")
		if err != nil {
			return nil, err
		}
		for _, h := range rec.ExtraHosts {
			hosts = append(hosts, []byte(h.Address.String()+"\t"+h.Name+"\n")...)
		}
		files["hosts"] = hosts
		delete(files, "hostname")
	}
	mounts := map[string]string{}
	for name, b := range files {
		p := filepath.Join(etc, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			return nil, err
		}
		mounts["/etc/"+name] = p
	}
	return mounts, nil
}

// writeHosts writes the container's /etc/hosts with its address, in
// place: the file is bind-mounted already, so it must keep its inode.
func writeHosts(dir string, id runtime.ContainerID, rec *netRecord, addr netip.Addr) error {
	return os.WriteFile(filepath.Join(dir, "etc", "hosts"), rec.hosts(id, addr), 0o644)
}

// reattach makes the container in dir a namespace and an attachment
// again when its namespace is gone (its exit hook tore its network down,
// or the machine rebooted: the pin was a mount): what is left of the old
// attachment is released, a new one made, and /etc/hosts rewritten. A container whose namespace is there is left as it
// is.
func (r *Runtime) reattach(ctx context.Context, id runtime.ContainerID, key, dir string) error {
	unlock, err := lockNet(dir)
	if err != nil {
		return err
	}
	defer unlock()
	rec := readNet(dir)
	if rec != nil && rec.Joined {
		if !network.IsNamespace(rec.NetNS) {
			if rec.Mode == networkPod {
				return fmt.Errorf("the pod's network namespace %s is gone (the pod was stopped, or the machine restarted); run the pod again: %w", rec.NetNS, runtime.ErrFailedPrecondition)
			}
			return fmt.Errorf("network %s: the container whose network this one shares is not running; start it first: %w", rec.Mode, runtime.ErrFailedPrecondition)
		}
		return nil
	}
	if rec != nil && rec.NetNS != "" && rec.Network == "" && !network.IsNamespace(rec.NetNS) {
		// Disconnected from its network, and its namespace went at its
		// exit: a namespace of loopback alone again.
		return network.NewNamespace(rec.NetNS)
	}
	if rec == nil || rec.NetNS == "" || rec.Network == "" || rec.Attachment != nil && network.IsNamespace(rec.NetNS) {
		return nil
	}
	if r.opt.networks == nil {
		return fmt.Errorf("network %s: this runtime has no networks now: %w", rec.Network, runtime.ErrNotSupported)
	}
	r.opt.logger.Debug("runc: attaching a container to its network again (its last run's network went at its exit, or with a reboot)", "container", id)
	if err := network.RemoveNamespace(rec.NetNS); err != nil {
		return err
	}
	// A network removed while the container was stopped has nothing to
	// release; the attach below says that it is gone.
	if err := r.opt.networks.Detach(ctx, network.Endpoint{ContainerID: key, Network: rec.Network, Ports: rec.Ports}); err != nil && !errors.Is(err, runtime.ErrNotFound) {
		return err
	}
	rec.Attachment = nil
	wait, err := r.attachAsync(ctx, key, dir, rec)
	if err == nil {
		err = wait()
	}
	if err == nil {
		err = writeHosts(dir, id, rec, rec.Attachment.Address.Addr())
	}
	if err != nil {
		// Left detached, so that the next start tries again from scratch.
		_ = teardownNetwork(context.WithoutCancel(ctx), r.opt.networks, dir)
		return err
	}
	return nil
}

// AttachedKeys lists the containers of this runtime attached to a network,
// by the id their attachments have (their key): a node's networks collect
// every other attachment when it starts.
func (r *Runtime) AttachedKeys() []string {
	ents, _ := os.ReadDir(filepath.Join(r.root, "containers"))
	var out []string
	for _, e := range ents {
		if rec := readNet(r.dirOf(e.Name())); rec != nil && rec.Network != "" {
			out = append(out, e.Name())
		}
	}
	return out
}

// renameOnNetwork gives the container of key in dir the names of to on
// its network, in its record and, while it is attached, in its network's
// DNS.
func (r *Runtime) renameOnNetwork(key, dir string, to runtime.ContainerID) error {
	rec := readNet(dir)
	if rec == nil || rec.Network == "" {
		return nil
	}
	rec.Names = []string{to.String(), to.Service}
	if err := writeJSON(filepath.Join(dir, netFile), rec); err != nil {
		return err
	}
	if rec.Attachment != nil && r.opt.networks != nil {
		r.opt.networks.Rename(network.Endpoint{ContainerID: key, Network: rec.Network, Names: rec.Names, Group: rec.Group, Aliases: rec.Aliases},
			rec.Attachment.Address.Addr())
	}
	return nil
}

// hostResolvConf is the host's resolv.conf a container's is made from.
// Without a network DNS server, and when the host's names only loopback
// nameservers (systemd-resolved's stub, which a container cannot reach),
// it is the file of the upstream servers that systemd-resolved keeps, as
// docker does.
func hostResolvConf(dns netip.Addr) []byte {
	host, _ := os.ReadFile("/etc/resolv.conf") // none: no nameservers
	if dns.IsValid() || bytes.Contains(network.ResolvConf(host, netip.Addr{}), []byte("nameserver")) {
		return host
	}
	if up, err := os.ReadFile("/run/systemd/resolve/resolv.conf"); err == nil {
		return up
	}
	return host
}

var _ runtime.NetworkConnector = (*Runtime)(nil)

// lockedNet is locked with the container's network record locked too,
// for a change of its network; unlock releases both.
func (r *Runtime) lockedNet(id runtime.ContainerID) (*snapshot, func(), error) {
	s, unlock, err := r.locked(id)
	if err != nil {
		return nil, nil, err
	}
	unlockNet, err := lockNet(s.dir)
	if err != nil {
		unlock()
		return nil, nil, err
	}
	return s, func() { unlockNet(); unlock() }, nil
}

// ConnectNetwork implements runtime.NetworkConnector. A container here is
// on one network at a time, on its eth0: it may join one after it was
// disconnected from the one it was made on (what docker compose does to
// every container it creates, to give it its aliases).
func (r *Runtime) ConnectNetwork(ctx context.Context, id runtime.ContainerID, name string, aliases []string) error {
	s, unlock, err := r.lockedNet(id)
	if err != nil {
		return err
	}
	defer unlock()
	if r.opt.networks == nil {
		return fmt.Errorf("container %s: connect to network %s: this runtime has no networks: %w", id, name, runtime.ErrNotSupported)
	}
	rec := readNet(s.dir)
	if rec == nil || rec.NetNS == "" {
		mode := runtime.NetworkNone
		if rec != nil {
			mode = rec.Mode
		}
		return fmt.Errorf("container %s: connect to network %s: a container made with --network %s has no namespace of its own to connect; make it again with --network %s: %w",
			id, name, mode, name, runtime.ErrFailedPrecondition)
	}
	if rec.Joined {
		return fmt.Errorf("container %s: connect to network %s: it shares another container's network (%s); connect that one: %w", id, name, rec.Mode, runtime.ErrFailedPrecondition)
	}
	if rec.Network == name {
		return fmt.Errorf("container %s is already connected to network %s: %w", id, name, runtime.ErrAlreadyExists)
	}
	if rec.Network != "" {
		return fmt.Errorf("container %s: connect to network %s: it is on network %s, and a container here is on one network at a time; disconnect it first: %w",
			id, name, rec.Network, runtime.ErrNotSupported)
	}
	n, err := r.opt.networks.Info(name)
	if err != nil {
		return fmt.Errorf("container %s: %w", id, err)
	}
	for i, a := range aliases {
		if msg := runtime.CheckName(a, "alias"); msg != "" {
			return fmt.Errorf("container %s: connect to network %s: aliases[%d]: %s: %w", id, name, i, msg, runtime.ErrInvalidArgument)
		}
	}
	mode := rec.Mode
	rec.Network, rec.DNS, rec.Aliases, rec.Attachment = name, n.DNS, aliases, nil
	if rec.Mode != runtime.NetworkBridge || name != network.DefaultName {
		rec.Mode = name
	}
	if !network.IsNamespace(rec.NetNS) {
		// Exited, its namespace gone with its run: the next start
		// attaches it.
		return writeJSON(filepath.Join(s.dir, netFile), rec)
	}
	// Recorded first, so that a removal undoes an attach cut short.
	if err := writeJSON(filepath.Join(s.dir, netFile), rec); err != nil {
		return fmt.Errorf("container %s: connect to network %s: %w", id, name, err)
	}
	ep := network.Endpoint{ContainerID: s.meta.Key, Network: rec.Network, NetNS: rec.NetNS, Ports: rec.Ports,
		Names: rec.Names, Group: rec.Group, Aliases: rec.Aliases}
	att, err := r.opt.networks.Attach(ctx, ep)
	if err == nil {
		rec.Attachment = &att
		if err = writeJSON(filepath.Join(s.dir, netFile), rec); err != nil {
			// Not recorded: the address, the port rules and the names go.
			_ = r.opt.networks.Detach(context.WithoutCancel(ctx), ep)
		}
	}
	if err != nil {
		rec.Network, rec.Attachment, rec.Mode = "", nil, mode
		_ = writeJSON(filepath.Join(s.dir, netFile), rec)
		return fmt.Errorf("container %s: connect to network %s: %w", id, name, err)
	}
	if err := writeHosts(s.dir, id, rec, rec.Attachment.Address.Addr()); err != nil {
		return fmt.Errorf("container %s: connect to network %s: %w", id, name, err)
	}
	return nil
}

// DisconnectNetwork implements runtime.NetworkConnector: the container's
// interface on the network goes and its address is released; its
// namespace stays, with loopback, and its published ports keep their
// reservations for a later connect.
func (r *Runtime) DisconnectNetwork(ctx context.Context, id runtime.ContainerID, name string) error {
	s, unlock, err := r.lockedNet(id)
	if err != nil {
		return err
	}
	defer unlock()
	rec := readNet(s.dir)
	if rec == nil || rec.Network != name {
		return fmt.Errorf("container %s is not connected to network %s: %w", id, name, runtime.ErrNotFound)
	}
	if r.opt.networks == nil {
		return fmt.Errorf("container %s: disconnect from network %s: this runtime has no networks: %w", id, name, runtime.ErrNotSupported)
	}
	ep := network.Endpoint{ContainerID: s.meta.Key, Network: rec.Network, Ports: rec.Ports}
	if rec.Attachment != nil && network.IsNamespace(rec.NetNS) {
		// With the namespace named, the plugins delete the interface in
		// it too: the namespace outlives this.
		ep.NetNS = rec.NetNS
	}
	// A network removed meanwhile (while the container was stopped) has
	// nothing left to release.
	if err := r.opt.networks.Detach(ctx, ep); err != nil && !errors.Is(err, runtime.ErrNotFound) {
		return fmt.Errorf("container %s: %w", id, err)
	}
	rec.Network, rec.Attachment, rec.DNS = "", nil, netip.Addr{}
	if err := writeJSON(filepath.Join(s.dir, netFile), rec); err != nil {
		return fmt.Errorf("container %s: disconnect from network %s: %w", id, name, err)
	}
	return writeHosts(s.dir, id, rec, netip.Addr{})
}
