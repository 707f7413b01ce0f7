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

// List returns every reference with what it names, sorted by name.
func (s *Store) List(ctx context.Context) ([]Reference, error) {
	if err := s.checkOpen(); err != nil {
		return nil, err
	}
	var out []Reference
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketRefs).ForEach(func(k, _ []byte) error {
			t, _, err := getRef(tx, string(k))
			if err != nil {
				return err
			}
			r, err := describe(tx, string(k), t)
			if err != nil {
				return fmt.Errorf("image %s: %w", k, err)
			}
			out = append(out, r)
			return nil
		})
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, err
}

// Tag gives the target src names a second reference dst (normalised). The
// error wraps runtime.ErrNotFound when src is not in the store. A dst that
// named other content is moved; that content stays, unnamed, for Prune.
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
		_, t, err := target(tx, src)
		if err != nil {
			return err
		}
		return putRef(tx, normDst, t)
	})
}

// Remove removes the reference ref. When a container uses a manifest that
// only ref reaches, Remove refuses with an error wrapping
// runtime.ErrFailedPrecondition that names the containers, unless force is
// set (the manifest then stays, unnamed, until its containers release it
// and Prune runs: a running container keeps its root filesystem). Content
// that no reference and no container reaches any more is deleted at once,
// with every blob and snapshot only it needed. A digest (bare, or a digest
// reference the store has no record for) removes every reference to that
// content.
func (s *Store) Remove(ctx context.Context, ref string, force bool) error {
	if err := s.checkOpen(); err != nil {
		return err
	}
	dropped := false
	err := s.db.Update(func(tx *bolt.Tx) error {
		norm, t, err := target(tx, ref)
		if err != nil {
			return err
		}
		refs := tx.Bucket(bucketRefs)
		names := []string{norm}
		if _, named, err := getRef(tx, norm); err != nil {
			return err
		} else if !named {
			// A digest: every reference to that target goes.
			names = nil
			_ = refs.ForEach(func(k, v []byte) error {
				var r refRecord
				if json.Unmarshal(v, &r) == nil && r.Digest == t.Digest {
					names = append(names, string(k))
				}
				return nil
			})
		}
		if !force {
			if users := strandedUsers(tx, names); len(users) > 0 {
				return fmt.Errorf("image %s: %w: used by container(s) %s; remove them first or force the removal",
					norm, runtime.ErrFailedPrecondition, strings.Join(users, ", "))
			}
		}
		for _, n := range names {
			if err := refs.Delete([]byte(n)); err != nil {
				return err
			}
		}
		gone, err := sweep(tx)
		dropped = len(gone) > 0
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

// strandedUsers returns the containers whose manifest no reference other
// than those in removed reaches.
func strandedUsers(tx *bolt.Tx, removed []string) []string {
	keep := map[string]bool{}
	_ = tx.Bucket(bucketRefs).ForEach(func(k, v []byte) error {
		for _, r := range removed {
			if string(k) == r {
				return nil
			}
		}
		var r refRecord
		if json.Unmarshal(v, &r) == nil {
			reachFrom(tx, r.Digest, keep)
		}
		return nil
	})
	before := map[string]bool{}
	for _, n := range removed {
		if t, ok, _ := getRef(tx, n); ok {
			reachFrom(tx, t.Digest, before)
		}
	}
	var users []string
	_ = tx.Bucket(bucketUses).ForEach(func(k, v []byte) error {
		var u use
		if json.Unmarshal(v, &u) == nil && before[u.Digest] && !keep[u.Digest] {
			users = append(users, string(k))
		}
		return nil
	})
	sort.Strings(users)
	return users
}

// reachFrom adds to seen the target dgst and, for an index, every manifest
// it lists.
func reachFrom(tx *bolt.Tx, dgst string, seen map[string]bool) {
	seen[dgst] = true
	if ix, ok, _ := getIndex(tx, dgst); ok {
		for _, e := range ix.Manifests {
			seen[e.Digest] = true
		}
	}
}

// reachable returns every index and manifest digest a reference or a
// container use reaches.
func reachable(tx *bolt.Tx) map[string]bool {
	seen := map[string]bool{}
	_ = tx.Bucket(bucketRefs).ForEach(func(_, v []byte) error {
		var r refRecord
		if json.Unmarshal(v, &r) == nil {
			reachFrom(tx, r.Digest, seen)
		}
		return nil
	})
	_ = tx.Bucket(bucketUses).ForEach(func(_, v []byte) error {
		var u use
		if json.Unmarshal(v, &u) == nil {
			seen[u.Digest] = true
		}
		return nil
	})
	return seen
}

// sweep deletes the index and manifest records nothing reaches and returns
// their digests, indexes first.
func sweep(tx *bolt.Tx) ([]string, error) {
	live := reachable(tx)
	var gone []string
	for _, b := range [][]byte{bucketIndexes, bucketImages} {
		var dead []string
		_ = tx.Bucket(b).ForEach(func(k, _ []byte) error {
			if !live[string(k)] {
				dead = append(dead, string(k))
			}
			return nil
		})
		for _, d := range dead {
			if err := tx.Bucket(b).Delete([]byte(d)); err != nil {
				return nil, err
			}
		}
		gone = append(gone, dead...)
	}
	return gone, nil
}

// Prune deletes every index and manifest that no reference and no container
// reaches, then every blob and snapshot that no remaining record needs. It
// reports the digests it deleted (records first, then other blobs) and the
// bytes freed.
func (s *Store) Prune(ctx context.Context) (runtime.PruneResult, error) {
	if err := s.checkOpen(); err != nil {
		return runtime.PruneResult{}, err
	}
	var dropped []string
	err := s.db.Update(func(tx *bolt.Tx) error {
		var err error
		dropped, err = sweep(tx)
		return err
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
