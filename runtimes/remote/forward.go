package remote

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"time"

	"github.com/switchyard/switchyard/runtime"
)

// Create implements runtime.Lifecycle.
// Secrets are not sent to a delegate: the request's JSON form has none,
// so a request with secrets is refused rather than run without them.
func (r *Runtime) Create(ctx context.Context, id runtime.ContainerID, cs *runtime.CreateSpec) error {
	if cs != nil && len(cs.Secrets) > 0 {
		return fmt.Errorf("container %s: secrets are not sent to a delegate; create the secret on the delegate's node and deploy there: %w", id, runtime.ErrNotSupported)
	}
	if cs != nil && cs.OpenStdin {
		return fmt.Errorf("container %s: a delegate's container takes no input from here (docker run -i); run it without -i: %w", id, runtime.ErrNotSupported)
	}
	return r.wrap(r.c.Create(ctx, id, cs))
}

// Start implements runtime.Lifecycle.
func (r *Runtime) Start(ctx context.Context, id runtime.ContainerID) error {
	return r.wrap(r.c.Start(ctx, id))
}

// Stop implements runtime.Lifecycle.
func (r *Runtime) Stop(ctx context.Context, id runtime.ContainerID, timeout time.Duration) error {
	return r.wrap(r.c.Stop(ctx, id, timeout))
}

// Kill implements runtime.Lifecycle.
func (r *Runtime) Kill(ctx context.Context, id runtime.ContainerID, signal string) error {
	return r.wrap(r.c.Kill(ctx, id, signal))
}

// Remove implements runtime.Lifecycle.
func (r *Runtime) Remove(ctx context.Context, id runtime.ContainerID, force bool) error {
	return r.wrap(r.c.Remove(ctx, id, force))
}

// Rename implements runtime.Lifecycle.
func (r *Runtime) Rename(ctx context.Context, id, to runtime.ContainerID) error {
	return r.wrap(r.c.Rename(ctx, id, to))
}

// SyncVolumes implements runtime.Lifecycle.
func (r *Runtime) SyncVolumes(ctx context.Context, id runtime.ContainerID) error {
	return r.wrap(r.c.SyncVolumes(ctx, id))
}

// State implements runtime.Inspector.
func (r *Runtime) State(ctx context.Context, id runtime.ContainerID) (runtime.State, error) {
	st, err := r.c.State(ctx, id)
	return st, r.wrap(err)
}

// Inspect implements runtime.Inspector. Details.Runtime is this runtime's
// name, as in List.
func (r *Runtime) Inspect(ctx context.Context, id runtime.ContainerID) (runtime.Details, error) {
	d, err := r.c.Inspect(ctx, id)
	if err != nil {
		return runtime.Details{}, r.wrap(err)
	}
	d.Runtime = r.name
	return d, r.wrap(nil)
}

// List implements runtime.Inspector: the delegate's containers, each with
// Runtime set to this runtime's name ("remote:NAME").
func (r *Runtime) List(ctx context.Context) ([]runtime.Container, error) {
	cs, err := r.c.List(ctx)
	if err != nil {
		return nil, r.wrap(err)
	}
	for i := range cs {
		cs[i].Runtime = r.name
	}
	return cs, r.wrap(nil)
}

// Stats implements runtime.Inspector.
func (r *Runtime) Stats(ctx context.Context, id runtime.ContainerID) (runtime.Stats, error) {
	s, err := r.c.Stats(ctx, id)
	return s, r.wrap(err)
}

// PID implements runtime.Inspector: the process id on the delegate's host,
// which means nothing on this one.
func (r *Runtime) PID(ctx context.Context, id runtime.ContainerID) (int, error) {
	pid, err := r.c.PID(ctx, id)
	return pid, r.wrap(err)
}

// IP implements runtime.Inspector.
func (r *Runtime) IP(ctx context.Context, id runtime.ContainerID) (netip.Addr, error) {
	ip, err := r.c.IP(ctx, id)
	return ip, r.wrap(err)
}

