package runc

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/switchyard/switchyard/runtime"
)

var _ runtime.ResourceUpdater = (*Runtime)(nil)

// UpdateResources implements runtime.ResourceUpdater: a running
// container's cgroup gets the new limits at once (runc update), and its
// bundle and record keep them for its next runs.
func (r *Runtime) UpdateResources(ctx context.Context, id runtime.ContainerID, res runtime.Resources) error {
	cs := runtime.CreateSpec{Image: "-", Resources: res}
	if err := cs.Validate(); err != nil {
		return fmt.Errorf("container %s: %w", id, err)
	}
	s, unlock, err := r.locked(id)
	if err != nil {
		return err
	}
	defer unlock()
	lr, err := resources(res, r.opt.pidsLimit)
	if err != nil {
		return fmt.Errorf("container %s: %w", id, err)
	}
	if s.running() {
		// The devices stay as they were made: an update is of limits.
		upd := *lr
		upd.Devices = nil
		b, err := json.Marshal(&upd)
		if err != nil {
			return err
		}
		if err := r.runcIn(ctx, bytes.NewReader(b), "update", "--resources", "-", s.meta.Key); err != nil {
			return fmt.Errorf("container %s: %w", id, err)
		}
	}
	// The bundle may be a link into the secret store: written where it
	// points, so that no secret lands outside it.
	cfgPath, err := filepath.EvalSymlinks(filepath.Join(s.dir, "bundle", "config.json"))
	if err != nil {
		return fmt.Errorf("container %s: bundle: %w", id, err)
	}
	var spec specs.Spec
	if err := readJSON(cfgPath, &spec); err != nil {
		return fmt.Errorf("container %s: bundle: %w", id, err)
	}
	if spec.Linux != nil {
		lr.Devices = spec.Linux.Resources.Devices
		spec.Linux.Resources = lr
	}
	if err := writeJSON(cfgPath, &spec); err != nil {
		return fmt.Errorf("container %s: bundle: %w", id, err)
	}
	s.meta.Resources = res
	return writeJSON(filepath.Join(s.dir, metaFile), s.meta)
}
