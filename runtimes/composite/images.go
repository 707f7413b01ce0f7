package composite

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/switchyard/switchyard/runtime"
	"github.com/switchyard/switchyard/spec"
)

// Pull implements runtime.ImageService: it asks the registry for the image's
// platforms first, then pulls only where the image can run.
//
// The inspection result is cached for Create's routing. A failed or empty
// inspection is logged and never fails the pull; it leaves the cache as it
// was. With spec.PullNever there is no inspection (it would contact the
// registry), nor with spec.PullIfNotPresent for an image whose platforms are
// known already: the cached platforms are used.
//
// Where it pulls: with opts.Platform, on the first runtime serving it; with
// known platforms, on every runtime that serves any of them (the first is
// the chosen one); with nothing known, on the primary. A failing pull on a
// runtime other than the chosen one is logged and does not fail the call.
// Known platforms that no runtime serves are a *runtime.RouteToPeerError
// naming the image. opts (policy, auth, progress) pass through unchanged.
// The result is the chosen runtime's, with Runtimes naming every runtime
// that has the image now.
func (c *Runtime) Pull(ctx context.Context, ref string, opts runtime.PullOptions) (runtime.ImageInfo, error) {
	if ref == "" {
		return runtime.ImageInfo{}, fmt.Errorf("pull: image reference is empty; name an image such as busybox:latest: %w", runtime.ErrInvalidArgument)
	}
	known := c.imagePlatforms(ctx, ref, opts)
	var targets []int
	switch {
	case opts.Platform != nil:
		if opts.Platform.OS == "" {
			return runtime.ImageInfo{}, fmt.Errorf("image %s: the platform asked for has no OS; write os[/arch[/variant]], such as linux/amd64: %w", ref, runtime.ErrInvalidArgument)
		}
		p := spec.Normalize(*opts.Platform)
		i := c.firstServing([]ocispec.Platform{p})
		if i < 0 {
			return runtime.ImageInfo{}, c.imageMiss("", ref, []ocispec.Platform{p})
		}
		targets = []int{i}
	case len(known) > 0:
		targets = c.allServing(known)
		if len(targets) == 0 {
			return runtime.ImageInfo{}, c.imageMiss("", ref, known)
		}
	default:
		targets = []int{0}
	}
	chosen := c.runtimes[targets[0]]
	info, err := chosen.Pull(ctx, ref, opts)
	if err != nil {
		return info, err
	}
	info.Runtimes = []string{chosen.Name()}
	for _, i := range targets[1:] {
		rt := c.runtimes[i]
		if _, err := rt.Pull(ctx, ref, opts); err != nil {
			c.log.Warn("pull failed on a runtime that could also run the image; the image is still usable",
				"image", ref, "runtime", rt.Name(), "chosen", chosen.Name(), "err", err)
			continue
		}
		info.Runtimes = append(info.Runtimes, rt.Name())
	}
	if len(info.Platforms) == 0 {
		info.Platforms = known
	}
	return info, nil
}

// imagePlatforms inspects ref (unless the policy forbids contacting the
// registry), caches a useful answer, and returns what is known.
func (c *Runtime) imagePlatforms(ctx context.Context, ref string, opts runtime.PullOptions) []ocispec.Platform {
	ifNotPresent := opts.Policy == spec.PullIfNotPresent || opts.Policy == ""
	if cached := c.cachedPlatforms(ref); len(cached) > 0 && ifNotPresent {
		// Known from an earlier pull: the image is (or was) here, and
		// if_not_present promises not to contact the registry for it, as
		// `docker run` of a present image does not.
		return cached
	}
	if c.inspector != nil && opts.Policy != spec.PullNever {
		ps, err := c.inspector.InspectPlatforms(ctx, ref, opts.Auth)
		switch {
		case err != nil:
			c.log.Warn("cannot inspect the image's platforms; routing uses what was known before, or the primary runtime",
				"image", ref, "err", err)
		case len(ps) == 0:
			c.log.Debug("the registry records no platform for the image", "image", ref)
		default:
			ps = mergePlatforms(nil, ps)
			c.mu.Lock()
			c.images[imageKey(ref)] = ps
			c.mu.Unlock()
			return slices.Clone(ps)
		}
	}
	return c.cachedPlatforms(ref)
}

