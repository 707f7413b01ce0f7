package composite

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/switchyard/switchyard/runtime"
)

var _ runtime.Runtime = (*Runtime)(nil)

// Runtime is a runtime.Runtime that routes each container to one of its
// runtimes and remembers which. It is safe for concurrent use.
//
// Lock order: mu is never held across a call into a runtime.
type Runtime struct {
	// runtimes are asked for their Platforms() at every routing decision,
	// not once: a delegate's list changes when it comes back or is upgraded.
	runtimes []runtime.Containers
	// groups are the image services, in order of their first runtime: the
	// node's, shared by every runtime without one of its own, and each
	// whole Runtime's (a delegate's).
	groups        []imageGroup
	inspector     Inspector
	remedy        func(ocispec.Platform) string
	log           *slog.Logger
	retryInterval time.Duration

	// unlisted is set while some runtime's List has failed, so that a lookup
	// miss (an unknown id) costs one atomic load, not a write lock, when all
	// runtimes were listed.
	unlisted atomic.Bool

	// records maps a container to the index of the runtime that owns it.
	records *recordTable

	mu sync.RWMutex
	// images maps a normalised image reference to its platforms.
	images map[string]imagePlatforms // guarded by mu
	// pending are the runtimes whose List failed, to be asked again.
	pending   []int     // guarded by mu
	lastRetry time.Time // guarded by mu
}

// New returns a composite over rts, in order of preference: rts[0] is the
// primary. A runtime that is a whole runtime.Runtime (a delegate) keeps its
// own images; the others are local and share the node's image service
// (WithImages), which must then be given. New asks every runtime to List its
// containers and every image service for its images, to rebuild the
// dispatch records and the image platforms a restarted agent had. A runtime
// whose List fails is logged and asked again when a lookup misses; New
// fails only on bad arguments.
func New(ctx context.Context, rts []runtime.Containers, opts ...Option) (*Runtime, error) {
	o := defaultOptions()
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	if len(rts) == 0 {
		return nil, fmt.Errorf("composite: no runtimes given; pass at least one (the first is the primary): %w", runtime.ErrInvalidArgument)
	}
	c := &Runtime{
		runtimes:      slices.Clone(rts),
		inspector:     o.inspector,
		remedy:        o.remedy,
		log:           o.logger,
		retryInterval: o.retryInterval,
		records:       newRecordTable(),
		images:        make(map[string]imagePlatforms),
	}
	for i, rt := range rts {
		if rt == nil {
			return nil, fmt.Errorf("composite: runtime %d is nil: %w", i, runtime.ErrInvalidArgument)
		}
	}
	groups, err := makeGroups(rts, o.images)
	if err != nil {
		return nil, err
	}
	c.groups = groups
	all := make([]int, len(rts))
	for i := range all {
		all[i] = i
	}
	c.setPending(all, c.listInto(ctx, all))
	c.loadImages(ctx)
	return c, nil
}

// Name implements runtime.Identity: "composite".
func (c *Runtime) Name() string { return "composite" }

// Platforms implements runtime.Identity: every platform of every runtime,
// in runtime order, each once.
func (c *Runtime) Platforms() []ocispec.Platform {
	var all []ocispec.Platform
	for _, rt := range c.runtimes {
		all = mergePlatforms(all, rt.Platforms())
	}
	return all
}

// Runtimes returns the composite's runtimes, primary first.
func (c *Runtime) Runtimes() []runtime.Containers { return slices.Clone(c.runtimes) }

// RuntimeOf returns the name of the runtime that owns id, and false when
// there is no dispatch record for id.
func (c *Runtime) RuntimeOf(id runtime.ContainerID) (string, bool) {
	i, ok := c.records.get(id)
	if !ok {
		return "", false
	}
	return c.runtimes[i].Name(), true
}

// lookup returns the runtime that owns id. It is the hot path of every
// per-container call: a lock-free map lookup, no allocation.
func (c *Runtime) lookup(ctx context.Context, id runtime.ContainerID) (int, runtime.Containers, error) {
	if i, ok := c.records.get(id); ok {
		return i, c.runtimes[i], nil
	}
	return c.lookupMiss(ctx, id)
}

// lookupMiss asks the runtimes whose List failed again (at most once per
// retry interval) before it gives up on id.
func (c *Runtime) lookupMiss(ctx context.Context, id runtime.ContainerID) (int, runtime.Containers, error) {
	if c.unlisted.Load() {
		c.mu.Lock()
		due := time.Since(c.lastRetry) >= c.retryInterval
		asked := slices.Clone(c.pending)
		if due {
			c.lastRetry = time.Now()
		}
		c.mu.Unlock()
		if due && len(asked) > 0 {
			c.setPending(asked, c.listInto(ctx, asked))
			if i, ok := c.records.get(id); ok {
				return i, c.runtimes[i], nil
			}
		}
	}
	// The composite has no dispatch record: for the user, no such container.
	return -1, nil, fmt.Errorf("no such container: %s (no dispatch record; switchyard ps -a lists the containers): %w", id, runtime.ErrNotFound)
}

// listInto asks the runtimes idx for their containers and records the
// owner of each. It returns the runtimes whose List failed.
func (c *Runtime) listInto(ctx context.Context, idx []int) (failed []int) {
	for _, i := range idx {
		cs, err := c.runtimes[i].List(ctx)
		if err != nil {
			c.log.Warn("cannot list a runtime's containers; will ask again when a container is not found",
				"runtime", c.runtimes[i].Name(), "err", err)
			failed = append(failed, i)
			continue
		}
		c.adopt(i, cs)
	}
	return failed
}

// adopt records runtime i as the owner of cs, unless another runtime
// owns one already (the first claim wins; the clash is logged).
func (c *Runtime) adopt(i int, cs []runtime.Container) {
	for _, ct := range cs {
		if j, ok := c.records.insert(ct.ID, i); !ok && j != i {
			c.log.Warn("two runtimes report the same container; keeping the first",
				"container", ct.ID.String(), "kept", c.runtimes[j].Name(), "ignored", c.runtimes[i].Name())
		}
	}
}

// isPending reports whether runtime i's containers are still to be listed.
func (c *Runtime) isPending(i int) bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return slices.Contains(c.pending, i)
}

// setPending replaces the runtimes asked with those of them that failed.
func (c *Runtime) setPending(asked, failed []int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.pending = slices.DeleteFunc(c.pending, func(i int) bool { return slices.Contains(asked, i) })
	for _, i := range failed {
		if !slices.Contains(c.pending, i) {
			c.pending = append(c.pending, i)
		}
	}
	c.unlisted.Store(len(c.pending) > 0)
}

// loadImages fills the image-platform cache from what the image services'
// stores hold, so routing by image survives a restart unchanged and with no
// registry contact.
func (c *Runtime) loadImages(ctx context.Context) {
	found := map[string]imagePlatforms{}
	for _, g := range c.groups {
		imgs, err := g.svc.ListImages(ctx)
		if err != nil {
			if !errors.Is(err, runtime.ErrNotSupported) {
				c.log.Warn("cannot list a runtime's images; routing by their platforms waits for the next pull",
					"runtime", c.runtimes[g.members[0]].Name(), "err", err)
			}
			continue
		}
		for _, img := range imgs {
			key := imageKey(img.Reference)
			found[key] = found[key].merge(img)
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, v := range found {
		if len(v.all) > 0 {
			c.images[k] = v
		}
	}
}
