package registry

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/containerd/platforms"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/switchyard/switchyard/images"
	"github.com/switchyard/switchyard/runtime"
	"github.com/switchyard/switchyard/spec"
)

// Pull makes ref available in store according to opts, with a one-off
// registry client (an ImageService keeps one between pulls):
//
//   - policy always: fetch the manifest and write the image, whatever the
//     store holds (blobs already there are not copied again);
//   - if_not_present (the default): use the stored image when there is one;
//   - never: use the stored image; an absent one is an error naming the
//     image that wraps runtime.ErrNotFound.
//
// From a multi-platform index the entry for opts.Platform (default: the
// WithPlatforms list, else linux on the host's architecture) is pulled, and
// every platform of the index is recorded in the store. A single manifest
// whose platform is known and differs is refused with an error wrapping
// runtime.ErrNotSupported. Layers are copied in parallel and verified by the
// store before they are committed; an interrupted pull leaves no partial
// blob, and pulling again resumes with the blobs that did arrive.
//
// Credentials: opts.Auth, else the keychain (WithKeychain; default the
// Docker config file and its credential helpers). The errors are those of
// Inspector.InspectPlatforms, plus the store's.
func Pull(ctx context.Context, store *images.Store, ref string, opts runtime.PullOptions, o ...Option) (images.Image, error) {
	c, err := newClient(o)
	if err != nil {
		return images.Image{}, err
	}
	return c.pull(ctx, store, ref, opts)
}

func (c *client) pull(ctx context.Context, store *images.Store, ref string, opts runtime.PullOptions) (images.Image, error) {
	img, err := c.pullOnce(ctx, store, ref, opts)
	c.forgetIfUnauthorized(opts.Auth, err)
	return img, err
}

func (c *client) pullOnce(ctx context.Context, store *images.Store, ref string, opts runtime.PullOptions) (images.Image, error) {
	r, err := parseReference(ref, &c.o)
	if err != nil {
		return images.Image{}, err
	}
	norm := r.Name()
	what := "image " + norm
	policy := opts.Policy
	switch policy {
	case "":
		policy = spec.PullIfNotPresent
	case spec.PullIfNotPresent, spec.PullAlways, spec.PullNever:
	default:
		return images.Image{}, fmt.Errorf("%s: pull policy %q: want always, if_not_present or never: %w", what, policy, runtime.ErrInvalidArgument)
	}
	if policy != spec.PullAlways {
		img, err := store.Get(ctx, norm)
		switch {
		case err == nil:
			return img, nil
		case !errors.Is(err, runtime.ErrNotFound):
			return images.Image{}, err
		case policy == spec.PullNever:
			return images.Image{}, fmt.Errorf("%s is not in the local store and the pull policy is never: pull it first, or use pull policy if_not_present: %w", what, runtime.ErrNotFound)
		}
	}
	want := c.o.platforms
	if opts.Platform != nil {
		want = []ocispec.Platform{spec.Normalize(*opts.Platform)}
	}
	send(opts.Progress, runtime.PullProgress{ID: norm, Status: "resolving"})
	p, err := c.puller(opts.Auth)
	if err != nil {
		return images.Image{}, err
	}
	desc, err := p.Get(ctx, r)
	if err != nil {
		return images.Image{}, translate(what, err)
	}
	doc, isIndex, err := decodeManifest(string(desc.MediaType), desc.Manifest)
	if err != nil {
		return images.Image{}, translate(what, err)
	}
	wopts := images.WriteOptions{Progress: opts.Progress}
	var img v1.Image
	if isIndex {
		// A registry that mislabels the index still gets it read as one.
		if desc.MediaType != types.OCIImageIndex && desc.MediaType != types.DockerManifestList {
			desc.MediaType = types.OCIImageIndex
		}
		entry, err := selectEntry(doc.Manifests, want)
		if err != nil {
			return images.Image{}, fmt.Errorf("%s: %w", what, err)
		}
		idx, err := desc.ImageIndex()
		if err != nil {
			return images.Image{}, translate(what, err)
		}
		h, err := v1.NewHash(entry.Digest.String())
		if err != nil {
			return images.Image{}, fmt.Errorf("%s: index entry digest %q: %w: %w", what, entry.Digest, ErrBadContent, err)
		}
		if img, err = idx.Image(h); err != nil {
			return images.Image{}, translate(what, err)
		}
		wopts.Platforms = indexPlatforms(doc.Manifests)
		wopts.IndexDigest = desc.Digest.String()
	} else {
		if desc.MediaType != types.OCIManifestSchema1 && desc.MediaType != types.DockerManifestSchema2 {
			desc.MediaType = types.OCIManifestSchema1
		}
		if img, err = desc.Image(); err != nil {
			return images.Image{}, translate(what, err)
		}
		// The remote image keeps the config it fetches, so the store's
		// Write does not fetch it again.
		ps, err := manifestPlatforms(doc, func(ocispec.Descriptor) ([]byte, error) { return img.RawConfigFile() })
		if err != nil {
			return images.Image{}, translate(what, err)
		}
		if len(ps) == 1 && !platforms.Ordered(want...).Match(ps[0]) {
			return images.Image{}, fmt.Errorf("%s is for platform %s, not %s: pull it on a runtime that serves %s: %w",
				what, runtime.FormatPlatform(ps[0]), formatPlatforms(want), runtime.FormatPlatform(ps[0]), runtime.ErrNotSupported)
		}
		// Recorded normalised (wasi/wasm as wasip1/wasm), as for an index.
		wopts.Platforms = ps
	}
	out, err := store.Write(ctx, norm, img, wopts)
	if err != nil {
		if kind := kindOf(err); kind != nil && !errors.Is(err, kind) {
			return images.Image{}, fmt.Errorf("%w (%w)", err, kind)
		}
		return images.Image{}, err
	}
	send(opts.Progress, runtime.PullProgress{ID: norm, Status: "done", Current: out.Size, Total: out.Size})
	return out, nil
}

// selectEntry picks the index entry that best matches want (most preferred
// first), skipping attestations. No match is an error that lists what the
// index offers and wraps runtime.ErrNotSupported.
func selectEntry(entries []ocispec.Descriptor, want []ocispec.Platform) (ocispec.Descriptor, error) {
	m := platforms.Ordered(want...)
	best := -1
	for i, d := range entries {
		if d.Platform == nil || IsAttestation(d) || d.MediaType == mtOCIIndex || d.MediaType == mtDockerList {
			continue
		}
		p := spec.Normalize(*d.Platform)
		if !m.Match(p) {
			continue
		}
		if best < 0 || m.Less(p, spec.Normalize(*entries[best].Platform)) {
			best = i
		}
	}
	if best < 0 {
		return ocispec.Descriptor{}, fmt.Errorf("no entry for platform %s (the index has: %s): %w",
			formatPlatforms(want), formatPlatforms(indexPlatforms(entries)), runtime.ErrNotSupported)
	}
	return entries[best], nil
}

func formatPlatforms(ps []ocispec.Platform) string {
	if len(ps) == 0 {
		return "none"
	}
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = runtime.FormatPlatform(p)
	}
	return strings.Join(s, ", ")
}

func send(f func(runtime.PullProgress), ev runtime.PullProgress) {
	if f != nil {
		f(ev)
	}
}
