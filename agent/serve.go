package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"google.golang.org/grpc"

	"github.com/switchyard/switchyard/api/server"
	"github.com/switchyard/switchyard/runtime"
)

// socketMode lets the owner and the group (the operators) use the API.
const socketMode = 0o660

// Serve serves the agent's API on the configured unix socket until ctx is
// done, then shuts down gracefully: it stops accepting, waits for requests
// in flight up to the shutdown timeout, and closes the Agent, which stops
// supervising but leaves every workload running and releases the root.
// Serve returns nil after a shutdown caused by ctx.
// idleTimeout closes the API's idle connections (server.ListenUnix and
// server.ListenTCP bound how many are open).
const idleTimeout = 60 * time.Second

func (a *Agent) Serve(ctx context.Context) error {
	if a.closed.Load() {
		return fmt.Errorf("agent: serve: the agent is closed: %w", runtime.ErrFailedPrecondition)
	}
	ln, err := server.ListenUnix(a.cfg.Socket, socketMode)
	if err != nil {
		for _, l := range a.opts.listeners {
			_ = l.Close()
		}
		return errors.Join(err, a.Close())
	}
	srv := &http.Server{
		Handler:           a.handler,
		ReadHeaderTimeout: 10 * time.Second,
		// A kept-alive connection nobody uses is closed: clients reconnect
		// in microseconds, and idle ones must not pile up to the fd limit.
		IdleTimeout:    idleTimeout,
		MaxHeaderBytes: 64 << 10,
		// Refused TLS handshakes (a client of another CA) are routine on a
		// TCP listener: debug, not warnings.
		ErrorLog: slog.NewLogLogger(a.log.Handler(), slog.LevelDebug),
	}
	listeners := append([]net.Listener{ln}, a.opts.listeners...)
	errc := make(chan error, len(listeners)+3) // one write per serving goroutine
	for _, l := range listeners {
		a.log.Info("serving API", "address", l.Addr().Network()+"://"+l.Addr().String(), "root", a.cfg.Root)
		go func() { errc <- srv.Serve(l) }()
	}
	var dockerSrv *http.Server
	if a.cfg.DockerSocket != "" {
		dln, err := server.ListenUnix(a.cfg.DockerSocket, socketMode)
		if err != nil {
			_ = srv.Close()
			return errors.Join(err, a.Close())
		}
		dockerSrv = &http.Server{Handler: a.dockerHandler, ReadHeaderTimeout: srv.ReadHeaderTimeout, IdleTimeout: idleTimeout,
			MaxHeaderBytes: srv.MaxHeaderBytes, ErrorLog: srv.ErrorLog}
		a.log.Info("serving the Docker API", "address", "unix://"+a.cfg.DockerSocket)
		go func() { errc <- dockerSrv.Serve(dln) }()
	}
	var criSrv *grpc.Server
	var streamSrv *http.Server
	if a.cfg.CRISocket != "" {
		cln, err := server.ListenUnixGRPC(a.cfg.CRISocket, socketMode)
		if err != nil {
			_ = srv.Close()
			if dockerSrv != nil {
				_ = dockerSrv.Close()
			}
			return errors.Join(err, a.Close())
		}
		// Stop waits for the calls under way: a pod half-made must be
		// finished or undone before the node's networks close.
		criSrv = grpc.NewServer(grpc.WaitForHandlers(true))
		a.cri.Register(criSrv)
		a.log.Info("serving the Kubernetes CRI", "address", "unix://"+a.cfg.CRISocket)
		go func() { errc <- criSrv.Serve(cln) }()
		// Exec, attach and port-forward stream over HTTP on loopback, at
		// the URLs the CRI calls answer with.
		if sln, err := net.Listen("tcp", "127.0.0.1:0"); err != nil {
			a.log.Warn("CRI streaming (exec, attach, port-forward) is not served", "err", err)
		} else if h, err := a.cri.Streaming(sln); err != nil {
			_ = sln.Close()
			a.log.Warn("CRI streaming (exec, attach, port-forward) is not served", "err", err)
		} else {
			streamSrv = &http.Server{Handler: h, ReadHeaderTimeout: srv.ReadHeaderTimeout, ErrorLog: srv.ErrorLog}
			a.log.Info("serving CRI streaming", "address", "http://"+sln.Addr().String())
			go func() { errc <- streamSrv.Serve(sln) }()
		}
	}
	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-errc:
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.opts.shutdownTimeout)
	defer cancel()
	if streamSrv != nil {
		// Streams (a shell, a forwarded port) end with the agent.
		_ = streamSrv.Close()
	}
	for _, h := range []*http.Server{srv, dockerSrv} {
		if h == nil {
			continue
		}
		if err := h.Shutdown(sctx); err != nil {
			// Followed logs and long waits do not end by themselves.
			a.log.Warn("requests still running at shutdown; closing them", "err", err)
			_ = h.Close()
		}
	}
	if criSrv != nil {
		stopped := make(chan struct{})
		go func() { criSrv.GracefulStop(); close(stopped) }()
		select {
		case <-stopped:
		case <-sctx.Done():
			criSrv.Stop()
		}
	}
	if errors.Is(serveErr, http.ErrServerClosed) || errors.Is(serveErr, grpc.ErrServerStopped) {
		serveErr = nil
	}
	// The listener removes the socket file when closed; make sure of it.
	_ = os.Remove(a.cfg.Socket)
	for _, p := range []string{a.cfg.DockerSocket, a.cfg.CRISocket} {
		if p != "" {
			_ = os.Remove(p)
		}
	}
	a.log.Info("API stopped; workloads keep running")
	return errors.Join(serveErr, a.Close())
}
