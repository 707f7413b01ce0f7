package cri

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/switchyard/switchyard/internal/nspin"
	"github.com/switchyard/switchyard/internal/statedir"
	"github.com/switchyard/switchyard/network"
	"github.com/switchyard/switchyard/runtime"
)

// Networks is what pods need of the node's networks: a *network.Manager.
type Networks interface {
	// Info describes a network.
	Info(name string) (network.Network, error)
	Attach(ctx context.Context, ep network.Endpoint) (network.Attachment, error)
	Detach(ctx context.Context, ep network.Endpoint) error
}

// WithNetworks gives pods the node's networks: each pod's network
// namespace is attached to the default network. Without it pods share
// the host's network alone.
func WithNetworks(n Networks) Option {
	return func(o *options) error {
		if n == nil {
			return fmt.Errorf("cri: networks are nil: %w", runtime.ErrInvalidArgument)
		}
		o.networks = n
		return nil
	}
}

// podRecord is what the node keeps of a pod sandbox, in
// ROOT/cri/pods/ID/pod.json: a pod is a pinned network namespace attached
// to the default network (no pause process), which its containers join.
type podRecord struct {
	ID          string                      `json:"id"`
	Metadata    podMetadata                 `json:"metadata"`
	Labels      map[string]string           `json:"labels,omitempty"`
	Annotations map[string]string           `json:"annotations,omitempty"`
	Created     time.Time                   `json:"created"`
	Handler     string                      `json:"handler,omitempty"`
	Hostname    string                      `json:"hostname,omitempty"`
	LogDir      string                      `json:"log_directory,omitempty"`
	HostNetwork bool                        `json:"host_network,omitempty"`
	Network     string                      `json:"network,omitempty"`
	NetNS       string                      `json:"netns,omitempty"`
	Address     netip.Addr                  `json:"address,omitzero"`
	Ports       []runtime.PortMapping       `json:"ports,omitempty"`
	DNS         *runtimeapi.DNSConfig       `json:"dns,omitempty"`
	Namespaces  *runtimeapi.NamespaceOption `json:"namespaces,omitempty"`
	Stopped     bool                        `json:"stopped,omitempty"`
	// IPCNS and UTSNS are the pod's pinned IPC and UTS namespaces, Shm
	// the tmpfs its containers share as /dev/shm, EtcDir its hosts,
	// hostname and resolv.conf: what its containers join (with NetNS).
	IPCNS string `json:"ipcns,omitempty"`
	UTSNS string `json:"utsns,omitempty"`
	// PIDNS is the holder's PID namespace, pinned: a path no reused pid
	// can make another namespace's.
	PIDNS  string `json:"pidns,omitempty"`
	Shm    string `json:"shm,omitempty"`
	EtcDir string `json:"etc_dir,omitempty"`
	// ContainerPorts are the TCP ports the pod's port mappings name,
	// published or not: what its containers say they serve.
	ContainerPorts []uint16 `json:"container_ports,omitempty"`
	// Sysctls are the pod's kernel settings, applied in its containers
	// (they share its namespaces, where the settings live).
	Sysctls map[string]string `json:"sysctls,omitempty"`
	// Holder is the process that holds the PID namespace the pod's
	// containers share, when the pod asks for one.
	Holder *holder `json:"holder,omitempty"`
	// DNSServer is the pod network's DNS server, its nameserver unless
	// the pod's DNS config names others.
	DNSServer netip.Addr `json:"dns_server,omitzero"`
}

type podMetadata struct {
	Name      string `json:"name"`
	UID       string `json:"uid"`
	Namespace string `json:"namespace"`
	Attempt   uint32 `json:"attempt"`
}

// pods orders the changes of each pod: a pod's run, stop and removal
// hold its lock alone, and so does a create of one of its containers (its
// name is checked against the others'); a start holds it shared. A
// container is then never made in a pod that is being stopped or removed.
type pods struct {
	mu    sync.Mutex
	locks map[string]*sync.RWMutex // guarded by mu
}

// lock is pod id's lock.
func (p *pods) lock(id string) *sync.RWMutex {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.locks == nil {
		p.locks = map[string]*sync.RWMutex{}
	}
	l := p.locks[id]
	if l == nil {
		l = &sync.RWMutex{}
		p.locks[id] = l
	}
	return l
}

// forget drops pod id's lock once the pod is gone.
func (p *pods) forget(id string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.locks, id)
}

