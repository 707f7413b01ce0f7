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
// Over TCP the daemon serves TLS, and TLS with a bearer token or required
// client certificates: CheckListen refuses anything weaker unless the
// address is loopback and insecure is asked for.
//
//	tlsCfg, err := server.ServerTLSConfig(certFile, keyFile, clientCAFile)
//	if err := server.CheckListen(addr, tlsCfg, token, insecure); err != nil { ... }
//	srv, err := server.New(rt, server.WithToken(token))
//	ln, err := server.ListenTCP(addr, tlsCfg)
//
// WithToken and WithClientCertRequired check requests that arrive over TCP
// (constant-time token comparison) and answer the others 401 before any
// handler or middleware runs; requests on a unix socket are guarded by its
// file mode instead, so one Server can serve both listeners.
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
