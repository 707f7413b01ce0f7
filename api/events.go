package api

import (
	"time"

	"github.com/switchyard/switchyard/runtime"
)

// The kinds of thing an Event is about.
const (
	EventContainer = "container"
	EventImage     = "image"
	EventNetwork   = "network"
	EventVolume    = "volume"
)

// Event is something that happened on the node: a container created,
// started, ended or removed, an image pulled, a network or volume made.
// The front doors hand them to their clients in their own shapes (docker
// events).
type Event struct {
	// Time is when it happened.
	Time time.Time `json:"time"`
	// Type is what it is about: EventContainer, EventImage, EventNetwork
	// or EventVolume.
	Type string `json:"type"`
	// Action is what happened, in docker's words: create, start, die,
	// destroy, pull, tag, delete, connect...
	Action string `json:"action"`
	// Container is the container, as it was, for a container event.
	Container *runtime.Container `json:"container,omitempty"`
	// ID names what another event is about: an image reference, a
	// network's or a volume's name.
	ID string `json:"id,omitempty"`
	// Attributes say more: a die's exitCode, a kill's signal.
	Attributes map[string]string `json:"attributes,omitempty"`
}
