package remote_test

import (
	"crypto/tls"
	"net"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/switchyard/switchyard/api/client"
	"github.com/switchyard/switchyard/api/server"
	"github.com/switchyard/switchyard/internal/tlstest"
	"github.com/switchyard/switchyard/runtime"
	"github.com/switchyard/switchyard/runtime/runtimetest"
	"github.com/switchyard/switchyard/runtimes/remote"
)

// The delegate hop's cost: one Exec round trip on the Fake directly, and
// through a remote runtime over a unix socket and over TLS with a token.
// The ratio of their ns/op is the hop's overhead on a call that does
// almost nothing itself.

func BenchmarkExecLocal(b *testing.B) {
	f := runtimetest.NewFake("fake", amd64)
	benchExec(b, f, f)
}

func BenchmarkExecRemote(b *testing.B) {
	f := runtimetest.NewFake("fake", amd64)
	sock := filepath.Join(b.TempDir(), "agent.sock")
	ln, err := server.ListenUnix(sock, 0o600)
	if err != nil {
		b.Fatal(err)
	}
	serveBench(b, ln, f)
	benchExec(b, f, mustRemote(b, "vm", "unix://"+sock))
}

func BenchmarkExecRemoteTLS(b *testing.B) {
	f := runtimetest.NewFake("fake", amd64)
	ca := tlstest.NewCA(b, "bench CA")
	ln, err := server.ListenTCP("127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{ca.KeyPair(b, "daemon", true, "127.0.0.1")}})
	if err != nil {
		b.Fatal(err)
	}
	serveBench(b, ln, f, server.WithToken("bench"))
	r := mustRemote(b, "peer", "https://"+ln.Addr().String(), remote.WithClientOptions(
		client.WithTLSConfig(&tls.Config{RootCAs: ca.Pool()}), client.WithToken("bench")))
	benchExec(b, f, r)
}

func benchExec(b *testing.B, f *runtimetest.Fake, rt runtime.Runtime) {
	ctx := b.Context()
	id := runtime.ContainerID{Service: "bench"}
	svc := runtimetest.FakeSpec(runtimetest.Workload{UntilStopped: true})
	if err := f.Create(ctx, id, svc); err != nil {
		b.Fatal(err)
	}
	if err := f.Start(ctx, id); err != nil {
		b.Fatal(err)
	}
	argv := runtimetest.FakeExecArgv("ok", 0)
	// Warm the connection so that the loop measures round trips, not dials.
	if _, err := rt.Exec(ctx, id, argv); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		res, err := rt.Exec(ctx, id, argv)
		if err != nil || res.Stdout != "ok" {
			b.Fatalf("Exec = %+v, %v", res, err)
		}
		f.ResetCalls() // the Fake records every call; keep its memory flat
	}
}

// serveBench serves rt on ln until the benchmark ends.
func serveBench(b *testing.B, ln net.Listener, rt runtime.Runtime, opts ...server.Option) {
	b.Helper()
	h, err := server.New(rt, opts...)
	if err != nil {
		b.Fatal(err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	b.Cleanup(func() { srv.Close() })
}
