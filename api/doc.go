// Package api defines switchyard's HTTP API on the wire: the JSON forms of
// requests, responses and stream frames, the error kinds, and the two
// functions that translate errors to HTTP and back (ToHTTP, FromHTTP).
//
// The server (package api/server) serves a runtime.Runtime; the client
// (package api/client) is itself a runtime.Runtime, so a remote agent is
// used exactly like a local runtime. Both import this package; it imports
// neither of them.
//
// # Wire protocol
//
// Paths are versioned (/v1/...), bodies are JSON, and containers are named
// in paths by runtime.ContainerID's string form (web-rep-0):
//
//	POST   /v1/containers/{id}                 create (body: runtime.CreateSpec)
//	POST   /v1/containers/{id}/start
//	POST   /v1/containers/{id}/run?wait=removed  create and start in one request (body: runtime.CreateSpec)
//	POST   /v1/containers/{id}/stop?timeout=10s
//	POST   /v1/containers/{id}/kill?signal=TERM
//	DELETE /v1/containers/{id}?force=1
//	GET    /v1/containers/{id}/logs?tail=100&follow=1
//	POST   /v1/containers/{id}/exec?stream=1  (body: ExecRequest)
//	POST   /v1/images/pull                     (body: PullRequest)
//
// and so on for every method of runtime.Runtime (see api/server).
//
// An error is answered with a status code and an ErrorBody whose Kind is
// machine-readable. A request over TCP without the daemon's credentials (a
// bearer token, a client certificate) is answered 401 with
// KindUnauthenticated, which the client maps to ErrUnauthenticated. Streams (followed logs, exec output, pull progress) are
// chunked NDJSON: one Frame a line, ending with a final frame (EOF, a result
// or an error), so that a reader can tell a finished stream from a dropped
// connection. Idle streams carry empty heartbeat frames.
//
//	status, body := api.ToHTTP(err)   // server side
//	err := api.FromHTTP(status, &body) // client side: errors.Is(err, runtime.ErrNotFound)
package api
