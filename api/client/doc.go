// Package client talks to a switchyard daemon over its HTTP API (see package
// api). A *Client is itself a runtime.Runtime: the CLI drives the daemon
// through it, and the remote runtime forwards a composite's calls to another
// agent with it.
//
//	c, err := client.New("unix:///run/switchyard/switchyard.sock")
//	if err != nil { ... }
//	defer c.Close()
//	st, err := c.State(ctx, runtime.ContainerID{Service: "web"})
//	if errors.Is(err, runtime.ErrNotFound) { ... } // kinds survive the wire
//
// Errors keep their kind across the wire: errors.Is(err, runtime.ErrNotFound)
// holds on the client when it held on the server, and a route-to-peer
// answer is a *runtime.RouteToPeerError for errors.As. A daemon that cannot
// be reached is an error matching runtime.ErrUnavailable that says how to
// start one.
//
// Over TCP the client speaks TLS: TLSConfig builds the configuration from
// a CA file and an optional client certificate, and WithToken adds a bearer
// token. A daemon that refuses the credentials (401, or a TLS alert
// refusing the client certificate) gives an error matching
// api.ErrUnauthenticated that says which daemon refused and what to check.
//
// Quick calls have a deadline (WithTimeout). Calls that may rightly take
// long (Wait, Exec, Pull, Stop) and streams have none of their own; instead
// the daemon sends heartbeats, and a connection that stays silent longer
// than WithIdleTimeout ends the call or stream with ErrUnavailable, so a
// dropped connection never hangs a caller.
package client
