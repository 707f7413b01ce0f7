package images

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/switchyard/switchyard/runtime"
)

// BlobPath returns the path of the blob with the given digest
// ("sha256:<hex>"). The error wraps runtime.ErrInvalidArgument for a
// malformed digest and runtime.ErrNotFound when the store lacks the blob.
// The file must be treated as read-only.
func (s *Store) BlobPath(digest string) (string, error) {
	if !isDigest(digest) {
		return "", fmt.Errorf("blob %q: %w: want sha256:<64 hex digits>", digest, runtime.ErrInvalidArgument)
	}
	p := s.blobPath(digest)
	if _, err := os.Stat(p); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("blob %s: %w", digest, runtime.ErrNotFound)
		}
		return "", fmt.Errorf("blob %s: %w", digest, err)
	}
	return p, nil
}

func (s *Store) blobPath(digest string) string {
	return filepath.Join(s.root, "blobs", "sha256", digest[len("sha256:"):])
}

// writeBlob stores the content open returns under digest, unless a blob of
// that digest and size is there already (it reports exists=true then). The
// content goes to a temp file in ingest/ first and is renamed into place
// only once its size and digest match, so an interrupted write leaves no
// blob, and writers of the same blob race harmlessly (equal content, atomic
// rename). size < 0 means unknown. progress, if set, gets the bytes so far.
func (s *Store) writeBlob(ctx context.Context, digest string, size int64, open func() (io.ReadCloser, error), progress func(int64)) (exists bool, err error) {
	if !isDigest(digest) {
		return false, fmt.Errorf("blob %q: %w: only sha256 digests are supported", digest, runtime.ErrInvalidArgument)
	}
	final := s.blobPath(digest)
	if fi, err := os.Stat(final); err == nil && (size < 0 || fi.Size() == size) {
		return true, nil
	}
	rc, err := open()
	if err != nil {
		return false, fmt.Errorf("blob %s: %w", digest, err)
	}
	defer rc.Close()
	tmp, err := os.CreateTemp(filepath.Join(s.root, "ingest"), digest[len("sha256:"):len("sha256:")+12]+"-*")
	if err != nil {
		return false, fmt.Errorf("blob %s: %w", digest, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	h := sha256.New()
	var src io.Reader = &ctxReader{ctx: ctx, r: rc}
	if size >= 0 {
		// One byte more than announced is enough to notice a longer blob.
		src = io.LimitReader(src, size+1)
	}
	n, err := io.CopyBuffer(io.MultiWriter(tmp, h, progressWriter(progress)), src, make([]byte, 256<<10))
	if err != nil {
		return false, fmt.Errorf("blob %s: %w", digest, err)
	}
	if size >= 0 && n != size {
		return false, fmt.Errorf("blob %s: %w: got %d bytes, the manifest says %d", digest, runtime.ErrInvalidArgument, n, size)
	}
	if got := "sha256:" + hex.EncodeToString(h.Sum(nil)); got != digest {
		return false, fmt.Errorf("blob %s: %w: content has digest %s", digest, runtime.ErrInvalidArgument, got)
	}
	if err := tmp.Sync(); err != nil {
		return false, fmt.Errorf("blob %s: %w", digest, err)
	}
	if err := tmp.Close(); err != nil {
		return false, fmt.Errorf("blob %s: %w", digest, err)
	}
	if err := os.Chmod(tmp.Name(), 0o444); err != nil {
		return false, fmt.Errorf("blob %s: %w", digest, err)
	}
	if err := os.Rename(tmp.Name(), final); err != nil {
		return false, fmt.Errorf("blob %s: %w", digest, err)
	}
	return false, nil
}

// ctxReader stops a copy when ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

type progressFunc func(int64)

func progressWriter(f func(int64)) io.Writer {
	if f == nil {
		return io.Discard
	}
	return &countWriter{f: f}
}

type countWriter struct {
	n    int64
	last int64
	f    progressFunc
}

func (w *countWriter) Write(p []byte) (int, error) {
	w.n += int64(len(p))
	// Report every MiB, not every buffer, so a slow callback cannot slow
	// the copy much.
	if w.n-w.last >= 1<<20 {
		w.last = w.n
		w.f(w.n)
	}
	return len(p), nil
}
