package images

import (
	"encoding/json"
	"fmt"
	"strconv"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	bolt "go.etcd.io/bbolt"

	"github.com/switchyard/switchyard/runtime"
)

// SchemaVersion is the version of meta.db's layout this package writes.
//
//   - 1 (no version recorded): a reference maps straight to a manifest
//     digest, and a manifest record carries the platforms of the index it
//     was chosen from.
//   - 2: a reference maps to its target, an index or a manifest; an index
//     is kept whole with its entries; platforms come from the content.
const SchemaVersion = 2

// upgrade creates the buckets of a new store, or brings an older one to
// SchemaVersion inside one transaction: a store that cannot be upgraded is
// left as it was.
func upgrade(tx *bolt.Tx) error {
	meta, err := tx.CreateBucketIfNotExists(bucketMeta)
	if err != nil {
		return err
	}
	version := 1
	if raw := meta.Get([]byte("schema")); raw != nil {
		if version, err = strconv.Atoi(string(raw)); err != nil {
			return fmt.Errorf("meta.db: schema version %q: %w", raw, runtime.ErrInvalidArgument)
		}
	} else if tx.Bucket(bucketRefs) == nil {
		version = SchemaVersion // a new store
	}
	if version > SchemaVersion {
		return fmt.Errorf("meta.db has schema version %d, and this switchyard reads up to %d: run a newer switchyard on this root, or move the images directory aside to start with an empty store: %w",
			version, SchemaVersion, runtime.ErrFailedPrecondition)
	}
	for _, b := range [][]byte{bucketRefs, bucketIndexes, bucketImages, bucketUses} {
		if _, err := tx.CreateBucketIfNotExists(b); err != nil {
			return err
		}
	}
	if version == 1 {
		if err := upgradeFrom1(tx); err != nil {
			return fmt.Errorf("meta.db: upgrading schema 1 to %d: %w", SchemaVersion, err)
		}
	}
	return meta.Put([]byte("schema"), []byte(strconv.Itoa(SchemaVersion)))
}

// upgradeFrom1 turns schema 1's reference → manifest digest entries into
// references whose target is that manifest, and drops the index platforms
// schema 1 wrote onto manifest records (they belonged to whichever index was
// pulled last, not to the manifest). The indexes themselves were never
// stored, so an upgraded reference reports the platform of the manifest it
// has; pulling it again records its index.
func upgradeFrom1(tx *bolt.Tx) error {
	imgs := tx.Bucket(bucketImages)
	type legacy struct {
		Image
		Platforms   json.RawMessage `json:"platforms"`
		IndexDigest string          `json:"index_digest"`
	}
	var digests []string
	if err := imgs.ForEach(func(k, _ []byte) error {
		digests = append(digests, string(k))
		return nil
	}); err != nil {
		return err
	}
	for _, d := range digests {
		var old legacy
		if err := json.Unmarshal(imgs.Get([]byte(d)), &old); err != nil {
			return fmt.Errorf("manifest %s: corrupt record: %w", d, err)
		}
		img := old.Image
		// Schema 1 kept the config's platform as written (wasi/wasm for a
		// Docker+Wasm image): normalise it as Write does now.
		img.Platform = runtime.NormalizePlatform(img.Platform)
		if img.Platform.OS == "" && isWasmArtifact(img.ConfigMediaType, img.Layers) {
			img.Platform = ocispec.Platform{OS: "wasip1", Architecture: "wasm"}
		}
		if img.ConfigSize == 0 {
			img.ConfigSize = img.Size
			for _, l := range img.Layers {
				img.ConfigSize -= l.Size
			}
		}
		if err := putImage(tx, img); err != nil {
			return err
		}
	}
	refs := tx.Bucket(bucketRefs)
	type pair struct{ name, digest string }
	var old []pair
	if err := refs.ForEach(func(k, v []byte) error {
		old = append(old, pair{string(k), string(v)})
		return nil
	}); err != nil {
		return err
	}
	for _, p := range old {
		img, err := getImage(tx, p.digest)
		if err != nil {
			// A dangling schema-1 reference named nothing that could run.
			if err := refs.Delete([]byte(p.name)); err != nil {
				return err
			}
			continue
		}
		if err := putRef(tx, p.name, refRecord{Digest: img.Digest, MediaType: img.MediaType}); err != nil {
			return err
		}
	}
	return nil
}
