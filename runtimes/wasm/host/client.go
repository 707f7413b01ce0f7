package host

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"

	"github.com/switchyard/switchyard/internal/statedir"
	"github.com/switchyard/switchyard/runtime"
)

// Client talks to a host over its unix socket. Errors keep their kind
// (runtime.ErrNotFound and so on); a host that cannot be reached is an
// error wrapping runtime.ErrUnavailable.
type Client struct {
	sock string
	hc   *http.Client
}

// NewClient returns a client for the host listening on sock.
func NewClient(sock string) *Client {
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", sock)
		},
		MaxIdleConnsPerHost: 8,
	}
	return &Client{sock: sock, hc: &http.Client{Transport: tr}}
}

// Close releases idle connections.
func (c *Client) Close() { c.hc.CloseIdleConnections() }

// Info describes the host.
func (c *Client) Info(ctx context.Context) (Info, error) {
	var inf Info
	return inf, c.do(ctx, http.MethodGet, "/v1/info", nil, &inf)
}

// Prepare compiles m (once per digest) so that a later start only
// instantiates it. A module that does not compile wraps
// runtime.ErrInvalidArgument, a component runtime.ErrNotSupported.
func (c *Client) Prepare(ctx context.Context, m Module) error {
	return c.do(ctx, http.MethodPost, "/v1/modules", m, nil)
}

// Start runs req's module; it returns once the start is recorded.
func (c *Client) Start(ctx context.Context, req StartRequest) (Status, error) {
	var st Status
	return st, c.do(ctx, http.MethodPost, "/v1/instances/"+url.PathEscape(req.Key)+"/start", req, &st)
}

// Status reports on one instance; runtime.ErrNotFound when the host does
// not know it (it never ran it, or it is a new host).
func (c *Client) Status(ctx context.Context, key string) (Status, error) {
	var st Status
	return st, c.do(ctx, http.MethodGet, "/v1/instances/"+url.PathEscape(key), nil, &st)
}

// List reports on every instance the host knows.
func (c *Client) List(ctx context.Context) ([]Status, error) {
	var list []Status
	return list, c.do(ctx, http.MethodGet, "/v1/instances", nil, &list)
}

// Wait blocks until run of the instance has ended and returns its record.
func (c *Client) Wait(ctx context.Context, key string, run uint64) (statedir.Exit, error) {
	var rec statedir.Exit
	return rec, c.do(ctx, http.MethodGet, "/v1/instances/"+url.PathEscape(key)+"/wait?run="+strconv.FormatUint(run, 10), nil, &rec)
}

// Signal ends a running instance (SIGKILL, SIGTERM or SIGINT).
func (c *Client) Signal(ctx context.Context, key, signal string) error {
	return c.do(ctx, http.MethodPost, "/v1/instances/"+url.PathEscape(key)+"/signal", SignalRequest{Signal: signal}, nil)
}

// Forget drops an ended instance from the host's memory.
func (c *Client) Forget(ctx context.Context, key string) error {
	return c.do(ctx, http.MethodDelete, "/v1/instances/"+url.PathEscape(key), nil, nil)
}

// Reclaim asks the host to drop the compiled code of the modules of
// digests (see Host.Reclaim).
func (c *Client) Reclaim(ctx context.Context, digests []string) (ReclaimResult, error) {
	var res ReclaimResult
	err := c.do(ctx, http.MethodPost, "/v1/modules/reclaim", ReclaimRequest{Digests: digests}, &res)
	return res, err
}

// Shutdown asks the host to end its instances and exit.
func (c *Client) Shutdown(ctx context.Context) error {
	return c.do(ctx, http.MethodPost, "/v1/shutdown", nil, nil)
}

func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://wasm-host"+path, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("wasm host at %s: %w: %w", c.sock, err, runtime.ErrUnavailable)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		var e apiError
		_ = json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&e)
		return fromWire(e, resp.StatusCode)
	}
	if out == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		// A wait whose host dies mid-answer ends here.
		return fmt.Errorf("wasm host at %s: %w: %w", c.sock, err, runtime.ErrUnavailable)
	}
	return nil
}
