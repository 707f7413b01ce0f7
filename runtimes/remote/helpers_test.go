package remote_test

import (
	"crypto/tls"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/switchyard/switchyard/api/client"
	"github.com/switchyard/switchyard/api/server"
	"github.com/switchyard/switchyard/internal/tlstest"
	"github.com/switchyard/switchyard/runtime"
	"github.com/switchyard/switchyard/runtime/runtimetest"
	"github.com/switchyard/switchyard/runtimes/remote"
)

// agent is a switchyard API server over a Fake on a real listener; it can
// be stopped and started again on the same address, like a delegate that
// goes down and comes back.
type agent struct {
	t       *testing.T
	h       http.Handler
	network string // "unix" or "tcp"
	addr    string // socket path or host:port
	tls     *tls.Config
	srv     *http.Server
	served  chan error
}

// start serves the agent on its address until stop or the end of the test.
func (a *agent) start() {
	a.t.Helper()
	var ln net.Listener
	var err error
	if a.network == "unix" {
		ln, err = server.ListenUnix(a.addr, 0o600)
	} else {
		ln, err = server.ListenTCP(a.addr, a.tls)
	}
	if err != nil {
		a.t.Fatalf("listen %s: %v", a.addr, err)
	}
	a.addr = addrOf(ln)
	a.srv = &http.Server{Handler: a.h, ReadHeaderTimeout: 5 * time.Second, ErrorLog: log.New(io.Discard, "", 0)}
	a.served = make(chan error, 1)
	go func(srv *http.Server, served chan<- error) { served <- srv.Serve(ln) }(a.srv, a.served)
}

// stop closes the listener and every connection, streams included.
func (a *agent) stop() {
	a.t.Helper()
	if a.srv == nil {
		return
	}
	a.srv.Close()
	if err := <-a.served; !errors.Is(err, http.ErrServerClosed) {
		a.t.Errorf("Serve: %v", err)
	}
	a.srv = nil
}

func addrOf(ln net.Listener) string {
	if ua, ok := ln.Addr().(*net.UnixAddr); ok {
		return ua.Name
	}
	return ln.Addr().String()
}

// url is the address a remote.Runtime is given.
func (a *agent) url() string {
	if a.network == "unix" {
		return "unix://" + a.addr
	}
	return "https://" + a.addr
}

// mustUnixAgent serves rt on a fresh unix socket.
func mustUnixAgent(t *testing.T, rt runtime.Runtime, opts ...server.Option) *agent {
	t.Helper()
	return mustAgent(t, rt, "unix", filepath.Join(t.TempDir(), "agent.sock"), nil, opts...)
}

func mustAgent(t *testing.T, rt runtime.Runtime, network, addr string, tlsCfg *tls.Config, opts ...server.Option) *agent {
	t.Helper()
	h, err := server.New(rt, opts...)
	if err != nil {
		t.Fatalf("server.New: %v", err)
	}
	a := &agent{t: t, h: h, network: network, addr: addr, tls: tlsCfg}
	a.start()
	t.Cleanup(a.stop)
	return a
}

// pki is a CA with a daemon certificate and a client certificate, on disk.
type pki struct {
	ca                 *tlstest.CA
	caFile             string
	serverCert, srvKey string
	clientCert, cltKey string
}

func mustPKI(t *testing.T) *pki {
	t.Helper()
	dir := t.TempDir()
	p := &pki{ca: tlstest.NewCA(t, "switchyard test CA")}
	p.caFile = p.ca.WriteCA(t, dir)
	p.serverCert, p.srvKey = p.ca.WriteServer(t, dir, "127.0.0.1")
	p.clientCert, p.cltKey = p.ca.WriteClient(t, dir, "agent-a")
	return p
}

// mustTLSAgent serves rt over TLS on 127.0.0.1 with the token (if any) and,
// when clientCA is set, required client certificates.
func mustTLSAgent(t *testing.T, rt runtime.Runtime, p *pki, token string, clientCA bool) *agent {
	t.Helper()
	caFile := ""
	if clientCA {
		caFile = p.caFile
	}
	cfg, err := server.ServerTLSConfig(p.serverCert, p.srvKey, caFile)
	if err != nil {
		t.Fatalf("ServerTLSConfig: %v", err)
	}
	if err := server.CheckListen("127.0.0.1:0", cfg, token, false); err != nil {
		t.Fatalf("CheckListen: %v", err)
	}
	var opts []server.Option
	if token != "" {
		opts = append(opts, server.WithToken(token))
	}
	return mustAgent(t, rt, "tcp", "127.0.0.1:0", cfg, opts...)
}

// mustClientTLS is the client side of p: its CA and, with cert, its
// client certificate.
func mustClientTLS(t *testing.T, p *pki, cert bool) *tls.Config {
	t.Helper()
	certFile, keyFile := "", ""
	if cert {
		certFile, keyFile = p.clientCert, p.cltKey
	}
	cfg, err := client.TLSConfig(p.caFile, certFile, keyFile)
	if err != nil {
		t.Fatalf("client.TLSConfig: %v", err)
	}
	return cfg
}

// mustRemote returns a remote runtime named name for addr, closed when the
// test ends.
func mustRemote(t testing.TB, name, addr string, opts ...remote.Option) *remote.Runtime {
	t.Helper()
	r, err := remote.New(name, addr, opts...)
	if err != nil {
		t.Fatalf("remote.New(%s, %s): %v", name, addr, err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// mustCreateStart creates and starts a Fake workload through rt.
func mustCreateStart(t *testing.T, rt runtime.Runtime, service string, w runtimetest.Workload) runtime.ContainerID {
	t.Helper()
	id := runtime.ContainerID{Service: service}
	svc := runtimetest.FakeSpec(w)
	if err := rt.Create(t.Context(), id, svc); err != nil {
		t.Fatalf("Create(%s): %v", id, err)
	}
	if err := rt.Start(t.Context(), id); err != nil {
		t.Fatalf("Start(%s): %v", id, err)
	}
	return id
}

func formatAll(ps []ocispec.Platform) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = runtime.FormatPlatform(p)
	}
	return out
}
