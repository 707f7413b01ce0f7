package agent

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"

	"github.com/switchyard/switchyard/api"
	"github.com/switchyard/switchyard/runtime"
	"github.com/switchyard/switchyard/volumes"
)

// nodeVolumes serves the node's named volumes to the Docker API
// (docker.Volumes), with which containers mount each.
type nodeVolumes struct{ a *Agent }

func wireVolume(v volumes.Volume, users []string) api.NamedVolume {
	return api.NamedVolume{Name: v.Name, Mountpoint: v.Path, Labels: v.Labels, Created: v.Created, UsedBy: users}
}

// users maps a volume's name to the containers that mount it. A mount
// counts by its source resolved (a container made before the volumes
// moved to the node's store mounts them through the old place, a link
// now). When a runtime could not be listed, its containers' mounts are
// unknown: that is an error, so that no volume is taken for unused.
func (n nodeVolumes) users(ctx context.Context) (map[string][]string, error) {
	ds, err := runtime.ListDetails(ctx, n.a.rt)
	if err != nil {
		return nil, err
	}
	dir, err := filepath.EvalSymlinks(n.a.opts.volumes.Dir())
	if err != nil {
		return nil, err
	}
	out := map[string][]string{}
	for _, d := range ds {
		if d.State.Status == runtime.StatusUnknown {
			return nil, fmt.Errorf("the volumes container %s mounts cannot be known now (%s); try again when its runtime answers: %w", d.ID, d.State.Reason, runtime.ErrUnavailable)
		}
		for _, m := range d.Mounts {
			src, err := filepath.EvalSymlinks(m.Source)
			if err != nil || filepath.Dir(src) != dir {
				continue
			}
			name := filepath.Base(src)
			if !slices.Contains(out[name], d.ID.String()) {
				out[name] = append(out[name], d.ID.String())
			}
		}
	}
	return out, nil
}

// Volumes implements docker.Volumes.
func (n nodeVolumes) Volumes(ctx context.Context) ([]api.NamedVolume, error) {
	list, err := n.a.opts.volumes.List()
	if err != nil {
		return nil, err
	}
	users, err := n.users(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]api.NamedVolume, len(list))
	for i, v := range list {
		out[i] = wireVolume(v, users[v.Name])
	}
	return out, nil
}

// Volume implements docker.Volumes.
func (n nodeVolumes) Volume(_ context.Context, name string) (api.NamedVolume, error) {
	v, err := n.a.opts.volumes.Get(name)
	if err != nil {
		return api.NamedVolume{}, err
	}
	return wireVolume(v, nil), nil
}

// CreateVolume implements docker.Volumes.
func (n nodeVolumes) CreateVolume(_ context.Context, name string, labels map[string]string) (api.NamedVolume, error) {
	v, err := n.a.opts.volumes.Create(name, labels)
	if err != nil {
		return api.NamedVolume{}, err
	}
	return wireVolume(v, nil), nil
}

// RemoveVolume implements docker.Volumes: a volume a container mounts,
// running or not, stays, as docker keeps it.
func (n nodeVolumes) RemoveVolume(ctx context.Context, name string) error {
	v, err := n.a.opts.volumes.Get(name)
	if err != nil {
		return err
	}
	users, err := n.users(ctx)
	if err != nil {
		return err
	}
	if u := users[v.Name]; len(u) > 0 {
		return fmt.Errorf("remove %s: volume is in use - %v; remove those containers first: %w", name, u, runtime.ErrFailedPrecondition)
	}
	return n.a.opts.volumes.Remove(name)
}
