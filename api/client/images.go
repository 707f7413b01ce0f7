package client

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"

	"github.com/switchyard/switchyard/api"
	"github.com/switchyard/switchyard/runtime"
)

// Pull implements runtime.ImageService. Progress events are passed to
// opts.Progress as the daemon sends them (coalesced when this client reads
// slower than the pull progresses). It has no deadline of its own, like
// Wait.
func (c *Client) Pull(ctx context.Context, ref string, opts runtime.PullOptions) (runtime.ImageInfo, error) {
	cl := call{
		op: "pull", object: ref, method: http.MethodPost, path: "/v1/images/pull", long: true,
		body: api.PullRequest{Ref: ref, Policy: opts.Policy, Auth: api.FromRegistryAuth(opts.Auth), Platform: opts.Platform},
	}
	resp, x, err := c.send(ctx, cl)
	if err != nil {
		return runtime.ImageInfo{}, err
	}
	defer x.end(errDone)
	defer resp.Body.Close()
	if !isNDJSON(resp) {
		return runtime.ImageInfo{}, fmt.Errorf("%s: the daemon answered %q, not a stream (is it a different version?): %w",
			cl.what(), resp.Header.Get("Content-Type"), runtime.ErrUnavailable)
	}
	fr := frameReader{c: c, op: cl.what(), x: x, dec: json.NewDecoder(resp.Body)}
	for {
		var f api.PullFrame
		if err := fr.next(&f); err != nil {
			return runtime.ImageInfo{}, err
		}
		switch {
		case f.Error != nil:
			return runtime.ImageInfo{}, api.FromHTTP(resp.StatusCode, f.Error)
		case f.Result != nil:
			return *f.Result, nil
		case f.Progress != nil && opts.Progress != nil:
			opts.Progress(*f.Progress)
		}
	}
}

// ListImages implements runtime.ImageService.
func (c *Client) ListImages(ctx context.Context) ([]runtime.ImageInfo, error) {
	var imgs []runtime.ImageInfo
	err := c.do(ctx, call{op: "list images", method: http.MethodGet, path: "/v1/images"}, &imgs)
	return imgs, err
}

// RemoveImage implements runtime.ImageService.
func (c *Client) RemoveImage(ctx context.Context, ref string, force bool) error {
	q := url.Values{"ref": {ref}}
	if force {
		q.Set("force", "1")
	}
	return c.do(ctx, call{op: "remove image", object: ref, method: http.MethodDelete, path: "/v1/images", query: q}, nil)
}

// TagImage implements runtime.ImageService.
func (c *Client) TagImage(ctx context.Context, src, dst string) error {
	return c.do(ctx, call{op: "tag image", object: src, method: http.MethodPost, path: "/v1/images/tag", body: api.TagRequest{Source: src, Target: dst}}, nil)
}

// PruneImages implements runtime.ImageService.
func (c *Client) PruneImages(ctx context.Context) (runtime.PruneResult, error) {
	var res runtime.PruneResult
	err := c.do(ctx, call{op: "prune images", method: http.MethodPost, path: "/v1/images/prune"}, &res)
	return res, err
}
