package images

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
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
// with every blob and snapshot only it needed. A bare digest removes every
// reference whose target it is, and a digest reference the store has no
// record of every reference of its repository whose target it is; a digest
// that only indexes reach (one platform's manifest) is refused with
// runtime.ErrFailedPrecondition naming them: remove those instead.
func (s *Store) Remove(ctx context.Context, ref string, force bool) error {
	if err := s.checkOpen(); err != nil {
		return err
	}
	dropped := false
	err := s.updateWithUses(func(tx *bolt.Tx, uses map[string]use) error {
		norm, t, err := target(tx, ref)
		if err != nil {
			return err
		}
		names := []string{norm}
		if _, named, err := getRef(tx, norm); err != nil {
			return err
		} else if !named {
			if names, err = namesOfDigest(tx, norm, t.Digest); err != nil {
				return err
			}
		}
		if !force {
			users, err := strandedUsers(tx, uses, names)
			if err != nil {
				return err
			}
			if len(users) > 0 {
				return fmt.Errorf("image %s: %w: used by container(s) %s; remove them first or force the removal",
					norm, runtime.ErrFailedPrecondition, strings.Join(users, ", "))
			}
		}
		refs := tx.Bucket(bucketRefs)
		for _, n := range names {
			if err := refs.Delete([]byte(n)); err != nil {
				return err
			}
		}
		gone, err := sweep(tx, uses)
		dropped = len(gone) > 0
		return err
	})
	if err != nil {
		return err
	}
	if dropped {
		// The removal is committed; space not reclaimed now is reclaimed by
		// the next prune, so this is not the caller's failure.
		if _, err := s.collect(ctx); err != nil {
			s.opts.logger.WarnContext(ctx, "image store: reclaiming a removed image's space; the next prune retries", "ref", ref, "err", err)
		}
	}
	return nil
}

// namesOfDigest returns the references to remove for a digest that no
// reference record names itself: those whose target is dgst (for a digest
// reference, only in its own repository). A digest that only indexes reach
// is refused: it is a platform of those references, not an image of its own.
func namesOfDigest(tx *bolt.Tx, norm, dgst string) ([]string, error) {
	repo := ""
	if d, err := name.NewDigest(norm); err == nil {
		repo = d.Context().Name()
	}
	var names, reachers []string
	err := tx.Bucket(bucketRefs).ForEach(func(k, v []byte) error {
		var r refRecord
		if err := json.Unmarshal(v, &r); err != nil {
			return fmt.Errorf("reference %s: corrupt record: %w", k, err)
		}
		if repo != "" && refRepository(string(k)) != repo {
			return nil
		}
		if r.Digest == dgst {
			names = append(names, string(k))
			return nil
		}
		seen := map[string]bool{}
		if err := reachFrom(tx, r.Digest, seen); err != nil {
			return fmt.Errorf("reference %s: %w", k, err)
		}
		if seen[dgst] {
			reachers = append(reachers, string(k))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("image %s: %w: it is one platform of %s; remove those references, or pull that platform under a name of its own",
			norm, runtime.ErrFailedPrecondition, strings.Join(reachers, ", "))
	}
	return names, nil
}

// refRepository is the repository of a normalised reference.
func refRepository(ref string) string {
	r, err := name.ParseReference(ref)
	if err != nil {
		return ""
	}
	return r.Context().Name()
}

// strandedUsers returns the containers whose manifest no reference other
// than those in removed reaches.
func strandedUsers(tx *bolt.Tx, uses map[string]use, removed []string) ([]string, error) {
	keep := map[string]bool{}
	err := tx.Bucket(bucketRefs).ForEach(func(k, v []byte) error {
		if slices.Contains(removed, string(k)) {
			return nil
		}
		var r refRecord
		if err := json.Unmarshal(v, &r); err != nil {
			return fmt.Errorf("reference %s: corrupt record: %w", k, err)
		}
		if err := reachFrom(tx, r.Digest, keep); err != nil {
			return fmt.Errorf("reference %s: %w", k, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	before := map[string]bool{}
	for _, n := range removed {
		t, ok, err := getRef(tx, n)
		if err != nil {
			return nil, err
		}
		if ok {
			if err := reachFrom(tx, t.Digest, before); err != nil {
				return nil, fmt.Errorf("reference %s: %w", n, err)
			}
		}
	}
	var users []string
	for k, u := range uses {
		if before[u.Digest] && !keep[u.Digest] {
			users = append(users, k)
		}
	}
	sort.Strings(users)
	return users, nil
}

// reachFrom adds to seen the target dgst and, for an index, every manifest
// it lists. An index record that does not decode is an error: what it
// lists must not be taken for garbage.
func reachFrom(tx *bolt.Tx, dgst string, seen map[string]bool) error {
	seen[dgst] = true
	ix, ok, err := getIndex(tx, dgst)
	if err != nil {
		return err
	}
	if ok {
		for _, e := range ix.Manifests {
			seen[e.Digest] = true
		}
	}
	return nil
}

// reachable returns every index and manifest digest a reference or a
// container use reaches. A record that does not decode is an error: the
// collector must not take what it names for garbage.
func reachable(tx *bolt.Tx, uses map[string]use) (map[string]bool, error) {
	seen := map[string]bool{}
	err := tx.Bucket(bucketRefs).ForEach(func(k, v []byte) error {
		var r refRecord
		if err := json.Unmarshal(v, &r); err != nil {
			return fmt.Errorf("reference %s: corrupt record: %w", k, err)
		}
		if err := reachFrom(tx, r.Digest, seen); err != nil {
			return fmt.Errorf("reference %s: %w", k, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, u := range uses {
		seen[u.Digest] = true
	}
	return seen, nil
}

// sweep deletes the index and manifest records nothing reaches and returns
// their digests, indexes first.
func sweep(tx *bolt.Tx, uses map[string]use) ([]string, error) {
	live, err := reachable(tx, uses)
	if err != nil {
		return nil, fmt.Errorf("not collecting: %w", err)
	}
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
	err := s.updateWithUses(func(tx *bolt.Tx, uses map[string]use) error {
		var err error
		dropped, err = sweep(tx, uses)
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
