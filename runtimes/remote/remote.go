package remote

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

	"github.com/containerd/platforms"

	"github.com/switchyard/switchyard/api"
	"github.com/switchyard/switchyard/api/client"
	"github.com/switchyard/switchyard/runtime"
)

// Runtime forwards the whole contract to a delegate agent. It is safe for
// concurrent use; Close stops its background refresh.
type Runtime struct {
	name    string // "remote:NAME"
	short   string // NAME
	address string // the delegate's address as people read it
	c       *client.Client
	opts    options

	mu sync.Mutex
	// plats is the last platform list the delegate reported, or the static
	// list until it has answered once; guarded by mu.
	plats []ocispec.Platform
	// reported says whether plats came from the delegate; guarded by mu.
	reported bool

	// down is set when a call found the delegate unreachable, so that the
	// next call that gets through asks for its platforms again.
	down atomic.Bool
	// kick wakes the refresh loop early; buffered (1) so that senders never
	// block and a burst of kicks costs one probe. Never closed.
	kick chan struct{}
	// stop cancels the refresh loop's context (and a probe in flight).
	stop   context.CancelFunc
	done   chan struct{} // closed by the refresh loop when it returns
	closed atomic.Bool
}

var _ runtime.Runtime = (*Runtime)(nil)

// New returns the delegate NAME at address (unix:///path, a socket path, or
// https://host:port) and probes it once, for at most the probe timeout. A
// delegate that is down is no error: New logs it, and the delegate is used
// once it answers. The error wraps runtime.ErrInvalidArgument for a bad
// name, address or option.
func New(name, address string, opts ...Option) (*Runtime, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	o := options{
		log:             slog.New(slog.DiscardHandler),
		probeTimeout:    2 * time.Second,
		refreshInterval: 30 * time.Second,
	}
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, fmt.Errorf("delegate %s: %w", name, err)
		}
	}
	copts := append([]client.Option{client.WithDialTimeout(3 * time.Second)}, o.client...)
	c, err := client.New(address, copts...)
	if err != nil {
		return nil, fmt.Errorf("delegate %s: %w", name, err)
	}
	r := &Runtime{
		name:    "remote:" + name,
		short:   name,
		address: c.Address(),
		c:       c,
		opts:    o,
		plats:   slices.Clone(o.static),
		kick:    make(chan struct{}, 1),
		done:    make(chan struct{}),
	}
	r.probe(context.Background())
	ctx, stop := context.WithCancel(context.Background())
	r.stop = stop
	go r.refreshLoop(ctx)
	return r, nil
}

// checkName accepts the names people give delegates on the command line.
func checkName(name string) error {
	ok := name != "" && len(name) <= 64
	for _, ch := range name {
		if !(ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || ch == '-' || ch == '_' || ch == '.') {
			ok = false
		}
	}
	if !ok {
		return fmt.Errorf("delegate name %q: want 1 to 64 letters, digits, '-', '_' or '.', such as wsl: %w", name, runtime.ErrInvalidArgument)
	}
	return nil
}

// Name implements runtime.Identity: "remote:NAME".
func (r *Runtime) Name() string { return r.name }

// Address returns the delegate's address as people read it.
func (r *Runtime) Address() string { return r.address }

// Platforms implements runtime.Identity without touching the network: the
// delegate's last reported platforms, or the WithPlatforms list until it
// has answered once. While nothing is known it asks the refresh loop to
// probe now.
func (r *Runtime) Platforms() []ocispec.Platform {
	r.mu.Lock()
	ps, reported := slices.Clone(r.plats), r.reported
	r.mu.Unlock()
	if !reported {
		r.wake()
	}
	return ps
}

// Close stops the background refresh and releases idle connections. Calls
// made after Close still work. A second Close does nothing.
func (r *Runtime) Close() error {
	if !r.closed.CompareAndSwap(false, true) {
		return nil
	}
	r.stop()
	<-r.done
	return r.c.Close()
}

