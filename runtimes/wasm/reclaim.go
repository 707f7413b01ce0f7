package wasm

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"golang.org/x/sys/unix"

	"github.com/switchyard/switchyard/runtime"
	"github.com/switchyard/switchyard/runtimes/wasm/host"
)

var _ runtime.ImageReclaimer = (*Runtime)(nil)

// ReclaimImages implements runtime.ImageReclaimer: it drops the compiled
// code of every module whose image layer the store no longer has and that
// no container of this runtime uses, in the host's memory and in its cache
// on disk. A module of an image that is still there keeps its code, so the
// next start of it stays warm.
func (r *Runtime) ReclaimImages(ctx context.Context) (runtime.PruneResult, error) {
	cached, err := host.CachedModules(r.root)
	if err != nil {
		return runtime.PruneResult{}, fmt.Errorf("wasm runtime %s: compilation cache: %w", r.root, err)
	}
	used := map[string]bool{}
	r.mu.Lock()
	for _, e := range r.byID {
		used[e.rec.Module.Digest] = true
	}
	r.mu.Unlock()
	var gone []string
	for d, layer := range cached {
		if used[d] || r.modules.HasLayer(d) || layer != "" && r.modules.HasLayer(layer) {
			continue
		}
		gone = append(gone, d)
	}
	if len(gone) == 0 {
		return runtime.PruneResult{Deleted: []string{}}, nil
	}
	sort.Strings(gone)
	res, err := r.reclaim(ctx, gone)
	if err != nil {
		return runtime.PruneResult{}, fmt.Errorf("wasm runtime %s: reclaim compiled code: %w", r.root, err)
	}
	if len(res.Reclaimed) > 0 {
		r.opts.log.Info("wasm runtime: reclaimed the compiled code of modules whose images are gone",
			"modules", len(res.Reclaimed), "bytes", res.SpaceReclaimed)
	}
	return runtime.PruneResult{Deleted: res.Reclaimed, SpaceReclaimed: res.SpaceReclaimed}, nil
}

// reclaim asks the running host to drop digests or, when none runs,
// removes their cache directories itself, with host starts held off by the
// spawn lock so that no host starts on a cache being removed.
func (r *Runtime) reclaim(ctx context.Context, digests []string) (host.ReclaimResult, error) {
	res, err := r.client.Reclaim(ctx, digests)
	if !errors.Is(err, runtime.ErrUnavailable) {
		return res, err
	}
	r.spawnMu.Lock()
	defer r.spawnMu.Unlock()
	f, err := os.OpenFile(filepath.Join(r.root, spawnLockName), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return host.ReclaimResult{}, err
	}
	defer f.Close() // releases the lock
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
		return host.ReclaimResult{}, err
	}
	res, err = host.ReclaimOffline(r.root, digests)
	if errors.Is(err, runtime.ErrAlreadyExists) {
		// A host is running after all (it was started before the lock):
		// it answers now.
		return r.client.Reclaim(ctx, digests)
	}
	return res, err
}
