package api

import (
	"context"
	"net/netip"
	"time"
)

// Networks manages the node's networks for a front door (switchyard's
// API, the Docker API): the agent, over package network.
type Networks interface {
	// Networks lists the networks, the default first.
	Networks(ctx context.Context) ([]Network, error)
	// Network returns one, or an error wrapping runtime.ErrNotFound.
	Network(ctx context.Context, name string) (Network, error)
	// CreateNetwork makes one.
	CreateNetwork(ctx context.Context, req NetworkCreateRequest) (Network, error)
	// RemoveNetwork removes one no container uses.
	RemoveNetwork(ctx context.Context, name string) error
}

// Network is one of the node's networks, as GET /v1/networks lists them.
type Network struct {
	// Name names the network.
	Name string `json:"name"`
	// Bridge is its Linux bridge device.
	Bridge string `json:"bridge"`
	// Subnet is where its containers' addresses come from.
	Subnet netip.Prefix `json:"subnet"`
	// Gateway is the bridge's address, and the network's DNS server.
	Gateway netip.Addr `json:"gateway"`
	// Default marks the network containers join unless they ask otherwise.
	Default bool `json:"default,omitempty"`
	// Containers counts the containers attached now.
	Containers int `json:"containers"`
	// Labels are the user's metadata.
	Labels map[string]string `json:"labels,omitempty"`
	// Created is when the network was made (zero when not recorded).
	Created time.Time `json:"created,omitzero"`
}

// NetworkCreateRequest is the body of POST /v1/networks. Subnet and
// Gateway are optional: a free private /24 and its first address.
type NetworkCreateRequest struct {
	// Name names the new network.
	Name string `json:"name"`
	// Subnet is CIDR notation, such as 10.91.3.0/24.
	Subnet string `json:"subnet,omitempty"`
	// Gateway is an address of Subnet.
	Gateway string `json:"gateway,omitempty"`
	// Labels are the user's metadata, kept with the network.
	Labels map[string]string `json:"labels,omitempty"`
}
