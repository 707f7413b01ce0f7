package composite

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/switchyard/switchyard/runtime"
)

// Pull implements runtime.ImageService: it asks the registry for the image's
// platforms first, then pulls only where the image can run.
//
// The inspection result is cached for Create's routing. A failed or empty
// inspection is logged and never fails the pull; it leaves the cache as it
// was. With runtime.PullNever there is no inspection (it would contact the
// registry), nor with runtime.PullIfNotPresent for an image whose platforms are
// known already: the cached platforms are used.
//
// Where it pulls: with opts.Platform, on the first runtime serving it; with
// known platforms, on every runtime that serves any of them (the first is
// the chosen one); with nothing known, on the primary. Runtimes that share
// an image service (the local runtimes and the node's) are pulled for once:
// the node's service fetches every local platform the image offers under
// the one reference. A failing pull on a service other than the chosen
// one's is logged and does not fail the call. Known platforms that no
// runtime serves are a *runtime.RouteToPeerError naming the image. opts
// (policy, auth, progress) pass through unchanged. The result is the chosen
// service's, with Runtimes naming every runtime that can run the image now.
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
		p := runtime.NormalizePlatform(*opts.Platform)
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
	// One pull per image service, in the order of the targets.
	var order []int
	for _, i := range targets {
		if g := c.groupOf(i); !slices.Contains(order, g) {
			order = append(order, g)
		}
	}
	var info runtime.ImageInfo
	var pulled []int // groups whose pull succeeded
	learned := imagePlatforms{all: known}
	for n, g := range order {
		got, err := c.groups[g].svc.Pull(ctx, ref, opts)
		if err != nil {
			if n == 0 {
				return got, err
			}
			c.log.Warn("pull failed on a runtime that could also run the image; the image is still usable",
				"image", ref, "runtime", c.runtimes[c.groups[g].members[0]].Name(),
				"chosen", c.runtimes[targets[0]].Name(), "err", err)
			continue
		}
		if n == 0 {
			info = got
		}
		pulled = append(pulled, g)
		learned = learned.merge(got)
	}
	if len(learned.all) > 0 {
		// What this pull learned replaces what was cached: a tag may have
		// moved to other content.
		c.mu.Lock()
		c.images[imageKey(ref)] = learned
		c.mu.Unlock()
	}
	if len(info.Platforms) == 0 {
		info.Platforms = known
	}
	info.Runtimes = nil
	for _, i := range targets {
		if slices.Contains(pulled, c.groupOf(i)) {
			info.Runtimes = append(info.Runtimes, c.runtimes[i].Name())
		}
	}
	return info, nil
}

// imagePlatforms inspects ref (unless the policy forbids contacting the
// registry), caches a useful answer, and returns what is known.
func (c *Runtime) imagePlatforms(ctx context.Context, ref string, opts runtime.PullOptions) []ocispec.Platform {
	ifNotPresent := opts.Policy == runtime.PullIfNotPresent || opts.Policy == ""
	if cached := c.cachedPlatforms(ref).all; len(cached) > 0 && ifNotPresent {
		// Known from an earlier pull: the image is (or was) here, and
		// if_not_present promises not to contact the registry for it, as
		// `docker run` of a present image does not.
		return cached
	}
	if c.inspector != nil && opts.Policy != runtime.PullNever {
		if opts.Progress != nil {
			// The registry is asked from here on: a client shows what it
			// waits for.
			opts.Progress(runtime.PullProgress{ID: ref, Status: "resolving"})
		}
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
			key := imageKey(ref)
			old := c.images[key]
			c.images[key] = imagePlatforms{all: ps, present: old.present}
			c.mu.Unlock()
			return slices.Clone(ps)
		}
	}
	return c.cachedPlatforms(ref).all
}

// ListImages implements runtime.ImageService: every image service's images,
// merged so that one image (same reference and digest) reported by several
// services is listed once with all its platforms. ImageInfo.Runtimes names
// the runtimes of the image's service that can run it: those that serve a
// present platform, else any of its platforms (all of the service's
// runtimes when the platforms are unknown or nobody here serves them). A
// service that fails is logged and left out; only when all fail is the
// first error returned.
func (c *Runtime) ListImages(ctx context.Context) ([]runtime.ImageInfo, error) {
	type key struct{ ref, digest string }
	var out []runtime.ImageInfo
	at := make(map[key]int)
	var errs []error
	for _, g := range c.groups {
		imgs, err := g.svc.ListImages(ctx)
		if err != nil {
			c.log.Warn("cannot list a runtime's images; listing the others", "runtime", c.runtimes[g.members[0]].Name(), "err", err)
			errs = append(errs, err)
			continue
		}
		for _, img := range imgs {
			runners := c.runners(g.members, img)
			k := key{img.Reference, img.Digest}
			i, ok := at[k]
			if !ok {
				img.Platforms = mergePlatforms(nil, img.Platforms)
				img.Runtimes = runners
				at[k] = len(out)
				out = append(out, img)
				continue
			}
			out[i].Platforms = mergePlatforms(out[i].Platforms, img.Platforms)
			out[i].Manifests = mergeManifests(out[i].Manifests, img.Manifests)
			out[i].Size = max(out[i].Size, img.Size)
			for _, r := range runners {
				if !slices.Contains(out[i].Runtimes, r) {
					out[i].Runtimes = append(out[i].Runtimes, r)
				}
			}
		}
	}
	if len(errs) == len(c.groups) {
		return nil, errs[0]
	}
	return out, nil
}

