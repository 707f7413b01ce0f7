package client

import (
	"bytes"
	"context"
	"net/http"
	"net/url"

	"github.com/switchyard/switchyard/api"
)

// Secrets lists the node's secrets, without their values.
func (c *Client) Secrets(ctx context.Context) ([]api.Secret, error) {
	var list []api.Secret
	err := c.do(ctx, call{op: "list secrets", method: http.MethodGet, path: "/v1/secrets"}, &list)
	return list, err
}

// CreateSecret stores a new secret; runtime.ErrAlreadyExists when one of the
// name exists.
func (c *Client) CreateSecret(ctx context.Context, name string, value []byte) error {
	return c.do(ctx, call{op: "create secret", object: name, method: http.MethodPost, path: "/v1/secrets/" + url.PathEscape(name),
		raw: bytes.NewReader(value), contentType: "application/octet-stream"}, nil)
}

// RemoveSecret removes a secret.
func (c *Client) RemoveSecret(ctx context.Context, name string) error {
	return c.do(ctx, call{op: "remove secret", object: name, method: http.MethodDelete, path: "/v1/secrets/" + url.PathEscape(name)}, nil)
}

// Login checks credentials with a registry and has the daemon keep them
// for its pulls.
func (c *Client) Login(ctx context.Context, req api.LoginRequest) error {
	return c.do(ctx, call{op: "login", object: req.Server, method: http.MethodPost, path: "/v1/login", body: req}, nil)
}

// Logout has the daemon forget a registry's credentials.
func (c *Client) Logout(ctx context.Context, server string) error {
	return c.do(ctx, call{op: "logout", object: server, method: http.MethodDelete, path: "/v1/login/" + url.PathEscape(server)}, nil)
}
