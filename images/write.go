package images

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	bolt "go.etcd.io/bbolt"

	"github.com/switchyard/switchyard/runtime"
)

// WriteOptions are the options of Store.Write and Store.WriteIndex.
type WriteOptions struct {
	// Progress, when set, gets progress events. Calls never overlap, but
	// they come from the copying goroutines; it must not block for long.
	Progress func(runtime.PullProgress)
}

// Write stores img, a single manifest, under ref: the manifest, the config
// and every layer (copied in parallel, at most WithJobs at once), each
// verified against its digest and size before it is committed, then the
// metadata. Blobs already present are not copied again. ref is normalised
// first; it now points at this manifest.
func (s *Store) Write(ctx context.Context, ref string, img v1.Image, opts WriteOptions) (Image, error) {
	norm, err := s.checkWrite(ref)
	if err != nil {
		return Image{}, err
	}
	var out Image
	err = s.commit(ctx, norm, opts, func(ctx context.Context, prog *progress) (refRecord, *indexWrite, []Image, error) {
		m, raw, err := s.writeManifest(ctx, img, prog, s.copySlots())
		if err != nil {
			return refRecord{}, nil, nil, err
		}
		out = m
		return refRecord{Digest: m.Digest, MediaType: m.MediaType, Size: int64(len(raw))}, nil, []Image{m}, nil
	})
	if err != nil {
		return Image{}, fmt.Errorf("image %s: %w", norm, err)
	}
	out.Ref = norm
	return out, nil
}

// WriteIndex stores idx whole under ref, and with it the manifests, configs
// and layers of the entries whose digests pull lists (an entry stored
// already stays present; the others are recorded and absent). Everything is
// copied and verified before one transaction records the index, its present
// manifests and the reference, so an interrupted write records nothing. It
// returns what ref names afterwards.
func (s *Store) WriteIndex(ctx context.Context, ref string, idx v1.ImageIndex, pull []v1.Hash, opts WriteOptions) (Reference, error) {
	norm, err := s.checkWrite(ref)
	if err != nil {
		return Reference{}, err
	}
	err = s.commit(ctx, norm, opts, func(ctx context.Context, prog *progress) (refRecord, *indexWrite, []Image, error) {
		raw, err := idx.RawManifest()
		if err != nil {
			return refRecord{}, nil, nil, fmt.Errorf("reading index: %w", err)
		}
		dgst, err := idx.Digest()
		if err != nil {
			return refRecord{}, nil, nil, fmt.Errorf("index digest: %w", err)
		}
		mt, err := idx.MediaType()
		if err != nil {
			return refRecord{}, nil, nil, fmt.Errorf("index media type: %w", err)
		}
		var doc ocispec.Index
		if err := json.Unmarshal(raw, &doc); err != nil {
			return refRecord{}, nil, nil, fmt.Errorf("index %s: %w: %w", dgst, runtime.ErrInvalidArgument, err)
		}
		rec := indexRecord{MediaType: string(mt), Size: int64(len(raw)), Annotations: doc.Annotations}
		for _, d := range doc.Manifests {
			if IsIndexMediaType(d.MediaType) || IsAttestation(d) {
				continue
			}
			e := indexEntry{Digest: d.Digest.String(), MediaType: d.MediaType, Size: d.Size}
			if d.Platform != nil {
				p := runtime.NormalizePlatform(*d.Platform)
				e.Platform = &p
			}
			rec.Manifests = append(rec.Manifests, e)
		}
		imgs, err := s.writeEntries(ctx, idx, pull, rec, prog)
		if err != nil {
			return refRecord{}, nil, nil, err
		}
		if _, err := s.writeBlob(ctx, dgst.String(), int64(len(raw)), func() (io.ReadCloser, error) {
			return io.NopCloser(bytes.NewReader(raw)), nil
		}, nil); err != nil {
			return refRecord{}, nil, nil, err
		}
		return refRecord{Digest: dgst.String(), MediaType: string(mt), Size: int64(len(raw))}, &indexWrite{dgst.String(), rec}, imgs, nil
	})
	if err != nil {
		return Reference{}, fmt.Errorf("image %s: %w", norm, err)
	}
	return s.Get(ctx, norm)
}

// writeEntries copies the entries of rec that pull names, in parallel.
func (s *Store) writeEntries(ctx context.Context, idx v1.ImageIndex, pull []v1.Hash, rec indexRecord, prog *progress) ([]Image, error) {
	if len(pull) == 0 {
		return nil, fmt.Errorf("no manifest of the index to store: name at least one entry to pull: %w", runtime.ErrInvalidArgument)
	}
	for _, h := range pull {
		if !slices.ContainsFunc(rec.Manifests, func(e indexEntry) bool { return e.Digest == h.String() }) {
			return nil, fmt.Errorf("manifest %s is not an image entry of the index: %w", h, runtime.ErrInvalidArgument)
		}
	}
	// One bound for the whole write, and the first failure stops the
	// other platforms' copies.
	slots := s.copySlots()
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	imgs := make([]Image, len(pull))
	var once sync.Once
	var first error
	var wg sync.WaitGroup
	for i, h := range pull {
		wg.Add(1)
		go func() {
			defer wg.Done()
			img, err := idx.Image(h)
			if err == nil {
				imgs[i], _, err = s.writeManifest(ctx, img, prog, slots)
			}
			if err != nil {
				once.Do(func() {
					first = fmt.Errorf("manifest %s: %w", h, err)
					cancel(first)
				})
			}
		}()
	}
	wg.Wait()
	if first != nil {
		return nil, first
	}
	return imgs, nil
}

// copySlots is the bound of one write's blob copies: WithJobs at once,
// across all the manifests it stores.
func (s *Store) copySlots() chan struct{} { return make(chan struct{}, s.opts.jobs) }

