package images

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	bolt "go.etcd.io/bbolt"

	"github.com/switchyard/switchyard/runtime"
)

// WriteOptions are the options of Store.Write.
type WriteOptions struct {
	// Platforms are every platform of the index the image was chosen from;
	// empty means the image's own platform only.
	Platforms []ocispec.Platform
	// IndexDigest is the digest of that index, if any.
	IndexDigest string
	// Progress, when set, gets progress events. Calls never overlap, but
	// they come from the copying goroutines; it must not block for long.
	Progress func(runtime.PullProgress)
}

// Write stores img under ref: the manifest, the config and every layer
// (copied in parallel, at most WithJobs at once), each verified against its
// digest and size before it is committed, then the metadata. Blobs already
// present are not copied again. ref is normalised first.
func (s *Store) Write(ctx context.Context, ref string, img v1.Image, opts WriteOptions) (Image, error) {
	if err := s.checkOpen(); err != nil {
		return Image{}, err
	}
	norm, err := Normalize(ref)
	if err != nil {
		return Image{}, err
	}
	if isDigest(norm) {
		return Image{}, fmt.Errorf("image %s: %w: store it under a name (name:tag or name@digest)", ref, runtime.ErrInvalidArgument)
	}
	out, orphaned, err := s.write(ctx, norm, img, opts)
	if err != nil {
		return Image{}, fmt.Errorf("image %s: %w", norm, err)
	}
	if orphaned {
		// The reference moved to new content and the old image is named by
		// nothing: reclaim it, as a re-pull with docker leaves a dangling
		// image that prune would remove anyway.
		if _, err := s.collect(ctx); err != nil {
			s.opts.logger.WarnContext(ctx, "image store: reclaiming replaced image", "ref", norm, "err", err)
		}
	}
	return out, nil
}

func (s *Store) write(ctx context.Context, norm string, img v1.Image, opts WriteOptions) (Image, bool, error) {
	s.gc.RLock()
	defer s.gc.RUnlock()

	rawManifest, err := img.RawManifest()
	if err != nil {
		return Image{}, false, fmt.Errorf("reading manifest: %w", err)
	}
	mdgst, err := img.Digest()
	if err != nil {
		return Image{}, false, fmt.Errorf("manifest digest: %w", err)
	}
	mt, err := img.MediaType()
	if err != nil {
		return Image{}, false, fmt.Errorf("manifest media type: %w", err)
	}
	m, err := img.Manifest()
	if err != nil {
		return Image{}, false, fmt.Errorf("parsing manifest: %w", err)
	}
	rawConfig, err := img.RawConfigFile()
	if err != nil {
		return Image{}, false, fmt.Errorf("reading config: %w", err)
	}
	layers, err := img.Layers()
	if err != nil {
		return Image{}, false, fmt.Errorf("listing layers: %w", err)
	}
	if len(layers) != len(m.Layers) {
		return Image{}, false, fmt.Errorf("manifest %s lists %d layers, the image has %d: %w", mdgst, len(m.Layers), len(layers), runtime.ErrInvalidArgument)
	}

	out := Image{
		Ref:             norm,
		Digest:          mdgst.String(),
		IndexDigest:     opts.IndexDigest,
		MediaType:       string(mt),
		ConfigMediaType: string(m.Config.MediaType),
		ConfigDigest:    m.Config.Digest.String(),
		Size:            m.Config.Size,
	}
	prog := newProgress(opts.Progress)
	jobs := []blobJob{{
		digest: out.ConfigDigest, size: m.Config.Size,
		open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(rawConfig)), nil },
	}}
	for i, l := range layers {
		d := m.Layers[i]
		ly := Layer{Digest: d.Digest.String(), MediaType: string(d.MediaType), Size: d.Size}
		if diffID, err := l.DiffID(); err == nil {
			ly.DiffID = diffID.String()
		} else if !isCompressed(ly.MediaType) {
			// Uncompressed content: the diff ID is the digest itself.
			ly.DiffID = ly.Digest
		}
		out.Layers = append(out.Layers, ly)
		out.Size += d.Size
		jobs = append(jobs, blobJob{digest: ly.Digest, size: d.Size, open: l.Compressed})
	}
	if err := parseConfig(&out, rawConfig); err != nil {
		return Image{}, false, err
	}
	finishPlatforms(&out, opts.Platforms)
	if err := s.copyBlobs(ctx, jobs, prog); err != nil {
		return Image{}, false, err
	}
	// The manifest goes last: a manifest blob means its content is there.
	if _, err := s.writeBlob(ctx, out.Digest, int64(len(rawManifest)), func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(rawManifest)), nil
	}, nil); err != nil {
		return Image{}, false, err
	}

	orphaned := false
	err = s.db.Update(func(tx *bolt.Tx) error {
		if err := putImage(tx, out); err != nil {
			return err
		}
		refs := tx.Bucket(bucketRefs)
		old := string(refs.Get([]byte(norm)))
		// A digest reference is kept too, so that an image pulled by digest
		// is listed and not pruned as unnamed.
		if err := refs.Put([]byte(norm), []byte(out.Digest)); err != nil {
			return err
		}
		if old != "" && old != out.Digest {
			gone, err := dropIfUnused(tx, old)
			if err != nil {
				return err
			}
			orphaned = gone
		}
		return nil
	})
	if err != nil {
		return Image{}, false, fmt.Errorf("recording metadata: %w", err)
	}
	prog.send(runtime.PullProgress{ID: norm, Status: "done", Current: out.Size, Total: out.Size})
	return out, orphaned, nil
}

