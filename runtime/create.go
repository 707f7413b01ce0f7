package runtime

import (
	"fmt"
	"math"
	"net/netip"
	"path"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// CreateSpec is what Create is asked to make: the contract's own request,
// as containerd's runtime owns its CreateOpts. Every front door converts
// into it — the deployment spec (package spec), the Docker Engine API and
// CRI — so it says what a container is, not how it was asked for. Its JSON
// form is the body of the API's create.
type CreateSpec struct {
	// Image is the reference of the image to run. Required.
	Image string `json:"image"`
	// Runtime, when set, names the runtime that must run the container
	// (docker's --runtime, a CRI runtime handler); a composite refuses,
	// naming both, when that runtime cannot run the image. The label
	// LabelRuntime says the same.
	Runtime string `json:"runtime,omitempty"`
	// Platform is the platform the workload declares; nil routes by the
	// image's platforms. A runtime runs the manifest of this platform.
	Platform *ocispec.Platform `json:"platform,omitempty"`
	// Entrypoint, when set, replaces the image's entrypoint and drops its
	// cmd, as docker run --entrypoint does.
	Entrypoint []string `json:"entrypoint,omitempty"`
	// Args, when set, replace the image's cmd.
	Args []string `json:"args,omitempty"`
	// Workdir, when set, replaces the image's working directory.
	Workdir string `json:"workdir,omitempty"`
	// Env is KEY=VALUE entries applied over the image's environment, in
	// order: a later entry for a key wins.
	Env []string `json:"env,omitempty"`
	// Resources are the limits to apply.
	Resources Resources `json:"resources,omitzero"`
	// Volumes are the filesystems mounted into the container.
	Volumes []Volume `json:"volumes,omitempty"`
	// Labels are the caller's key/value metadata, kept with the container.
	Labels map[string]string `json:"labels,omitempty"`
	// AutoRemove asks the node to remove the container once it has exited
	// after a start (docker run --rm). A runtime only keeps the flag and
	// reports it; the agent does the removal, so a client that goes away
	// cannot leave the container behind.
	AutoRemove bool `json:"auto_remove,omitempty"`
	// Network is how the container is networked.
	Network NetworkSpec `json:"network,omitzero"`
	// User, when set, replaces the image's user: a name, a uid, or
	// user:group (docker run --user).
	User string `json:"user,omitempty"`
	// ExtraGroups are more groups, names or gids, the process is in.
	ExtraGroups []string `json:"extra_groups,omitempty"`
	// StrictGroups keeps the groups the image's /etc/group gives the user
	// out: the process is in its primary group and ExtraGroups alone
	// (Kubernetes' SupplementalGroupsPolicy Strict).
	StrictGroups bool `json:"strict_groups,omitempty"`
	// Hostname, when set, replaces the container's own (its name).
	Hostname string `json:"hostname,omitempty"`
	// TTY gives the process a terminal (docker run -t): its output, stdout
	// and stderr as one, reaches the log through it.
	TTY bool `json:"tty,omitempty"`
	// TerminalSize is the terminal's first size, rows and columns (docker
	// run -t sends the client's); zero leaves the runtime's default.
	TerminalSize [2]uint16 `json:"terminal_size,omitzero"`
	// OpenStdin keeps the process's standard input open for clients to
	// write to (docker run -i); without it the process reads end-of-file.
	OpenStdin bool `json:"open_stdin,omitempty"`
	// StdinOnce closes the input when the first client's input ends
	// (docker run -i does), so that the process reads end-of-file.
	StdinOnce bool `json:"stdin_once,omitempty"`
	// StopSignal is the signal that asks the container to stop (default
	// SIGTERM), as a name (SIGQUIT, QUIT) or a number.
	StopSignal string `json:"stop_signal,omitempty"`
	// Security holds the container's privileges and confinement.
	Security Security `json:"security,omitzero"`
	// Pod, when set, puts the container in a pod (a CRI sandbox): it joins
	// the pod's namespaces and shares its /etc files, as the containers
	// of a Kubernetes pod do. The pod's network is the container's; a
	// pod's ports are the pod's, so the container publishes none.
	Pod *Pod `json:"pod,omitempty"`
	// LogPath, when set, is a host file that gets a copy of the
	// container's output in the Kubernetes CRI log format, written by the
	// container's supervisor so that it outlives the agent. Moving the
	// file aside (a kubelet's rotation) makes the supervisor start a new
	// one at LogPath.
	LogPath string `json:"log_path,omitempty"`
	// Secrets are values the container gets that the runtime keeps out of
	// its records, its logs and Inspect: never serialised, so a request
	// that crosses the API has none.
	Secrets []Secret `json:"-"`
}

// Pod is the pod a container joins: the namespaces it pinned, by the
// paths of their files (bind mounts of /proc/PID/ns/KIND), and the
// directory of its /etc files. An empty path leaves the container its own
// namespace of that kind (or the host's, as Security and the network mode
// say).
type Pod struct {
	// ID is the pod's id, for the container's records.
	ID string `json:"id"`
	// EtcDir holds the pod's hosts, hostname and resolv.conf, which every
	// container of the pod mounts at /etc.
	EtcDir string `json:"etc_dir,omitempty"`
	// NetNS is the pod's network namespace; "" with Network.Mode host for
	// a pod on the host's network.
	NetNS string `json:"netns,omitempty"`
	// IPCNS, UTSNS and PIDNS are the pod's IPC, UTS (hostname) and PID
	// namespaces; "" gives the container its own.
	IPCNS string `json:"ipcns,omitempty"`
	UTSNS string `json:"utsns,omitempty"`
	PIDNS string `json:"pidns,omitempty"`
	// Hostname is the pod's hostname, the container's.
	Hostname string `json:"hostname,omitempty"`
	// Shm is a directory (a tmpfs of the pod's) mounted at /dev/shm in a
	// container that shares the pod's IPC namespace.
	Shm string `json:"shm,omitempty"`
	// Ports are the TCP ports the container serves on, as its front door
	// knows them (a Kubernetes container's declared ports, else every
	// port the pod maps): a runtime whose workloads are handed their
	// listening sockets (wasm) makes them in the pod's network when the
	// image declares none of its own.
	Ports []uint16 `json:"ports,omitempty"`
}

// Secret is one secret a container gets: as the environment variable Env,
// or as the file File (an absolute path, like /run/secrets/NAME, read-only).
type Secret struct {
	// Name is the secret's name in the node's store; Inspect shows Env's
	// value as $S:Name.
	Name string
	// Env is the variable that holds the value, or "".
	Env string
	// File is the path that holds the value, or "".
	File string
	// Value is the secret.
	Value []byte
}

// Security is what a container may do: its capabilities, devices, kernel
// settings, limits and the namespaces it shares with the host. The zero
// value is docker's default confinement.
type Security struct {
	// Privileged gives every capability and host device, and lifts seccomp
	// and the masked paths (docker run --privileged).
	Privileged bool `json:"privileged,omitempty"`
	// CapAdd and CapDrop change the default capability set; names with or
	// without CAP_, or ALL.
	CapAdd []string `json:"cap_add,omitempty"`
	// CapDrop removes capabilities from the default set.
	CapDrop []string `json:"cap_drop,omitempty"`
	// ReadOnlyRootFS mounts the root filesystem read-only.
	ReadOnlyRootFS bool `json:"read_only_root_fs,omitempty"`
	// AllowNewPrivileges lets setuid binaries gain privileges (docker's
	// no-new-privileges:false); the default forbids it.
	AllowNewPrivileges bool `json:"allow_new_privileges,omitempty"`
	// Seccomp is "" for the default profile, "unconfined" for none, or the
	// path of a JSON profile on the host.
	Seccomp string `json:"seccomp,omitempty"`
	// Devices are host devices made available.
	Devices []Device `json:"devices,omitempty"`
	// Sysctls are namespaced kernel settings.
	Sysctls map[string]string `json:"sysctls,omitempty"`
	// Ulimits are resource limits, within the host's hard limits.
	Ulimits []Ulimit `json:"ulimits,omitempty"`
	// PidHost and IpcHost share the host's PID and IPC namespaces.
	PidHost bool `json:"pid_host,omitempty"`
	// IpcHost shares the host's IPC namespace.
	IpcHost bool `json:"ipc_host,omitempty"`
	// MaskedPaths and ReadonlyPaths, when set, replace the default paths
	// hidden from the container and made read-only in it (CRI's security
	// context gives them; an empty list that is set unmasks all).
	MaskedPaths   []string `json:"masked_paths,omitempty"`
	ReadonlyPaths []string `json:"readonly_paths,omitempty"`
}

// Device is a host device a container may use.
type Device struct {
	// Path is the device's path on the host and in the container.
	Path string `json:"path"`
	// Access is the cgroup access: some of r, w and m (mknod); "" is rwm.
	Access string `json:"access,omitempty"`
}

// Ulimit is one resource limit: Name is nofile, nproc, core, ...
type Ulimit struct {
	// Name is the limit's name, without RLIMIT_ (nofile, nproc, ...).
	Name string `json:"name"`
	// Soft and Hard are its values.
	Soft int64 `json:"soft"`
	// Hard is the hard limit.
	Hard int64 `json:"hard"`
}

// The labels that name the runtime of a container: switchyard's own, and
// ZLayer's isolation label, which counts where a runtime of its value
// exists.
const (
	LabelRuntime         = "switchyard.runtime"
	LabelZLayerIsolation = "com.zlayer.isolation"
)

// The image annotations that name the runtime of an image: switchyard's
// own and ZLayer's runtime marker, which counts where a runtime of its
// value exists.
const (
	AnnotationRuntime       = "switchyard.runtime"
	AnnotationZLayerRuntime = "com.zlayer.runtime"
)

// Network modes a create request may name besides a network.
const (
	// NetworkBridge is the node's default network; "" means it too.
	NetworkBridge = "bridge"
	// NetworkNone gives the container loopback only.
	NetworkNone = "none"
	// NetworkHost shares the host's network (and its hostname).
	NetworkHost = "host"
	// NetworkContainerPrefix, before a container's name
	// (container:web-rep-0), shares that container's network: its
	// namespace, addresses, hostname and /etc files (docker run --network
	// container:NAME).
	NetworkContainerPrefix = "container:"
)

// JoinedContainer is the container whose network mode joins, and whether
// it names one.
func (n NetworkSpec) JoinedContainer() (ContainerID, bool, error) {
	name, ok := strings.CutPrefix(n.Mode, NetworkContainerPrefix)
	if !ok {
		return ContainerID{}, false, nil
	}
	id, err := ParseContainerID(name)
	if err != nil {
		return ContainerID{}, true, fmt.Errorf("network %q: want container:NAME, NAME a container's name such as web-rep-0: %w", n.Mode, ErrInvalidArgument)
	}
	return id, true, nil
}

// NetworkSpec says how a container is networked, as docker's --network.
type NetworkSpec struct {
	// Mode is NetworkBridge (the default, also ""), NetworkNone,
	// NetworkHost, or the name of a network of the node.
	Mode string `json:"mode,omitempty"`
	// Ports are published on the host; they need a network (not none, and
	// with host the container's ports are the host's already).
	Ports []PortMapping `json:"ports,omitempty"`
	// Aliases are more names the network's DNS answers with the
	// container's address, besides its own name and its service's (a
	// deployment's replicas get their service's name): to the containers
	// of Group alone when it is set, else to every container of the
	// network.
	Aliases []string `json:"aliases,omitempty"`
	// Group names the containers that find each other by their aliases
	// (a deployment), as compose scopes service names to its project.
	Group string `json:"group,omitempty"`
	// DNS, when set, are the container's nameservers, in place of the
	// network's DNS server (docker run --dns).
	DNS []netip.Addr `json:"dns,omitempty"`
	// ExtraHosts are more /etc/hosts entries.
	ExtraHosts []HostEntry `json:"extra_hosts,omitempty"`
}

// HostEntry is one /etc/hosts line: a name and its address.
type HostEntry struct {
	// Name is the host name.
	Name string `json:"name"`
	// Address is its address.
	Address netip.Addr `json:"address"`
}

// Resources are a container's limits; zero means none.
type Resources struct {
	// CPU is the CPU limit in cores (0.5 is half a core).
	CPU float64 `json:"cpu,omitempty"`
	// MemoryBytes is the memory limit in bytes.
	MemoryBytes int64 `json:"memory_bytes,omitempty"`
	// PidsLimit bounds the number of processes (-1: no limit; 0: the
	// runtime's default).
	PidsLimit int64 `json:"pids_limit,omitempty"`
	// Cpuset is the CPUs the container may run on, like "0-1,3".
	Cpuset string `json:"cpuset,omitempty"`
	// CPUShares is the relative CPU weight (docker's --cpu-shares).
	CPUShares uint64 `json:"cpu_shares,omitempty"`
	// MemorySwapBytes is memory plus swap (-1: unlimited swap; 0: equal to
	// the memory limit).
	MemorySwapBytes int64 `json:"memory_swap_bytes,omitempty"`
	// MemoryReservationBytes is the soft memory limit.
	MemoryReservationBytes int64 `json:"memory_reservation_bytes,omitempty"`
	// MemorySwappiness tunes swapping (0 to 100); nil keeps the host's.
	MemorySwappiness *uint8 `json:"memory_swappiness,omitempty"`
	// OOMScoreAdj is the process's OOM score adjustment; nil keeps the
	// agent's. Lowering it needs CAP_SYS_RESOURCE.
	OOMScoreAdj *int `json:"oom_score_adj,omitempty"`
	// OOMKillDisable turns the OOM killer off for the container.
	OOMKillDisable bool `json:"oom_kill_disable,omitempty"`
	// BlkioWeight is the relative block I/O weight (10 to 1000).
	BlkioWeight uint16 `json:"blkio_weight,omitempty"`
}

// Volume is a filesystem mounted into a container: a host directory
// (Source), or, without one, a directory the runtime keeps for the
// container under Name.
type Volume struct {
	// Name names the volume; unique within a container.
	Name string `json:"name"`
	// Path is where it is mounted inside the container (absolute).
	Path string `json:"path"`
	// Source is the host directory to bind; empty for a volume the runtime
	// keeps.
	Source string `json:"source,omitempty"`
	// ReadOnly mounts it read-only.
	ReadOnly bool `json:"read_only,omitempty"`
	// Kind is "" for a bind of Source or, without one, a volume kept for
	// this container; VolumeNamed for a volume the node keeps by Name,
	// shared by every container that names it and kept after they are
	// gone; VolumeTmpfs for a memory filesystem.
	Kind string `json:"kind,omitempty"`
	// SizeBytes bounds a tmpfs (0: the kernel's default, half of RAM).
	SizeBytes int64 `json:"size_bytes,omitempty"`
	// Mode is a tmpfs's permission bits (0: the kernel's default, 1777).
	Mode uint32 `json:"mode,omitempty"`
	// Propagation is a bind's mount propagation: "" or PropagationPrivate
	// (mounts made on either side stay there), PropagationSlave (mounts
	// the host makes under Source appear in the container) or
	// PropagationShared (and those the container makes appear on the
	// host). Slave and shared need Source on a shared mount of the host.
	Propagation string `json:"propagation,omitempty"`
	// RecursiveReadOnly makes every mount under a read-only bind's Source
	// read-only too, not only the bind itself (Linux 5.12's
	// mount_setattr). It needs ReadOnly and private propagation.
	RecursiveReadOnly bool `json:"recursive_read_only,omitempty"`
}

// The mount propagations of a bind (Volume.Propagation).
const (
	PropagationPrivate = "rprivate"
	PropagationSlave   = "rslave"
	PropagationShared  = "rshared"
)

// The kinds of volume besides a bind or a container's own.
const (
	// VolumeNamed is a volume the node keeps by name.
	VolumeNamed = "named"
	// VolumeTmpfs is a memory filesystem.
	VolumeTmpfs = "tmpfs"
)

// Validate checks s once for every runtime: the image is named, the platform
// has an OS, the limits are sane, env entries are KEY=VALUE, and volumes
// have distinct valid names and absolute paths. The error wraps
// ErrInvalidArgument and names the field.
func (s *CreateSpec) Validate() error {
	if s == nil {
		return fmt.Errorf("create spec: none given: %w", ErrInvalidArgument)
	}
	if strings.TrimSpace(s.Image) == "" {
		return fmt.Errorf("create spec: image: empty; name an image such as busybox:latest: %w", ErrInvalidArgument)
	}
	if p := s.Platform; p != nil && (p.OS == "" || p.Architecture == "" && p.Variant != "") {
		return fmt.Errorf("create spec: platform %s: give at least an OS (and an architecture before a variant), such as linux/amd64 or wasip1/wasm: %w",
			FormatPlatform(*p), ErrInvalidArgument)
	}
	if c := s.Resources.CPU; c < 0 || math.IsNaN(c) || math.IsInf(c, 0) {
		return fmt.Errorf("create spec: resources.cpu %v: want a number of cores >= 0 (0 = no limit): %w", c, ErrInvalidArgument)
	}
	if m := s.Resources.MemoryBytes; m < 0 {
		return fmt.Errorf("create spec: resources.memory_bytes %d: want bytes >= 0 (0 = no limit): %w", m, ErrInvalidArgument)
	}
	for i, e := range s.Env {
		if k, _, ok := strings.Cut(e, "="); !ok || k == "" || strings.ContainsAny(k, "\x00") {
			return fmt.Errorf("create spec: env[%d] %q: want KEY=VALUE with a non-empty key: %w", i, e, ErrInvalidArgument)
		}
	}
	if _, joins, err := s.Network.JoinedContainer(); joins {
		if err != nil {
			return fmt.Errorf("create spec: %w", err)
		}
		if len(s.Network.Aliases) > 0 || len(s.Network.DNS) > 0 || len(s.Network.ExtraHosts) > 0 || s.Hostname != "" {
			return fmt.Errorf("create spec: network %s: a container sharing another's network has its names, DNS and hosts; leave aliases, dns, extra hosts and hostname out: %w", s.Network.Mode, ErrInvalidArgument)
		}
	} else if m := s.Network.Mode; m != "" && CheckName(m, "network") != "" {
		return fmt.Errorf("create spec: network %q: want bridge, none, host, container:NAME or the name of a network (`switchyard network ls`): %w", m, ErrInvalidArgument)
	}
	if err := validatePorts(s.Network); err != nil {
		return err
	}
	if err := s.validatePod(); err != nil {
		return err
	}
	if s.LogPath != "" && !path.IsAbs(s.LogPath) {
		return fmt.Errorf("create spec: log_path %q: want an absolute host path: %w", s.LogPath, ErrInvalidArgument)
	}
	if err := s.validateSecurity(); err != nil {
		return err
	}
	for i, sec := range s.Secrets {
		if sec.Env == "" && sec.File == "" || sec.File != "" && !path.IsAbs(sec.File) || strings.ContainsAny(sec.Env, "=\x00") {
			return fmt.Errorf("create spec: secrets[%d] %s: want an env variable name or an absolute file path: %w", i, sec.Name, ErrInvalidArgument)
		}
	}
	for i, a := range s.Network.Aliases {
		if msg := CheckName(a, "network alias"); msg != "" {
			return fmt.Errorf("create spec: network.aliases[%d]: %s: %w", i, msg, ErrInvalidArgument)
		}
	}
	seen := map[string]bool{}
	for i, v := range s.Volumes {
		if err := ValidateVolumeName(v.Name); err != nil {
			return fmt.Errorf("create spec: volumes[%d]: %w", i, err)
		}
		if seen[v.Name] {
			return fmt.Errorf("create spec: volumes[%d]: volume %q is named twice; give each a distinct name: %w", i, v.Name, ErrInvalidArgument)
		}
		seen[v.Name] = true
		if !path.IsAbs(v.Path) {
			return fmt.Errorf("create spec: volumes[%d] %s: path %q: want an absolute path inside the container, such as /data: %w", i, v.Name, v.Path, ErrInvalidArgument)
		}
		if v.Source != "" && !path.IsAbs(v.Source) {
			return fmt.Errorf("create spec: volumes[%d] %s: source %q: want an absolute host path: %w", i, v.Name, v.Source, ErrInvalidArgument)
		}
		switch v.Kind {
		case "":
		case VolumeNamed, VolumeTmpfs:
			if v.Source != "" {
				return fmt.Errorf("create spec: volumes[%d] %s: a %s volume has no source: %w", i, v.Name, v.Kind, ErrInvalidArgument)
			}
		default:
			return fmt.Errorf("create spec: volumes[%d] %s: kind %q: want %q, %q or none: %w", i, v.Name, v.Kind, VolumeNamed, VolumeTmpfs, ErrInvalidArgument)
		}
		switch v.Propagation {
		case "", PropagationPrivate:
		case PropagationSlave, PropagationShared:
			if v.Kind != "" || v.Source == "" {
				return fmt.Errorf("create spec: volumes[%d] %s: propagation %s is for a bind of a host path: %w", i, v.Name, v.Propagation, ErrInvalidArgument)
			}
		default:
			return fmt.Errorf("create spec: volumes[%d] %s: propagation %q: want %s, %s or %s: %w", i, v.Name, v.Propagation, PropagationPrivate, PropagationSlave, PropagationShared, ErrInvalidArgument)
		}
		if v.RecursiveReadOnly && (!v.ReadOnly || v.Propagation != "" && v.Propagation != PropagationPrivate) {
			return fmt.Errorf("create spec: volumes[%d] %s: a recursive read-only mount must be read-only and private (no propagation): %w", i, v.Name, ErrInvalidArgument)
		}
		if v.Mode > 0o7777 {
			return fmt.Errorf("create spec: volumes[%d] %s: mode %o: want permission bits, at most 7777: %w", i, v.Name, v.Mode, ErrInvalidArgument)
		}
	}
	return nil
}

// validatePod checks that a container of a pod leaves the network to it:
// no network of its own, no published ports, names or hostname, and that
// the pod's paths are absolute.
func (s *CreateSpec) validatePod() error {
	p := s.Pod
	if p == nil {
		return nil
	}
	for what, v := range map[string]string{"etc_dir": p.EtcDir, "shm": p.Shm, "netns": p.NetNS, "ipcns": p.IPCNS, "utsns": p.UTSNS, "pidns": p.PIDNS} {
		if v != "" && !path.IsAbs(v) {
			return fmt.Errorf("create spec: pod.%s %q: want an absolute host path: %w", what, v, ErrInvalidArgument)
		}
	}
	switch m := s.Network.Mode; {
	case p.NetNS != "" && m != "" && m != NetworkBridge:
		return fmt.Errorf("create spec: network %s: a container of a pod is on the pod's network; leave the network out: %w", m, ErrInvalidArgument)
	case p.NetNS == "" && m != NetworkHost && m != NetworkNone:
		return fmt.Errorf("create spec: pod %s has no network namespace: give network host (a pod on the host's network) or none: %w", p.ID, ErrInvalidArgument)
	}
	if len(s.Network.Ports) > 0 || len(s.Network.Aliases) > 0 {
		return fmt.Errorf("create spec: pod %s: ports and names are the pod's; leave ports and aliases out of its containers: %w", p.ID, ErrInvalidArgument)
	}
	return nil
}

// ValidateVolumeName checks a volume name: the rule of service names
// (letters, digits, '-', '_' and '.', starting with a letter or digit),
// since a runtime keeps a named volume in a directory of that name. The
// error wraps ErrInvalidArgument.
func ValidateVolumeName(name string) error {
	if msg := CheckName(name, "volume name"); msg != "" {
		return fmt.Errorf("%s: %w", msg, ErrInvalidArgument)
	}
	return nil
}

// Lookup returns the value of key in env (KEY=VALUE entries; the last one
// wins) and whether it is set.
func Lookup(env []string, key string) (string, bool) {
	val, ok := "", false
	for _, e := range env {
		if k, v, found := strings.Cut(e, "="); found && k == key {
			val, ok = v, true
		}
	}
	return val, ok
}

// MergeEnv applies over to base (both KEY=VALUE entries): a key of over
// replaces the same key of base in place, new keys are appended in order.
func MergeEnv(base, over []string) []string {
	out := append([]string(nil), base...)
	at := map[string]int{}
	for i, e := range out {
		k, _, _ := strings.Cut(e, "=")
		at[k] = i
	}
	for _, e := range over {
		k, _, _ := strings.Cut(e, "=")
		if i, ok := at[k]; ok {
			out[i] = e
			continue
		}
		at[k] = len(out)
		out = append(out, e)
	}
	return out
}

// validatePorts checks the published ports: each has a container port and
// a known protocol, no host address and port is published twice, and the
// mode has a network to publish from.
func validatePorts(n NetworkSpec) error {
	if len(n.Ports) > 0 && (n.Mode == NetworkNone || n.Mode == NetworkHost || strings.HasPrefix(n.Mode, NetworkContainerPrefix)) {
		return fmt.Errorf("create spec: ports: a container on network %s cannot publish ports (with host its ports are the host's already): %w", n.Mode, ErrInvalidArgument)
	}
	type key struct {
		ip    netip.Addr
		port  uint16
		proto string
	}
	seen := map[key]bool{}
	for i, p := range n.Ports {
		if p.ContainerPort == 0 {
			return fmt.Errorf("create spec: ports[%d]: the container port is 0: want 1 to 65535: %w", i, ErrInvalidArgument)
		}
		if p.Proto() != "tcp" && p.Proto() != "udp" {
			return fmt.Errorf("create spec: ports[%d]: protocol %q: want tcp or udp: %w", i, p.Protocol, ErrInvalidArgument)
		}
		if p.HostIP.IsValid() && !p.HostIP.Is4() {
			return fmt.Errorf("create spec: ports[%d]: host address %s: the node's networks are IPv4; publish on an IPv4 address or on all of them: %w", i, p.HostIP, ErrInvalidArgument)
		}
		if p.HostPort == 0 {
			continue
		}
		k := key{p.HostIP, p.HostPort, p.Proto()}
		if seen[k] {
			return fmt.Errorf("create spec: ports[%d]: %s is published twice: %w", i, p, ErrInvalidArgument)
		}
		seen[k] = true
	}
	return nil
}
