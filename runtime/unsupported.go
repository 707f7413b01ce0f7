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
// so that what it lacks fails loudly rather than succeeding silently. It is
// UnsupportedContainers and UnsupportedImages together; a local runtime,
// whose images are the node's, embeds UnsupportedContainers alone, since a
// runtime with image methods is taken to have images of its own.
type Unsupported struct {
	UnsupportedContainers
	UnsupportedImages
}

// UnsupportedContainers answers the container roles of the contract
// (Lifecycle, Inspector, Waiter, LogReader, Executor) with errors wrapping
// ErrNotSupported.
type UnsupportedContainers struct{}

// UnsupportedImages answers ImageService with errors wrapping
// ErrNotSupported.
type UnsupportedImages struct{}

func notSupported(op string) error { return fmt.Errorf("%s: %w", op, ErrNotSupported) }

// Create implements Lifecycle.
func (UnsupportedContainers) Create(context.Context, ContainerID, *CreateSpec) error {
	return notSupported("create")
}

// Start implements Lifecycle.
func (UnsupportedContainers) Start(context.Context, ContainerID) error { return notSupported("start") }

// Stop implements Lifecycle.
func (UnsupportedContainers) Stop(context.Context, ContainerID, time.Duration) error {
	return notSupported("stop")
}

// Kill implements Lifecycle.
func (UnsupportedContainers) Kill(context.Context, ContainerID, string) error {
	return notSupported("kill")
}

// Remove implements Lifecycle.
func (UnsupportedContainers) Remove(context.Context, ContainerID, bool) error {
	return notSupported("remove")
}

// Rename implements Lifecycle.
func (UnsupportedContainers) Rename(context.Context, ContainerID, ContainerID) error {
	return notSupported("rename")
}

// SyncVolumes implements Lifecycle.
func (UnsupportedContainers) SyncVolumes(context.Context, ContainerID) error {
	return notSupported("sync volumes")
}

// State implements Inspector.
func (UnsupportedContainers) State(context.Context, ContainerID) (State, error) {
	return State{}, notSupported("state")
}

// Inspect implements Inspector.
func (UnsupportedContainers) Inspect(context.Context, ContainerID) (Details, error) {
	return Details{}, notSupported("inspect")
}

// List implements Inspector.
func (UnsupportedContainers) List(context.Context) ([]Container, error) {
	return nil, notSupported("list")
}

// Stats implements Inspector.
func (UnsupportedContainers) Stats(context.Context, ContainerID) (Stats, error) {
	return Stats{}, notSupported("stats")
}

// PID implements Inspector.
func (UnsupportedContainers) PID(context.Context, ContainerID) (int, error) {
	return 0, notSupported("pid")
}

// IP implements Inspector.
func (UnsupportedContainers) IP(context.Context, ContainerID) (netip.Addr, error) {
	return netip.Addr{}, notSupported("ip")
}

// PortOverride implements Inspector.
func (UnsupportedContainers) PortOverride(context.Context, ContainerID) (uint16, error) {
	return 0, notSupported("port override")
}

// Wait implements Waiter.
func (UnsupportedContainers) Wait(context.Context, ContainerID) (int, error) {
	return 0, notSupported("wait")
}

// WaitOutcome implements Waiter.
func (UnsupportedContainers) WaitOutcome(context.Context, ContainerID, WaitCondition) (WaitOutcome, error) {
	return WaitOutcome{}, notSupported("wait")
}

// Logs implements LogReader.
func (UnsupportedContainers) Logs(context.Context, ContainerID, int) ([]LogEntry, error) {
	return nil, notSupported("logs")
}

// FollowLogs implements LogReader.
func (UnsupportedContainers) FollowLogs(context.Context, ContainerID, int) (Stream[LogEntry], error) {
	return nil, notSupported("follow logs")
}

// Exec implements Executor.
func (UnsupportedContainers) Exec(context.Context, ContainerID, []string) (ExecResult, error) {
	return ExecResult{}, notSupported("exec")
}

// ExecStream implements Executor.
func (UnsupportedContainers) ExecStream(context.Context, ContainerID, []string) (Stream[ExecEvent], error) {
	return nil, notSupported("exec")
}

// Pull implements ImageService.
func (UnsupportedImages) Pull(context.Context, string, PullOptions) (ImageInfo, error) {
	return ImageInfo{}, notSupported("pull")
}

// ListImages implements ImageService.
func (UnsupportedImages) ListImages(context.Context) ([]ImageInfo, error) {
	return nil, notSupported("list images")
}

// RemoveImage implements ImageService.
func (UnsupportedImages) RemoveImage(context.Context, string, bool) error {
	return notSupported("remove image")
}

// TagImage implements ImageService.
func (UnsupportedImages) TagImage(context.Context, string, string) error {
	return notSupported("tag image")
}

// PruneImages implements ImageService.
func (UnsupportedImages) PruneImages(context.Context) (PruneResult, error) {
	return PruneResult{}, notSupported("prune images")
}
