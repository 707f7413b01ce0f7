package spec

import (
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/switchyard/switchyard/runtime"
)

// Deployment is a parsed and validated deployment spec: a named set of
// services that are deployed together.
type Deployment struct {
	// Version is the spec format version; only "v1" exists.
	Version string
	// Name is the deployment's name (the YAML key "deployment").
	Name string
	// Services maps a service name to its spec. ServiceNames lists the same
	// keys in the order they appear in the file.
	Services map[string]*ServiceSpec
	// ServiceNames is the order of Services as written in the file, so that
	// output and deployment order are stable.
	ServiceNames []string
	// Externals are ZLayer's external services.
	Externals map[string]External `yaml:"externals"`
	// Tunnels are ZLayer's tunnel definitions.
	Tunnels map[string]Tunnel `yaml:"tunnels"`
	// API is ZLayer's API server block.
	API *API `yaml:"api"`
	// Warnings are the fields that parsed but that this node does not act
	// on, each with its line and why; see Warning.
	Warnings []*FieldError
}

// ServiceSpec describes one service: what image to run, where, and how.
// It is the input of runtime.Runtime's Create.
type ServiceSpec struct {
	// Name is the service's name (its key under "services").
	Name string
	// RType is the kind of workload: a long-running service or a job.
	RType RType
	// Image names the image and when to pull it.
	Image ImageSpec
	// Platform is the platform the workload declares, normalised; nil when
	// the spec does not declare one (dispatch then asks the image).
	Platform *ocispec.Platform
	// Command overrides the image's entrypoint, arguments and working dir.
	Command Command
	// Env is added to (and overrides) the image's environment.
	Env map[string]string
	// Endpoints are the network endpoints the service exposes.
	Endpoints []Endpoint
	// Resources are the service's limits.
	Resources Resources
	// Scale says how many replicas run.
	Scale Scale
	// Volumes are mounted into every replica.
	Volumes []Volume
	// RegistryAuth, when set, overrides the credentials found in the
	// keychain for this service's image. Deprecated: ZLayer has no such
	// field; credentials come from the credential store (switchyard login).
	RegistryAuth *RegistryAuth

	// ServiceOptions are the rest of ZLayer's service fields.
	ServiceOptions
}