// lockPod resolves ref (an id or a prefix) and takes the pod's lock
// alone; the record returned is read under it.
func (s *Server) lockPod(ref string) (*podRecord, func(), error) {
	rec, err := s.findPod(ref)
	if err != nil {
		return nil, nil, err
	}
	l := s.pods.lock(rec.ID)
	l.Lock()
	if rec, err = s.readPod(rec.ID); err != nil {
		l.Unlock()
		return nil, nil, err
	}
	return rec, l.Unlock, nil
}

// podsDir is where the pod records live.
func (s *Server) podsDir() string { return filepath.Join(s.opts.root, "cri", "pods") }

func (s *Server) podDir(id string) string { return filepath.Join(s.podsDir(), id) }

// AttachedKeys lists the network attachments of the ready pods under
// root, by the id their attachments have: a starting node collects every
// other attachment.
func AttachedKeys(root string) []string {
	ents, _ := os.ReadDir(filepath.Join(root, "cri", "pods"))
	var out []string
	for _, e := range ents {
		if !isPodID(e.Name()) {
			continue
		}
		var rec podRecord
		if ok, err := statedir.ReadJSON(filepath.Join(root, "cri", "pods", e.Name(), "pod.json"), &rec); ok && err == nil && !rec.Stopped && rec.Network != "" {
			out = append(out, cniID(rec.ID))
		}
	}
	return out
}

// cniID is a pod's attachment id.
func cniID(podID string) string { return "pod-" + podID }

func (s *Server) readPod(id string) (*podRecord, error) {
	var rec podRecord
	ok, err := statedir.ReadJSON(filepath.Join(s.podDir(id), "pod.json"), &rec)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("pod sandbox %s: %w", id, runtime.ErrNotFound)
	}
	if rec.ID != id || (rec.NetNS != "" && rec.NetNS != filepath.Join(s.podDir(id), "netns")) {
		return nil, fmt.Errorf("pod sandbox %s: its record does not describe it: %w", id, runtime.ErrFailedPrecondition)
	}
	return &rec, nil
}

func (s *Server) writePod(rec *podRecord) error {
	return statedir.WriteJSON(filepath.Join(s.podDir(rec.ID), "pod.json"), rec)
}

