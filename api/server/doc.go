// Package server serves a runtime.Runtime over switchyard's HTTP API (see
// package api for the wire forms): every method of the contract, the
// streams included, so that api/client can stand in for the runtime on
// another machine.
//
//	srv, err := server.New(rt, server.WithVersion(version), server.WithLogger(log),
//		server.WithRoutes(func(mux *http.ServeMux) { mux.Handle("GET /metrics", metrics) }))
//	ln, err := server.ListenUnix("/run/switchyard/switchyard.sock", 0o660)
//	err = http.Serve(ln, srv)
//
// Handlers depend on the role interfaces of package runtime (Lifecycle,
// Inspector, ...), translate errors with api.ToHTTP, limit request bodies,
// and answer bad JSON or parameters with api.KindInvalidArgument. Streams
// and long calls (wait, exec, pull) send heartbeat frames while idle, so a
// client can tell a quiet stream from a dead connection.
//
// Streams last as long as the client reads them, so the http.Server that
// serves a Server must not set WriteTimeout (ReadHeaderTimeout is fine),
// and a graceful Shutdown waits for open streams: bound it with a context
// and call Close when it expires.
package server
