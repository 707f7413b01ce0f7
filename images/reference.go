package images

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/containerd/platforms"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	bolt "go.etcd.io/bbolt"

	"github.com/switchyard/switchyard/runtime"
)

// Reference is what a reference names in the store: its target, an index
// or a single manifest, and one Entry per platform under it. It is derived
// from the target's content every time, so pulling one reference never
// changes what another reports.
type Reference struct {
	// Name is the normalised reference (index.docker.io/library/busybox:1).
	Name string
	// Digest and MediaType describe the target: an index or a manifest.
	Digest    string
	MediaType string
	// Entries are the target's platforms: every image entry of an index, in
	// index order (attestations left out), or the one manifest.
	Entries []Entry
	// Size is the bytes of what is present: the index, and the manifests,
	// configs and layers of the present entries (a layer shared by two
	// entries counts once).
	Size int64
	// Created is the newest build time among the present entries.
	Created time.Time
	// Annotations are the target's own: the index's, or the manifest's.
	Annotations map[string]string
	// User is the user the image runs as (its config's), of the first
	// present entry.
	User string
}

// Entry is one platform of a reference.
type Entry struct {
	// Platform is the entry's platform, normalised (wasi/wasm is
	// wasip1/wasm); empty when neither the index nor the config says.
	Platform ocispec.Platform
	// Digest is the manifest's digest.
	Digest string
	// Present reports whether the manifest, its config and its layers are
	// in the store.
	Present bool
	// Size is the bytes of the manifest's config and layers when present.
	Size int64
}

// IsIndex reports whether the reference points at an index.
func (r Reference) IsIndex() bool { return IsIndexMediaType(r.MediaType) }

// Platforms returns the platforms of every entry, present or not.
func (r Reference) Platforms() []ocispec.Platform {
	var out []ocispec.Platform
	for _, e := range r.Entries {
		if e.Platform.OS != "" {
			out = append(out, e.Platform)
		}
	}
	return out
}

// PresentPlatforms returns the platforms whose content is in the store.
func (r Reference) PresentPlatforms() []ocispec.Platform {
	var out []ocispec.Platform
	for _, e := range r.Entries {
		if e.Present && e.Platform.OS != "" {
			out = append(out, e.Platform)
		}
	}
	return out
}

// Info converts the reference to the contract's ImageInfo.
func (r Reference) Info() runtime.ImageInfo {
	info := runtime.ImageInfo{
		Reference:   r.Name,
		Digest:      r.Digest,
		MediaType:   r.MediaType,
		Size:        r.Size,
		Platforms:   r.Platforms(),
		Created:     r.Created,
		Annotations: r.Annotations,
		User:        r.User,
	}
	for _, e := range r.Entries {
		info.Manifests = append(info.Manifests, runtime.ImageManifest{
			Platform: e.Platform, Digest: e.Digest, Present: e.Present, Size: e.Size,
		})
	}
	return info
}

// Metadata records (schema 2).

// refRecord is what bucketRefs holds under a normalised reference: the
// descriptor of its target.
type refRecord struct {
	Digest    string `json:"digest"`
	MediaType string `json:"media_type"`
	Size      int64  `json:"size"`
}

// indexRecord is what bucketIndexes holds under an index digest: the
// index's image entries. The index's JSON is a blob too.
type indexRecord struct {
	MediaType string       `json:"media_type"`
	Size      int64        `json:"size"`
	Manifests []indexEntry `json:"manifests"`
	// Annotations are the index's own.
	Annotations map[string]string `json:"annotations,omitempty"`
}

// indexEntry is one image manifest an index lists.
type indexEntry struct {
	Digest    string `json:"digest"`
	MediaType string `json:"media_type"`
	Size      int64  `json:"size"`
	// Platform is normalised; nil when the index gives none.
	Platform *ocispec.Platform `json:"platform,omitempty"`
}

// IsIndexMediaType reports whether mt is an index's media type: an OCI
// image index or a Docker manifest list.
func IsIndexMediaType(mt string) bool {
	return mt == ocispec.MediaTypeImageIndex || mt == "application/vnd.docker.distribution.manifest.list.v2+json"
}

// IsAttestation reports whether an index entry is an attestation
// (BuildKit's provenance and SBOM manifests, marked by their annotation or
// their unknown platform), not a runnable image. The one rule for every
// reader of an index: the store, the registry client, load.
func IsAttestation(d ocispec.Descriptor) bool {
	return d.Annotations["vnd.docker.reference.type"] == "attestation-manifest" ||
		d.Platform != nil && d.Platform.OS == "unknown"
}

