package images

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	bolt "go.etcd.io/bbolt"

	"github.com/switchyard/switchyard/runtime"
)

var errNotEmpty = syscall.ENOTEMPTY

// collect deletes every blob and snapshot that no index or manifest record
// names and
// reports the blob digests deleted and the bytes freed. It excludes
// writers and unpackers (s.gc), so nothing in flight is lost.
func (s *Store) collect(ctx context.Context) (runtime.PruneResult, error) {
	s.gc.Lock()
	defer s.gc.Unlock()
	liveBlobs := map[string]bool{}
	liveSnaps := map[string]bool{}
	err := s.db.View(func(tx *bolt.Tx) error {
		// An index is one blob; its present manifests have records below.
		_ = tx.Bucket(bucketIndexes).ForEach(func(k, _ []byte) error {
			liveBlobs[string(k)] = true
			return nil
		})
		return tx.Bucket(bucketImages).ForEach(func(k, _ []byte) error {
			img, err := getImage(tx, string(k))
			if err != nil {
				return err
			}
			liveBlobs[img.Digest] = true
			liveBlobs[img.ConfigDigest] = true
			for _, l := range img.Layers {
				liveBlobs[l.Digest] = true
				liveSnaps[snapshotKey(l)] = true
			}
			return nil
		})
	})
	if err != nil {
		return runtime.PruneResult{}, fmt.Errorf("image store %s: %w", s.root, err)
	}
	res := runtime.PruneResult{Deleted: []string{}}
	blobDir := filepath.Join(s.root, "blobs", "sha256")
	ents, err := os.ReadDir(blobDir)
	if err != nil {
		return res, fmt.Errorf("image store %s: %w", s.root, err)
	}
	for _, e := range ents {
		d := "sha256:" + e.Name()
		if liveBlobs[d] {
			continue
		}
		p := filepath.Join(blobDir, e.Name())
		fi, err := os.Lstat(p)
		if err != nil {
			continue
		}
		if err := os.Remove(p); err != nil {
			return res, fmt.Errorf("blob %s: %w", d, err)
		}
		res.Deleted = append(res.Deleted, d)
		res.SpaceReclaimed += uint64(fi.Size())
	}
	snapDir := filepath.Join(s.root, "snapshots")
	ents, err = os.ReadDir(snapDir)
	if err != nil {
		return res, fmt.Errorf("image store %s: %w", s.root, err)
	}
	for _, e := range ents {
		if liveSnaps[e.Name()] || isTempName(e.Name()) {
			continue
		}
		p := filepath.Join(snapDir, e.Name())
		size := treeSize(p)
		if err := removeAllForce(p); err != nil {
			return res, fmt.Errorf("snapshot %s: %w", e.Name(), err)
		}
		res.SpaceReclaimed += size
	}
	if len(res.Deleted) > 0 {
		s.opts.logger.DebugContext(ctx, "image store: reclaimed", "blobs", len(res.Deleted), "bytes", res.SpaceReclaimed)
	}
	return res, nil
}

// treeSize is the bytes of the regular files under dir.
func treeSize(dir string) uint64 {
	var n uint64
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				n += uint64(fi.Size())
			}
		}
		return nil
	})
	return n
}
