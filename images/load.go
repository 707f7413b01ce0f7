package images

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/switchyard/switchyard/internal/archive"
	"github.com/switchyard/switchyard/runtime"
)

// Annotations that name an image in an OCI layout.
const (
	annotationRefName        = ocispec.AnnotationRefName // org.opencontainers.image.ref.name
	annotationContainerdName = "io.containerd.image.name"
)

// UnnamedRepository is the repository LoadFile files images under when the
// archive gives them no name: localhost/unnamed:<first 12 hex digits of
// the manifest digest>. Tag them afterwards to name them.
const UnnamedRepository = "localhost/unnamed"

// LoadFile imports the images in path: an OCI image layout directory, an
// OCI layout tarball, or a `docker save` tarball. Each image is stored
// under its names — the org.opencontainers.image.ref.name (or
// io.containerd.image.name) annotation of an OCI layout, the RepoTags of a
// docker tarball; an image without a name is stored as
// UnnamedRepository:<short digest>. A multi-platform index is kept whole,
// with every platform whose manifest the archive holds. It returns what each
// name names afterwards.
func (s *Store) LoadFile(ctx context.Context, path string) ([]Reference, error) {
	if err := s.checkOpen(); err != nil {
		return nil, err
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", path, notFound(err))
	}
	if fi.IsDir() {
		return s.loadLayout(ctx, path)
	}
	kind, err := tarKind(path)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	switch kind {
	case "oci":
		dir, err := os.MkdirTemp(filepath.Join(s.root, "ingest"), "load-")
		if err != nil {
			return nil, fmt.Errorf("load %s: %w", path, err)
		}
		defer os.RemoveAll(dir)
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("load %s: %w", path, err)
		}
		_, err = archive.Extract(ctx, f, dir, archive.WithOwners(false), archive.WithMaxSize(s.opts.maxUnpacked))
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("load %s: %w", path, err)
		}
		return s.loadLayout(ctx, dir)
	case "docker":
		return s.loadDocker(ctx, path)
	}
	return nil, fmt.Errorf("load %s: %w: neither an OCI image layout (oci-layout, index.json) nor a docker save archive (manifest.json)", path, runtime.ErrInvalidArgument)
}

func notFound(err error) error {
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("%w: %w", runtime.ErrNotFound, err)
	}
	return err
}

// tarKind looks at the names in the (possibly compressed) tarball at path.
func tarKind(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", notFound(err)
	}
	defer f.Close()
	zr, _, err := archive.Decompress(f, "")
	if err != nil {
		return "", err
	}
	defer zr.Close()
	tr := tar.NewReader(zr)
	var hasLayout, hasIndex, hasManifest bool
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return "", fmt.Errorf("%w: not a tar archive: %w", runtime.ErrInvalidArgument, err)
		}
		switch strings.TrimPrefix(hdr.Name, "./") {
		case "oci-layout":
			hasLayout = true
		case "index.json":
			hasIndex = true
		case "manifest.json":
			hasManifest = true
		}
	}
	switch {
	case hasLayout && hasIndex:
		return "oci", nil
	case hasManifest:
		return "docker", nil
	}
	return "", nil
}

func (s *Store) loadLayout(ctx context.Context, dir string) ([]Reference, error) {
	lp, err := layout.FromPath(dir)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w: not an OCI image layout: %w", dir, runtime.ErrInvalidArgument, err)
	}
	idx, err := lp.ImageIndex()
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", dir, err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, fmt.Errorf("load %s: index.json: %w: %w", dir, runtime.ErrInvalidArgument, err)
	}
	var out []Reference
	for _, d := range im.Manifests {
		if !d.MediaType.IsImage() && !d.MediaType.IsIndex() {
			continue // not an image (an attestation, say)
		}
		ref, err := layoutRef(d.Annotations, d.Digest)
		if err != nil {
			return out, fmt.Errorf("load %s: %w", dir, err)
		}
		stored, err := s.loadDescriptor(ctx, idx, d, ref)
		if err != nil {
			return out, fmt.Errorf("load %s: manifest %s: %w", dir, d.Digest, err)
		}
		out = append(out, stored)
	}
	return out, nil
}

