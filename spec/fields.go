package spec

import (
	"time"

	"go.yaml.in/yaml/v3"
)

// The types in this file mirror ZLayer's v1 spec types field for field, with
// ZLayer's keys, value formats and defaults, so that every ZLayer file reads
// with ZLayer's meaning. Which of them this node acts on, warns about or
// refuses is said by the warnings Parse returns (see Warning) and by the
// README's table.

// Duration is a span written as ZLayer writes it ("30s", "5m", "1h 30m",
// "2days"); see ParseDuration.
type Duration time.Duration

func (d *Duration) readNode(p *problems, path string, n *yaml.Node) bool {
	s, ok := p.str(path, n)
	if !ok {
		return false
	}
	v, msg := parseDuration(s)
	if msg != "" {
		p.fail(path, at(n), "%s", msg)
		return false
	}
	*d = Duration(v)
	return true
}

// Dependency is one entry of a service's depends: a service that must reach
// a condition before this one starts.
type Dependency struct {
	// Service names the service depended on.
	Service string `yaml:"service" required:"true"`
	// Condition is started, healthy (the default) or ready.
	Condition string `yaml:"condition" enum:"started|healthy|ready" default:"healthy"`
	// Timeout bounds the wait (default 5m).
	Timeout *Duration `yaml:"timeout" default:"5m"`
	// OnTimeout is fail (the default), warn or continue.
	OnTimeout string `yaml:"on_timeout" enum:"fail|warn|continue" default:"fail"`
}

// Health is a service's health check.
type Health struct {
	// StartGrace is how long after start failures do not count.
	StartGrace *Duration `yaml:"start_grace"`
	// Interval is the time between checks.
	Interval *Duration `yaml:"interval"`
	// Timeout bounds one check.
	Timeout *Duration `yaml:"timeout"`
	// Retries is how many failures in a row make a replica unhealthy
	// (default 3).
	Retries uint32 `yaml:"retries" default:"3"`
	// Check is what is checked.
	Check HealthCheck `yaml:"check" required:"true"`
}

// HealthCheck is a tagged union on type: tcp (Port), http (URL,
// ExpectStatus) or command (Command).
type HealthCheck struct {
	// Type is tcp, http or command.
	Type string
	// Port is the tcp check's port.
	Port uint16 `yaml:"port"`
	// URL is the http check's URL.
	URL string `yaml:"url"`
	// ExpectStatus is the http status that passes (default 200).
	ExpectStatus uint16 `yaml:"expect_status"`
	// Command is the command check's shell command.
	Command string `yaml:"command"`
}

func (c *HealthCheck) readNode(p *problems, path string, n *yaml.Node) bool {
	var tcp struct {
		Port uint16 `yaml:"port" required:"true"`
	}
	var http struct {
		URL          string `yaml:"url" required:"true"`
		ExpectStatus uint16 `yaml:"expect_status" default:"200" min:"100" max:"599"`
	}
	var cmd struct {
		Command string `yaml:"command" required:"true"`
	}
	if tn := valueOf(n, "type"); tn != nil && tn.Value == "exec" {
		p.fail(field(path, "type"), at(tn), `there is no exec check; write type: command with command: "the shell command"`)
		return false
	}
	kind, ok := p.tagged(path, n, "type", map[string]any{"tcp": &tcp, "http": &http, "command": &cmd})
	if !ok {
		return false
	}
	*c = HealthCheck{Type: kind, Port: tcp.Port, URL: http.URL, ExpectStatus: http.ExpectStatus, Command: cmd.Command}
	return true
}

// valueOf is the value of key in mapping n, or nil.
func valueOf(n *yaml.Node, key string) *yaml.Node {
	if n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := resolve(n.Content[i]); k != nil && k.Value == key {
			return resolve(n.Content[i+1])
		}
	}
	return nil
}

// Init is a service's init steps, run before its process starts.
type Init struct {
	// Steps run in order.
	Steps []InitStep `yaml:"steps"`
}

// InitStep is one init step: a built-in action (Uses) with its parameters.
type InitStep struct {
	// ID names the step.
	ID string `yaml:"id" required:"true"`
	// Uses names the action, like init.wait_tcp.
	Uses string `yaml:"uses" required:"true"`
	// With holds the action's parameters, as written.
	With map[string]any `yaml:"with"`
	// Retry is how many times a failed step is tried again.
	Retry *uint32 `yaml:"retry"`
	// Timeout bounds the step.
	Timeout *Duration `yaml:"timeout"`
	// OnFailure is fail (the default), warn or continue.
	OnFailure string `yaml:"on_failure" enum:"fail|warn|continue" default:"fail"`
}