func getRef(tx *bolt.Tx, norm string) (refRecord, bool, error) {
	raw := tx.Bucket(bucketRefs).Get([]byte(norm))
	if raw == nil {
		return refRecord{}, false, nil
	}
	var r refRecord
	if err := json.Unmarshal(raw, &r); err != nil {
		return refRecord{}, false, fmt.Errorf("reference %s: corrupt record: %w", norm, err)
	}
	return r, true, nil
}

func putRef(tx *bolt.Tx, norm string, r refRecord) error {
	raw, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return tx.Bucket(bucketRefs).Put([]byte(norm), raw)
}

func getIndex(tx *bolt.Tx, dgst string) (indexRecord, bool, error) {
	raw := tx.Bucket(bucketIndexes).Get([]byte(dgst))
	if raw == nil {
		return indexRecord{}, false, nil
	}
	var r indexRecord
	if err := json.Unmarshal(raw, &r); err != nil {
		return indexRecord{}, false, fmt.Errorf("index %s: corrupt record: %w", dgst, err)
	}
	return r, true, nil
}

func putIndex(tx *bolt.Tx, dgst string, r indexRecord) error {
	raw, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return tx.Bucket(bucketIndexes).Put([]byte(dgst), raw)
}

func hasManifest(tx *bolt.Tx, dgst string) bool {
	return tx.Bucket(bucketImages).Get([]byte(dgst)) != nil
}

// target finds what ref names: its normalised form and the descriptor of
// its target. A bare digest, or a digest reference the store has no record
// for, names the content itself when the store has it.
func target(tx *bolt.Tx, ref string) (string, refRecord, error) {
	norm, err := Normalize(ref)
	if err != nil {
		return "", refRecord{}, err
	}
	r, ok, err := getRef(tx, norm)
	if err != nil {
		return "", refRecord{}, err
	}
	if ok {
		return norm, r, nil
	}
	if d, ok := digestOf(norm); ok {
		if ix, ok, err := getIndex(tx, d); err != nil {
			return "", refRecord{}, err
		} else if ok {
			return norm, refRecord{Digest: d, MediaType: ix.MediaType, Size: ix.Size}, nil
		}
		if img, err := getImage(tx, d); err == nil {
			return norm, refRecord{Digest: d, MediaType: img.MediaType}, nil
		}
	}
	return "", refRecord{}, fmt.Errorf("image %s: %w", norm, runtime.ErrNotFound)
}

// describe builds the Reference view of a target inside tx.
func describe(tx *bolt.Tx, norm string, t refRecord) (Reference, error) {
	out := Reference{Name: norm, Digest: t.Digest, MediaType: t.MediaType}
	counted := map[string]bool{}
	userSet := false
	add := func(img Image) int64 {
		var n int64
		for _, d := range append([]string{img.ConfigDigest}, layerDigests(img)...) {
			if !counted[d] {
				counted[d] = true
				n += blobSize(img, d)
			}
		}
		if img.Created.After(out.Created) {
			out.Created = img.Created
		}
		if !userSet {
			out.User, userSet = img.Config.Config.User, true
		}
		return n
	}
	ix, isIndex, err := getIndex(tx, t.Digest)
	if err != nil {
		return Reference{}, err
	}
	if !isIndex {
		img, err := getImage(tx, t.Digest)
		if err != nil {
			return Reference{}, fmt.Errorf("image %s: %w", norm, err)
		}
		out.Size = add(img)
		out.Entries = []Entry{{Platform: img.Platform, Digest: img.Digest, Present: true, Size: img.Size}}
		out.Annotations = img.Annotations
		return out, nil
	}
	out.Size = ix.Size
	out.Annotations = ix.Annotations
	for _, e := range ix.Manifests {
		en := Entry{Digest: e.Digest}
		if e.Platform != nil {
			en.Platform = *e.Platform
		}
		if img, err := getImage(tx, e.Digest); err == nil {
			en.Present, en.Size = true, img.Size
			out.Size += add(img)
			if en.Platform.OS == "" {
				en.Platform = img.Platform
			}
		}
		out.Entries = append(out.Entries, en)
	}
	return out, nil
}

func layerDigests(img Image) []string {
	out := make([]string, len(img.Layers))
	for i, l := range img.Layers {
		out[i] = l.Digest
	}
	return out
}

func blobSize(img Image, d string) int64 {
	if d == img.ConfigDigest {
		return img.ConfigSize
	}
	for _, l := range img.Layers {
		if l.Digest == d {
			return l.Size
		}
	}
	return 0
}

