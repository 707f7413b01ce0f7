package runtimetest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/switchyard/switchyard/runtime"
)

// AddImage puts info in the Fake's image store, replacing an image of the
// same Reference.
func (f *Fake) AddImage(info runtime.ImageInfo) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.putImage(info)
}

// putImage stores a copy of info. The caller holds f.mu.
func (f *Fake) putImage(info runtime.ImageInfo) {
	info = cloneImage(info)
	if i := f.imageIndex(info.Reference); i >= 0 {
		f.images[i] = info
		return
	}
	f.images = append(f.images, info)
}

// imageIndex finds ref in the store, -1 if absent. The caller holds f.mu.
func (f *Fake) imageIndex(ref string) int {
	return slices.IndexFunc(f.images, func(i runtime.ImageInfo) bool { return i.Reference == ref })
}

func cloneImage(i runtime.ImageInfo) runtime.ImageInfo {
	i.Platforms = slices.Clone(i.Platforms)
	i.Runtimes = slices.Clone(i.Runtimes)
	return i
}

// Pull implements runtime.ImageService. The Fake "pulls" any reference: it
// stores an image whose digest is derived from ref (so two Fakes agree, as
// runtimes sharing a store do), for opts.Platform or else the Fake's first
// platform. Policies behave as the contract says.
func (f *Fake) Pull(_ context.Context, ref string, opts runtime.PullOptions) (runtime.ImageInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record(Call{Method: "pull", Ref: ref, Policy: opts.Policy}); err != nil {
		return runtime.ImageInfo{}, err
	}
	if ref == "" {
		return runtime.ImageInfo{}, fmt.Errorf("pull: image reference is empty; name an image such as busybox:latest: %w", runtime.ErrInvalidArgument)
	}
	i := f.imageIndex(ref)
	switch opts.Policy {
	case runtime.PullNever:
		if i < 0 {
			return runtime.ImageInfo{}, fmt.Errorf("image %s: not in the local store and the pull policy is never: %w", ref, runtime.ErrNotFound)
		}
		return cloneImage(f.images[i]), nil
	case "", runtime.PullIfNotPresent:
		if i >= 0 {
			return cloneImage(f.images[i]), nil
		}
	case runtime.PullAlways:
	default:
		return runtime.ImageInfo{}, fmt.Errorf("image %s: pull policy %q: want always, if_not_present or never: %w", ref, opts.Policy, runtime.ErrInvalidArgument)
	}
	sum := sha256.Sum256([]byte(ref))
	p := f.platforms[0]
	if opts.Platform != nil {
		p = *opts.Platform
	}
	info := runtime.ImageInfo{
		Reference: ref,
		Digest:    "sha256:" + hex.EncodeToString(sum[:]),
		Size:      1024,
		Platforms: []ocispec.Platform{p},
	}
	f.putImage(info)
	return cloneImage(info), nil
}

// ListImages implements runtime.ImageService.
func (f *Fake) ListImages(context.Context) ([]runtime.ImageInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record(Call{Method: "listimages"}); err != nil {
		return nil, err
	}
	out := make([]runtime.ImageInfo, 0, len(f.images))
	for _, i := range f.images {
		out = append(out, cloneImage(i))
	}
	return out, nil
}

// inUse reports whether a container was created from ref. The caller holds
// f.mu.
func (f *Fake) inUse(ref string) bool {
	for _, c := range f.containers {
		if c.spec.Image == ref {
			return true
		}
	}
	return false
}

// RemoveImage implements runtime.ImageService.
func (f *Fake) RemoveImage(_ context.Context, ref string, force bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record(Call{Method: "removeimage", Ref: ref}); err != nil {
		return err
	}
	i := f.imageIndex(ref)
	if i < 0 {
		return fmt.Errorf("image %s: %w", ref, runtime.ErrNotFound)
	}
	if !force && f.inUse(ref) {
		return fmt.Errorf("image %s is used by a container; remove the container first or force: %w", ref, runtime.ErrFailedPrecondition)
	}
	f.images = slices.Delete(f.images, i, i+1)
	return nil
}

// TagImage implements runtime.ImageService.
func (f *Fake) TagImage(_ context.Context, src, dst string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record(Call{Method: "tagimage", Ref: src}); err != nil {
		return err
	}
	i := f.imageIndex(src)
	if i < 0 {
		return fmt.Errorf("image %s: %w", src, runtime.ErrNotFound)
	}
	if dst == "" {
		return fmt.Errorf("image %s: tag: target reference is empty: %w", src, runtime.ErrInvalidArgument)
	}
	info := f.images[i]
	info.Reference = dst
	f.putImage(info)
	return nil
}

// PruneImages implements runtime.ImageService. Every Fake image is tagged,
// so the Fake prunes what no container uses (docker image prune -a).
func (f *Fake) PruneImages(context.Context) (runtime.PruneResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record(Call{Method: "pruneimages"}); err != nil {
		return runtime.PruneResult{}, err
	}
	res := runtime.PruneResult{Deleted: []string{}}
	kept := f.images[:0]
	for _, i := range f.images {
		if f.inUse(i.Reference) {
			kept = append(kept, i)
			continue
		}
		res.Deleted = append(res.Deleted, i.Reference)
		res.SpaceReclaimed += uint64(max(i.Size, 0))
	}
	f.images = kept
	return res, nil
}
