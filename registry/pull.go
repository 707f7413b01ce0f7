package registry

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/switchyard/switchyard/images"
	"github.com/switchyard/switchyard/runtime"
)

// Pull makes ref available in store according to opts, with a one-off
// registry client (an ImageService keeps one between pulls):
//
//   - policy always: fetch the manifest and write the image, whatever the
//     store holds (blobs already there are not copied again);
//   - if_not_present (the default): use the stored image when it has what
//     is wanted (below) present;
//   - never: use the stored image; an absent one is an error naming the
//     image that wraps runtime.ErrNotFound.
//
// What is wanted: opts.Platform, or else every platform of WithPlatforms
// (default linux on the host's architecture). A multi-platform index is
// stored whole under ref, with the manifest and layers of the best entry for
// each wanted platform the index offers, fetched once; an index with none of
// them is an error wrapping runtime.ErrNotSupported that lists what it
// offers. A single manifest whose platform is known and wanted by none is
// refused the same way. Layers are copied in parallel and verified by the
// store before they are committed; an interrupted pull records nothing, and
// pulling again resumes with the blobs that did arrive.
//
// Mirrors (WithMirrors) of ref's registry are tried first; a mirror that
// fails hands the pull to the next one, then to the registry itself, and
// the image is stored under ref whichever source served it.
//
// Credentials: opts.Auth, else the keychain (WithKeychain; default the
// Docker config file and its credential helpers). The errors are those of
// Inspector.InspectPlatforms, plus the store's.
func Pull(ctx context.Context, store *images.Store, ref string, opts runtime.PullOptions, o ...Option) (images.Reference, error) {
	c, err := newClient(o)
	if err != nil {
		return images.Reference{}, err
	}
	return c.pull(ctx, store, ref, opts)
}

func (c *client) pull(ctx context.Context, store *images.Store, ref string, opts runtime.PullOptions) (images.Reference, error) {
	img, err := c.pullOnce(ctx, store, ref, opts)
	c.forgetIfUnauthorized(opts.Auth, err)
	return img, err
}

func (c *client) pullOnce(ctx context.Context, store *images.Store, ref string, opts runtime.PullOptions) (images.Reference, error) {
	r, err := parseReference(ref, &c.o)
	if err != nil {
		return images.Reference{}, err
	}
	norm := r.Name()
	what := "image " + norm
	policy := opts.Policy
	switch policy {
	case "":
		policy = runtime.PullIfNotPresent
	case runtime.PullIfNotPresent, runtime.PullAlways, runtime.PullNever:
	default:
		return images.Reference{}, fmt.Errorf("%s: pull policy %q: want always, if_not_present or never: %w", what, policy, runtime.ErrInvalidArgument)
	}
	want := c.o.platforms
	if opts.Platform != nil {
		want = []ocispec.Platform{runtime.NormalizePlatform(*opts.Platform)}
	}
	if policy != runtime.PullAlways {
		have, err := store.Get(ctx, norm)
		switch {
		case err == nil && hasWanted(have, want):
			return have, nil
		case err != nil && !errors.Is(err, runtime.ErrNotFound):
			return images.Reference{}, err
		case policy == runtime.PullNever && err == nil:
			return images.Reference{}, fmt.Errorf("%s is in the local store without a manifest for %s (it has %s) and the pull policy is never: pull it for that platform first: %w",
				what, formatPlatforms(want), formatPlatforms(have.PresentPlatforms()), runtime.ErrNotFound)
		case policy == runtime.PullNever:
			return images.Reference{}, fmt.Errorf("%s is not in the local store and the pull policy is never: pull it first, or use pull policy if_not_present: %w", what, runtime.ErrNotFound)
		}
	}
	send(opts.Progress, runtime.PullProgress{ID: norm, Status: "resolving"})
	wopts := images.WriteOptions{Progress: opts.Progress}
	var out images.Reference
	err = c.fromSources(ctx, r, opts.Auth, func(src source, p *remote.Puller) error {
		var err error
		out, err = pullFrom(ctx, store, p, src, norm, want, wopts)
		return err
	})
	if err != nil {
		return images.Reference{}, err
	}
	send(opts.Progress, runtime.PullProgress{ID: norm, Status: "done", Current: out.Size, Total: out.Size})
	return out, nil
}

