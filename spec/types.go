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
	// keychain for this service's image.
	RegistryAuth *RegistryAuth
}

// RType is the kind of workload a service is.
type RType string

const (
	// RTypeService is a long-running workload that is restarted when it exits.
	RTypeService RType = "service"
	// RTypeJob runs to completion and is left exited.
	RTypeJob RType = "job"
)

// ImageSpec names an image and its pull policy.
type ImageSpec struct {
	// Name is the image reference, as a user writes it (busybox:1.36,
	// 127.0.0.1:5000/hello@sha256:...).
	Name string
	// PullPolicy says when to pull; the default is PullIfNotPresent.
	PullPolicy PullPolicy
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
	Name string
	// Protocol is http, https, tcp or udp.
	Protocol string
	// Port is the endpoint's port: the host's, for a public endpoint.
	Port uint16
	// TargetPort is the port the workload listens on, when it is not Port
	// (ZLayer's target_port).
	TargetPort uint16
	// Expose is public (published on the node's host port Port) or
	// internal (reachable on the deployment's network only; the default).
	Expose string
}

// Resources are a service's resource limits, the contract's: a zero value
// means no limit.
type Resources = runtime.Resources

// Scale says how many replicas of a service run.
type Scale struct {
	// Replicas is the fixed number of replicas (default 1).
	Replicas uint32
}

// Volume is a directory mounted into a workload, the contract's: Source is
// the host directory, or empty for a volume the runtime manages, named Name.
type Volume = runtime.Volume

// RegistryAuth holds credentials for one image's registry: the contract's.
type RegistryAuth = runtime.RegistryAuth
