package client

import (
	"context"
	"net/http"
	"net/url"

	"github.com/switchyard/switchyard/api"
)

// Networks lists the node's networks, the default first.
func (c *Client) Networks(ctx context.Context) ([]api.Network, error) {
	var list []api.Network
	err := c.do(ctx, call{op: "list networks", method: http.MethodGet, path: "/v1/networks"}, &list)
	return list, err
}

// Network returns one network; runtime.ErrNotFound when there is none of
// the name.
func (c *Client) Network(ctx context.Context, name string) (api.Network, error) {
	var n api.Network
	err := c.do(ctx, call{op: "network", object: name, method: http.MethodGet, path: "/v1/networks/" + url.PathEscape(name)}, &n)
	return n, err
}

// CreateNetwork creates a network.
func (c *Client) CreateNetwork(ctx context.Context, req api.NetworkCreateRequest) (api.Network, error) {
	var n api.Network
	err := c.do(ctx, call{op: "create network", object: req.Name, method: http.MethodPost, path: "/v1/networks", body: req}, &n)
	return n, err
}

// RemoveNetwork removes a network no container uses.
func (c *Client) RemoveNetwork(ctx context.Context, name string) error {
	return c.do(ctx, call{op: "remove network", object: name, method: http.MethodDelete, path: "/v1/networks/" + url.PathEscape(name)}, nil)
}
