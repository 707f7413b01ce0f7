package images

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/switchyard/switchyard/internal/archive"
	"github.com/switchyard/switchyard/runtime"
)

// unpackCall is one unpack in progress; others wanting the same layer wait
// for done and read err.
type unpackCall struct {
	done  chan struct{}
	limit int64 // the bound the unpack ran with
	err   error
}

const tempPrefix = "tmp-"

func isTempName(name string) bool { return strings.HasPrefix(name, tempPrefix) }

// snapshotKey names the snapshot of a layer: its diff ID, so layers with
// equal content share one whatever their compression.
func snapshotKey(l Layer) string {
	if isDigest(l.DiffID) {
		return l.DiffID[len("sha256:"):]
	}
	return l.Digest[len("sha256:"):]
}

// sizeFile holds the unpacked size of a snapshot, in decimal bytes.
const sizeFile = "size"

// snapshotSize reads the unpacked size recorded beside a snapshot; 0 when
// none is (a snapshot of an earlier version).
func snapshotSize(final string) int64 {
	b, err := os.ReadFile(filepath.Join(final, sizeFile))
	if err != nil {
		return 0
	}
	n, _ := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	return n
}

// snapshot returns the fs directory of layer l and its unpacked size,
// unpacking it first (at most limit bytes) if no one has. Callers hold s.gc
// for reading.
func (s *Store) snapshot(ctx context.Context, l Layer, limit int64) (string, int64, error) {
	dir, err := s.snapshotDir(ctx, l, limit)
	if err != nil {
		return "", 0, err
	}
	return dir, snapshotSize(filepath.Dir(dir)), nil
}

func (s *Store) snapshotDir(ctx context.Context, l Layer, limit int64) (string, error) {
	if !isDigest(l.Digest) {
		return "", fmt.Errorf("layer %q: %w: bad digest", l.Digest, runtime.ErrInvalidArgument)
	}
	key := snapshotKey(l)
	final := filepath.Join(s.root, "snapshots", key)
	fsDir := filepath.Join(final, "fs")
	for {
		if _, err := os.Stat(fsDir); err == nil {
			return fsDir, nil
		}
		s.unpackMu.Lock()
		call, busy := s.unpacks[key]
		if !busy {
			call = &unpackCall{done: make(chan struct{}), limit: limit}
			s.unpacks[key] = call
		}
		s.unpackMu.Unlock()
		if busy {
			select {
			case <-call.done:
			case <-ctx.Done():
				return "", ctx.Err()
			}
			if errors.Is(call.err, archive.ErrTooLarge) && call.limit < limit {
				// Too large for the bound of the image that unpacked it,
				// not necessarily for ours: try with ours.
				continue
			}
			if call.err != nil {
				return "", call.err
			}
			continue
		}
		call.err = s.unpack(ctx, l, final, limit)
		s.unpackMu.Lock()
		delete(s.unpacks, key)
		s.unpackMu.Unlock()
		close(call.done)
		if call.err != nil {
			return "", call.err
		}
		return fsDir, nil
	}
}

// unpack extracts layer l into a temp directory and renames it to final
// once complete, so a snapshot directory is always whole.
func (s *Store) unpack(ctx context.Context, l Layer, final string, limit int64) (err error) {
	blob, err := s.BlobPath(l.Digest)
	if err != nil {
		return fmt.Errorf("layer %s: %w", l.Digest, err)
	}
	f, err := os.Open(blob)
	if err != nil {
		return fmt.Errorf("layer %s: %w", l.Digest, err)
	}
	defer f.Close()
	tmp, err := os.MkdirTemp(filepath.Join(s.root, "snapshots"), tempPrefix+snapshotKey(l)[:12]+"-")
	if err != nil {
		return fmt.Errorf("layer %s: %w", l.Digest, err)
	}
	defer func() {
		if err != nil {
			_ = removeAllForce(tmp)
		}
	}()
	fsDir := filepath.Join(tmp, "fs")
	if err := os.Mkdir(fsDir, 0o755); err != nil {
		return fmt.Errorf("layer %s: %w", l.Digest, err)
	}
	res, err := archive.Extract(ctx, f, fsDir,
		archive.WithOverlayWhiteouts(),
		archive.WithMaxSize(limit),
		archive.WithDevices(s.opts.allowDevices),
		archive.WithMediaType(l.MediaType),
		archive.WithLogger(s.opts.logger))
	if err != nil {
		return fmt.Errorf("layer %s: unpacking: %w", l.Digest, err)
	}
	if l.DiffID != "" && res.DiffID != l.DiffID {
		return fmt.Errorf("layer %s: %w: uncompressed content has digest %s, the config says %s", l.Digest, runtime.ErrInvalidArgument, res.DiffID, l.DiffID)
	}
	if err := os.WriteFile(filepath.Join(tmp, sizeFile), []byte(strconv.FormatInt(res.Size, 10)), 0o644); err != nil {
		return fmt.Errorf("layer %s: %w", l.Digest, err)
	}
	if err := os.Rename(tmp, final); err != nil {
		if errors.Is(err, fs.ErrExist) || errors.Is(err, errNotEmpty) {
			// Someone finished the same layer first; theirs is as good.
			_ = removeAllForce(tmp)
			return nil
		}
		return fmt.Errorf("layer %s: %w", l.Digest, err)
	}
	return nil
}

// removeAllForce removes a tree even where an unpacked layer left
// directories without write permission.
func removeAllForce(dir string) error {
	if err := os.RemoveAll(dir); err == nil {
		return nil
	}
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			_ = os.Chmod(p, 0o700)
		}
		return nil
	})
	return os.RemoveAll(dir)
}