// ErrorPolicy says what happens when init fails or the workload panics.
type ErrorPolicy struct {
	// OnInitFailure is the action when init fails.
	OnInitFailure struct {
		// Action is fail (the default), restart or backoff.
		Action string `yaml:"action" enum:"fail|restart|backoff" default:"fail"`
	} `yaml:"on_init_failure"`
	// OnPanic is the action when the workload dies.
	OnPanic struct {
		// Action is restart (the default), shutdown or isolate.
		Action string `yaml:"action" enum:"restart|shutdown|isolate" default:"restart"`
	} `yaml:"on_panic"`
}

// Lifecycle holds a service's lifecycle switches.
type Lifecycle struct {
	// DeleteOnExit removes a replica once it has exited.
	DeleteOnExit bool `yaml:"delete_on_exit"`
}

// Device is a host device made available to the workload.
type Device struct {
	// Path is the device's path on the host (and in the container).
	Path string `yaml:"path" required:"true"`
	// Read allows reading (default true).
	Read bool `yaml:"read" default:"true"`
	// Write allows writing (default true).
	Write bool `yaml:"write" default:"true"`
	// Mknod allows creating the device node (default false).
	Mknod bool `yaml:"mknod"`
}

// Storage is one entry of a service's storage: a tagged union on type.
type Storage struct {
	// Type is bind, named, anonymous, tmpfs or s3.
	Type string
	// Source is a bind mount's host path.
	Source string
	// Name is a named volume's name.
	Name string
	// Target is where it appears in the workload.
	Target string
	// ReadOnly mounts it read-only.
	ReadOnly bool
	// Tier is a named or anonymous volume's storage tier (local, cached,
	// network).
	Tier string
	// Size is a named volume's or tmpfs's size, as written (like 256Mi).
	Size string
	// SizeBytes is Size in bytes (0 when not given).
	SizeBytes int64
	// Mode is a tmpfs's permission bits, as written in octal digits (1777).
	Mode *uint32
	// Bucket, Prefix, Endpoint and Credentials describe an s3 mount.
	Bucket, Prefix, Endpoint, Credentials string
}

func (s *Storage) readNode(p *problems, path string, n *yaml.Node) bool {
	var bind struct {
		Source   string `yaml:"source" required:"true"`
		Target   string `yaml:"target" required:"true"`
		ReadOnly bool   `yaml:"readonly"`
	}
	var named struct {
		Name     string `yaml:"name" required:"true"`
		Target   string `yaml:"target" required:"true"`
		ReadOnly bool   `yaml:"readonly"`
		Tier     string `yaml:"tier" enum:"local|cached|network" default:"local"`
		Size     string `yaml:"size"`
	}
	var anon struct {
		Target string `yaml:"target" required:"true"`
		Tier   string `yaml:"tier" enum:"local|cached|network" default:"local"`
	}
	var tmpfs struct {
		Target string  `yaml:"target" required:"true"`
		Size   string  `yaml:"size"`
		Mode   *uint32 `yaml:"mode"`
	}
	var s3 struct {
		Bucket      string `yaml:"bucket" required:"true"`
		Prefix      string `yaml:"prefix"`
		Target      string `yaml:"target" required:"true"`
		ReadOnly    bool   `yaml:"readonly"`
		Endpoint    string `yaml:"endpoint"`
		Credentials string `yaml:"credentials"`
	}
	kind, ok := p.tagged(path, n, "type", map[string]any{"bind": &bind, "named": &named, "anonymous": &anon, "tmpfs": &tmpfs, "s3": &s3})
	if !ok {
		return false
	}
	*s = Storage{Type: kind}
	switch kind {
	case "bind":
		s.Source, s.Target, s.ReadOnly = bind.Source, bind.Target, bind.ReadOnly
	case "named":
		s.Name, s.Target, s.ReadOnly, s.Tier, s.Size = named.Name, named.Target, named.ReadOnly, named.Tier, named.Size
	case "anonymous":
		s.Target, s.Tier = anon.Target, anon.Tier
	case "tmpfs":
		s.Target, s.Size, s.Mode = tmpfs.Target, tmpfs.Size, tmpfs.Mode
	case "s3":
		s.Bucket, s.Prefix, s.Target, s.ReadOnly, s.Endpoint, s.Credentials = s3.Bucket, s3.Prefix, s3.Target, s3.ReadOnly, s3.Endpoint, s3.Credentials
	}
	if s.Size != "" {
		v, msg := parseMemory(s.Size)
		if msg != "" {
			p.fail(field(path, "size"), position{}, "%s", msg)
			return false
		}
		s.SizeBytes = v
	}
	return true
}