// parseConfig fills out's config, platform and creation time from raw.
func parseConfig(out *Image, raw []byte) error {
	var cfg ocispec.Image
	if err := json.Unmarshal(raw, &cfg); err != nil {
		if isImageConfig(out.ConfigMediaType) {
			return fmt.Errorf("config %s: %w: %w", out.ConfigDigest, runtime.ErrInvalidArgument, err)
		}
		// Artifacts (a wasm module's config, say) need not be image configs.
		cfg = ocispec.Image{}
	}
	out.Config = cfg
	out.Platform = cfg.Platform
	if out.Platform.OS == "" && isWasmArtifact(out.ConfigMediaType, out.Layers) {
		out.Platform = ocispec.Platform{OS: "wasip1", Architecture: "wasm"}
	}
	if cfg.Created != nil {
		out.Created = *cfg.Created
	}
	return nil
}

// finishPlatforms sets out.Platforms once the layers are known.
func finishPlatforms(out *Image, index []ocispec.Platform) {
	if len(index) > 0 {
		out.Platforms = append([]ocispec.Platform(nil), index...)
		return
	}
	if out.Platform.OS != "" {
		out.Platforms = []ocispec.Platform{out.Platform}
	}
}

type blobJob struct {
	digest string
	size   int64
	open   func() (io.ReadCloser, error)
}

// copyBlobs runs jobs at most s.opts.jobs at a time and returns the first
// error; the others are cancelled.
func (s *Store) copyBlobs(ctx context.Context, jobs []blobJob, prog *progress) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	sem := make(chan struct{}, s.opts.jobs)
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	for _, j := range jobs {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			prog.send(runtime.PullProgress{ID: j.digest, Status: "downloading", Total: j.size})
			exists, err := s.writeBlob(ctx, j.digest, j.size, j.open, func(n int64) {
				prog.send(runtime.PullProgress{ID: j.digest, Status: "downloading", Current: n, Total: j.size})
			})
			if err != nil {
				once.Do(func() { first = err; cancel(err) })
				return
			}
			status := "done"
			if exists {
				status = "exists"
			}
			prog.send(runtime.PullProgress{ID: j.digest, Status: status, Current: j.size, Total: j.size})
		}()
	}
	wg.Wait()
	if first != nil {
		return first
	}
	return ctx.Err()
}

// progress serialises calls to a progress callback.
type progress struct {
	mu sync.Mutex
	f  func(runtime.PullProgress) // guarded by mu (calls never overlap)
}

func newProgress(f func(runtime.PullProgress)) *progress { return &progress{f: f} }

func (p *progress) send(ev runtime.PullProgress) {
	if p.f == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.f(ev)
}
