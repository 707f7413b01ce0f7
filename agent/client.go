package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"

	"github.com/switchyard/switchyard/api"
	"github.com/switchyard/switchyard/runtime"
	"github.com/switchyard/switchyard/spec"
)

// DeployClient calls an agent's deployment endpoints; the CLI's up and
// down use it. Errors are the agent's, translated back by api.FromHTTP, so
// errors.Is(err, runtime.ErrNotFound) works as it does in the agent.
type DeployClient struct {
	hc   *http.Client
	base string
}

// NewDeployClient returns a client that reaches the agent at base
// ("http://host:port", or "http://switchyard" over a unix socket client)
// through hc.
func NewDeployClient(hc *http.Client, base string) *DeployClient {
	return &DeployClient{hc: hc, base: base}
}

// NewUnixDeployClient returns a client for the agent serving the unix
// socket at path.
func NewUnixDeployClient(path string) *DeployClient {
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", path)
		},
	}
	return NewDeployClient(&http.Client{Transport: tr}, "http://switchyard")
}

// Up deploys d (see Agent.Up).
func (c *DeployClient) Up(ctx context.Context, d *spec.Deployment) (Result, error) {
	body, err := json.Marshal(FromDeployment(d))
	if err != nil {
		return Result{}, fmt.Errorf("deployment %s: encode: %w", d.Name, err)
	}
	var res Result
	err = c.do(ctx, http.MethodPost, "/v1/deployments", body, &res)
	return res, err
}

// Down takes the deployment name down (see Agent.Down).
func (c *DeployClient) Down(ctx context.Context, name string) (Result, error) {
	var res Result
	err := c.do(ctx, http.MethodDelete, "/v1/deployments/"+url.PathEscape(name), nil, &res)
	return res, err
}

// List lists the agent's deployments (see Agent.Deployments).
func (c *DeployClient) List(ctx context.Context) ([]Status, error) {
	var list []Status
	err := c.do(ctx, http.MethodGet, "/v1/deployments", nil, &list)
	return list, err
}

// Runtimes lists the agent's runtimes in preference order with their
// platforms and health.
func (c *DeployClient) Runtimes(ctx context.Context) ([]RuntimeStatus, error) {
	var list []RuntimeStatus
	err := c.do(ctx, http.MethodGet, "/v1/runtimes", nil, &list)
	return list, err
}

// Load uploads an image archive (an OCI layout tarball or a docker save
// tarball) and returns the images the agent loaded from it.
func (c *DeployClient) Load(ctx context.Context, archive io.Reader) ([]runtime.ImageInfo, error) {
	var imgs []runtime.ImageInfo
	err := c.doBody(ctx, http.MethodPost, "/v1/images/load", archive, "application/x-tar", &imgs)
	return imgs, err
}

// Get returns one deployment's status.
func (c *DeployClient) Get(ctx context.Context, name string) (Status, error) {
	var st Status
	err := c.do(ctx, http.MethodGet, "/v1/deployments/"+url.PathEscape(name), nil, &st)
	return st, err
}

func (c *DeployClient) do(ctx context.Context, method, path string, body []byte, out any) error {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	return c.doBody(ctx, method, path, rd, "application/json", out)
}

// doBody sends body (nil for none) with its content type and decodes the
// JSON answer into out; an error answer comes back as the agent's error.
func (c *DeployClient) doBody(ctx context.Context, method, path string, body io.Reader, contentType string, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("cannot reach the switchyard daemon (is it running? check --socket): %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		var eb api.ErrorBody
		if json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&eb) != nil {
			return api.FromHTTP(resp.StatusCode, nil)
		}
		return api.FromHTTP(resp.StatusCode, &eb.Error)
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("%s %s: decode the daemon's answer: %w", method, path, err)
	}
	return nil
}
