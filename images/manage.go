package images

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	bolt "go.etcd.io/bbolt"

	"github.com/switchyard/switchyard/runtime"
)

// List returns one Image per reference, sorted by reference.
func (s *Store) List(ctx context.Context) ([]Image, error) {
	if err := s.checkOpen(); err != nil {
		return nil, err
	}
	var out []Image
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketRefs).ForEach(func(k, v []byte) error {
			img, err := getImage(tx, string(v))
			if err != nil {
				return fmt.Errorf("image %s: %w", k, err)
			}
			img.Ref = string(k)
			out = append(out, img)
			return nil
		})
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Ref < out[j].Ref })
	return out, err
}

// Tag gives the image src names a second reference dst (normalised). The
// error wraps runtime.ErrNotFound when src is not in the store. A dst that
// named another image is moved; that image stays, untagged, for Prune.
func (s *Store) Tag(ctx context.Context, src, dst string) error {
	if err := s.checkOpen(); err != nil {
		return err
	}
	normDst, err := Normalize(dst)
	if err != nil {
		return err
	}
	if _, ok := digestOf(normDst); ok {
		return fmt.Errorf("tag %s: %w: a tag cannot be a digest; give name[:tag]", dst, runtime.ErrInvalidArgument)
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		_, img, err := resolve(tx, src)
		if err != nil {
			return err
		}
		return tx.Bucket(bucketRefs).Put([]byte(normDst), []byte(img.Digest))
	})
}

// Remove removes the reference ref. When it is the image's last reference
// and a container uses the image, Remove refuses with an error wrapping
// runtime.ErrFailedPrecondition that names the containers, unless force is
// set (the image then stays, untagged, until its containers release it and
// Prune runs). An image left with no reference and no container is deleted
// with every blob and snapshot no other image needs. A digest reference
// removes every reference to that image.
func (s *Store) Remove(ctx context.Context, ref string, force bool) error {
	if err := s.checkOpen(); err != nil {
		return err
	}
	dropped := false
	err := s.db.Update(func(tx *bolt.Tx) error {
		norm, img, err := resolve(tx, ref)
		if err != nil {
			return err
		}
		refs := tx.Bucket(bucketRefs)
		var names, others []string
		_ = refs.ForEach(func(k, v []byte) error {
			if string(v) == img.Digest {
				if string(k) == norm {
					names = append(names, string(k))
				} else {
					others = append(others, string(k))
				}
			}
			return nil
		})
		if _, byDigest := digestOf(norm); byDigest {
			names, others = append(names, others...), nil
		}
		if len(others) == 0 && !force {
			if users := usersOf(tx, img.Digest); len(users) > 0 {
				return fmt.Errorf("image %s: %w: used by container(s) %s; remove them first or force the removal",
					norm, runtime.ErrFailedPrecondition, strings.Join(users, ", "))
			}
		}
		for _, n := range names {
			if err := refs.Delete([]byte(n)); err != nil {
				return err
			}
		}
		dropped, err = dropIfUnused(tx, img.Digest)
		return err
	})
	if err != nil {
		return err
	}
	if dropped {
		if _, err := s.collect(ctx); err != nil {
			return fmt.Errorf("image %s: reclaiming space: %w", ref, err)
		}
	}
	return nil
}

// usersOf returns the keys of the containers that use the image dgst.
func usersOf(tx *bolt.Tx, dgst string) []string {
	var users []string
	_ = tx.Bucket(bucketUses).ForEach(func(k, v []byte) error {
		var u use
		if json.Unmarshal(v, &u) == nil && u.Digest == dgst {
			users = append(users, string(k))
		}
		return nil
	})
	sort.Strings(users)
	return users
}

// dropIfUnused deletes the record of image dgst when no reference and no
// container names it, and reports whether it did.
func dropIfUnused(tx *bolt.Tx, dgst string) (bool, error) {
	named := false
	_ = tx.Bucket(bucketRefs).ForEach(func(_, v []byte) error {
		if string(v) == dgst {
			named = true
		}
		return nil
	})
	if named || len(usersOf(tx, dgst)) > 0 {
		return false, nil
	}
	if tx.Bucket(bucketImages).Get([]byte(dgst)) == nil {
		return false, nil
	}
	return true, tx.Bucket(bucketImages).Delete([]byte(dgst))
}

// Prune deletes every image that no reference and no container names, then
// every blob and snapshot that no remaining image needs. It reports the
// digests it deleted (images first, then other blobs) and the bytes freed.
func (s *Store) Prune(ctx context.Context) (runtime.PruneResult, error) {
	if err := s.checkOpen(); err != nil {
		return runtime.PruneResult{}, err
	}
	var dropped []string
	err := s.db.Update(func(tx *bolt.Tx) error {
		var candidates []string
		_ = tx.Bucket(bucketImages).ForEach(func(k, _ []byte) error {
			candidates = append(candidates, string(k))
			return nil
		})
		for _, d := range candidates {
			gone, err := dropIfUnused(tx, d)
			if err != nil {
				return err
			}
			if gone {
				dropped = append(dropped, d)
			}
		}
		return nil
	})
	if err != nil {
		return runtime.PruneResult{}, fmt.Errorf("image store %s: prune: %w", s.root, err)
	}
	res, err := s.collect(ctx)
	if err != nil {
		return runtime.PruneResult{}, err
	}
	deleted := append([]string(nil), dropped...)
	seen := map[string]bool{}
	for _, d := range dropped {
		seen[d] = true
	}
	for _, d := range res.Deleted {
		if !seen[d] {
			deleted = append(deleted, d)
		}
	}
	res.Deleted = deleted
	if res.Deleted == nil {
		res.Deleted = []string{}
	}
	return res, nil
}