// ServiceOptions are ZLayer's service fields beyond the ones above, read
// with its keys and defaults by their types. Which of them this node acts
// on is said by the warnings Parse returns.
type ServiceOptions struct {
	// Schedule is a cron service's schedule (seconds first, as ZLayer).
	Schedule string `yaml:"schedule" json:"schedule,omitempty"`
	// Network is the service's overlay network settings.
	Network *ServiceNetwork `yaml:"network" json:"network,omitempty"`
	// ReplicaGroups split the replicas into roles.
	ReplicaGroups []ReplicaGroup `yaml:"replica_groups" json:"replica_groups,omitempty"`
	// Depends lists the services this one waits for.
	Depends []Dependency `yaml:"depends" json:"depends,omitempty"`
	// Health is the service's health check; nil is ZLayer's default.
	Health *Health `yaml:"health" json:"health,omitempty"`
	// Init is the service's init steps.
	Init *Init `yaml:"init" json:"init,omitempty"`
	// Errors is the service's error policy.
	Errors *ErrorPolicy `yaml:"errors" json:"errors,omitempty"`
	// Lifecycle holds lifecycle switches.
	Lifecycle *Lifecycle `yaml:"lifecycle" json:"lifecycle,omitempty"`
	// Isolation is a Windows isolation mode.
	Isolation string `yaml:"isolation" enum:"auto|process|hyperv" json:"isolation,omitempty"`
	// Devices are host devices made available.
	Devices []Device `yaml:"devices" json:"devices,omitempty"`
	// Storage is what is mounted into every replica.
	Storage []Storage `yaml:"storage" json:"storage,omitempty"`
	// PortMappings are docker-style published ports.
	PortMappings []PortMappingSpec `yaml:"port_mappings" json:"port_mappings,omitempty"`
	// Capabilities are added to the default set (also cap_add).
	Capabilities []string `yaml:"capabilities" alias:"cap_add" json:"capabilities,omitempty"`
	// CapDrop are removed from it.
	CapDrop []string `yaml:"cap_drop" json:"cap_drop,omitempty"`
	// Privileged gives the workload every capability and device.
	Privileged bool `yaml:"privileged" json:"privileged,omitempty"`
	// NodeMode is shared, dedicated or exclusive placement.
	NodeMode string `yaml:"node_mode" enum:"shared|dedicated|exclusive" json:"node_mode,omitempty"`
	// NodeSelector constrains placement.
	NodeSelector *NodeSelector `yaml:"node_selector" json:"node_selector,omitempty"`
	// Affinity places replica groups.
	Affinity *Affinity `yaml:"affinity" json:"affinity,omitempty"`
	// ServiceType is ZLayer's kind of service (standard or a wasm kind).
	ServiceType string `yaml:"service_type" enum:"standard|wasm_http|wasm_plugin|wasm_transformer|wasm_authenticator|wasm_rate_limiter|wasm_middleware|wasm_router|job" json:"service_type,omitempty"`
	// Wasm configures a wasm service (also wasm_http).
	Wasm *Wasm `yaml:"wasm" alias:"wasm_http" json:"wasm,omitempty"`
	// Logs configures where logs go.
	Logs *Logs `yaml:"logs" json:"logs,omitempty"`
	// HostNetwork is the deprecated form of network_mode: host.
	HostNetwork bool `yaml:"host_network" json:"host_network,omitempty"`
	// Hostname is the workload's hostname.
	Hostname string `yaml:"hostname" json:"hostname,omitempty"`
	// DNS are the nameservers the workload uses.
	DNS []string `yaml:"dns" json:"dns,omitempty"`
	// ExtraHosts are more "name:address" lines for /etc/hosts.
	ExtraHosts []string `yaml:"extra_hosts" json:"extra_hosts,omitempty"`
	// RestartPolicy is docker's restart policy.
	RestartPolicy *RestartPolicy `yaml:"restart_policy" json:"restart_policy,omitempty"`
	// Labels are kept with every replica.
	Labels map[string]string `yaml:"labels" json:"labels,omitempty"`
	// User is the user (and group) the process runs as: name, uid or
	// uid:gid.
	User string `yaml:"user" json:"user,omitempty"`
	// StopSignal is the signal that asks the workload to stop.
	StopSignal string `yaml:"stop_signal" json:"stop_signal,omitempty"`
	// StopGracePeriod is how long a stop waits before killing.
	StopGracePeriod *Duration `yaml:"stop_grace_period" json:"stop_grace_period,omitempty"`
	// Sysctls are namespaced kernel settings.
	Sysctls map[string]string `yaml:"sysctls" json:"sysctls,omitempty"`
	// Ulimits are resource limits by name (nofile, nproc, ...).
	Ulimits map[string]Ulimit `yaml:"ulimits" json:"ulimits,omitempty"`
	// SecurityOpt are docker's security options.
	SecurityOpt []string `yaml:"security_opt" json:"security_opt,omitempty"`
	// PidMode is "host" to share the host's PID namespace.
	PidMode string `yaml:"pid_mode" json:"pid_mode,omitempty"`
	// IpcMode is "host" to share the host's IPC namespace.
	IpcMode string `yaml:"ipc_mode" json:"ipc_mode,omitempty"`
	// NetworkMode is how the workload is networked.
	NetworkMode *NetworkMode `yaml:"network_mode" json:"network_mode,omitempty"`
	// ExtraGroups are more groups the process belongs to.
	ExtraGroups []string `yaml:"extra_groups" json:"extra_groups,omitempty"`
	// ReadOnlyRootFS mounts the root filesystem read-only.
	ReadOnlyRootFS bool `yaml:"read_only_root_fs" json:"read_only_root_fs,omitempty"`
	// InitContainer runs an init process as PID 1 (docker --init).
	InitContainer *bool `yaml:"init_container" json:"init_container,omitempty"`
	// TTY gives the workload a terminal.
	TTY bool `yaml:"tty" json:"tty,omitempty"`
	// StdinOpen keeps stdin open.
	StdinOpen bool `yaml:"stdin_open" json:"stdin_open,omitempty"`
	// UsernsMode is the user namespace mode.
	UsernsMode string `yaml:"userns_mode" json:"userns_mode,omitempty"`
	// CgroupParent is the parent cgroup.
	CgroupParent string `yaml:"cgroup_parent" json:"cgroup_parent,omitempty"`
	// Expose lists ports the workload listens on (metadata, as docker's).
	Expose []string `yaml:"expose" json:"expose,omitempty"`
	// Overlay is the service's overlay mode.
	Overlay *Overlay `yaml:"overlay" json:"overlay,omitempty"`
	// LocalhostReachability says whether the service is reachable on the
	// node's loopback: auto, always or never.
	LocalhostReachability string `yaml:"localhost_reachability" enum:"auto|always|never" json:"localhost_reachability,omitempty"`

	// Secrets are switchyard's own extension: secrets of the node's store
	// mounted read-only at /run/secrets/NAME (ZLayer has no such field; a
	// file that uses it is switchyard's).
	Secrets []string `yaml:"secrets" json:"secrets,omitempty"`
	// GPU is resources.gpu, the GPU request (read with resources).
	GPU *GPU `yaml:"-" json:"gpu,omitempty"`
}

