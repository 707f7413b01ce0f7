package wasm

import (
	"context"

	"github.com/switchyard/switchyard/runtime"
)

func (r *Runtime) imageService() runtime.ImageService {
	if r.opts.images != nil {
		return r.opts.images
	}
	return runtime.Unsupported{}
}

// Pull implements runtime.ImageService by delegating to the image service
// given with WithImageService; from an index it picks the wasm platform
// unless opts name another.
func (r *Runtime) Pull(ctx context.Context, ref string, opts runtime.PullOptions) (runtime.ImageInfo, error) {
	if opts.Platform == nil {
		p := r.Platforms()[0]
		opts.Platform = &p
	}
	return r.imageService().Pull(ctx, ref, opts)
}

// ListImages implements runtime.ImageService; see Pull.
func (r *Runtime) ListImages(ctx context.Context) ([]runtime.ImageInfo, error) {
	return r.imageService().ListImages(ctx)
}

// RemoveImage implements runtime.ImageService; see Pull.
func (r *Runtime) RemoveImage(ctx context.Context, ref string, force bool) error {
	return r.imageService().RemoveImage(ctx, ref, force)
}

// TagImage implements runtime.ImageService; see Pull.
func (r *Runtime) TagImage(ctx context.Context, src, dst string) error {
	return r.imageService().TagImage(ctx, src, dst)
}

// PruneImages implements runtime.ImageService; see Pull.
func (r *Runtime) PruneImages(ctx context.Context) (runtime.PruneResult, error) {
	return r.imageService().PruneImages(ctx)
}