// isPodID reports whether ref can be a pod id or a prefix of one: 1 to 64
// lower-case hex digits, and nothing a path could be made of.
func isPodID(ref string) bool {
	if ref == "" || len(ref) > 64 {
		return false
	}
	for _, c := range ref {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// findPod resolves a pod id or a unique prefix of one.
func (s *Server) findPod(ref string) (*podRecord, error) {
	id, err := resolveID(ref, "pod sandbox", "runp", s.podIDs)
	if err != nil {
		return nil, err
	}
	return s.readPod(id)
}

// podIDs lists the ids of the pods recorded.
func (s *Server) podIDs() ([]string, error) {
	return listIDs(s.podsDir(), func(name string) (string, bool) { return name, isPodID(name) })
}

// ready reports whether the pod runs: not stopped, and its namespaces
// still there and its PID holder alive (a reboot takes them).
func (rec *podRecord) ready() bool {
	pinned := func(p string) bool { return p == "" || nspin.IsPinned(p) }
	return !rec.Stopped && (rec.HostNetwork || network.IsNamespace(rec.NetNS)) && pinned(rec.IPCNS) && pinned(rec.UTSNS) &&
		(rec.Holder == nil || rec.Holder.alive() && pinned(rec.PIDNS))
}

// RunPodSandbox implements RuntimeService: the pod's network namespace is
// made and pinned, and attached to the default network with the pod's
// port mappings; its name answers on the network's DNS.
func (s *Server) RunPodSandbox(ctx context.Context, req *runtimeapi.RunPodSandboxRequest) (*runtimeapi.RunPodSandboxResponse, error) {
	rec, err := s.runPod(ctx, req)
	if err != nil {
		return nil, s.grpcError(ctx, "RunPodSandbox", err)
	}
	return &runtimeapi.RunPodSandboxResponse{PodSandboxId: rec.ID}, nil
}

func (s *Server) runPod(ctx context.Context, req *runtimeapi.RunPodSandboxRequest) (*podRecord, error) {
	cfg := req.GetConfig()
	md := cfg.GetMetadata()
	if md.GetName() == "" || md.GetNamespace() == "" {
		return nil, fmt.Errorf("pod sandbox: metadata needs a name and a namespace: %w", runtime.ErrInvalidArgument)
	}
	if h := req.GetRuntimeHandler(); h != "" {
		if _, err := s.handlerPlatform(h); err != nil {
			return nil, err
		}
	}
	var rnd [32]byte
	_, _ = rand.Read(rnd[:])
	rec := &podRecord{
		ID:       hex.EncodeToString(rnd[:]),
		Metadata: podMetadata{Name: md.GetName(), UID: md.GetUid(), Namespace: md.GetNamespace(), Attempt: md.GetAttempt()},
		Labels:   cfg.GetLabels(), Annotations: cfg.GetAnnotations(), Created: time.Now(),
		Handler: req.GetRuntimeHandler(), Hostname: cfg.GetHostname(), LogDir: cfg.GetLogDirectory(), DNS: cfg.GetDnsConfig(),
		Namespaces: cfg.GetLinux().GetSecurityContext().GetNamespaceOptions(),
		Sysctls:    cfg.GetLinux().GetSysctls(),
	}
	if rec.LogDir != "" && !filepath.IsAbs(rec.LogDir) {
		return nil, fmt.Errorf("pod sandbox %s: log directory %q: want an absolute path: %w", md.GetName(), rec.LogDir, runtime.ErrInvalidArgument)
	}
	if rec.Hostname == "" {
		// The pod's name, cut to the 63 characters a host name may have.
		rec.Hostname = strings.TrimRight(md.GetName()[:min(len(md.GetName()), 63)], "-.")
	}
	if len(rec.Hostname) > 63 {
		return nil, fmt.Errorf("pod sandbox %s: hostname %q is longer than the 63 characters a host name may have: %w", md.GetName(), rec.Hostname, runtime.ErrInvalidArgument)
	}
	rec.HostNetwork = rec.Namespaces.GetNetwork() == runtimeapi.NamespaceMode_NODE
	if !rec.HostNetwork && s.opts.networks == nil {
		return nil, fmt.Errorf("pod sandbox %s: this node has no networks (its daemon runs with --bridge none, or without the CNI plugins); ask for the host's network: %w", md.GetName(), runtime.ErrFailedPrecondition)
	}
	for _, pm := range cfg.GetPortMappings() {
		if cp := pm.GetContainerPort(); pm.GetProtocol() == runtimeapi.Protocol_TCP && cp > 0 && cp <= 65535 && !slices.Contains(rec.ContainerPorts, uint16(cp)) {
			rec.ContainerPorts = append(rec.ContainerPorts, uint16(cp))
		}
		if pm.GetHostPort() == 0 {
			continue // a container port alone publishes nothing
		}
		if pm.GetHostPort() < 1 || pm.GetHostPort() > 65535 || pm.GetContainerPort() < 1 || pm.GetContainerPort() > 65535 {
			return nil, fmt.Errorf("pod sandbox %s: port mapping %d -> %d: ports are 1 to 65535: %w", md.GetName(), pm.GetHostPort(), pm.GetContainerPort(), runtime.ErrInvalidArgument)
		}
		p := runtime.PortMapping{HostPort: uint16(pm.GetHostPort()), ContainerPort: uint16(pm.GetContainerPort())}
		switch pm.GetProtocol() {
		case runtimeapi.Protocol_TCP:
		case runtimeapi.Protocol_UDP:
			p.Protocol = "udp"
		default:
			return nil, fmt.Errorf("pod sandbox %s: port %d: protocol %s is not supported here; use TCP or UDP: %w", md.GetName(), pm.GetContainerPort(), pm.GetProtocol(), runtime.ErrNotSupported)
		}
		if ip := pm.GetHostIp(); ip != "" {
			a, err := netip.ParseAddr(ip)
			if err != nil {
				return nil, fmt.Errorf("pod sandbox %s: host ip %q: %w", md.GetName(), ip, runtime.ErrInvalidArgument)
			}
			p.HostIP = a
		}
		rec.Ports = append(rec.Ports, p)
	}
	if rec.HostNetwork && len(rec.Ports) > 0 {
		return nil, fmt.Errorf("pod sandbox %s: port mappings need the pod's own network, not the host's: %w", md.GetName(), runtime.ErrInvalidArgument)
	}
	if len(rec.Ports) > 0 {
		// A host port someone holds fails now, naming its holder, rather
		// than leaving a pod that silently receives nothing.
		held, _, err := network.HoldPorts(rec.Ports)
		if err != nil {
			return nil, fmt.Errorf("pod sandbox %s: %w", md.GetName(), err)
		}
		for _, f := range held {
			f.Close()
		}
	}
	l := s.pods.lock(rec.ID)
	l.Lock()
	defer l.Unlock()
	dir := s.podDir(rec.ID)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			// The record stays while anything of the pod may: a removal
			// or the node's collection finishes the job.
			if s.teardownPod(context.WithoutCancel(ctx), rec) == nil {
				_ = os.RemoveAll(dir)
			}
		}
	}()
	if !rec.HostNetwork {
		rec.Network, rec.NetNS = network.DefaultName, filepath.Join(dir, "netns")
		rec.EtcDir = filepath.Join(dir, "etc")
		rec.UTSNS = filepath.Join(dir, "utsns")
	}
	if rec.Namespaces.GetIpc() != runtimeapi.NamespaceMode_NODE {
		rec.IPCNS, rec.Shm = filepath.Join(dir, "ipcns"), filepath.Join(dir, "shm")
	}
	// Recorded before the attachment, so that a failure part-way is undone
	// by the next removal or the node's collection.
	if err := s.writePod(rec); err != nil {
		return nil, err
	}
	if err := s.pinNamespaces(rec); err != nil {
		return nil, err
	}
	if rec.Namespaces.GetPid() == runtimeapi.NamespaceMode_POD {
		h, err := s.startHolder(rec.ID)
		if err != nil {
			return nil, err
		}
		rec.Holder, rec.PIDNS = h, filepath.Join(dir, "pidns")
		if err := s.writePod(rec); err != nil {
			return nil, err
		}
		if err := nspin.Bind(h.nsPath(), rec.PIDNS); err != nil {
			return nil, err
		}
	}
	if !rec.HostNetwork {
		if err := network.NewNamespace(rec.NetNS); err != nil {
			return nil, err
		}
		att, err := s.opts.networks.Attach(ctx, network.Endpoint{ContainerID: cniID(rec.ID), Network: rec.Network, NetNS: rec.NetNS,
			Ports: rec.Ports, Names: []string{rec.Hostname}})
		if err != nil {
			return nil, err
		}
		rec.Address = att.Address.Addr()
		if n, err := s.opts.networks.Info(rec.Network); err == nil {
			rec.DNSServer = n.DNS
		}
		if err := writeEtc(rec); err != nil {
			return nil, err
		}
		if err := s.writePod(rec); err != nil {
			return nil, err
		}
	}
	ok = true
	return rec, nil
}