// mergeManifests adds src's entries to dst by digest: an entry present in
// either store is present.
func mergeManifests(dst, src []runtime.ImageManifest) []runtime.ImageManifest {
	for _, m := range src {
		i := slices.IndexFunc(dst, func(d runtime.ImageManifest) bool { return d.Digest == m.Digest })
		switch {
		case i < 0:
			dst = append(dst, m)
		case m.Present && !dst[i].Present:
			dst[i] = m
		}
	}
	return dst
}

// runners names the runtimes among members that can run img: those that
// serve a present platform, else any of its platforms. An image of unknown
// platforms, or of platforms no runtime of this node serves, names every
// member that has it.
func (c *Runtime) runners(members []int, img runtime.ImageInfo) []string {
	var out []string
	for _, ps := range [][]ocispec.Platform{img.PresentPlatforms(), img.Platforms} {
		for _, i := range members {
			if c.canRun(i, ps) {
				out = append(out, c.runtimes[i].Name())
			}
		}
		if len(out) > 0 || len(ps) > 0 && c.firstServing(ps) >= 0 {
			return out
		}
	}
	for _, i := range members {
		out = append(out, c.runtimes[i].Name())
	}
	return out
}

// canRun reports whether runtime i serves any of ps; an image of unknown
// platforms counts as runnable anywhere.
func (c *Runtime) canRun(i int, ps []ocispec.Platform) bool {
	if len(ps) == 0 {
		return true
	}
	return slices.ContainsFunc(ps, func(p ocispec.Platform) bool { return c.serves(i, p) })
}

// RemoveImage implements runtime.ImageService: it asks each image service
// in order; the first success wins. When all fail, the error is the first
// service's.
//
// Then each runtime that keeps what it derived from images (compiled wasm
// code) drops what belonged to images that are gone.
func (c *Runtime) RemoveImage(ctx context.Context, ref string, force bool) error {
	if err := c.firstSuccess("remove image", ref, func(s runtime.ImageService) error { return s.RemoveImage(ctx, ref, force) }); err != nil {
		return err
	}
	c.reclaimDerived(ctx)
	return nil
}

// reclaimDerived asks every runtime that keeps what it derived from images
// to drop what belonged to images that are gone, and returns the bytes
// freed. A runtime that fails is logged: the images are gone either way,
// and the next removal or prune asks again.
func (c *Runtime) reclaimDerived(ctx context.Context) uint64 {
	var freed uint64
	for _, rt := range c.runtimes {
		rc, ok := rt.(runtime.ImageReclaimer)
		if !ok {
			continue
		}
		res, err := rc.ReclaimImages(ctx)
		if err != nil {
			c.log.Warn("cannot reclaim what a runtime derived from removed images", "runtime", rt.Name(), "err", err)
			continue
		}
		freed = addSaturating(freed, res.SpaceReclaimed)
	}
	return freed
}

// TagImage implements runtime.ImageService like RemoveImage: first success
// wins, else the first service's error. dst names the same image as src, so
// it is routed by src's platforms from now on.
func (c *Runtime) TagImage(ctx context.Context, src, dst string) error {
	if err := c.firstSuccess("tag image", src, func(s runtime.ImageService) error { return s.TagImage(ctx, src, dst) }); err != nil {
		return err
	}
	if ps := c.cachedPlatforms(src); len(ps.all) > 0 {
		c.mu.Lock()
		c.images[imageKey(dst)] = ps
		c.mu.Unlock()
	}
	return nil
}

func (c *Runtime) firstSuccess(op, ref string, fn func(runtime.ImageService) error) error {
	var first error
	for _, g := range c.groups {
		err := fn(g.svc)
		if err == nil {
			return nil
		}
		if first == nil {
			first = err
		}
		c.log.Debug(op+" failed on a runtime; trying the next", "image", ref, "runtime", c.runtimes[g.members[0]].Name(), "err", err)
	}
	return first
}

// PruneImages implements runtime.ImageService: every image service prunes;
// the deleted lists are merged (each reference once) and the bytes added,
// saturating at the largest uint64, with the bytes of what runtimes derived
// from the pruned images (compiled wasm code). A service that fails is
// logged and left out; only when all fail is the first error returned.
func (c *Runtime) PruneImages(ctx context.Context) (runtime.PruneResult, error) {
	res := runtime.PruneResult{Deleted: []string{}}
	var errs []error
	for _, g := range c.groups {
		r, err := g.svc.PruneImages(ctx)
		if err != nil {
			if !errors.Is(err, runtime.ErrNotSupported) {
				c.log.Warn("cannot prune a runtime's images; pruning the others", "runtime", c.runtimes[g.members[0]].Name(), "err", err)
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
	if len(errs) == len(c.groups) {
		return runtime.PruneResult{}, errs[0]
	}
	res.SpaceReclaimed = addSaturating(res.SpaceReclaimed, c.reclaimDerived(ctx))
	return res, nil
}

func addSaturating(a, b uint64) uint64 {
	if a > math.MaxUint64-b {
		return math.MaxUint64
	}
	return a + b
}
