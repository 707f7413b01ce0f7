package agent

import (
	"context"
	"fmt"
	"net/netip"

	"github.com/switchyard/switchyard/api"
	"github.com/switchyard/switchyard/network"
	"github.com/switchyard/switchyard/runtime"
)

// networks serves the node's networks to the API (server.Networks).
type networks struct{ m *network.Manager }

func wireNetwork(n network.Network) api.Network {
	return api.Network{Name: n.Name, Bridge: n.Bridge, Subnet: n.Subnet, Gateway: n.Gateway, Default: n.Default, Containers: n.Containers,
		Labels: n.Labels, Created: n.Created}
}

// Networks implements server.Networks.
func (n networks) Networks(context.Context) ([]api.Network, error) {
	list := n.m.List()
	out := make([]api.Network, len(list))
	for i, x := range list {
		out[i] = wireNetwork(x)
	}
	return out, nil
}

// Network implements server.Networks.
func (n networks) Network(_ context.Context, name string) (api.Network, error) {
	x, err := n.m.Get(name)
	return wireNetwork(x), err
}

// CreateNetwork implements server.Networks.
func (n networks) CreateNetwork(ctx context.Context, req api.NetworkCreateRequest) (api.Network, error) {
	var subnet netip.Prefix
	var gw netip.Addr
	var err error
	if req.Subnet != "" {
		if subnet, err = netip.ParsePrefix(req.Subnet); err != nil {
			return api.Network{}, fmt.Errorf("network %s: subnet %q: want CIDR notation, such as 10.91.0.0/24: %w", req.Name, req.Subnet, runtime.ErrInvalidArgument)
		}
	}
	if req.Gateway != "" {
		if gw, err = netip.ParseAddr(req.Gateway); err != nil {
			return api.Network{}, fmt.Errorf("network %s: gateway %q: want an IPv4 address, such as 10.91.0.1: %w", req.Name, req.Gateway, runtime.ErrInvalidArgument)
		}
	}
	x, err := n.m.Create(ctx, req.Name, subnet, gw, req.Labels)
	return wireNetwork(x), err
}

// RemoveNetwork implements server.Networks.
func (n networks) RemoveNetwork(ctx context.Context, name string) error {
	return n.m.Remove(ctx, name)
}
