package images

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/switchyard/switchyard/runtime"
)

// Image is one image manifest in the store: one platform's config and
// layers. Resolve returns the one a runtime runs; Write returns the one it
// stored.
type Image struct {
	// Ref is the normalised reference the manifest was resolved through
	// (index.docker.io/library/busybox:latest); not stored.
	Ref string `json:"ref,omitempty"`
	// Digest is the manifest digest, "sha256:...".
	Digest string `json:"digest"`
	// Platform is the platform of this manifest: its config's, normalised
	// (or wasip1/wasm for a WebAssembly artifact).
	Platform ocispec.Platform `json:"platform"`
	// Config is the parsed image config.
	Config ocispec.Image `json:"config"`
	// ConfigMediaType is the config blob's media type.
	ConfigMediaType string `json:"config_media_type"`
	// ConfigDigest is the config blob's digest.
	ConfigDigest string `json:"config_digest"`
	// ConfigSize is the config blob's size in bytes.
	ConfigSize int64 `json:"config_size"`
	// MediaType is the manifest's media type.
	MediaType string `json:"media_type"`
	// Layers are the layers, bottom first.
	Layers []Layer `json:"layers"`
	// Size is the bytes of the config and the (compressed) layers.
	Size int64 `json:"size"`
	// Created is when the image was built, if the config says.
	Created time.Time `json:"created,omitzero"`
	// Annotations are the manifest's own.
	Annotations map[string]string `json:"annotations,omitempty"`
}

// Layer is one layer of an image.
type Layer struct {
	// Digest is the blob's digest, "sha256:...".
	Digest string `json:"digest"`
	// DiffID is the digest of the uncompressed content; empty when the
	// image does not say (a non-tar artifact layer).
	DiffID string `json:"diff_id"`
	// MediaType is the blob's media type.
	MediaType string `json:"media_type"`
	// Size is the blob's size in bytes.
	Size int64 `json:"size"`
}

// Bucket names of meta.db.
var (
	bucketMeta    = []byte("meta")    // "schema" → the metadata schema version
	bucketRefs    = []byte("refs")    // normalised reference → JSON refRecord (its target)
	bucketIndexes = []byte("indexes") // index digest → JSON indexRecord
	bucketImages  = []byte("images")  // manifest digest → JSON Image (Ref empty)
	bucketUses    = []byte("uses")    // empty: uses live in memory (uses.go); an earlier version's are dropped
)

// use records that a container uses one manifest of an image.
type use struct {
	Ref    string `json:"ref"`
	Digest string `json:"digest"` // the manifest's
}

// Store is a local image store. It is safe for concurrent use by many
// goroutines; one process at a time may open a root.
type Store struct {
	root   string
	db     *bolt.DB
	opts   options
	closed atomic.Bool

	// gc is held for reading by everything that adds blobs or snapshots
	// before the metadata names them (Write, PrepareRootfs), and for
	// writing by garbage collection, so it never deletes content in flight.
	gc sync.RWMutex

	// unpackMu guards unpacking: one goroutine unpacks a given layer while
	// the others wait for it.
	unpackMu sync.Mutex
	unpacks  map[string]*unpackCall // guarded by unpackMu

	// usesMu guards uses, container key → the manifest it uses (see
	// uses.go), and is held by whoever decides from them what may go.
	usesMu sync.Mutex
	uses   map[string]use
}

// Open opens (creating if needed) the store under root. Another process
// holding the store makes Open fail with runtime.ErrUnavailable after a
// short wait.
func Open(root string, opts ...Option) (*Store, error) {
	o, err := makeOptions(opts)
	if err != nil {
		return nil, err
	}
	root, err = filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("image store %s: %w", root, err)
	}
	for _, d := range []string{"blobs/sha256", "ingest", "snapshots", "containers"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o700); err != nil {
			return nil, fmt.Errorf("image store %s: %w", root, err)
		}
	}
	db, err := bolt.Open(filepath.Join(root, "meta.db"), 0o600, &bolt.Options{Timeout: 2 * time.Second})
	if err != nil {
		if errors.Is(err, berrors.ErrTimeout) {
			return nil, fmt.Errorf("image store %s: another process holds meta.db: %w", root, runtime.ErrUnavailable)
		}
		return nil, fmt.Errorf("image store %s: %w", root, err)
	}
	if err := db.Update(func(tx *bolt.Tx) error {
		if err := upgrade(tx); err != nil {
			return err
		}
		return dropStoredUses(tx)
	}); err != nil {
		db.Close()
		return nil, fmt.Errorf("image store %s: %w", root, err)
	}
	s := &Store{root: root, db: db, opts: o, unpacks: map[string]*unpackCall{}, uses: map[string]use{}}
	// We hold the database lock, so no one else is writing: whatever is in
	// ingest or half-unpacked is left over from an interrupted run.
	s.cleanTemp()
	return s, nil
}