// PortMappingSpec is a docker-style published port (ZLayer's
// port_mappings).
type PortMappingSpec struct {
	// HostPort is the host's port; 0 picks a free one.
	HostPort uint16 `yaml:"host_port"`
	// ContainerPort is the workload's port.
	ContainerPort uint16 `yaml:"container_port" required:"true" min:"1"`
	// Protocol is tcp (the default) or udp.
	Protocol string `yaml:"protocol" enum:"tcp|udp" default:"tcp"`
	// HostIP is the host address to publish on (default 0.0.0.0).
	HostIP string `yaml:"host_ip" default:"0.0.0.0"`
}

// NodeSelector constrains the nodes a service may be placed on.
type NodeSelector struct {
	// Labels must all match.
	Labels map[string]string `yaml:"labels"`
	// PreferLabels are preferred.
	PreferLabels map[string]string `yaml:"prefer_labels"`
}

// Affinity is ZLayer's replica group affinity: spread, pack or {pin: NODE}.
type Affinity struct {
	// Mode is spread, pack or pin.
	Mode string
	// Pin is the node pinned to.
	Pin string
}

func (a *Affinity) readNode(p *problems, path string, n *yaml.Node) bool {
	if n.Kind == yaml.ScalarNode {
		s, ok := p.str(path, n)
		if !ok {
			return false
		}
		if s != "spread" && s != "pack" {
			p.fail(path, at(n), "%q is not an affinity (want spread, pack or pin: NODE)", s)
			return false
		}
		a.Mode = s
		return true
	}
	var pin struct {
		Pin string `yaml:"pin" required:"true"`
	}
	if !p.decodeStruct(path, n, reflectValue(&pin), "") {
		return false
	}
	a.Mode, a.Pin = "pin", pin.Pin
	return true
}

// ReplicaGroup is one role of a service's replica_groups.
type ReplicaGroup struct {
	// Role names the group.
	Role string `yaml:"role" required:"true"`
	// Count is its number of replicas.
	Count uint32 `yaml:"count" required:"true" min:"1"`
	// Image overrides the service's image.
	Image *struct {
		Name         string `yaml:"name" required:"true"`
		PullPolicy   string `yaml:"pull_policy" enum:"always|newer|if_not_present|never"`
		SourcePolicy string `yaml:"source_policy" enum:"local_first|s3_first|remote_only|local_only"`
	} `yaml:"image"`
	// Env is added to the service's.
	Env map[string]string `yaml:"env"`
	// Command overrides the service's.
	Command *struct {
		Entrypoint []string `yaml:"entrypoint"`
		Args       []string `yaml:"args"`
		Workdir    string   `yaml:"workdir"`
	} `yaml:"command"`
	// Resources overrides the service's (not read further here).
	Resources map[string]any `yaml:"resources"`
	// Affinity places the group.
	Affinity *Affinity `yaml:"affinity"`
}

// ServiceNetwork is ZLayer's overlay network settings for a service.
type ServiceNetwork struct {
	// Overlays configures the service and global overlays.
	Overlays struct {
		// Service is the service's own overlay.
		Service OverlaySettings `yaml:"service"`
		// Global is the cluster-wide overlay.
		Global OverlaySettings `yaml:"global"`
	} `yaml:"overlays"`
	// Join says who may join the service's overlay.
	Join struct {
		// Mode is open, token (the default) or closed.
		Mode string `yaml:"mode" enum:"open|token|closed" default:"token"`
		// Scope is service (the default) or global.
		Scope string `yaml:"scope" enum:"service|global" default:"service"`
	} `yaml:"join"`
}

