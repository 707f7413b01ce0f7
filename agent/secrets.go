package agent

import (
	"context"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/switchyard/switchyard/api"
	"github.com/switchyard/switchyard/runtime"
	"github.com/switchyard/switchyard/secrets"
	"github.com/switchyard/switchyard/spec"
)

// WithSecrets gives the node's secret store: $S: references in a spec's
// env, and its secrets list, are resolved from it, and the secret
// endpoints serve it.
func WithSecrets(s *secrets.Store) Option {
	return func(o *options) error {
		if s == nil {
			return fmt.Errorf("agent: WithSecrets(nil): pass the node's secret store, or leave the option out: %w", runtime.ErrInvalidArgument)
		}
		o.secrets = s
		return nil
	}
}

// resolveRefs returns d with every $E:NAME env value replaced by the
// agent's environment variable NAME, and checks that every secret it
// names exists, so that a missing one fails up before anything is
// created. $S: references stay as they are: the value is read at each
// create, never kept in the deployment's record. d itself is not changed.
func (a *Agent) resolveRefs(d *spec.Deployment) (*spec.Deployment, error) {
	out := *d
	out.Services = make(map[string]*spec.ServiceSpec, len(d.Services))
	var missing []string
	for name, svc := range d.Services {
		if svc == nil {
			out.Services[name] = nil
			continue
		}
		c := *svc
		c.Env = maps.Clone(svc.Env)
		for k, v := range c.Env {
			if ref, ok := strings.CutPrefix(v, spec.EnvPrefix); ok {
				val, set := os.LookupEnv(ref)
				if !set {
					missing = append(missing, fmt.Sprintf("service %s: env %s: the agent's environment has no %s (set it where the daemon starts, or write the value)", name, k, ref))
					continue
				}
				c.Env[k] = val
			}
		}
		for _, ref := range secretRefs(&c) {
			if a.opts.secrets == nil {
				missing = append(missing, fmt.Sprintf("service %s: secret %s: this node keeps no secrets", name, ref.Name))
			} else if _, err := a.opts.secrets.Get(ref.Name); err != nil {
				missing = append(missing, fmt.Sprintf("service %s: %v", name, err))
			}
		}
		out.Services[name] = &c
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("deployment %s: %s: %w", d.Name, strings.Join(slices.Sorted(slices.Values(missing)), "; "), runtime.ErrInvalidArgument)
	}
	return &out, nil
}

// secretRefs lists the secrets svc gets: its $S: env values (by variable)
// and its secrets list (as files under /run/secrets).
func secretRefs(svc *spec.ServiceSpec) []runtime.Secret {
	var out []runtime.Secret
	for _, k := range slices.Sorted(maps.Keys(svc.Env)) {
		if ref, ok := strings.CutPrefix(svc.Env[k], spec.SecretPrefix); ok {
			out = append(out, runtime.Secret{Name: ref, Env: k})
		}
	}
	for _, name := range svc.Secrets {
		out = append(out, runtime.Secret{Name: name, File: "/run/secrets/" + name})
	}
	return out
}

// withSecrets moves svc's secrets into cs with their values: the $S:
// entries leave cs.Env, so that the value reaches the runtime only as a
// secret, which it keeps out of its records.
func (a *Agent) withSecrets(cs *runtime.CreateSpec, svc *spec.ServiceSpec) error {
	refs := secretRefs(svc)
	if len(refs) == 0 {
		return nil
	}
	if a.opts.secrets == nil {
		return fmt.Errorf("secret %s: this node keeps no secrets: %w", refs[0].Name, runtime.ErrNotFound)
	}
	byEnv := map[string]bool{}
	for i := range refs {
		v, err := a.opts.secrets.Get(refs[i].Name)
		if err != nil {
			return err
		}
		refs[i].Value = v
		if refs[i].Env != "" {
			byEnv[refs[i].Env] = true
		}
	}
	env := cs.Env[:0:0]
	for _, e := range cs.Env {
		if k, _, _ := strings.Cut(e, "="); !byEnv[k] {
			env = append(env, e)
		}
	}
	cs.Env, cs.Secrets = env, refs
	return nil
}

// secretStore serves the secret endpoints from the node's store.
type secretStore struct{ s *secrets.Store }

func (s secretStore) Secrets(context.Context) ([]api.Secret, error) {
	list, err := s.s.List()
	if err != nil {
		return nil, err
	}
	out := make([]api.Secret, len(list))
	for i, in := range list {
		out[i] = api.Secret{Name: in.Name, Created: in.Created, Size: in.Size}
	}
	return out, nil
}

func (s secretStore) CreateSecret(_ context.Context, name string, value []byte) error {
	return s.s.Create(name, value)
}

func (s secretStore) RemoveSecret(_ context.Context, name string) error {
	return s.s.Remove(name)
}
