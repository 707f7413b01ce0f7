package client

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/switchyard/switchyard/api"
	"github.com/switchyard/switchyard/runtime"
	"github.com/switchyard/switchyard/spec"
)

// Up deploys d on the node (POST /v1/deployments) and answers what changed.
// It returns when the deployment is up, however long its pulls take; ctx
// bounds it.
func (c *Client) Up(ctx context.Context, d *spec.Deployment) (api.DeployResult, error) {
	if d == nil {
		return api.DeployResult{}, fmt.Errorf("up: no deployment given: %w", runtime.ErrInvalidArgument)
	}
	var res api.DeployResult
	err := c.do(ctx, call{op: "up", object: d.Name, method: http.MethodPost, path: "/v1/deployments",
		body: api.FromDeployment(d), unbounded: true}, &res)
	return res, err
}

// Down takes the deployment name down (DELETE /v1/deployments/{name}).
func (c *Client) Down(ctx context.Context, name string) (api.DeployResult, error) {
	var res api.DeployResult
	err := c.do(ctx, call{op: "down", object: name, method: http.MethodDelete, path: "/v1/deployments/" + url.PathEscape(name),
		unbounded: true}, &res)
	return res, err
}

// Deployments lists the node's deployments (GET /v1/deployments).
func (c *Client) Deployments(ctx context.Context) ([]api.DeploymentStatus, error) {
	var list []api.DeploymentStatus
	err := c.do(ctx, call{op: "list deployments", method: http.MethodGet, path: "/v1/deployments"}, &list)
	return list, err
}

// Deployment returns one deployment's status; runtime.ErrNotFound when it
// is not deployed.
func (c *Client) Deployment(ctx context.Context, name string) (api.DeploymentStatus, error) {
	var st api.DeploymentStatus
	err := c.do(ctx, call{op: "deployment", object: name, method: http.MethodGet, path: "/v1/deployments/" + url.PathEscape(name)}, &st)
	return st, err
}

// Runtimes lists the node's runtimes in preference order with their
// platforms and health (GET /v1/runtimes).
func (c *Client) Runtimes(ctx context.Context) ([]api.RuntimeStatus, error) {
	var list []api.RuntimeStatus
	err := c.do(ctx, call{op: "runtimes", method: http.MethodGet, path: "/v1/runtimes"}, &list)
	return list, err
}

// Load uploads an image archive (an OCI image layout tarball or a docker
// save tarball) to the node's store (POST /v1/images/load) and answers what
// each name it held now names.
func (c *Client) Load(ctx context.Context, archive io.Reader) ([]runtime.ImageInfo, error) {
	if archive == nil {
		return nil, fmt.Errorf("load: no archive given: %w", runtime.ErrInvalidArgument)
	}
	var imgs []runtime.ImageInfo
	err := c.do(ctx, call{op: "load", method: http.MethodPost, path: "/v1/images/load",
		raw: archive, contentType: "application/x-tar", unbounded: true}, &imgs)
	return imgs, err
}

// RunJob runs a deployed job once more and waits for the run to end.
func (c *Client) RunJob(ctx context.Context, deployment, service string) (api.JobRun, error) {
	var run api.JobRun
	err := c.do(ctx, call{op: "run job", object: deployment + "/" + service, method: http.MethodPost,
		path: "/v1/deployments/" + url.PathEscape(deployment) + "/jobs/" + url.PathEscape(service), unbounded: true}, &run)
	return run, err
}

// Scale sets the number of replicas of a deployed service.
func (c *Client) Scale(ctx context.Context, deployment, service string, replicas uint32) (api.DeployResult, error) {
	var res api.DeployResult
	err := c.do(ctx, call{op: "scale", object: deployment + "/" + service, method: http.MethodPost,
		path: "/v1/deployments/" + url.PathEscape(deployment) + "/services/" + url.PathEscape(service) + "/scale", body: api.ScaleRequest{Replicas: replicas}, unbounded: true}, &res)
	return res, err
}

// JobRuns lists a deployed job's last runs, oldest first.
func (c *Client) JobRuns(ctx context.Context, deployment, service string) ([]api.JobRun, error) {
	var runs []api.JobRun
	err := c.do(ctx, call{op: "job runs", object: deployment + "/" + service, method: http.MethodGet,
		path: "/v1/deployments/" + url.PathEscape(deployment) + "/jobs/" + url.PathEscape(service)}, &runs)
	return runs, err
}
