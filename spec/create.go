package spec

import (
	"slices"

	"github.com/switchyard/switchyard/runtime"
)

// CreateSpec converts s to the contract's create request: the one place a
// deployment's service becomes what a runtime is asked to create. What is
// the deployment's alone (rtype, scale, pull policy, registry credentials,
// endpoints) stays with the agent. Env, a map in the spec, becomes KEY=VALUE
// entries sorted by key.
func (s *ServiceSpec) CreateSpec() *runtime.CreateSpec {
	if s == nil {
		return nil
	}
	cs := &runtime.CreateSpec{
		Image:      s.Image.Name,
		Entrypoint: slices.Clone(s.Command.Entrypoint),
		Args:       slices.Clone(s.Command.Args),
		Workdir:    s.Command.Workdir,
		Resources:  s.Resources,
		Volumes:    slices.Clone(s.Volumes),
	}
	if s.Platform != nil {
		p := *s.Platform
		cs.Platform = &p
	}
	keys := make([]string, 0, len(s.Env))
	for k := range s.Env {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		cs.Env = append(cs.Env, k+"="+s.Env[k])
	}
	s.applyContainer(cs)
	// A public endpoint is published on the host's port, as -p does.
	for _, ep := range s.Endpoints {
		if ep.Expose != "public" {
			continue
		}
		target := ep.TargetPort
		if target == 0 {
			target = ep.Port
		}
		cs.Network.Ports = append(cs.Network.Ports, runtime.PortMapping{HostPort: ep.Port, ContainerPort: target, Protocol: transport(ep.Protocol)})
	}
	return cs
}