// teardownPod releases the pod's network: its attachment (address, port
// rules, names) and its namespace. Doing it twice is fine.
func (s *Server) teardownPod(ctx context.Context, rec *podRecord) error {
	var errs []error
	rec.Holder.stop()
	// A holder the record does not name (the agent ended between its
	// start and the record) is found by its pod directory.
	killHolders(s.podDir(rec.ID))
	if rec.PIDNS != "" {
		if err := nspin.Release(rec.PIDNS); err != nil {
			errs = append(errs, err)
		}
	}
	for _, ns := range []string{rec.IPCNS, rec.UTSNS} {
		if ns != "" {
			if err := nspin.Release(ns); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if rec.Shm != "" {
		if err := unix.Unmount(rec.Shm, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
			errs = append(errs, fmt.Errorf("pod %s: /dev/shm: %w", rec.ID, err))
		}
	}
	if rec.HostNetwork || rec.NetNS == "" {
		return errors.Join(errs...)
	}
	if s.opts.networks != nil && rec.Network != "" {
		ep := network.Endpoint{ContainerID: cniID(rec.ID), Network: rec.Network, Ports: rec.Ports}
		if network.IsNamespace(rec.NetNS) {
			ep.NetNS = rec.NetNS
		}
		if err := s.opts.networks.Detach(ctx, ep); err != nil && !errors.Is(err, runtime.ErrNotFound) {
			errs = append(errs, err)
		}
	}
	if err := network.RemoveNamespace(rec.NetNS); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// StopPodSandbox implements RuntimeService: the pod's network is released;
// stopping a stopped or removed pod succeeds, as CRI asks.
func (s *Server) StopPodSandbox(ctx context.Context, req *runtimeapi.StopPodSandboxRequest) (*runtimeapi.StopPodSandboxResponse, error) {
	rec, unlock, err := s.lockPod(req.GetPodSandboxId())
	if errors.Is(err, runtime.ErrNotFound) {
		return &runtimeapi.StopPodSandboxResponse{}, nil
	}
	if err != nil {
		return nil, s.grpcError(ctx, "StopPodSandbox", err)
	}
	defer unlock()
	// Its containers first: they live in the namespaces about to go.
	for _, c := range s.podCtrs(rec.ID) {
		if err := s.rt.Stop(ctx, c.Name, 0); err != nil && !errors.Is(err, runtime.ErrNotFound) {
			return nil, s.grpcError(ctx, "StopPodSandbox", fmt.Errorf("pod sandbox %s: container %s: %w", rec.ID, c.Metadata.Name, err))
		}
	}
	if err := s.teardownPod(ctx, rec); err != nil {
		return nil, s.grpcError(ctx, "StopPodSandbox", err)
	}
	rec.Stopped = true
	if err := s.writePod(rec); err != nil {
		return nil, s.grpcError(ctx, "StopPodSandbox", err)
	}
	return &runtimeapi.StopPodSandboxResponse{}, nil
}

// RemovePodSandbox implements RuntimeService: the pod is stopped and its
// record removed; removing a removed pod succeeds, as CRI asks.
func (s *Server) RemovePodSandbox(ctx context.Context, req *runtimeapi.RemovePodSandboxRequest) (*runtimeapi.RemovePodSandboxResponse, error) {
	rec, unlock, err := s.lockPod(req.GetPodSandboxId())
	if errors.Is(err, runtime.ErrNotFound) {
		return &runtimeapi.RemovePodSandboxResponse{}, nil
	}
	if err != nil {
		return nil, s.grpcError(ctx, "RemovePodSandbox", err)
	}
	defer unlock()
	for _, c := range s.podCtrs(rec.ID) {
		if err := s.removeCtr(ctx, c); err != nil {
			return nil, s.grpcError(ctx, "RemovePodSandbox", fmt.Errorf("pod sandbox %s: container %s: %w", rec.ID, c.Metadata.Name, err))
		}
	}
	if err := s.teardownPod(ctx, rec); err != nil {
		return nil, s.grpcError(ctx, "RemovePodSandbox", err)
	}
	if err := os.RemoveAll(s.podDir(rec.ID)); err != nil {
		return nil, s.grpcError(ctx, "RemovePodSandbox", err)
	}
	s.pods.forget(rec.ID)
	return &runtimeapi.RemovePodSandboxResponse{}, nil
}

func (rec *podRecord) state() runtimeapi.PodSandboxState {
	if rec.ready() {
		return runtimeapi.PodSandboxState_SANDBOX_READY
	}
	return runtimeapi.PodSandboxState_SANDBOX_NOTREADY
}

func (rec *podRecord) metadata() *runtimeapi.PodSandboxMetadata {
	return &runtimeapi.PodSandboxMetadata{Name: rec.Metadata.Name, Uid: rec.Metadata.UID, Namespace: rec.Metadata.Namespace, Attempt: rec.Metadata.Attempt}
}

// PodSandboxStatus implements RuntimeService.
func (s *Server) PodSandboxStatus(ctx context.Context, req *runtimeapi.PodSandboxStatusRequest) (*runtimeapi.PodSandboxStatusResponse, error) {
	rec, err := s.findPod(req.GetPodSandboxId())
	if err != nil {
		return nil, s.grpcError(ctx, "PodSandboxStatus", err)
	}
	st := &runtimeapi.PodSandboxStatus{
		Id: rec.ID, Metadata: rec.metadata(), State: rec.state(), CreatedAt: rec.Created.UnixNano(),
		Labels: rec.Labels, Annotations: rec.Annotations, RuntimeHandler: rec.Handler,
		Linux: &runtimeapi.LinuxPodSandboxStatus{Namespaces: &runtimeapi.Namespace{Options: rec.Namespaces}},
	}
	if rec.Address.IsValid() && rec.ready() {
		st.Network = &runtimeapi.PodSandboxNetworkStatus{Ip: rec.Address.String()}
	}
	resp := &runtimeapi.PodSandboxStatusResponse{Status: st, Timestamp: time.Now().UnixNano()}
	if req.GetVerbose() {
		b, _ := json.Marshal(map[string]any{"netns": rec.NetNS, "network": rec.Network, "hostname": rec.Hostname})
		resp.Info = map[string]string{"info": string(b)}
	}
	return resp, nil
}

// ListPodSandbox implements RuntimeService, with CRI's filters: an id (or
// a prefix of one), a state, labels that must all match.
func (s *Server) ListPodSandbox(ctx context.Context, req *runtimeapi.ListPodSandboxRequest) (*runtimeapi.ListPodSandboxResponse, error) {
	ents, err := os.ReadDir(s.podsDir())
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, s.grpcError(ctx, "ListPodSandbox", err)
	}
	f := req.GetFilter()
	var out []*runtimeapi.PodSandbox
	for _, e := range ents {
		if !isPodID(e.Name()) {
			continue
		}
		rec, err := s.readPod(e.Name())
		if err != nil {
			continue // removed meanwhile, or half-made
		}
		if id := f.GetId(); id != "" && !strings.HasPrefix(rec.ID, id) {
			continue
		}
		if sv := f.GetState(); sv != nil && sv.GetState() != rec.state() {
			continue
		}
		if !labelsMatch(rec.Labels, f.GetLabelSelector()) {
			continue
		}
		out = append(out, &runtimeapi.PodSandbox{Id: rec.ID, Metadata: rec.metadata(), State: rec.state(), CreatedAt: rec.Created.UnixNano(),
			Labels: rec.Labels, Annotations: rec.Annotations, RuntimeHandler: rec.Handler})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].CreatedAt > out[j].CreatedAt })
	return &runtimeapi.ListPodSandboxResponse{Items: out}, nil
}

