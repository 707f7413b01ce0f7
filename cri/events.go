package cri

import (
	"context"
	"fmt"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/switchyard/switchyard/api"
	"github.com/switchyard/switchyard/runtime"
)

// EventSource is the node's event log: the agent.
type EventSource interface {
	// Events returns the events at or after since, then those that follow
	// on the channel until ctx ends.
	Events(ctx context.Context, since time.Time) ([]api.Event, <-chan api.Event)
}

// WithEvents gives GetContainerEvents the node's events. Without it the
// call answers Unimplemented.
func WithEvents(src EventSource) Option {
	return func(o *options) error {
		if src == nil {
			return fmt.Errorf("cri: event source is nil: %w", runtime.ErrInvalidArgument)
		}
		o.events = src
		return nil
	}
}

// containerEventType maps the node's container actions to CRI's events.
func containerEventType(action string) (runtimeapi.ContainerEventType, bool) {
	switch action {
	case "create":
		return runtimeapi.ContainerEventType_CONTAINER_CREATED_EVENT, true
	case "start":
		return runtimeapi.ContainerEventType_CONTAINER_STARTED_EVENT, true
	case "die":
		return runtimeapi.ContainerEventType_CONTAINER_STOPPED_EVENT, true
	case "destroy":
		return runtimeapi.ContainerEventType_CONTAINER_DELETED_EVENT, true
	}
	return 0, false
}

// GetContainerEvents implements RuntimeService: the lifecycle events of
// CRI's containers from now on (a kubelet's evented PLEG), each with its
// pod's and the container's status as they are when it is sent.
func (s *Server) GetContainerEvents(req *runtimeapi.GetEventsRequest, stream runtimeapi.RuntimeService_GetContainerEventsServer) error {
	if s.opts.events == nil {
		return s.UnimplementedRuntimeServiceServer.GetContainerEvents(req, stream)
	}
	ctx := stream.Context()
	// From now on: the past is not CRI's to replay.
	_, events := s.opts.events.Events(ctx, time.Now())
	for {
		var e api.Event
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-events:
			if !ok {
				return nil
			}
			e = ev
		}
		if e.Type != api.EventContainer || e.Container == nil {
			continue
		}
		id := e.Container.Labels[LabelContainerID]
		typ, ok := containerEventType(e.Action)
		if id == "" || !ok {
			continue
		}
		resp := &runtimeapi.ContainerEventResponse{ContainerId: id, ContainerEventType: typ, CreatedAt: e.Time.UnixNano()}
		if rec, err := s.readCtr(id); err == nil {
			if pod, err := s.PodSandboxStatus(ctx, &runtimeapi.PodSandboxStatusRequest{PodSandboxId: rec.PodID}); err == nil {
				resp.PodSandboxStatus = pod.GetStatus()
			}
			if st, err := s.ContainerStatus(ctx, &runtimeapi.ContainerStatusRequest{ContainerId: id}); err == nil {
				resp.ContainersStatuses = []*runtimeapi.ContainerStatus{st.GetStatus()}
			}
		}
		if err := stream.Send(resp); err != nil {
			return err
		}
	}
}