// pullFrom fetches src's manifest and writes the image under norm (the
// reference as the caller gave it, also when src is a mirror), with the
// manifest of each wanted platform and its layers.
func pullFrom(ctx context.Context, store *images.Store, p *remote.Puller, src source, norm string, want []ocispec.Platform, wopts images.WriteOptions) (images.Reference, error) {
	what := src.what
	desc, err := p.Get(ctx, src.ref)
	if err != nil {
		return images.Reference{}, translate(what, err)
	}
	doc, isIndex, err := decodeManifest(string(desc.MediaType), desc.Manifest)
	if err != nil {
		return images.Reference{}, translate(what, err)
	}
	var out images.Reference
	if isIndex {
		// A registry that mislabels the index still gets it read as one.
		if desc.MediaType != types.OCIImageIndex && desc.MediaType != types.DockerManifestList {
			desc.MediaType = types.OCIImageIndex
		}
		pull, err := selectEntries(doc.Manifests, want)
		if err != nil {
			return images.Reference{}, fmt.Errorf("%s: %w", what, err)
		}
		idx, err := desc.ImageIndex()
		if err != nil {
			return images.Reference{}, translate(what, err)
		}
		hashes := make([]v1.Hash, len(pull))
		for i, e := range pull {
			if hashes[i], err = v1.NewHash(e.Digest.String()); err != nil {
				return images.Reference{}, fmt.Errorf("%s: index entry digest %q: %w: %w", what, e.Digest, ErrBadContent, err)
			}
		}
		if out, err = store.WriteIndex(ctx, norm, idx, hashes, wopts); err != nil {
			return images.Reference{}, storeError(err)
		}
	} else {
		if desc.MediaType != types.OCIManifestSchema1 && desc.MediaType != types.DockerManifestSchema2 {
			desc.MediaType = types.OCIManifestSchema1
		}
		img, err := desc.Image()
		if err != nil {
			return images.Reference{}, translate(what, err)
		}
		// The remote image keeps the config it fetches, so the store's
		// Write does not fetch it again.
		ps, err := manifestPlatforms(doc, func(ocispec.Descriptor) ([]byte, error) { return img.RawConfigFile() })
		if err != nil {
			return images.Reference{}, translate(what, err)
		}
		if len(ps) == 1 && !runtime.PlatformMatcher(want...).Match(ps[0]) {
			return images.Reference{}, fmt.Errorf("%s is for platform %s, not %s: pull it on a runtime that serves %s: %w",
				what, runtime.FormatPlatform(ps[0]), formatPlatforms(want), runtime.FormatPlatform(ps[0]), runtime.ErrNotSupported)
		}
		if _, err := store.Write(ctx, norm, img, wopts); err != nil {
			return images.Reference{}, storeError(err)
		}
		if out, err = store.Get(ctx, norm); err != nil {
			return images.Reference{}, err
		}
	}
	return out, nil
}

// storeError adds the registry's error kind to a store error that carries
// one (a digest mismatch while copying, say) without wrapping it.
func storeError(err error) error {
	if kind := kindOf(err); kind != nil && !errors.Is(err, kind) {
		return fmt.Errorf("%w (%w)", err, kind)
	}
	return err
}

// hasWanted reports whether a stored reference can serve want without a
// pull: a single manifest always does (its platform is checked where it
// runs); an index does when every wanted platform it offers has a present
// entry (so a node of runc and wasm that pulled only the wasm entry pulls
// the linux one too, and routing does not stick to whatever came first).
func hasWanted(r images.Reference, want []ocispec.Platform) bool {
	if !r.IsIndex() {
		return true
	}
	present := r.PresentPlatforms()
	offeredAny := false
	for _, w := range want {
		m := runtime.PlatformMatcher(w)
		if !slices.ContainsFunc(r.Platforms(), m.Match) {
			continue
		}
		offeredAny = true
		if !slices.ContainsFunc(present, m.Match) {
			return false
		}
	}
	// An index of none of the wanted platforms cannot serve them: the
	// registry is asked again, and its answer says what the index offers.
	return offeredAny
}

// selectEntries picks, for each wanted platform in turn, the index entry
// that best matches it, skipping attestations and nested indexes; an entry
// is picked once. No entry for any wanted platform is an error that lists
// what the index offers and wraps runtime.ErrNotSupported.
func selectEntries(entries []ocispec.Descriptor, want []ocispec.Platform) ([]ocispec.Descriptor, error) {
	var out []ocispec.Descriptor
	for _, w := range want {
		e, err := selectEntry(entries, []ocispec.Platform{w})
		if err != nil {
			continue
		}
		if !slices.ContainsFunc(out, func(d ocispec.Descriptor) bool { return d.Digest == e.Digest }) {
			out = append(out, e)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no entry for platform %s (the index has: %s): %w",
			formatPlatforms(want), formatPlatforms(indexPlatforms(entries)), runtime.ErrNotSupported)
	}
	return out, nil
}

// selectEntry picks the index entry that best matches want (most preferred
// first), skipping attestations. No match is an error that lists what the
// index offers and wraps runtime.ErrNotSupported.
func selectEntry(entries []ocispec.Descriptor, want []ocispec.Platform) (ocispec.Descriptor, error) {
	m := runtime.PlatformMatcher(want...)
	best := -1
	for i, d := range entries {
		if d.Platform == nil || images.IsAttestation(d) || images.IsIndexMediaType(d.MediaType) {
			continue
		}
		p := runtime.NormalizePlatform(*d.Platform)
		if !m.Match(p) {
			continue
		}
		if best < 0 || m.Less(p, runtime.NormalizePlatform(*entries[best].Platform)) {
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