// RType is the kind of workload a service is.
type RType string

const (
	// RTypeService is a long-running workload that is restarted when it exits.
	RTypeService RType = "service"
	// RTypeJob runs to completion and is left exited.
	RTypeJob RType = "job"
	// RTypeCron runs to completion on its schedule.
	RTypeCron RType = "cron"
)

// ImageSpec names an image and its pull policy.
type ImageSpec struct {
	// Name is the image reference, as a user writes it (busybox:1.36,
	// 127.0.0.1:5000/hello@sha256:...).
	Name string
	// PullPolicy says when to pull; the default is PullIfNotPresent.
	PullPolicy PullPolicy
	// SourcePolicy is ZLayer's image source order (local_first, ...).
	SourcePolicy string
}

// PullPolicy says when an image is pulled from its registry: the
// contract's.
type PullPolicy = runtime.PullPolicy

// The pull policies, as the contract names them.
const (
	PullIfNotPresent = runtime.PullIfNotPresent
	PullAlways       = runtime.PullAlways
	PullNever        = runtime.PullNever
)

// Command overrides parts of the image's process configuration.
type Command struct {
	// Entrypoint replaces the image's entrypoint when non-empty.
	Entrypoint []string
	// Args replaces the image's cmd when non-empty.
	Args []string
	// Workdir replaces the image's working directory when non-empty.
	Workdir string
}

// Endpoint is a network endpoint a service exposes.
type Endpoint struct {
	// Name identifies the endpoint within its service.
	Name string `json:"name"`
	// Protocol is http, https, tcp or udp.
	Protocol string `json:"protocol,omitempty"`
	// Port is the endpoint's port: the host's, for a public endpoint.
	Port uint16 `json:"port"`
	// TargetPort is the port the workload listens on, when it is not Port
	// (ZLayer's target_port).
	TargetPort uint16 `json:"target_port,omitempty"`
	// Expose is public (published on the node's host port Port) or
	// internal (reachable on the deployment's network only; the default).
	Expose string `json:"expose,omitempty"`
	// Path is an http endpoint's route prefix on ZLayer's proxy.
	Path string `json:"path,omitempty"`
	// Host is an http endpoint's virtual host on ZLayer's proxy.
	Host string `json:"host,omitempty"`
	// TargetRole routes to one replica group.
	TargetRole string `json:"target_role,omitempty"`
	// Stream holds a tcp/udp endpoint's stream proxy settings.
	Stream *EndpointStream `json:"stream,omitempty"`
	// Tunnel holds the endpoint's tunnel settings.
	Tunnel *EndpointTunnel `json:"tunnel,omitempty"`
}

// Resources are a service's resource limits, the contract's: a zero value
// means no limit.
type Resources = runtime.Resources

// Scale says how many replicas of a service run.
type Scale struct {
	// Mode is fixed, adaptive or manual. A spec that leaves scale out
	// runs one replica (ZLayer's default is adaptive from 1 to 10).
	Mode string `json:"mode,omitempty"`
	// Replicas is the number of replicas this node runs: fixed's count, or
	// adaptive's minimum (default 1).
	Replicas uint32 `json:"replicas,omitempty"`
	// Min and Max are adaptive's bounds (Replicas starts at Min).
	Min uint32 `json:"min,omitempty"`
	// Max is adaptive's maximum.
	Max uint32 `json:"max,omitempty"`
	// Cooldown is adaptive's wait between changes.
	Cooldown *Duration `json:"cooldown,omitempty"`
	// Targets are adaptive's targets: cpu and memory percent, rps.
	Targets struct {
		CPU    *uint8  `yaml:"cpu" json:"cpu,omitempty"`
		Memory *uint8  `yaml:"memory" json:"memory,omitempty"`
		RPS    *uint32 `yaml:"rps" json:"rps,omitempty"`
	} `json:"targets,omitzero"`
}

// Volume is a directory mounted into a workload, the contract's: Source is
// the host directory, or empty for a volume the runtime manages, named Name.
type Volume = runtime.Volume

// RegistryAuth holds credentials for one image's registry: the contract's.
type RegistryAuth = runtime.RegistryAuth