// labelsMatch reports whether labels has every label of sel.
func labelsMatch(labels, sel map[string]string) bool {
	for k, v := range sel {
		if got, ok := labels[k]; !ok || got != v {
			return false
		}
	}
	return true
}

// pinNamespaces makes the pod's IPC and UTS namespaces (the UTS one with
// the pod's hostname) and its /dev/shm, which its containers join.
func (s *Server) pinNamespaces(rec *podRecord) error {
	if rec.UTSNS != "" {
		if err := nspin.Pin(rec.UTSNS, unix.CLONE_NEWUTS, func() error { return unix.Sethostname([]byte(rec.Hostname)) }); err != nil {
			return err
		}
	}
	if rec.IPCNS != "" {
		if err := nspin.Pin(rec.IPCNS, unix.CLONE_NEWIPC, nil); err != nil {
			return err
		}
		if err := os.MkdirAll(rec.Shm, 0o1777); err != nil {
			return err
		}
		if err := unix.Mount("shm", rec.Shm, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "mode=1777,size=65536k"); err != nil {
			return fmt.Errorf("pod %s: /dev/shm: %w", rec.ID, err)
		}
	}
	return nil
}

// writeEtc writes the pod's /etc files: its hostname, its hosts (its own
// name at its address) and its resolv.conf, from the pod's DNS config
// when it has one, else with the network's DNS server and the host's
// search domains.
func writeEtc(rec *podRecord) error {
	if rec.EtcDir == "" {
		return nil
	}
	if err := os.MkdirAll(rec.EtcDir, 0o755); err != nil {
		return err
	}
	var resolv []byte
	if d := rec.DNS; d != nil && (len(d.GetServers()) > 0 || len(d.GetSearches()) > 0 || len(d.GetOptions()) > 0) {
		var b strings.Builder
		for _, srv := range d.GetServers() {
			b.WriteString("nameserver " + srv + "\n")
		}
		if len(d.GetServers()) == 0 && rec.DNSServer.IsValid() {
			b.WriteString("nameserver " + rec.DNSServer.String() + "\n")
		}
		if len(d.GetSearches()) > 0 {
			b.WriteString("search " + strings.Join(d.GetSearches(), " ") + "\n")
		}
		if len(d.GetOptions()) > 0 {
			b.WriteString("options " + strings.Join(d.GetOptions(), " ") + "\n")
		}
		resolv = []byte(b.String())
	} else {
		host, _ := os.ReadFile("/etc/resolv.conf")
		resolv = network.ResolvConf(host, rec.DNSServer)
	}
	files := map[string][]byte{
		"hostname":    []byte(rec.Hostname + "\n"),
		"hosts":       network.Hosts(rec.Hostname, rec.Address),
		"resolv.conf": resolv,
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(rec.EtcDir, name), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}