// OverlaySettings are one overlay's switches.
type OverlaySettings struct {
	// Enabled turns the overlay on (default true).
	Enabled bool `yaml:"enabled" default:"true"`
	// Encrypted encrypts it (default true).
	Encrypted bool `yaml:"encrypted" default:"true"`
	// Isolated keeps it to the service.
	Isolated bool `yaml:"isolated"`
}

// NetworkMode is ZLayer's network_mode: default, host, none, bridge,
// bridge:NAME, container:ID, or the map forms {bridge: {name}} and
// {container: {id}}.
type NetworkMode struct {
	// Mode is default, host, none, bridge or container.
	Mode string
	// Name is the bridge network's name, for bridge.
	Name string
	// ID is the container whose network is shared, for container.
	ID string
}

func (m *NetworkMode) readNode(p *problems, path string, n *yaml.Node) bool {
	const want = "want default, host, none, bridge, bridge:NAME or container:ID"
	if n.Kind == yaml.ScalarNode {
		s, ok := p.str(path, n)
		if !ok {
			return false
		}
		switch {
		case s == "default" || s == "host" || s == "none" || s == "bridge":
			m.Mode = s
		case len(s) > len("bridge:") && s[:len("bridge:")] == "bridge:":
			m.Mode, m.Name = "bridge", s[len("bridge:"):]
		case s == "bridge:":
			m.Mode = "bridge"
		case len(s) > len("container:") && s[:len("container:")] == "container:":
			m.Mode, m.ID = "container", s[len("container:"):]
		default:
			p.fail(path, at(n), "unknown network mode %q (%s)", s, want)
			return false
		}
		return true
	}
	var forms struct {
		Bridge *struct {
			Name string `yaml:"name"`
		} `yaml:"bridge"`
		Container *struct {
			ID string `yaml:"id" required:"true"`
		} `yaml:"container"`
	}
	if !p.decodeStruct(path, n, reflectValue(&forms), "") {
		return false
	}
	switch {
	case forms.Bridge != nil && forms.Container == nil:
		m.Mode, m.Name = "bridge", forms.Bridge.Name
	case forms.Container != nil && forms.Bridge == nil:
		m.Mode, m.ID = "container", forms.Container.ID
	default:
		p.fail(path, at(n), "write one of bridge: {name: NAME} or container: {id: ID} (%s)", want)
		return false
	}
	return true
}

// RestartPolicy is docker's restart policy (ZLayer's restart_policy).
type RestartPolicy struct {
	// Kind is no, always, unless_stopped or on_failure.
	Kind string `yaml:"kind" required:"true" enum:"no|always|unless_stopped|on_failure"`
	// MaxAttempts bounds on_failure restarts.
	MaxAttempts *uint32 `yaml:"max_attempts"`
	// Delay is the wait between restarts, as written.
	Delay string `yaml:"delay"`
}

// Ulimit is one resource limit; a lone bound applies to both, as docker.
type Ulimit struct {
	// Soft is the soft limit.
	Soft int64
	// Hard is the hard limit.
	Hard int64
}

func (u *Ulimit) readNode(p *problems, path string, n *yaml.Node) bool {
	if n.Kind == yaml.ScalarNode {
		// docker compose's short form: nofile: 1024.
		v, ok := p.integer(path, n, 0, 1<<62, "a limit")
		u.Soft, u.Hard = v, v
		return ok
	}
	var b struct {
		Soft *int64 `yaml:"soft"`
		Hard *int64 `yaml:"hard"`
	}
	if !p.decodeStruct(path, n, reflectValue(&b), "") {
		return false
	}
	switch {
	case b.Soft != nil && b.Hard != nil:
		u.Soft, u.Hard = *b.Soft, *b.Hard
	case b.Soft != nil:
		u.Soft, u.Hard = *b.Soft, *b.Soft
	case b.Hard != nil:
		u.Soft, u.Hard = *b.Hard, *b.Hard
	}
	if u.Soft > u.Hard {
		p.fail(path, at(n), "soft limit %d is above hard limit %d; a soft limit cannot exceed its hard one", u.Soft, u.Hard)
		return false
	}
	return true
}

// Overlay is ZLayer's per-service overlay mode.
type Overlay struct {
	// Mode is auto (the default), shared or dedicated.
	Mode string `yaml:"mode" enum:"auto|shared|dedicated" default:"auto"`
	// Parent is the parent overlay (only cluster exists).
	Parent string `yaml:"parent"`
}