// PortOverride implements runtime.Inspector.
func (r *Runtime) PortOverride(ctx context.Context, id runtime.ContainerID) (uint16, error) {
	p, err := r.c.PortOverride(ctx, id)
	return p, r.wrap(err)
}

// Wait implements runtime.Waiter.
func (r *Runtime) Wait(ctx context.Context, id runtime.ContainerID) (int, error) {
	code, err := r.c.Wait(ctx, id)
	return code, r.wrap(err)
}

// WaitOutcome implements runtime.Waiter.
func (r *Runtime) WaitOutcome(ctx context.Context, id runtime.ContainerID, cond runtime.WaitCondition) (runtime.WaitOutcome, error) {
	o, err := r.c.WaitOutcome(ctx, id, cond)
	return o, r.wrap(err)
}

// Logs implements runtime.LogReader.
func (r *Runtime) Logs(ctx context.Context, id runtime.ContainerID, tail int) ([]runtime.LogEntry, error) {
	es, err := r.c.Logs(ctx, id, tail)
	return es, r.wrap(err)
}

// FollowLogs implements runtime.LogReader. A connection that drops
// mid-stream ends it with an error matching runtime.ErrUnavailable.
func (r *Runtime) FollowLogs(ctx context.Context, id runtime.ContainerID, tail int) (runtime.Stream[runtime.LogEntry], error) {
	st, err := r.c.FollowLogs(ctx, id, tail)
	if err != nil {
		return nil, r.wrap(err)
	}
	return &stream[runtime.LogEntry]{r: r, st: st}, r.wrap(nil)
}

// Exec implements runtime.Executor.
func (r *Runtime) Exec(ctx context.Context, id runtime.ContainerID, argv []string) (runtime.ExecResult, error) {
	res, err := r.c.Exec(ctx, id, argv)
	return res, r.wrap(err)
}

// ExecStream implements runtime.Executor, like FollowLogs.
func (r *Runtime) ExecStream(ctx context.Context, id runtime.ContainerID, argv []string) (runtime.Stream[runtime.ExecEvent], error) {
	st, err := r.c.ExecStream(ctx, id, argv)
	if err != nil {
		return nil, r.wrap(err)
	}
	return &stream[runtime.ExecEvent]{r: r, st: st}, r.wrap(nil)
}

// Pull implements runtime.ImageService: the delegate pulls into its own
// store; opts.Progress receives its progress events.
func (r *Runtime) Pull(ctx context.Context, ref string, opts runtime.PullOptions) (runtime.ImageInfo, error) {
	info, err := r.c.Pull(ctx, ref, opts)
	return info, r.wrap(err)
}

// ListImages implements runtime.ImageService.
func (r *Runtime) ListImages(ctx context.Context) ([]runtime.ImageInfo, error) {
	imgs, err := r.c.ListImages(ctx)
	return imgs, r.wrap(err)
}

// RemoveImage implements runtime.ImageService.
func (r *Runtime) RemoveImage(ctx context.Context, ref string, force bool) error {
	return r.wrap(r.c.RemoveImage(ctx, ref, force))
}

// TagImage implements runtime.ImageService.
func (r *Runtime) TagImage(ctx context.Context, src, dst string) error {
	return r.wrap(r.c.TagImage(ctx, src, dst))
}

// PruneImages implements runtime.ImageService.
func (r *Runtime) PruneImages(ctx context.Context) (runtime.PruneResult, error) {
	res, err := r.c.PruneImages(ctx)
	return res, r.wrap(err)
}

// stream names the delegate in a stream's errors; io.EOF passes unchanged.
type stream[T any] struct {
	r  *Runtime
	st runtime.Stream[T]
}

// Recv implements runtime.Stream.
func (s *stream[T]) Recv() (T, error) {
	v, err := s.st.Recv()
	if err != nil && !errors.Is(err, io.EOF) {
		err = s.r.wrap(err)
	}
	return v, err
}

// Close implements runtime.Stream.
func (s *stream[T]) Close() error { return s.st.Close() }