// resolve returns the present manifest of ref's target that best matches
// want (most preferred first, each with the platforms it can run, as
// runtime.PlatformMatcher says; empty means this machine's platform, else
// any). The errors say what the reference offers: runtime.ErrNotSupported
// when no entry is of a wanted platform, and runtime.ErrNotFound when one is
// but its content was not pulled.
func resolve(tx *bolt.Tx, ref string, want []ocispec.Platform) (Image, error) {
	norm, t, err := target(tx, ref)
	if err != nil {
		return Image{}, err
	}
	ix, isIndex, err := getIndex(tx, t.Digest)
	if err != nil {
		return Image{}, err
	}
	if !isIndex {
		img, err := getImage(tx, t.Digest)
		if err != nil {
			return Image{}, fmt.Errorf("image %s: %w", norm, err)
		}
		img.Ref = norm
		if len(want) > 0 && img.Platform.OS != "" && !runtime.PlatformMatcher(want...).Match(img.Platform) {
			return Image{}, fmt.Errorf("image %s is for %s, not %s: run it on a runtime that serves %s, or pull a build for %s: %w",
				norm, runtime.FormatPlatform(img.Platform), formatPlatforms(want), runtime.FormatPlatform(img.Platform), formatPlatforms(want), runtime.ErrNotSupported)
		}
		return img, nil
	}
	m := runtime.PlatformMatcher(want...)
	if len(want) == 0 {
		m = platforms.Default()
	}
	best, matched := -1, false
	var bestP ocispec.Platform
	for i, e := range ix.Manifests {
		p, ok := entryPlatform(tx, e)
		if !ok || !m.Match(p) {
			continue
		}
		matched = true
		if !hasManifest(tx, e.Digest) {
			continue
		}
		if best < 0 || m.Less(p, bestP) {
			best, bestP = i, p
		}
	}
	if best < 0 && len(want) == 0 {
		// No preference: any present entry will do.
		for i, e := range ix.Manifests {
			if hasManifest(tx, e.Digest) {
				best, bestP = i, ocispec.Platform{}
				if p, ok := entryPlatform(tx, e); ok {
					bestP = p
				}
				break
			}
		}
	}
	if best < 0 {
		offered := indexPlatforms(tx, ix)
		switch {
		case len(want) == 0:
			return Image{}, fmt.Errorf("image %s lists %s, and none of them was pulled: pull it for one of them: %w",
				norm, formatPlatforms(offered), runtime.ErrNotFound)
		case !matched:
			return Image{}, fmt.Errorf("image %s is for %s, not %s: run it on a runtime that serves one of them: %w",
				norm, formatPlatforms(offered), formatPlatforms(want), runtime.ErrNotSupported)
		}
		return Image{}, fmt.Errorf("image %s has a manifest for %s, but it was not pulled (pulled: %s): pull it with --platform %s: %w",
			norm, formatPlatforms(want), formatPlatforms(presentPlatforms(tx, ix)), runtime.FormatPlatform(runtime.NormalizePlatform(want[0])), runtime.ErrNotFound)
	}
	img, err := getImage(tx, ix.Manifests[best].Digest)
	if err != nil {
		return Image{}, fmt.Errorf("image %s: %w", norm, err)
	}
	img.Ref = norm
	if img.Platform.OS == "" {
		img.Platform = bestP
	}
	return img, nil
}

// entryPlatform is the platform of an index entry: the index's, else (an
// entry the index gives none) its present manifest's.
func entryPlatform(tx *bolt.Tx, e indexEntry) (ocispec.Platform, bool) {
	if e.Platform != nil {
		return *e.Platform, true
	}
	if img, err := getImage(tx, e.Digest); err == nil && img.Platform.OS != "" {
		return img.Platform, true
	}
	return ocispec.Platform{}, false
}

func indexPlatforms(tx *bolt.Tx, ix indexRecord) []ocispec.Platform {
	var out []ocispec.Platform
	for _, e := range ix.Manifests {
		if p, ok := entryPlatform(tx, e); ok {
			out = append(out, p)
		}
	}
	return out
}

func presentPlatforms(tx *bolt.Tx, ix indexRecord) []ocispec.Platform {
	var out []ocispec.Platform
	for _, e := range ix.Manifests {
		if p, ok := entryPlatform(tx, e); ok && hasManifest(tx, e.Digest) {
			out = append(out, p)
		}
	}
	return out
}

func formatPlatforms(ps []ocispec.Platform) string {
	if len(ps) == 0 {
		return "none"
	}
	s := make([]string, 0, len(ps))
	for _, p := range ps {
		if f := runtime.FormatPlatform(p); !slices.Contains(s, f) {
			s = append(s, f)
		}
	}
	return strings.Join(s, ", ")
}
