package api

import "net/netip"

// Network is one of the node's networks, as GET /v1/networks lists them.
type Network struct {
	Name    string       `json:"name"`
	Bridge  string       `json:"bridge"`
	Subnet  netip.Prefix `json:"subnet"`
	Gateway netip.Addr   `json:"gateway"`
	// Default marks the network containers join unless they ask otherwise.
	Default bool `json:"default,omitempty"`
	// Containers counts the containers attached now.
	Containers int `json:"containers"`
}

// NetworkCreateRequest is the body of POST /v1/networks. Subnet and
// Gateway are optional: a free private /24 and its first address.
type NetworkCreateRequest struct {
	Name    string `json:"name"`
	Subnet  string `json:"subnet,omitempty"`
	Gateway string `json:"gateway,omitempty"`
}