// indexWrite is an index to record with its manifests.
type indexWrite struct {
	digest string
	rec    indexRecord
}

func (s *Store) checkWrite(ref string) (string, error) {
	if err := s.checkOpen(); err != nil {
		return "", err
	}
	norm, err := Normalize(ref)
	if err != nil {
		return "", err
	}
	if isDigest(norm) {
		return "", fmt.Errorf("image %s: %w: store it under a name (name:tag or name@digest)", ref, runtime.ErrInvalidArgument)
	}
	return norm, nil
}

// commit runs copy (which writes blobs and returns what to record) under
// the collector's read lock, then records the manifests, the index and the
// reference in one transaction. When the reference moved off content that
// nothing else names, that content is reclaimed, as a re-pull with docker
// leaves a dangling image that prune would remove anyway.
func (s *Store) commit(ctx context.Context, norm string, opts WriteOptions,
	copy func(context.Context, *progress) (refRecord, *indexWrite, []Image, error)) error {
	prog := newProgress(opts.Progress)
	orphaned, err := func() (bool, error) {
		s.gc.RLock()
		defer s.gc.RUnlock()
		t, ix, imgs, err := copy(ctx, prog)
		if err != nil {
			return false, err
		}
		orphaned := false
		err = s.updateWithUses(func(tx *bolt.Tx, uses map[string]use) error {
			for _, img := range imgs {
				if err := putImage(tx, img); err != nil {
					return err
				}
			}
			if ix != nil {
				if err := putIndex(tx, ix.digest, ix.rec); err != nil {
					return err
				}
			}
			if d, ok := digestOf(norm); ok && d != t.Digest {
				return fmt.Errorf("the reference names digest %s, and the content is %s: %w", d, t.Digest, runtime.ErrInvalidArgument)
			}
			old, had, err := getRef(tx, norm)
			if err != nil {
				return err
			}
			// A digest reference is kept too, so that an image pulled by
			// digest is listed and not pruned as unnamed.
			if err := putRef(tx, norm, t); err != nil {
				return err
			}
			if had && old.Digest != t.Digest {
				gone, err := sweep(tx, uses)
				orphaned = len(gone) > 0
				return err
			}
			return nil
		})
		if err != nil {
			return false, fmt.Errorf("recording metadata: %w", err)
		}
		var size int64
		for _, img := range imgs {
			size += img.Size
		}
		prog.send(runtime.PullProgress{ID: norm, Status: "done", Current: size, Total: size})
		return orphaned, nil
	}()
	if err != nil {
		return err
	}
	if orphaned {
		if _, err := s.collect(ctx); err != nil {
			s.opts.logger.WarnContext(ctx, "image store: reclaiming replaced image", "ref", norm, "err", err)
		}
	}
	return nil
}

// writeManifest copies one manifest's config and layers, then the manifest
// itself, and returns its record and raw manifest. The caller holds s.gc
// for reading.
func (s *Store) writeManifest(ctx context.Context, img v1.Image, prog *progress, slots chan struct{}) (Image, []byte, error) {
	rawManifest, err := img.RawManifest()
	if err != nil {
		return Image{}, nil, fmt.Errorf("reading manifest: %w", err)
	}
	mdgst, err := img.Digest()
	if err != nil {
		return Image{}, nil, fmt.Errorf("manifest digest: %w", err)
	}
	mt, err := img.MediaType()
	if err != nil {
		return Image{}, nil, fmt.Errorf("manifest media type: %w", err)
	}
	m, err := img.Manifest()
	if err != nil {
		return Image{}, nil, fmt.Errorf("parsing manifest: %w", err)
	}
	rawConfig, err := img.RawConfigFile()
	if err != nil {
		return Image{}, nil, fmt.Errorf("reading config: %w", err)
	}
	layers, err := img.Layers()
	if err != nil {
		return Image{}, nil, fmt.Errorf("listing layers: %w", err)
	}
	if len(layers) != len(m.Layers) {
		return Image{}, nil, fmt.Errorf("manifest %s lists %d layers, the image has %d: %w", mdgst, len(m.Layers), len(layers), runtime.ErrInvalidArgument)
	}

	out := Image{
		Digest:          mdgst.String(),
		MediaType:       string(mt),
		ConfigMediaType: string(m.Config.MediaType),
		ConfigDigest:    m.Config.Digest.String(),
		ConfigSize:      m.Config.Size,
		Size:            m.Config.Size,
		Annotations:     m.Annotations,
	}
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
		return Image{}, nil, err
	}
	if err := s.copyBlobs(ctx, jobs, prog, slots); err != nil {
		return Image{}, nil, err
	}
	// The manifest goes last: a manifest blob means its content is there.
	if _, err := s.writeBlob(ctx, out.Digest, int64(len(rawManifest)), func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(rawManifest)), nil
	}, nil); err != nil {
		return Image{}, nil, err
	}
	return out, rawManifest, nil
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
	out.Platform = runtime.NormalizePlatform(cfg.Platform)
	if out.Platform.OS == "" && isWasmArtifact(out.ConfigMediaType, out.Layers) {
		out.Platform = ocispec.Platform{OS: "wasip1", Architecture: "wasm"}
	}
	if cfg.Created != nil {
		out.Created = *cfg.Created
	}
	return nil
}

type blobJob struct {
	digest string
	size   int64
	open   func() (io.ReadCloser, error)
}

// copyBlobs runs jobs, each holding a slot of sem (copySlots) while it
// copies, and returns the first error; the others are cancelled.
func (s *Store) copyBlobs(ctx context.Context, jobs []blobJob, prog *progress, sem chan struct{}) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
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
