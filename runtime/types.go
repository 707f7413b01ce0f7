package runtime

import (
	"net/netip"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// TailAll asks Logs and FollowLogs for every line there is.
const TailAll = -1

// LogStream names the stream a log line was written to.
type LogStream string

const (
	// Stdout is the workload's standard output.
	Stdout LogStream = "stdout"
	// Stderr is the workload's standard error.
	Stderr LogStream = "stderr"
)

// LogEntry is one line a workload wrote. Log files hold one JSON object of
// this shape a line, so every runtime writes and reads the same format.
type LogEntry struct {
	// Time is when the supervisor read the line (RFC 3339 with nanoseconds
	// in JSON).
	Time time.Time `json:"time"`
	// Stream is stdout or stderr.
	Stream LogStream `json:"stream"`
	// Text is the line without its trailing newline. A line cut short (the
	// workload ended mid-line, or the line exceeded the supervisor's limit)
	// is kept as written, and Partial is set.
	Text string `json:"text"`
	// Partial marks a line that did not end with a newline.
	Partial bool `json:"partial,omitempty"`
}

// ExecEventKind says what an ExecEvent carries.
type ExecEventKind string

const (
	// ExecStdout carries a chunk of the command's standard output.
	ExecStdout ExecEventKind = "stdout"
	// ExecStderr carries a chunk of the command's standard error.
	ExecStderr ExecEventKind = "stderr"
	// ExecExit is the final event of every stream: the command's exit code.
	ExecExit ExecEventKind = "exit"
)

// ExecEvent is one event of an exec stream: output chunks as they come, then
// exactly one ExecExit event, then io.EOF.
type ExecEvent struct {
	Kind ExecEventKind `json:"kind"`
	// Data is the chunk for ExecStdout and ExecStderr.
	Data []byte `json:"data,omitempty"`
	// ExitCode is set on the ExecExit event.
	ExitCode int `json:"exit_code"`
}

// ExecResult is the outcome of a buffered Exec.
type ExecResult struct {
	ExitCode int    `json:"exit_code"`
	Stdout   string `json:"stdout"`
	Stderr   string `json:"stderr"`
}

// Stats is a point-in-time sample of a container's resource use.
type Stats struct {
	// CPUUsageUsec is the CPU time used so far, in microseconds; nil when
	// the runtime cannot measure it honestly.
	CPUUsageUsec *uint64 `json:"cpu_usage_usec,omitempty"`
	// MemoryBytes is the memory in use.
	MemoryBytes uint64 `json:"memory_bytes"`
	// MemoryLimit is the memory limit; 0 means none.
	MemoryLimit uint64 `json:"memory_limit"`
	// PIDs is the number of processes, when the runtime knows it.
	PIDs uint64 `json:"pids,omitempty"`
	// Timestamp is when the sample was taken.
	Timestamp time.Time `json:"timestamp"`
}

// ImageInfo describes what a reference names in a runtime's store.
type ImageInfo struct {
	// Reference is the normalised reference (registry/repo:tag or @digest).
	Reference string `json:"reference"`
	// Digest is the digest of the reference's target, an index or a
	// manifest: "sha256:...".
	Digest string `json:"digest,omitempty"`
	// MediaType is the target's media type.
	MediaType string `json:"media_type,omitempty"`
	// Size is the bytes present locally (index, configs, compressed layers).
	Size int64 `json:"size,omitempty"`
	// Platforms are every platform of the target: all the entries of an
	// index, present or not, or a single manifest's own.
	Platforms []ocispec.Platform `json:"platforms,omitempty"`
	// Manifests are the target's entries, one per platform, with which of
	// them are present locally. Empty when the runtime does not say; then
	// every platform counts as present.
	Manifests []ImageManifest `json:"manifests,omitempty"`
	// Created is when the image was built, if the config says.
	Created time.Time `json:"created,omitzero"`
	// Runtimes names the runtimes that can run the image (set by the
	// composite when it merges lists).
	Runtimes []string `json:"runtimes,omitempty"`
	// Annotations are the image's own: its index's, or its manifest's.
	// AnnotationRuntime names the runtime that must run it.
	Annotations map[string]string `json:"annotations,omitempty"`
	// User is the user the image runs as, from its config (of its first
	// platform present): a name or a uid, with :group or not.
	User string `json:"user,omitempty"`
}

// ImageManifest is one platform of an image.
type ImageManifest struct {
	Platform ocispec.Platform `json:"platform"`
	// Digest is the manifest's digest.
	Digest string `json:"digest"`
	// Present reports whether the manifest's config and layers are local.
	Present bool `json:"present"`
	// Size is the bytes of its config and layers, when present.
	Size int64 `json:"size,omitempty"`
}

// PresentPlatforms returns the platforms whose content is local: those of
// the present Manifests, or every platform when Manifests is empty.
func (i ImageInfo) PresentPlatforms() []ocispec.Platform {
	if len(i.Manifests) == 0 {
		return i.Platforms
	}
	var out []ocispec.Platform
	for _, m := range i.Manifests {
		if m.Present && m.Platform.OS != "" {
			out = append(out, m.Platform)
		}
	}
	return out
}

// PruneResult is what an image prune removed.
type PruneResult struct {
	// Deleted lists the references (or digests, for untagged content) removed.
	Deleted []string `json:"deleted"`
	// SpaceReclaimed is the bytes freed.
	SpaceReclaimed uint64 `json:"space_reclaimed"`
}

// PullProgress reports the progress of one pull.
type PullProgress struct {
	// ID names what progressed: a layer digest, or the reference.
	ID string `json:"id"`
	// Status is a word for people ("resolving", "downloading", "done").
	Status string `json:"status"`
	// Current and Total are bytes; Total is 0 when unknown.
	Current int64 `json:"current,omitempty"`
	Total   int64 `json:"total,omitempty"`
}

// PullPolicy says when an image is pulled from its registry.
type PullPolicy string

const (
	// PullIfNotPresent pulls only when the image is not in the local store.
	PullIfNotPresent PullPolicy = "if_not_present"
	// PullAlways pulls every time, to pick up a moved tag.
	PullAlways PullPolicy = "always"
	// PullNever never contacts a registry; an absent image is an error.
	PullNever PullPolicy = "never"
)

// RegistryAuth holds credentials for one image's registry.
type RegistryAuth struct {
	// Username and Password are basic credentials.
	Username string
	Password string
	// Token is a bearer (identity) token; used instead of a password.
	Token string
}

// PullOptions are the options of ImageService.Pull.
type PullOptions struct {
	// Policy says whether to contact the registry; "" means
	// PullIfNotPresent.
	Policy PullPolicy
	// Auth overrides the credentials the keychain would find.
	Auth *RegistryAuth
	// Platform selects an entry of a multi-platform index; nil means the
	// runtime's own platform.
	Platform *ocispec.Platform
	// Progress, when set, is called from the pulling goroutine with each
	// progress event; it must not block for long.
	Progress func(PullProgress)
}

// Mount is a filesystem mounted into a container.
type Mount struct {
	Source      string `json:"source"`
	Destination string `json:"destination"`
	ReadOnly    bool   `json:"read_only,omitempty"`
	// Propagation is the bind's propagation when not private
	// (Volume.Propagation).
	Propagation string `json:"propagation,omitempty"`
	// RecursiveReadOnly: mounts under the bind are read-only too.
	RecursiveReadOnly bool `json:"recursive_read_only,omitempty"`
}

// Container is a container as List reports it.
type Container struct {
	ID ContainerID `json:"id"`
	// Image is the image reference the container was created from.
	Image string `json:"image"`
	// Platform is the platform the container runs as.
	Platform ocispec.Platform `json:"platform"`
	// Runtime is the Name of the runtime that runs it.
	Runtime string    `json:"runtime"`
	State   State     `json:"state"`
	Created time.Time `json:"created"`
	// AutoRemove is the create request's AutoRemove: the node removes the
	// container once it has exited after a start.
	AutoRemove bool `json:"auto_remove,omitempty"`
	// Ports are the published ports, with the host ports chosen for those
	// that asked for a free one.
	Ports []PortMapping `json:"ports,omitempty"`
	// Health is the health check's verdict on a replica the agent checks:
	// HealthStarting, HealthHealthy or HealthUnhealthy; "" for one without
	// a check. Set by the agent, not by runtimes.
	Health string `json:"health,omitempty"`
	// Command is the full argv the workload was started with.
	Command []string `json:"command,omitempty"`
	// Labels are the labels the container was created with.
	Labels map[string]string `json:"labels,omitempty"`
}

// The verdicts of a health check, as docker names them.
const (
	HealthStarting  = "starting"
	HealthHealthy   = "healthy"
	HealthUnhealthy = "unhealthy"
)

// HealthStatus is a checked replica's health as Inspect reports it,
// docker's State.Health.
type HealthStatus struct {
	// Status is the verdict.
	Status string `json:"status"`
	// FailingStreak counts the checks that failed in a row.
	FailingStreak int `json:"failing_streak"`
	// Log is the last checks, oldest first.
	Log []HealthResult `json:"log,omitempty"`
}

// HealthResult is one check.
type HealthResult struct {
	// Start and End bound the check.
	Start time.Time `json:"start"`
	// End is when it ended.
	End time.Time `json:"end"`
	// OK reports whether it passed.
	OK bool `json:"ok"`
	// Output says what it saw: the error, or the command's output.
	Output string `json:"output,omitempty"`
}

// Details is what Inspect reports about a container.
type Details struct {
	Container
	// ImageDigest is the digest of the manifest the container runs.
	ImageDigest string `json:"image_digest,omitempty"`
	// Env is the workload's environment, KEY=VALUE.
	Env []string `json:"env,omitempty"`
	// Workdir is the workload's working directory.
	Workdir    string    `json:"workdir,omitempty"`
	StartedAt  time.Time `json:"started_at,omitzero"`
	FinishedAt time.Time `json:"finished_at,omitzero"`
	// Outcome is set once the workload has ended.
	Outcome *WaitOutcome `json:"outcome,omitempty"`
	// PID is the workload's process id on the host, 0 when none.
	PID    int     `json:"pid,omitempty"`
	Mounts []Mount `json:"mounts,omitempty"`
	// Resources are the limits applied.
	Resources Resources `json:"resources"`
	// LogsDropped counts the log lines of the last run lost because the
	// disk was full.
	LogsDropped int64 `json:"logs_dropped,omitempty"`
	// StateDir is where the runtime keeps the container's state and logs.
	StateDir string `json:"state_dir,omitempty"`
	// TTY reports a terminal (its output is one stream); OpenStdin input
	// kept open for clients; StdinOnce input that ends with its first
	// client's.
	TTY       bool `json:"tty,omitempty"`
	OpenStdin bool `json:"open_stdin,omitempty"`
	StdinOnce bool `json:"stdin_once,omitempty"`
	// Network is how the container is networked; nil when the runtime
	// gives it no network of its own to report.
	Network *NetworkStatus `json:"network,omitempty"`
	// HealthCheck is the agent's health checks of the replica, when it
	// checks it.
	HealthCheck *HealthStatus `json:"health_check,omitempty"`
}

// NetworkStatus is a container's networking as Inspect reports it.
type NetworkStatus struct {
	// Mode is the create request's mode: bridge, none, host, or a
	// network's name.
	Mode string `json:"mode"`
	// Network names the network the container is attached to ("" for
	// none and host).
	Network string `json:"network,omitempty"`
	// Address is the container's address on it, with the subnet's length.
	Address netip.Prefix `json:"address,omitzero"`
	// Gateway is the network's gateway.
	Gateway netip.Addr `json:"gateway,omitzero"`
	// MAC is the container's interface's hardware address.
	MAC string `json:"mac,omitempty"`
	// Ports are the published ports, every host port chosen.
	Ports []PortMapping `json:"ports,omitempty"`
	// Note says what the runtime's networking cannot do, when there is
	// something a user would expect (a wasm module opens no connections).
	Note string `json:"note,omitempty"`
}