// loadDescriptor stores what a descriptor of index.json stands for under
// ref: a manifest, or a nested index kept whole with every entry whose
// manifest the layout holds.
func (s *Store) loadDescriptor(ctx context.Context, idx v1.ImageIndex, d v1.Descriptor, ref string) (Reference, error) {
	if d.MediaType.IsImage() {
		img, err := idx.Image(d.Digest)
		if err != nil {
			return Reference{}, err
		}
		if _, err := s.Write(ctx, ref, img, WriteOptions{}); err != nil {
			return Reference{}, err
		}
		return s.Get(ctx, ref)
	}
	child, err := idx.ImageIndex(d.Digest)
	if err != nil {
		return Reference{}, err
	}
	cm, err := child.IndexManifest()
	if err != nil {
		return Reference{}, err
	}
	var pull []v1.Hash
	for _, m := range cm.Manifests {
		if !m.MediaType.IsImage() || IsAttestation(ocispec.Descriptor{Annotations: m.Annotations, Platform: ociPlatform(m.Platform)}) {
			continue
		}
		// A layout may hold only some platforms of an index: the others are
		// recorded and absent.
		if img, err := child.Image(m.Digest); err == nil {
			if _, err := img.RawManifest(); err == nil {
				pull = append(pull, m.Digest)
			}
		}
	}
	if len(pull) == 0 {
		return Reference{}, fmt.Errorf("%w: the layout holds no image manifest of the index", runtime.ErrInvalidArgument)
	}
	return s.WriteIndex(ctx, ref, child, pull, WriteOptions{})
}

// layoutRef names an image of an OCI layout from its annotations. A bare
// tag ("1.36") names no repository, so it counts as no name.
func layoutRef(ann map[string]string, d v1.Hash) (string, error) {
	for _, key := range []string{annotationContainerdName, annotationRefName} {
		v := ann[key]
		if v == "" || !strings.ContainsAny(v, "/:@") {
			continue
		}
		if _, err := name.ParseReference(v); err == nil {
			return v, nil
		}
	}
	return UnnamedRepository + ":" + d.Hex[:12], nil
}

func (s *Store) loadDocker(ctx context.Context, path string) ([]Reference, error) {
	opener := func() (io.ReadCloser, error) { return os.Open(path) }
	m, err := tarball.LoadManifest(opener)
	if err != nil {
		return nil, fmt.Errorf("load %s: manifest.json: %w: %w", path, runtime.ErrInvalidArgument, err)
	}
	var out []Reference
	for _, d := range m {
		var tag *name.Tag
		if len(d.RepoTags) > 0 {
			t, err := name.NewTag(d.RepoTags[0])
			if err != nil {
				return out, fmt.Errorf("load %s: tag %q: %w: %w", path, d.RepoTags[0], runtime.ErrInvalidArgument, err)
			}
			tag = &t
		} else if len(m) > 1 {
			return out, fmt.Errorf("load %s: %w: an untagged image among %d; docker save it alone or with a tag", path, runtime.ErrInvalidArgument, len(m))
		}
		img, err := tarball.Image(opener, tag)
		if err != nil {
			return out, fmt.Errorf("load %s: %w", path, err)
		}
		refs := d.RepoTags
		if len(refs) == 0 {
			dg, err := img.Digest()
			if err != nil {
				return out, fmt.Errorf("load %s: %w", path, err)
			}
			refs = []string{UnnamedRepository + ":" + dg.Hex[:12]}
		}
		written, err := s.Write(ctx, refs[0], img, WriteOptions{})
		if err != nil {
			return out, fmt.Errorf("load %s: %w", path, err)
		}
		stored, err := s.Get(ctx, written.Ref)
		if err != nil {
			return out, fmt.Errorf("load %s: %w", path, err)
		}
		out = append(out, stored)
		for _, r := range refs[1:] {
			if err := s.Tag(ctx, stored.Name, r); err != nil {
				return out, fmt.Errorf("load %s: %w", path, err)
			}
			again, err := s.Get(ctx, r)
			if err != nil {
				return out, fmt.Errorf("load %s: %w", path, err)
			}
			out = append(out, again)
		}
	}
	return out, nil
}

// ociPlatform is p (go-containerregistry's) as the image spec's platform.
func ociPlatform(p *v1.Platform) *ocispec.Platform {
	if p == nil {
		return nil
	}
	return &ocispec.Platform{OS: p.OS, Architecture: p.Architecture, Variant: p.Variant, OSVersion: p.OSVersion, OSFeatures: p.OSFeatures}
}
