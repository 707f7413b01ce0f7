package runtime

import (
	"context"
	"fmt"
	"net/netip"
	"time"
)

// Unsupported answers every method of the contract except Identity with an
// error wrapping ErrNotSupported. Embed it in a runtime that implements only
// part of the contract, the way gRPC's Unimplemented servers are embedded,
// so that what it lacks fails loudly rather than succeeding silently.
type Unsupported struct{}

func notSupported(op string) error { return fmt.Errorf("%s: %w", op, ErrNotSupported) }

// Create implements Lifecycle.
func (Unsupported) Create(context.Context, ContainerID, *CreateSpec) error {
	return notSupported("create")
}

// Start implements Lifecycle.
func (Unsupported) Start(context.Context, ContainerID) error { return notSupported("start") }

// Stop implements Lifecycle.
func (Unsupported) Stop(context.Context, ContainerID, time.Duration) error {
	return notSupported("stop")
}

// Kill implements Lifecycle.
func (Unsupported) Kill(context.Context, ContainerID, string) error { return notSupported("kill") }

// Remove implements Lifecycle.
func (Unsupported) Remove(context.Context, ContainerID, bool) error { return notSupported("remove") }

// Rename implements Lifecycle.
func (Unsupported) Rename(context.Context, ContainerID, ContainerID) error {
	return notSupported("rename")
}

// SyncVolumes implements Lifecycle.
func (Unsupported) SyncVolumes(context.Context, ContainerID) error {
	return notSupported("sync volumes")
}

// State implements Inspector.
func (Unsupported) State(context.Context, ContainerID) (State, error) {
	return State{}, notSupported("state")
}

// Inspect implements Inspector.
func (Unsupported) Inspect(context.Context, ContainerID) (Details, error) {
	return Details{}, notSupported("inspect")
}

// List implements Inspector.
func (Unsupported) List(context.Context) ([]Container, error) { return nil, notSupported("list") }

// Stats implements Inspector.
func (Unsupported) Stats(context.Context, ContainerID) (Stats, error) {
	return Stats{}, notSupported("stats")
}

// PID implements Inspector.
func (Unsupported) PID(context.Context, ContainerID) (int, error) { return 0, notSupported("pid") }

// IP implements Inspector.
func (Unsupported) IP(context.Context, ContainerID) (netip.Addr, error) {
	return netip.Addr{}, notSupported("ip")
}

// PortOverride implements Inspector.
func (Unsupported) PortOverride(context.Context, ContainerID) (uint16, error) {
	return 0, notSupported("port override")
}

// Wait implements Waiter.
func (Unsupported) Wait(context.Context, ContainerID) (int, error) { return 0, notSupported("wait") }

// WaitOutcome implements Waiter.
func (Unsupported) WaitOutcome(context.Context, ContainerID, WaitCondition) (WaitOutcome, error) {
	return WaitOutcome{}, notSupported("wait")
}

// Logs implements LogReader.
func (Unsupported) Logs(context.Context, ContainerID, int) ([]LogEntry, error) {
	return nil, notSupported("logs")
}

// FollowLogs implements LogReader.
func (Unsupported) FollowLogs(context.Context, ContainerID, int) (Stream[LogEntry], error) {
	return nil, notSupported("follow logs")
}

// Exec implements Executor.
func (Unsupported) Exec(context.Context, ContainerID, []string) (ExecResult, error) {
	return ExecResult{}, notSupported("exec")
}

// ExecStream implements Executor.
func (Unsupported) ExecStream(context.Context, ContainerID, []string) (Stream[ExecEvent], error) {
	return nil, notSupported("exec")
}

// Pull implements ImageService.
func (Unsupported) Pull(context.Context, string, PullOptions) (ImageInfo, error) {
	return ImageInfo{}, notSupported("pull")
}

// ListImages implements ImageService.
func (Unsupported) ListImages(context.Context) ([]ImageInfo, error) {
	return nil, notSupported("list images")
}

// RemoveImage implements ImageService.
func (Unsupported) RemoveImage(context.Context, string, bool) error {
	return notSupported("remove image")
}

// TagImage implements ImageService.
func (Unsupported) TagImage(context.Context, string, string) error {
	return notSupported("tag image")
}

// PruneImages implements ImageService.
func (Unsupported) PruneImages(context.Context) (PruneResult, error) {
	return PruneResult{}, notSupported("prune images")
}