// ListImages implements runtime.ImageService: every runtime's images,
// merged so that one image (same reference and digest) reported by several
// runtimes, as local runtimes sharing one store do, is listed once with all
// its platforms and ImageInfo.Runtimes naming every runtime that has it. A
// runtime that fails is logged and left out; only when all fail is the
// first error returned.
func (c *Runtime) ListImages(ctx context.Context) ([]runtime.ImageInfo, error) {
	type key struct{ ref, digest string }
	var out []runtime.ImageInfo
	var reporters [][]string // parallel to out: every runtime that listed it
	at := make(map[key]int)
	var errs []error
	for ri, rt := range c.runtimes {
		imgs, err := rt.ListImages(ctx)
		if err != nil {
			c.log.Warn("cannot list a runtime's images; listing the others", "runtime", rt.Name(), "err", err)
			errs = append(errs, err)
			continue
		}
		for _, img := range imgs {
			k := key{img.Reference, img.Digest}
			i, ok := at[k]
			if !ok {
				img.Platforms = mergePlatforms(nil, img.Platforms)
				img.Runtimes = nil
				at[k] = len(out)
				out = append(out, img)
				reporters = append(reporters, nil)
				i = len(out) - 1
			} else {
				out[i].Platforms = mergePlatforms(out[i].Platforms, img.Platforms)
			}
			if !slices.Contains(reporters[i], rt.Name()) {
				reporters[i] = append(reporters[i], rt.Name())
			}
			// Local runtimes share one store, so each reports every image;
			// name only those that can run it (all reporters when its
			// platforms are unknown or nobody here serves them).
			if c.canRun(ri, out[i].Platforms) && !slices.Contains(out[i].Runtimes, rt.Name()) {
				out[i].Runtimes = append(out[i].Runtimes, rt.Name())
			}
		}
	}
	for i := range out {
		if len(out[i].Runtimes) == 0 {
			out[i].Runtimes = reporters[i]
		}
	}
	if len(errs) == len(c.runtimes) {
		return nil, errs[0]
	}
	return out, nil
}

// canRun reports whether runtime i serves any of ps; an image of unknown
// platforms counts as runnable anywhere.
func (c *Runtime) canRun(i int, ps []ocispec.Platform) bool {
	if len(ps) == 0 {
		return true
	}
	return slices.ContainsFunc(ps, func(p ocispec.Platform) bool { return c.serves(i, p) })
}

// RemoveImage implements runtime.ImageService: it asks each runtime in
// order; the first success wins. When all fail, the error is the first
// runtime's.
func (c *Runtime) RemoveImage(ctx context.Context, ref string, force bool) error {
	return c.firstSuccess("remove image", ref, func(rt runtime.Runtime) error { return rt.RemoveImage(ctx, ref, force) })
}

// TagImage implements runtime.ImageService like RemoveImage: first success
// wins, else the first runtime's error. dst names the same image as src, so
// it is routed by src's recorded platforms from now on.
func (c *Runtime) TagImage(ctx context.Context, src, dst string) error {
	if err := c.firstSuccess("tag image", src, func(rt runtime.Runtime) error { return rt.TagImage(ctx, src, dst) }); err != nil {
		return err
	}
	if ps := c.cachedPlatforms(src); len(ps) > 0 {
		c.mu.Lock()
		c.images[imageKey(dst)] = ps
		c.mu.Unlock()
	}
	return nil
}

func (c *Runtime) firstSuccess(op, ref string, fn func(runtime.Runtime) error) error {
	var first error
	for _, rt := range c.runtimes {
		err := fn(rt)
		if err == nil {
			return nil
		}
		if first == nil {
			first = err
		}
		c.log.Debug(op+" failed on a runtime; trying the next", "image", ref, "runtime", rt.Name(), "err", err)
	}
	return first
}

// PruneImages implements runtime.ImageService: every runtime prunes; the
// deleted lists are merged (each reference once) and the bytes added,
// saturating at the largest uint64. A runtime that fails is logged and left
// out; only when all fail is the first error returned.
func (c *Runtime) PruneImages(ctx context.Context) (runtime.PruneResult, error) {
	res := runtime.PruneResult{Deleted: []string{}}
	var errs []error
	for _, rt := range c.runtimes {
		r, err := rt.PruneImages(ctx)
		if err != nil {
			if !errors.Is(err, runtime.ErrNotSupported) {
				c.log.Warn("cannot prune a runtime's images; pruning the others", "runtime", rt.Name(), "err", err)
			}
			errs = append(errs, err)
			continue
		}
		for _, d := range r.Deleted {
			if !slices.Contains(res.Deleted, d) {
				res.Deleted = append(res.Deleted, d)
			}
		}
		res.SpaceReclaimed = addSaturating(res.SpaceReclaimed, r.SpaceReclaimed)
	}
	if len(errs) == len(c.runtimes) {
		return runtime.PruneResult{}, errs[0]
	}
	return res, nil
}

func addSaturating(a, b uint64) uint64 {
	if a > math.MaxUint64-b {
		return math.MaxUint64
	}
	return a + b
}
