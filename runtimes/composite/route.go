package composite

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/containerd/platforms"
	"github.com/google/go-containerregistry/pkg/name"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/switchyard/switchyard/runtime"
)

// imageKey is the normalised form of an image reference, so that a short
// name ("busybox") and its fully qualified form (default registry, library
// repository, tag latest) are one image.
func imageKey(ref string) string {
	r, err := name.ParseReference(ref)
	if err != nil {
		return ref
	}
	return r.Name()
}

// mergePlatforms adds to dst the platforms of src it lacks, normalised.
func mergePlatforms(dst, src []ocispec.Platform) []ocispec.Platform {
	for _, p := range src {
		p = runtime.NormalizePlatform(p)
		if !slices.ContainsFunc(dst, func(q ocispec.Platform) bool { return samePlatform(p, q) }) {
			dst = append(dst, p)
		}
	}
	return dst
}

func samePlatform(a, b ocispec.Platform) bool {
	return a.OS == b.OS && a.Architecture == b.Architecture && a.Variant == b.Variant
}

// serves reports whether runtime i can run a workload of platform p
// (normalised). A platform without an architecture on either side ("windows")
// matches any architecture of its OS; otherwise containerd's matcher decides,
// so a linux/amd64 runtime also runs linux/386 and arm64 runs arm/v8.
func (c *Runtime) serves(i int, p ocispec.Platform) bool {
	for _, rp := range c.runtimes[i].Platforms() {
		rp = runtime.NormalizePlatform(rp)
		if rp.OS != p.OS {
			continue
		}
		if (rp.Architecture == "" || p.Architecture == "" || platforms.Only(rp).Match(p)) && sameBuildFamily(rp.OSVersion, p.OSVersion) {
			return true
		}
	}
	return false
}

// sameBuildFamily reports whether two OS versions (Windows's
// major.minor.build[.revision]) are of one build family, as containerd's
// Windows matcher has it, which it applies only on a Windows host: the
// same major, minor and build. A side that does not say matches any.
func sameBuildFamily(a, b string) bool {
	if a == "" || b == "" {
		return true
	}
	fa, fb := strings.Split(a, "."), strings.Split(b, ".")
	if len(fa) < 3 || len(fb) < 3 {
		return a == b
	}
	return slices.Equal(fa[:3], fb[:3])
}

// firstServing returns the first runtime that serves any of ps, or -1.
func (c *Runtime) firstServing(ps []ocispec.Platform) int {
	for i := range c.runtimes {
		for _, p := range ps {
			if c.serves(i, p) {
				return i
			}
		}
	}
	return -1
}

// allServing returns every runtime that serves any of ps, in order.
func (c *Runtime) allServing(ps []ocispec.Platform) []int {
	var out []int
	for i := range c.runtimes {
		if slices.ContainsFunc(ps, func(p ocispec.Platform) bool { return c.serves(i, p) }) {
			out = append(out, i)
		}
	}
	return out
}

// cachedPlatforms returns the platforms recorded for an image.
func (c *Runtime) cachedPlatforms(ref string) imagePlatforms {
	c.mu.RLock()
	defer c.mu.RUnlock()
	p := c.images[imageKey(ref)]
	return imagePlatforms{all: slices.Clone(p.all), present: slices.Clone(p.present), annotations: p.annotations}
}

// route chooses the runtime for a new container (the rules of the package
// doc): the declared platform, else the image's platforms, else the primary.
func (c *Runtime) route(ctx context.Context, id runtime.ContainerID, cs *runtime.CreateSpec) (int, string, error) {
	if name, by := c.namedRuntime(ctx, cs); name != "" {
		return c.routeNamed(ctx, cs, name, by)
	}
	if cs.Platform != nil {
		p := runtime.NormalizePlatform(*cs.Platform)
		if i := c.firstServing([]ocispec.Platform{p}); i >= 0 {
			return i, "declared platform " + runtime.FormatPlatform(p), nil
		}
		return -1, "", &runtime.RouteToPeerError{
			Service:  id.Service,
			Platform: runtime.FormatPlatform(p),
			Reason:   c.reason(fmt.Sprintf("the service declares platform %s", runtime.FormatPlatform(p)), []ocispec.Platform{p}),
		}
	}
	known := c.cachedPlatforms(cs.Image)
	if len(known.all) == 0 {
		// Not pulled through this composite: it may have been loaded or
		// tagged in a store since. Ask the stores once more.
		c.loadImages(ctx)
		known = c.cachedPlatforms(cs.Image)
	}
	if ps := known.all; len(ps) > 0 {
		// A platform whose content is here beats one that would need a pull.
		if i := c.firstServing(known.present); i >= 0 {
			return i, "image platforms present " + formatAll(known.present), nil
		}
		if i := c.firstServing(ps); i >= 0 {
			return i, "image platforms " + formatAll(ps), nil
		}
		return -1, "", c.imageMiss(id.Service, cs.Image, ps)
	}
	return 0, "no platform known: primary", nil
}

// imageMiss is the route-to-peer error for an image no runtime here serves.
func (c *Runtime) imageMiss(service, image string, ps []ocispec.Platform) error {
	return &runtime.RouteToPeerError{
		Service:  service,
		Platform: formatAll(ps),
		Image:    image,
		Reason:   c.reason(fmt.Sprintf("image %s is built for %s", image, formatAll(ps)), ps),
	}
}

