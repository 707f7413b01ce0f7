package client

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"time"

	"github.com/switchyard/switchyard/api"
	"github.com/switchyard/switchyard/runtime"
)

func containerPath(id runtime.ContainerID, verb string) string {
	p := "/v1/containers/" + url.PathEscape(id.String())
	if verb != "" {
		p += "/" + verb
	}
	return p
}

// action runs a per-container call without an answer.
func (c *Client) action(ctx context.Context, op, method string, id runtime.ContainerID, verb string, q url.Values) error {
	return c.do(ctx, call{op: op, object: id.String(), method: method, path: containerPath(id, verb), query: q}, nil)
}

// query runs a per-container GET and decodes its answer into out.
func (c *Client) query(ctx context.Context, op string, id runtime.ContainerID, verb string, out any) error {
	return c.do(ctx, call{op: op, object: id.String(), method: http.MethodGet, path: containerPath(id, verb)}, out)
}

// Create implements runtime.Lifecycle.
func (c *Client) Create(ctx context.Context, id runtime.ContainerID, cs *runtime.CreateSpec) error {
	if cs == nil {
		return fmt.Errorf("create %s: the create spec is nil: give what to run: %w", id, runtime.ErrInvalidArgument)
	}
	return c.do(ctx, call{op: "create", object: id.String(), method: http.MethodPost, path: containerPath(id, ""), body: cs}, nil)
}

// Start implements runtime.Lifecycle.
func (c *Client) Start(ctx context.Context, id runtime.ContainerID) error {
	return c.action(ctx, "start", http.MethodPost, id, "start", nil)
}

// Stop implements runtime.Lifecycle. It has no deadline of its own: the
// daemon's heartbeats keep it alive for as long as the stop takes.
func (c *Client) Stop(ctx context.Context, id runtime.ContainerID, timeout time.Duration) error {
	q := url.Values{"timeout": {timeout.String()}}
	return c.do(ctx, call{op: "stop", object: id.String(), method: http.MethodPost, path: containerPath(id, "stop"), query: q, long: true}, nil)
}

// Kill implements runtime.Lifecycle.
func (c *Client) Kill(ctx context.Context, id runtime.ContainerID, signal string) error {
	var q url.Values
	if signal != "" {
		q = url.Values{"signal": {signal}}
	}
	return c.action(ctx, "kill", http.MethodPost, id, "kill", q)
}

// Remove implements runtime.Lifecycle.
func (c *Client) Remove(ctx context.Context, id runtime.ContainerID, force bool) error {
	var q url.Values
	if force {
		q = url.Values{"force": {"1"}}
	}
	return c.action(ctx, "remove", http.MethodDelete, id, "", q)
}

// Rename implements runtime.Lifecycle.
func (c *Client) Rename(ctx context.Context, id, to runtime.ContainerID) error {
	return c.action(ctx, "rename", http.MethodPost, id, "rename", url.Values{"to": {to.String()}})
}

// SyncVolumes implements runtime.Lifecycle.
func (c *Client) SyncVolumes(ctx context.Context, id runtime.ContainerID) error {
	return c.action(ctx, "sync volumes", http.MethodPost, id, "sync-volumes", nil)
}

// State implements runtime.Inspector.
func (c *Client) State(ctx context.Context, id runtime.ContainerID) (runtime.State, error) {
	var st runtime.State
	err := c.query(ctx, "state", id, "state", &st)
	return st, err
}

// Inspect implements runtime.Inspector.
func (c *Client) Inspect(ctx context.Context, id runtime.ContainerID) (runtime.Details, error) {
	var d runtime.Details
	err := c.query(ctx, "inspect", id, "", &d)
	return d, err
}

// List implements runtime.Inspector.
func (c *Client) List(ctx context.Context) ([]runtime.Container, error) {
	var cs []runtime.Container
	err := c.do(ctx, call{op: "list containers", method: http.MethodGet, path: "/v1/containers"}, &cs)
	return cs, err
}

// Stats implements runtime.Inspector.
func (c *Client) Stats(ctx context.Context, id runtime.ContainerID) (runtime.Stats, error) {
	var s runtime.Stats
	err := c.query(ctx, "stats", id, "stats", &s)
	return s, err
}

// PID implements runtime.Inspector.
func (c *Client) PID(ctx context.Context, id runtime.ContainerID) (int, error) {
	var p api.PID
	err := c.query(ctx, "pid", id, "pid", &p)
	return p.PID, err
}

// IP implements runtime.Inspector.
func (c *Client) IP(ctx context.Context, id runtime.ContainerID) (netip.Addr, error) {
	var ip api.IP
	err := c.query(ctx, "ip", id, "ip", &ip)
	return ip.IP, err
}

// PortOverride implements runtime.Inspector.
func (c *Client) PortOverride(ctx context.Context, id runtime.ContainerID) (uint16, error) {
	var p api.Port
	err := c.query(ctx, "port override", id, "port-override", &p)
	return p.Port, err
}

// Wait implements runtime.Waiter. It has no deadline of its own; the
// daemon's heartbeats show that it is still waiting.
func (c *Client) Wait(ctx context.Context, id runtime.ContainerID) (int, error) {
	var e api.ExitCode
	err := c.do(ctx, call{op: "wait", object: id.String(), method: http.MethodPost, path: containerPath(id, "wait"), long: true}, &e)
	return e.ExitCode, err
}

// WaitOutcome implements runtime.Waiter, like Wait.
func (c *Client) WaitOutcome(ctx context.Context, id runtime.ContainerID, cond runtime.WaitCondition) (runtime.WaitOutcome, error) {
	var o runtime.WaitOutcome
	q := url.Values{"condition": {string(cond)}}
	err := c.do(ctx, call{op: "wait", object: id.String(), method: http.MethodPost, path: containerPath(id, "wait-outcome"), query: q, long: true}, &o)
	return o, err
}

// Logs implements runtime.LogReader.
func (c *Client) Logs(ctx context.Context, id runtime.ContainerID, tail int) ([]runtime.LogEntry, error) {
	var entries []runtime.LogEntry
	q := url.Values{"tail": {strconv.Itoa(tail)}}
	err := c.do(ctx, call{op: "logs", object: id.String(), method: http.MethodGet, path: containerPath(id, "logs"), query: q}, &entries)
	return entries, err
}

// Exec implements runtime.Executor. It has no deadline of its own, like
// Wait.
func (c *Client) Exec(ctx context.Context, id runtime.ContainerID, argv []string) (runtime.ExecResult, error) {
	var res runtime.ExecResult
	err := c.do(ctx, call{op: "exec", object: id.String(), method: http.MethodPost, path: containerPath(id, "exec"), body: api.ExecRequest{Argv: argv}, long: true}, &res)
	return res, err
}
