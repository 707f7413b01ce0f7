package runc

import (
	"context"
	"fmt"

	"github.com/switchyard/switchyard/runtime"
)

// noImages is the answer of the image methods without WithImageService.
func noImages(op string) error {
	return fmt.Errorf("runc runtime: %s: no image service configured: %w", op, runtime.ErrNotSupported)
}

// Pull implements runtime.ImageService by delegation.
func (r *Runtime) Pull(ctx context.Context, ref string, opts runtime.PullOptions) (runtime.ImageInfo, error) {
	if r.opt.images == nil {
		return runtime.ImageInfo{}, noImages("pull")
	}
	return r.opt.images.Pull(ctx, ref, opts)
}

// ListImages implements runtime.ImageService by delegation.
func (r *Runtime) ListImages(ctx context.Context) ([]runtime.ImageInfo, error) {
	if r.opt.images == nil {
		return nil, noImages("list images")
	}
	return r.opt.images.ListImages(ctx)
}

// RemoveImage implements runtime.ImageService by delegation.
func (r *Runtime) RemoveImage(ctx context.Context, ref string, force bool) error {
	if r.opt.images == nil {
		return noImages("remove image")
	}
	return r.opt.images.RemoveImage(ctx, ref, force)
}

// TagImage implements runtime.ImageService by delegation.
func (r *Runtime) TagImage(ctx context.Context, src, dst string) error {
	if r.opt.images == nil {
		return noImages("tag image")
	}
	return r.opt.images.TagImage(ctx, src, dst)
}

// PruneImages implements runtime.ImageService by delegation.
func (r *Runtime) PruneImages(ctx context.Context) (runtime.PruneResult, error) {
	if r.opt.images == nil {
		return runtime.PruneResult{}, noImages("prune images")
	}
	return r.opt.images.PruneImages(ctx)
}
