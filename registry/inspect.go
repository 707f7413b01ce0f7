package registry

import (
	"context"

	"github.com/google/go-containerregistry/pkg/v1/remote"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/switchyard/switchyard/runtime"
)

// Inspector reads images' platforms from their registries without
// downloading layers. It keeps connections, credentials and registries'
// version checks between calls, so keep one for the life of the agent. It
// is safe for concurrent use.
type Inspector struct {
	c   *client
	err error // from the options; returned by every call
}

// NewInspector returns an Inspector. An invalid option makes every call
// fail with the option's error (which wraps runtime.ErrInvalidArgument).
func NewInspector(opts ...Option) *Inspector {
	c, err := newClient(opts)
	return &Inspector{c: c, err: err}
}

// InspectPlatforms returns the platforms of the image ref names, reading
// only the manifest (one request for an index or manifest list) and, for a
// single image manifest, its config blob (a second request). auth, when not
// nil, overrides the keychain's credentials. An empty slice means the
// registry's answer says nothing usable about the platform; that is not an
// error. The mirrors of ref's registry (WithMirrors) are asked first, as
// Pull asks them.
//
// Errors: runtime.ErrInvalidArgument for a reference that does not parse;
// runtime.ErrNotFound for an image the registry does not have;
// ErrUnauthorized; ErrUnreachable (and so runtime.ErrUnavailable);
// runtime.ErrUnavailable for a registry that answers 5xx or 429;
// ErrBadContent; ErrDigestMismatch.
func (i *Inspector) InspectPlatforms(ctx context.Context, ref string, auth *runtime.RegistryAuth) ([]ocispec.Platform, error) {
	if i.err != nil {
		return nil, i.err
	}
	return i.c.inspect(ctx, ref, auth)
}

// Inspect returns the platforms of ref with a one-off Inspector (see
// Inspector.InspectPlatforms): a caller that inspects more than once should
// keep an Inspector instead, to pay each registry's handshake once.
func Inspect(ctx context.Context, ref string, opts ...Option) ([]ocispec.Platform, error) {
	return NewInspector(opts...).InspectPlatforms(ctx, ref, nil)
}

func (c *client) inspect(ctx context.Context, ref string, auth *runtime.RegistryAuth) ([]ocispec.Platform, error) {
	ps, err := c.inspectOnce(ctx, ref, auth)
	c.forgetIfUnauthorized(auth, err)
	return ps, err
}

func (c *client) inspectOnce(ctx context.Context, ref string, auth *runtime.RegistryAuth) ([]ocispec.Platform, error) {
	r, err := parseReference(ref, &c.o)
	if err != nil {
		return nil, err
	}
	var ps []ocispec.Platform
	err = c.fromSources(ctx, r, auth, func(src source, p *remote.Puller) error {
		desc, err := p.Get(ctx, src.ref)
		if err != nil {
			return translate(src.what, err)
		}
		ps, err = PlatformsFromManifest(string(desc.MediaType), desc.Manifest, func(d ocispec.Descriptor) ([]byte, error) {
			return fetchConfig(ctx, p, src.ref.Context(), d)
		})
		return translate(src.what, err)
	})
	if err != nil {
		return nil, err
	}
	return ps, nil
}