// wake asks the refresh loop to probe soon, without blocking.
func (r *Runtime) wake() {
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// minProbeGap keeps a delegate that is down from being probed back to back
// when Platforms is called often (it wakes the loop while nothing is known).
const minProbeGap = time.Second

// refreshLoop probes the delegate every refresh interval and when woken,
// until ctx is cancelled by Close.
func (r *Runtime) refreshLoop(ctx context.Context) {
	defer close(r.done)
	tick := time.NewTicker(r.opts.refreshInterval)
	defer tick.Stop()
	var last time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-r.kick:
		}
		if gap := minProbeGap - time.Since(last); gap > 0 {
			select {
			case <-ctx.Done():
				return
			case <-time.After(gap):
			}
		}
		last = time.Now()
		r.probe(ctx)
	}
}

// probe asks the delegate for its identity and keeps its platforms.
func (r *Runtime) probe(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, r.opts.probeTimeout)
	defer cancel()
	info, err := r.c.Info(ctx)
	switch {
	case errors.Is(err, api.ErrUnauthenticated):
		// Reachable but unusable: every probe says so until an operator
		// fixes the credentials on one side or the other.
		r.opts.log.Warn("delegate refused this agent's credentials; check its token and client certificate",
			"delegate", r.short, "address", r.address, "err", err)
		return
	case err != nil:
		r.markDown(err)
		return
	}
	r.markUp(false)
	ps := make([]ocispec.Platform, len(info.Platforms))
	for i, p := range info.Platforms {
		ps[i] = platforms.Normalize(p)
	}
	r.mu.Lock()
	changed := !r.reported || !slices.EqualFunc(r.plats, ps, samePlatform)
	r.plats, r.reported = ps, true
	r.mu.Unlock()
	if changed {
		r.opts.log.Info("delegate answered", "delegate", r.short, "address", r.address,
			"runtime", info.Name, "version", info.Version, "platforms", formatAll(ps))
	}
}

func samePlatform(a, b ocispec.Platform) bool {
	return platforms.FormatAll(a) == platforms.FormatAll(b)
}

func formatAll(ps []ocispec.Platform) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = runtime.FormatPlatform(p)
	}
	return out
}

// markDown notes that the delegate could not be reached, logging the
// change.
func (r *Runtime) markDown(err error) {
	if !r.down.Swap(true) {
		r.opts.log.Warn("delegate is unreachable; its calls fail until it answers",
			"delegate", r.short, "address", r.address, "err", err)
	}
}

// markUp notes that the delegate answered and, after an outage, logs the
// change. With refresh set (a call got through, not a probe) it asks the
// refresh loop for the delegate's platforms, which may have changed
// meanwhile.
func (r *Runtime) markUp(refresh bool) {
	if r.down.CompareAndSwap(true, false) {
		r.opts.log.Info("delegate is reachable again", "delegate", r.short, "address", r.address)
		if refresh {
			r.wake()
		}
	}
}

// wrap names the delegate in err and keeps its kinds; it also notes
// whether the delegate was reachable, for the platform refresh.
func (r *Runtime) wrap(err error) error {
	if err == nil {
		r.markUp(true)
		return nil
	}
	var remote *api.RemoteError
	answered := errors.As(err, &remote)
	switch {
	case errors.Is(err, api.ErrUnauthenticated):
		return &delegateError{
			msg:   fmt.Sprintf("delegate %s (%s) refused this agent's credentials", r.short, r.address),
			cause: err,
			kind:  runtime.ErrUnavailable,
		}
	case answered:
		// The delegate answered: its error, named.
		return fmt.Errorf("delegate %s: %w", r.short, err)
	case errors.Is(err, runtime.ErrUnavailable):
		r.markDown(err)
		return &delegateError{msg: fmt.Sprintf("delegate %s (%s) is unreachable", r.short, r.address), cause: err}
	}
	// The caller's ctx, or a local mistake such as a nil spec.
	return fmt.Errorf("delegate %s: %w", r.short, err)
}

// delegateError is a failure to use the delegate at all. It matches its
// cause's kinds, and kind when set.
type delegateError struct {
	msg   string
	cause error
	kind  error
}

func (e *delegateError) Error() string { return e.msg + ": " + e.cause.Error() }

func (e *delegateError) Unwrap() []error {
	if e.kind != nil {
		return []error{e.kind, e.cause}
	}
	return []error{e.cause}
}
