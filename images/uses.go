package images

import (
	"context"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/switchyard/switchyard/runtime"
)

// The uses of the store's manifests by containers (Acquire, Keep, Release)
// live in memory, not in meta.db. Each runtime records its containers' uses
// again when it starts (Keep), from its own container records, which are
// written durably when a container is created: so a use costs no disk
// write, and no fsync, on the start or stop path of a container, and none
// is lost to a crash of the agent or of the machine. What a use protects
// (an image from Remove, its content from Prune) is decided under usesMu,
// in the same meta.db transaction that deletes.

// useRefused is Acquire's and Keep's answer for a key that uses another
// manifest already.
func useRefused(key string, u use) error {
	return fmt.Errorf("container %s: %w: it already uses image %s", key, runtime.ErrAlreadyExists, u.Ref)
}

// Keep records again that container key uses the manifest digest (of
// image ref): what a runtime does for each of its containers when it
// starts, from its own records. Keeping a use the store has already is a
// no-op; a use of another manifest is an error wrapping
// runtime.ErrAlreadyExists, and a manifest the store no longer has one
// wrapping runtime.ErrNotFound.
func (s *Store) Keep(ctx context.Context, key, ref, digest string) error {
	if err := s.checkOpen(); err != nil {
		return err
	}
	if err := checkKey(key); err != nil {
		return err
	}
	s.usesMu.Lock()
	defer s.usesMu.Unlock()
	if u, ok := s.uses[key]; ok {
		if u.Digest == digest {
			return nil
		}
		return useRefused(key, u)
	}
	err := s.db.View(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketImages).Get([]byte(digest)) == nil {
			return fmt.Errorf("container %s: image %s (%s): %w: it was removed; the container cannot start again", key, ref, digest, runtime.ErrNotFound)
		}
		return nil
	})
	if err != nil {
		return err
	}
	s.uses[key] = use{Ref: ref, Digest: digest}
	return nil
}

// updateWithUses runs fn in a meta.db write transaction with the uses held
// still: what fn decides from them (a removal refused, content kept) holds
// until it has committed.
func (s *Store) updateWithUses(fn func(tx *bolt.Tx, uses map[string]use) error) error {
	s.usesMu.Lock()
	defer s.usesMu.Unlock()
	return s.db.Update(func(tx *bolt.Tx) error { return fn(tx, s.uses) })
}

// dropStoredUses empties the uses bucket an earlier version kept in
// meta.db: the runtimes record their containers' uses when they start.
func dropStoredUses(tx *bolt.Tx) error {
	b := tx.Bucket(bucketUses)
	if b == nil {
		return nil
	}
	if k, _ := b.Cursor().First(); k == nil {
		return nil
	}
	if err := tx.DeleteBucket(bucketUses); err != nil {
		return err
	}
	_, err := tx.CreateBucket(bucketUses)
	return err
}