// Root returns the directory the store lives in.
func (s *Store) Root() string { return s.root }

// Close closes the store. It is safe to call more than once.
func (s *Store) Close() error {
	if !s.closed.CompareAndSwap(false, true) {
		return nil
	}
	return s.db.Close()
}

func (s *Store) cleanTemp() {
	if ents, err := os.ReadDir(filepath.Join(s.root, "ingest")); err == nil {
		for _, e := range ents {
			_ = os.RemoveAll(filepath.Join(s.root, "ingest", e.Name()))
		}
	}
	if ents, err := os.ReadDir(filepath.Join(s.root, "snapshots")); err == nil {
		for _, e := range ents {
			if isTempName(e.Name()) {
				_ = removeAllForce(filepath.Join(s.root, "snapshots", e.Name()))
			}
		}
	}
}

// Normalize returns the canonical form of ref: busybox becomes
// index.docker.io/library/busybox:latest. A bare "sha256:<hex>" digest is
// returned as is (it names an image by manifest digest).
func Normalize(ref string) (string, error) {
	if isDigest(ref) {
		return ref, nil
	}
	r, err := name.ParseReference(ref)
	if err != nil {
		return "", fmt.Errorf("image reference %q: %w: %w (write it as name[:tag] or name@sha256:<hex>)", ref, runtime.ErrInvalidArgument, err)
	}
	// A repository of path segments "." or ".." (../../x) parses, and names
	// nothing a registry could serve.
	for _, seg := range strings.Split(r.Context().RepositoryStr(), "/") {
		if seg == "." || seg == ".." || seg == "" {
			return "", fmt.Errorf("image reference %q: %w: the repository has a %q segment; write it as name[:tag], such as busybox or library/busybox:1", ref, runtime.ErrInvalidArgument, seg)
		}
	}
	return r.Name(), nil
}

func isDigest(s string) bool {
	const p = "sha256:"
	if len(s) != len(p)+64 || s[:len(p)] != p {
		return false
	}
	for _, c := range s[len(p):] {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

func digestOf(norm string) (string, bool) {
	if isDigest(norm) {
		return norm, true
	}
	if d, err := name.NewDigest(norm); err == nil {
		return d.DigestStr(), true
	}
	return "", false
}

func getImage(tx *bolt.Tx, dgst string) (Image, error) {
	raw := tx.Bucket(bucketImages).Get([]byte(dgst))
	if raw == nil {
		return Image{}, fmt.Errorf("manifest %s: %w", dgst, runtime.ErrNotFound)
	}
	var img Image
	if err := json.Unmarshal(raw, &img); err != nil {
		return Image{}, fmt.Errorf("manifest %s: corrupt record: %w", dgst, err)
	}
	return img, nil
}

func putImage(tx *bolt.Tx, img Image) error {
	img.Ref = ""
	raw, err := json.Marshal(img)
	if err != nil {
		return err
	}
	return tx.Bucket(bucketImages).Put([]byte(img.Digest), raw)
}

func (s *Store) checkOpen() error {
	if s.closed.Load() {
		return fmt.Errorf("image store %s: closed: %w", s.root, runtime.ErrUnavailable)
	}
	return nil
}

// Get returns what ref names: its target and every platform under it, with
// which of them are present. The error wraps runtime.ErrNotFound when the
// store does not hold ref.
func (s *Store) Get(ctx context.Context, ref string) (Reference, error) {
	if err := s.checkOpen(); err != nil {
		return Reference{}, err
	}
	var out Reference
	err := s.db.View(func(tx *bolt.Tx) error {
		norm, t, err := target(tx, ref)
		if err != nil {
			return err
		}
		out, err = describe(tx, norm, t)
		return err
	})
	return out, err
}

// Resolve returns the manifest of ref's target that a runtime serving want
// (most preferred first) runs: the manifest itself, or the best present
// entry of an index (containerd's images.Manifest with a platform
// matcher). Empty want prefers this machine's platform and takes any
// present entry. Errors wrap runtime.ErrNotFound for an unknown reference
// or an entry of a wanted platform that was not pulled, and
// runtime.ErrNotSupported when ref has no entry of a wanted platform.
func (s *Store) Resolve(ctx context.Context, ref string, want []ocispec.Platform) (Image, error) {
	if err := s.checkOpen(); err != nil {
		return Image{}, err
	}
	var img Image
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		img, err = resolve(tx, ref, want)
		return err
	})
	return img, err
}
