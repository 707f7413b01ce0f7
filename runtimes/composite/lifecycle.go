package composite

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/switchyard/switchyard/runtime"
)

// Create implements runtime.Lifecycle. It validates cs, then chooses the
// runtime:
//
//  1. cs declares a platform: the first runtime that serves it (containerd's
//     matcher; an OS-only platform such as "windows" matches any
//     architecture of that OS), or a *runtime.RouteToPeerError;
//  2. else the image's platforms, as inspected at pull or recorded by the
//     runtimes' stores: the first runtime, in order, that serves any of them,
//     or a *runtime.RouteToPeerError that names the image;
//  3. else the primary.
//
// The dispatch record is written before the runtime's Create, so that calls
// racing with it find the container, and removed again if Create fails.
// ErrAlreadyExists when id has a record already.
func (c *Runtime) Create(ctx context.Context, id runtime.ContainerID, cs *runtime.CreateSpec) error {
	if err := id.Validate(); err != nil {
		return fmt.Errorf("container %s: %w", id, err)
	}
	// The one check of the request, for every runtime behind the composite.
	if err := cs.Validate(); err != nil {
		return fmt.Errorf("container %s: %w", id, err)
	}
	i, why, err := c.route(ctx, id, cs)
	if err != nil {
		return err
	}
	if j, ok := c.records.insert(id, i); !ok {
		return fmt.Errorf("container %s: runs on %s already: %w", id, c.runtimes[j].Name(), runtime.ErrAlreadyExists)
	}
	c.log.Debug("dispatch", "container", id.String(), "runtime", c.runtimes[i].Name(), "by", why)
	if err := c.runtimes[i].Create(ctx, id, cs); err != nil {
		c.forget(id, i)
		return err
	}
	return nil
}

// forget deletes id's record if runtime i still owns it.
func (c *Runtime) forget(id runtime.ContainerID, i int) { c.records.remove(id, i) }

// Start implements runtime.Lifecycle.
func (c *Runtime) Start(ctx context.Context, id runtime.ContainerID) error {
	_, rt, err := c.lookup(ctx, id)
	if err != nil {
		return err
	}
	return rt.Start(ctx, id)
}

// Stop implements runtime.Lifecycle.
func (c *Runtime) Stop(ctx context.Context, id runtime.ContainerID, timeout time.Duration) error {
	_, rt, err := c.lookup(ctx, id)
	if err != nil {
		return err
	}
	return rt.Stop(ctx, id, timeout)
}

// Kill implements runtime.Lifecycle.
func (c *Runtime) Kill(ctx context.Context, id runtime.ContainerID, signal string) error {
	_, rt, err := c.lookup(ctx, id)
	if err != nil {
		return err
	}
	return rt.Kill(ctx, id, signal)
}

// Remove implements runtime.Lifecycle. The dispatch record goes when the
// runtime removed the container or does not know it (ErrNotFound): a
// container its runtime has lost does not haunt the node. On any other
// error — refused while running, cancelled half-way, a delegate out of
// reach — the container may still exist, and the record stays so that it
// can be stopped and removed again.
func (c *Runtime) Remove(ctx context.Context, id runtime.ContainerID, force bool) error {
	i, rt, err := c.lookup(ctx, id)
	if err != nil {
		return err
	}
	err = rt.Remove(ctx, id, force)
	// The record goes only with the container: a remove that failed (it
	// was cancelled, the delegate is unreachable, the runtime broke) may
	// have left it, and a later call must still find it.
	if err == nil || errors.Is(err, runtime.ErrNotFound) {
		c.forget(id, i)
	}
	return err
}

// Rename implements runtime.Lifecycle and moves the dispatch record. The
// new name is reserved before the runtime renames, so that it cannot be
// created on another runtime meanwhile.
func (c *Runtime) Rename(ctx context.Context, id, to runtime.ContainerID) error {
	i, rt, err := c.lookup(ctx, id)
	if err != nil {
		return err
	}
	if j, ok := c.records.insert(to, i); !ok {
		return fmt.Errorf("container %s: rename to %s: %s runs a container of that name: %w", id, to, c.runtimes[j].Name(), runtime.ErrAlreadyExists)
	}
	if err := rt.Rename(ctx, id, to); err != nil {
		c.forget(to, i)
		return err
	}
	c.forget(id, i)
	return nil
}

// SyncVolumes implements runtime.Lifecycle.
func (c *Runtime) SyncVolumes(ctx context.Context, id runtime.ContainerID) error {
	_, rt, err := c.lookup(ctx, id)
	if err != nil {
		return err
	}
	return rt.SyncVolumes(ctx, id)
}

var _ runtime.NetworkConnector = (*Runtime)(nil)

// ConnectNetwork implements runtime.NetworkConnector through the runtime
// that owns the container.
func (c *Runtime) ConnectNetwork(ctx context.Context, id runtime.ContainerID, network string, aliases []string) error {
	_, rt, err := c.lookup(ctx, id)
	if err != nil {
		return err
	}
	return runtime.ConnectNetwork(ctx, rt, rt.Name(), id, network, aliases)
}

// DisconnectNetwork implements runtime.NetworkConnector through the
// runtime that owns the container.
func (c *Runtime) DisconnectNetwork(ctx context.Context, id runtime.ContainerID, network string) error {
	_, rt, err := c.lookup(ctx, id)
	if err != nil {
		return err
	}
	return runtime.DisconnectNetwork(ctx, rt, rt.Name(), id, network)
}

var _ runtime.ExecOptioner = (*Runtime)(nil)

// ExecStreamWith implements runtime.ExecOptioner through the runtime that
// owns the container; one without options takes a plain exec alone.
func (c *Runtime) ExecStreamWith(ctx context.Context, id runtime.ContainerID, argv []string, opts runtime.ExecOptions) (runtime.Stream[runtime.ExecEvent], error) {
	_, rt, err := c.lookup(ctx, id)
	if err != nil {
		return nil, err
	}
	return runtime.ExecWith(ctx, rt, rt.Name(), id, argv, opts)
}

var _ runtime.Attacher = (*Runtime)(nil)

// AttachStdin implements runtime.Attacher through the runtime that owns
// the container.
func (c *Runtime) AttachStdin(ctx context.Context, id runtime.ContainerID) (io.WriteCloser, error) {
	_, rt, err := c.lookup(ctx, id)
	if err != nil {
		return nil, err
	}
	return runtime.AttachStdin(ctx, rt, rt.Name(), id)
}

// ResizeTerminal implements runtime.Attacher through the runtime that
// owns the container.
func (c *Runtime) ResizeTerminal(ctx context.Context, id runtime.ContainerID, rows, cols uint16) error {
	_, rt, err := c.lookup(ctx, id)
	if err != nil {
		return err
	}
	return runtime.ResizeTerminal(ctx, rt, rt.Name(), id, rows, cols)
}