func formatAll(ps []ocispec.Platform) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = runtime.FormatPlatform(p)
	}
	return strings.Join(s, ", ")
}

// reason explains a miss and names both remedies: what enables a runtime
// for the platform on this node (the remedy hook's words, WithRemedy), and
// a peer node of it.
func (c *Runtime) reason(what string, ps []ocispec.Platform) string {
	names := make([]string, len(c.runtimes))
	for i, rt := range c.runtimes {
		names[i] = rt.Name()
	}
	served := formatAll(c.Platforms())
	if served == "" {
		served = "nothing"
	}
	var enable []string
	for _, p := range ps {
		if e := c.remedy(p); !slices.Contains(enable, e) {
			enable = append(enable, e)
		}
	}
	osName := ps[0].OS
	return fmt.Sprintf("%s, but no runtime on this node (%s) serves it (they serve %s); either enable a runtime for it here: %s; or add a %s peer node to the cluster and run the service there",
		what, strings.Join(names, ", "), served, strings.Join(enable, "; "), osName)
}

// defaultRemedy is the remedy without a hook: it names the platform, not
// how a particular program enables it.
func defaultRemedy(p ocispec.Platform) string {
	return "add a runtime that serves " + runtime.FormatPlatform(p) + " to this node"
}

// namedRuntime is the runtime the request names, and what names it: the
// request's Runtime, switchyard's runtime label, ZLayer's isolation label
// or the image's runtime annotation. ZLayer's names count only where a
// runtime of that name exists here (its other values are ZLayer's own
// runtimes); switchyard's always do.
func (c *Runtime) namedRuntime(ctx context.Context, cs *runtime.CreateSpec) (string, string) {
	switch {
	case cs.Runtime != "":
		return cs.Runtime, "the request's runtime"
	case cs.Labels[runtime.LabelRuntime] != "":
		return cs.Labels[runtime.LabelRuntime], "label " + runtime.LabelRuntime
	case cs.Labels[runtime.LabelZLayerIsolation] != "" && c.indexOf(cs.Labels[runtime.LabelZLayerIsolation]) >= 0:
		return cs.Labels[runtime.LabelZLayerIsolation], "label " + runtime.LabelZLayerIsolation
	}
	known := c.cachedPlatforms(cs.Image)
	if len(known.all) == 0 {
		c.loadImages(ctx)
		known = c.cachedPlatforms(cs.Image)
	}
	ann := known.annotations
	switch {
	case ann[runtime.AnnotationRuntime] != "":
		return ann[runtime.AnnotationRuntime], "image annotation " + runtime.AnnotationRuntime
	case ann[runtime.AnnotationZLayerRuntime] != "" && c.indexOf(ann[runtime.AnnotationZLayerRuntime]) >= 0:
		return ann[runtime.AnnotationZLayerRuntime], "image annotation " + runtime.AnnotationZLayerRuntime
	}
	return "", ""
}

// indexOf is the index of the runtime named name (case aside), or -1.
func (c *Runtime) indexOf(name string) int {
	for i, rt := range c.runtimes {
		if strings.EqualFold(rt.Name(), name) {
			return i
		}
	}
	return -1
}

// routeNamed routes to the runtime a request names, refusing, with both
// names, when it does not exist or cannot run the platform the request
// declares or the image is built for: never a silent fallback.
func (c *Runtime) routeNamed(ctx context.Context, cs *runtime.CreateSpec, name, by string) (int, string, error) {
	i := c.indexOf(name)
	if i < 0 {
		names := make([]string, len(c.runtimes))
		for j, rt := range c.runtimes {
			names[j] = rt.Name()
		}
		return -1, "", fmt.Errorf("%s names runtime %q, and this node has none of that name (it has %s): %w", by, name, strings.Join(names, ", "), runtime.ErrInvalidArgument)
	}
	rtName := c.runtimes[i].Name()
	if cs.Platform != nil {
		p := runtime.NormalizePlatform(*cs.Platform)
		if !c.serves(i, p) {
			return -1, "", fmt.Errorf("%s names runtime %s, which cannot run the declared platform %s (it runs %s); drop one of the two: %w",
				by, rtName, runtime.FormatPlatform(p), formatAll(c.runtimes[i].Platforms()), runtime.ErrNotSupported)
		}
		return i, by + " (" + rtName + ")", nil
	}
	known := c.cachedPlatforms(cs.Image)
	if len(known.all) == 0 {
		c.loadImages(ctx)
		known = c.cachedPlatforms(cs.Image)
	}
	if len(known.all) > 0 && !slices.ContainsFunc(known.all, func(p ocispec.Platform) bool { return c.serves(i, p) }) {
		return -1, "", fmt.Errorf("%s names runtime %s, which cannot run image %s (built for %s; %s runs %s); drop the runtime, or run an image built for it: %w",
			by, rtName, cs.Image, formatAll(known.all), rtName, formatAll(c.runtimes[i].Platforms()), runtime.ErrNotSupported)
	}
	return i, by + " (" + rtName + ")", nil
}
