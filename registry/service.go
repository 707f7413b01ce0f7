package registry

import (
	"context"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/switchyard/switchyard/images"
	"github.com/switchyard/switchyard/runtime"
)

var _ runtime.ImageService = (*ImageService)(nil)

// ImageService implements runtime.ImageService over a shared image store,
// for local runtimes (runc, wasm) to embed: they share one content store,
// and each pulls for its own platforms (WithPlatforms). It also answers
// InspectPlatforms, with the same connections. It is safe for concurrent
// use.
type ImageService struct {
	store *images.Store
	c     *client
	err   error // from the options; returned by every call
}

// NewImageService returns an ImageService over store. An invalid option
// makes every call fail with the option's error (which wraps
// runtime.ErrInvalidArgument).
func NewImageService(store *images.Store, opts ...Option) *ImageService {
	c, err := newClient(opts)
	return &ImageService{store: store, c: c, err: err}
}

// Pull implements runtime.ImageService; see the package function Pull for
// policies, platform selection and errors.
func (s *ImageService) Pull(ctx context.Context, ref string, opts runtime.PullOptions) (runtime.ImageInfo, error) {
	if s.err != nil {
		return runtime.ImageInfo{}, s.err
	}
	r, err := s.c.pull(ctx, s.store, ref, opts)
	if err != nil {
		return runtime.ImageInfo{}, err
	}
	return r.Info(), nil
}

// ListImages implements runtime.ImageService: every image in the store.
func (s *ImageService) ListImages(ctx context.Context) ([]runtime.ImageInfo, error) {
	if s.err != nil {
		return nil, s.err
	}
	imgs, err := s.store.List(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]runtime.ImageInfo, len(imgs))
	for i, img := range imgs {
		out[i] = img.Info()
	}
	return out, nil
}

// RemoveImage implements runtime.ImageService. An image a container uses is
// refused with runtime.ErrFailedPrecondition unless force is set;
// runtime.ErrNotFound when the store does not have ref.
func (s *ImageService) RemoveImage(ctx context.Context, ref string, force bool) error {
	if s.err != nil {
		return s.err
	}
	norm, err := s.normalize(ref)
	if err != nil {
		return err
	}
	return s.store.Remove(ctx, norm, force)
}

// TagImage implements runtime.ImageService: dst names the image src names.
func (s *ImageService) TagImage(ctx context.Context, src, dst string) error {
	if s.err != nil {
		return s.err
	}
	nsrc, err := s.normalize(src)
	if err != nil {
		return err
	}
	ndst, err := s.normalize(dst)
	if err != nil {
		return err
	}
	return s.store.Tag(ctx, nsrc, ndst)
}

// PruneImages implements runtime.ImageService: removes images no reference
// and no container uses, and the blobs only they needed.
func (s *ImageService) PruneImages(ctx context.Context) (runtime.PruneResult, error) {
	if s.err != nil {
		return runtime.PruneResult{}, s.err
	}
	return s.store.Prune(ctx)
}

// InspectPlatforms reads ref's platforms from its registry, as
// Inspector.InspectPlatforms does, reusing this service's connections.
func (s *ImageService) InspectPlatforms(ctx context.Context, ref string, auth *runtime.RegistryAuth) ([]ocispec.Platform, error) {
	if s.err != nil {
		return nil, s.err
	}
	return s.c.inspect(ctx, ref, auth)
}

// normalize accepts a bare digest ("sha256:..." names untagged content in
// the store) as it is, and normalises references.
func (s *ImageService) normalize(ref string) (string, error) {
	if len(ref) == len("sha256:")+64 && ref[:7] == "sha256:" {
		return ref, nil
	}
	r, err := parseReference(ref, &s.c.o)
	if err != nil {
		return "", err
	}
	return r.Name(), nil
}