// Logs is ZLayer's log destination for a service.
type Logs struct {
	// Destination is where logs go (default disk).
	Destination string `yaml:"destination" default:"disk"`
	// MaxSizeBytes bounds the log (default 100 MiB).
	MaxSizeBytes uint64 `yaml:"max_size_bytes" default:"104857600"`
	// RetentionSecs is how long logs are kept (default 7 days).
	RetentionSecs uint64 `yaml:"retention_secs" default:"604800"`
}

// Wasm is the wasm block of a wasm service (ZLayer's WasmConfig).
type Wasm struct {
	// MinInstances and MaxInstances bound the instance pool.
	MinInstances uint32 `yaml:"min_instances"`
	// MaxInstances is the most instances (default 10).
	MaxInstances uint32 `yaml:"max_instances" default:"10"`
	// IdleTimeout stops an idle instance (default 5m).
	IdleTimeout *Duration `yaml:"idle_timeout"`
	// RequestTimeout bounds a request (default 30s).
	RequestTimeout *Duration `yaml:"request_timeout"`
	// MaxMemory is the module's memory limit (like 64Mi).
	MaxMemory string `yaml:"max_memory"`
	// MaxFuel bounds instructions (0: no bound).
	MaxFuel uint64 `yaml:"max_fuel"`
	// EpochInterval is the interruption check interval.
	EpochInterval *Duration `yaml:"epoch_interval"`
	// Capabilities are the host capabilities granted.
	Capabilities *struct {
		Config     bool `yaml:"config" default:"true"`
		Keyvalue   bool `yaml:"keyvalue" default:"true"`
		Logging    bool `yaml:"logging" default:"true"`
		Secrets    bool `yaml:"secrets"`
		Metrics    bool `yaml:"metrics" default:"true"`
		HTTPClient bool `yaml:"http_client"`
		CLI        bool `yaml:"cli"`
		Filesystem bool `yaml:"filesystem"`
		Sockets    bool `yaml:"sockets"`
	} `yaml:"capabilities"`
	// AllowHTTPOutgoing allows outgoing HTTP (default true).
	AllowHTTPOutgoing bool `yaml:"allow_http_outgoing" default:"true"`
	// AllowedHosts limits outgoing HTTP.
	AllowedHosts []string `yaml:"allowed_hosts"`
	// AllowTCP and AllowUDP allow raw sockets.
	AllowTCP bool `yaml:"allow_tcp"`
	// AllowUDP allows UDP sockets.
	AllowUDP bool `yaml:"allow_udp"`
	// Preopens are host directories the module sees.
	Preopens []struct {
		Source   string `yaml:"source" required:"true"`
		Target   string `yaml:"target" required:"true"`
		Readonly bool   `yaml:"readonly"`
	} `yaml:"preopens"`
	// KVEnabled, KVNamespace and KVMaxValueSize configure the key-value
	// store.
	KVEnabled bool `yaml:"kv_enabled" default:"true"`
	// KVNamespace names the key-value namespace.
	KVNamespace string `yaml:"kv_namespace"`
	// KVMaxValueSize bounds a value (default 1 MiB).
	KVMaxValueSize uint64 `yaml:"kv_max_value_size" default:"1048576"`
	// Secrets names the secrets the module may read.
	Secrets []string `yaml:"secrets"`
	// Precompile compiles ahead of time (default true).
	Precompile bool `yaml:"precompile" default:"true"`
}

// GPU is a GPU request (ZLayer's resources.gpu).
type GPU struct {
	// Count is the number of GPUs (default 1).
	Count uint32 `yaml:"count" default:"1"`
	// Vendor is nvidia (the default), amd, intel or apple.
	Vendor string `yaml:"vendor" default:"nvidia"`
	// Mode, Model and the rest are passed on as written.
	Mode string `yaml:"mode"`
	// Model names the GPU model.
	Model string `yaml:"model"`
	// Scheduling is best-effort, gang or spread.
	Scheduling string `yaml:"scheduling" enum:"best-effort|gang|spread"`
	// Distributed configures distributed training.
	Distributed *struct {
		Backend    string `yaml:"backend" default:"nccl"`
		MasterPort uint16 `yaml:"master_port" default:"29500"`
	} `yaml:"distributed"`
	// Sharing is exclusive, mps or time-slice.
	Sharing string `yaml:"sharing" enum:"exclusive|mps|time-slice"`
	// MPSPipeDir, MPSLogDir, TimeSliceIndex and TimeSlicingConfigPath
	// configure sharing.
	MPSPipeDir string `yaml:"mps_pipe_dir"`
	// MPSLogDir is the MPS log directory.
	MPSLogDir string `yaml:"mps_log_dir"`
	// TimeSliceIndex is this replica's time slice.
	TimeSliceIndex *uint32 `yaml:"time_slice_index"`
	// TimeSlicingConfigPath is the time-slicing config.
	TimeSlicingConfigPath string `yaml:"time_slicing_config_path"`
}

