package api

import (
	"fmt"
	"io"
	"math"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/switchyard/switchyard/runtime"
	"github.com/switchyard/switchyard/spec"
)

// ServiceSpec is the JSON form of spec.ServiceSpec, the body of a create.
// Field names follow the deployment spec's YAML where it has them (rtype,
// image.name, image.pull_policy).
type ServiceSpec struct {
	Name         string            `json:"name"`
	RType        spec.RType        `json:"rtype,omitempty"`
	Image        ImageSpec         `json:"image"`
	Platform     *ocispec.Platform `json:"platform,omitempty"`
	Command      Command           `json:"command,omitzero"`
	Env          map[string]string `json:"env,omitempty"`
	Endpoints    []Endpoint        `json:"endpoints,omitempty"`
	Resources    Resources         `json:"resources,omitzero"`
	Scale        Scale             `json:"scale,omitzero"`
	Volumes      []Volume          `json:"volumes,omitempty"`
	RegistryAuth *RegistryAuth     `json:"registry_auth,omitempty"`
	// The rest of ZLayer's fields, flattened, with their YAML names.
	spec.ServiceOptions
}

// ImageSpec is the JSON form of spec.ImageSpec.
type ImageSpec struct {
	Name         string          `json:"name"`
	PullPolicy   spec.PullPolicy `json:"pull_policy,omitempty"`
	SourcePolicy string          `json:"source_policy,omitempty"`
}

// Command is the JSON form of spec.Command.
type Command struct {
	Entrypoint []string `json:"entrypoint,omitempty"`
	Args       []string `json:"args,omitempty"`
	Workdir    string   `json:"workdir,omitempty"`
}

// Endpoint is the JSON form of spec.Endpoint: the same.
type Endpoint = spec.Endpoint

// Resources is the JSON form of spec.Resources: the contract's.
type Resources = runtime.Resources

// Scale is the JSON form of spec.Scale: the same.
type Scale = spec.Scale

// Volume is the JSON form of spec.Volume: the contract's.
type Volume = runtime.Volume

// RegistryAuth is the JSON form of spec.RegistryAuth.
type RegistryAuth struct {
	Username string `json:"username,omitempty"`
	Password string `json:"password,omitempty"`
	Token    string `json:"token,omitempty"`
}

// FromServiceSpec returns the wire form of svc.
func FromServiceSpec(svc *spec.ServiceSpec) ServiceSpec {
	w := ServiceSpec{
		Name:           svc.Name,
		RType:          svc.RType,
		Image:          ImageSpec{Name: svc.Image.Name, PullPolicy: svc.Image.PullPolicy, SourcePolicy: svc.Image.SourcePolicy},
		Platform:       svc.Platform,
		Command:        Command(svc.Command),
		Env:            svc.Env,
		Endpoints:      svc.Endpoints,
		Resources:      svc.Resources,
		Scale:          svc.Scale,
		ServiceOptions: svc.ServiceOptions,
	}
	w.Volumes = svc.Volumes
	w.RegistryAuth = FromRegistryAuth(svc.RegistryAuth)
	return w
}

// FromRegistryAuth returns the wire form of a; nil for nil.
func FromRegistryAuth(a *spec.RegistryAuth) *RegistryAuth {
	if a == nil {
		return nil
	}
	w := RegistryAuth(*a)
	return &w
}

// Spec returns the spec.RegistryAuth of a; nil for nil.
func (a *RegistryAuth) Spec() *spec.RegistryAuth {
	if a == nil {
		return nil
	}
	s := spec.RegistryAuth(*a)
	return &s
}

// Spec checks the wire form and returns the spec.ServiceSpec it describes.
// Empty lists and maps become nil, so that a spec survives a round trip
// unchanged. The error wraps runtime.ErrInvalidArgument and says which field
// is wrong and what it may be.
func (w ServiceSpec) Spec() (*spec.ServiceSpec, error) {
	switch w.RType {
	case "", spec.RTypeService, spec.RTypeJob, spec.RTypeCron:
	default:
		return nil, fmt.Errorf("service spec: rtype %q: want %q, %q or %q: %w", w.RType, spec.RTypeService, spec.RTypeJob, spec.RTypeCron, runtime.ErrInvalidArgument)
	}
	switch w.Image.PullPolicy {
	case "", spec.PullIfNotPresent, spec.PullAlways, spec.PullNever:
	default:
		return nil, fmt.Errorf("service spec: image.pull_policy %q: want %q, %q or %q: %w",
			w.Image.PullPolicy, spec.PullIfNotPresent, spec.PullAlways, spec.PullNever, runtime.ErrInvalidArgument)
	}
	if p := w.Platform; p != nil && (p.OS == "" || p.Architecture == "" && p.Variant != "") {
		return nil, fmt.Errorf("service spec: platform %+v: give at least \"os\" (and \"architecture\" before \"variant\"), as in {\"os\":\"linux\",\"architecture\":\"amd64\"}: %w",
			*p, runtime.ErrInvalidArgument)
	}
	if c := w.Resources.CPU; c < 0 || math.IsNaN(c) || math.IsInf(c, 0) {
		return nil, fmt.Errorf("service spec: resources.cpu %v: want a number of cores >= 0 (0 = no limit): %w", c, runtime.ErrInvalidArgument)
	}
	if w.Resources.MemoryBytes < 0 {
		return nil, fmt.Errorf("service spec: resources.memory_bytes %d: want bytes >= 0 (0 = no limit): %w", w.Resources.MemoryBytes, runtime.ErrInvalidArgument)
	}
	svc := &spec.ServiceSpec{
		Name:           w.Name,
		RType:          w.RType,
		Image:          spec.ImageSpec{Name: w.Image.Name, PullPolicy: w.Image.PullPolicy, SourcePolicy: w.Image.SourcePolicy},
		Command:        spec.Command{Entrypoint: nilIfEmpty(w.Command.Entrypoint), Args: nilIfEmpty(w.Command.Args), Workdir: w.Command.Workdir},
		Resources:      w.Resources,
		Scale:          w.Scale,
		Endpoints:      nilIfEmpty(w.Endpoints),
		ServiceOptions: w.ServiceOptions,
	}
	if w.Platform != nil {
		p := *w.Platform
		p.OSFeatures = nilIfEmpty(p.OSFeatures)
		svc.Platform = &p
	}
	if len(w.Env) > 0 {
		svc.Env = w.Env
	}
	svc.Volumes = nilIfEmpty(w.Volumes)
	svc.RegistryAuth = w.RegistryAuth.Spec()
	return svc, nil
}

// DecodeServiceSpec reads one JSON ServiceSpec from r, strictly (unknown
// fields and trailing data are errors), and returns the spec it describes.
// The error wraps runtime.ErrInvalidArgument.
func DecodeServiceSpec(r io.Reader) (*spec.ServiceSpec, error) {
	var w *ServiceSpec
	if err := Decode(r, &w, "service spec"); err != nil {
		return nil, err
	}
	if w == nil {
		return nil, fmt.Errorf("service spec: the body is null: send a JSON object such as {\"name\":\"web\",\"image\":{\"name\":\"busybox\"}}: %w", runtime.ErrInvalidArgument)
	}
	return w.Spec()
}

func nilIfEmpty[T any](s []T) []T {
	if len(s) == 0 {
		return nil
	}
	return s
}
