package api

import "time"

// NamedVolume is one of the node's named volumes.
type NamedVolume struct {
	// Name names it.
	Name string `json:"name"`
	// Mountpoint is its directory on the node.
	Mountpoint string `json:"mountpoint"`
	// Labels are the user's metadata.
	Labels map[string]string `json:"labels,omitempty"`
	// Created is when it was made.
	Created time.Time `json:"created"`
	// UsedBy names the containers that mount it, when the answer counts
	// them.
	UsedBy []string `json:"used_by,omitempty"`
}