// EndpointStream is a tcp/udp endpoint's stream proxy settings.
type EndpointStream struct {
	// TLS terminates TLS.
	TLS bool `yaml:"tls"`
	// ProxyProtocol sends the PROXY protocol header.
	ProxyProtocol bool `yaml:"proxy_protocol"`
	// SessionTimeout ends idle sessions, as written.
	SessionTimeout string `yaml:"session_timeout"`
	// HealthCheck is tcp_connect or udp_probe.
	HealthCheck *StreamHealthCheck `yaml:"health_check"`
}

// StreamHealthCheck is a tagged union on type: tcp_connect, or udp_probe
// with Request and Expect.
type StreamHealthCheck struct {
	// Type is tcp_connect or udp_probe.
	Type string
	// Request and Expect are the udp probe's.
	Request, Expect string
}

func (c *StreamHealthCheck) readNode(p *problems, path string, n *yaml.Node) bool {
	var udp struct {
		Request string `yaml:"request" required:"true"`
		Expect  string `yaml:"expect"`
	}
	kind, ok := p.tagged(path, n, "type", map[string]any{"tcp_connect": nil, "udp_probe": &udp})
	*c = StreamHealthCheck{Type: kind, Request: udp.Request, Expect: udp.Expect}
	return ok
}

// EndpointTunnel is an endpoint's tunnel settings.
type EndpointTunnel struct {
	// Enabled turns the tunnel on.
	Enabled bool `yaml:"enabled"`
	// From and To name the nodes.
	From string `yaml:"from"`
	// To is the tunnel's far node.
	To string `yaml:"to"`
	// RemotePort is the far port (0 picks one).
	RemotePort uint16 `yaml:"remote_port"`
	// Expose is public or internal.
	Expose string `yaml:"expose" enum:"public|internal"`
	// Access controls on-demand access.
	Access *struct {
		Enabled bool      `yaml:"enabled"`
		MaxTTL  *Duration `yaml:"max_ttl"`
		Audit   bool      `yaml:"audit"`
	} `yaml:"access"`
}

// External is a top-level external service: backends outside the
// deployment reached through its proxy.
type External struct {
	// Backends are the addresses.
	Backends []string `yaml:"backends" required:"true"`
	// Endpoints are its endpoints (read as the services' are not: kept as
	// written).
	Endpoints []map[string]any `yaml:"endpoints"`
	// Health is its health check.
	Health *Health `yaml:"health"`
}

// Tunnel is a top-level tunnel definition.
type Tunnel struct {
	// From and To name the nodes.
	From string `yaml:"from" required:"true"`
	// To is the far node.
	To string `yaml:"to" required:"true"`
	// LocalPort and RemotePort are the two ends' ports.
	LocalPort uint16 `yaml:"local_port" required:"true" min:"1"`
	// RemotePort is the far end's port.
	RemotePort uint16 `yaml:"remote_port" required:"true" min:"1"`
	// Protocol is tcp (the default) or udp.
	Protocol string `yaml:"protocol" enum:"tcp|udp" default:"tcp"`
	// Expose is public or internal (the default).
	Expose string `yaml:"expose" enum:"public|internal" default:"internal"`
}

// API is ZLayer's per-deployment API server settings.
type API struct {
	// Enabled turns it on (default true).
	Enabled bool `yaml:"enabled" default:"true"`
	// Bind is its address (default 0.0.0.0:3669).
	Bind string `yaml:"bind" default:"0.0.0.0:3669"`
	// JWTSecret signs its tokens.
	JWTSecret string `yaml:"jwt_secret"`
	// Swagger serves its API docs (default true).
	Swagger bool `yaml:"swagger" default:"true"`
}
