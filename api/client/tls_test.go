package client_test

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/api/client"
	"github.com/switchyard/switchyard/api/server"
	"github.com/switchyard/switchyard/runtime"
	"github.com/switchyard/switchyard/runtime/runtimetest"
)

// TestTLSAndToken: the client speaks HTTPS to a TCP daemon with the CA it is
// given, and sends its bearer token (checked here by server middleware).
func TestTLSAndToken(t *testing.T) {
	requireToken := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Authorization") != "Bearer s3cret" {
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
	h, err := server.New(runtimetest.NewFake("peer"), server.WithMiddleware(requireToken))
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewUnstartedServer(h)
	ts.Config.ErrorLog = log.New(io.Discard, "", 0) // the untrusted client's handshake failure is expected
	ts.StartTLS()
	t.Cleanup(ts.Close)
	roots := x509.NewCertPool()
	roots.AddCert(ts.Certificate())
	tlsCfg := &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}

	c, err := client.New(ts.URL, client.WithTLSConfig(tlsCfg), client.WithToken("s3cret"))
	if err != nil {
		t.Fatalf("New(%s): %v", ts.URL, err)
	}
	defer c.Close()
	if info, err := c.Info(t.Context()); err != nil || info.Name != "peer" {
		t.Fatalf("Info over TLS = %+v, %v; want peer", info, err)
	}
	if _, err := c.State(t.Context(), runtime.ContainerID{Service: "web"}); !errors.Is(err, runtime.ErrNotFound) {
		t.Errorf("State of an unknown container over TLS = %v, want ErrNotFound", err)
	}

	noToken, err := client.New(ts.URL, client.WithTLSConfig(tlsCfg))
	if err != nil {
		t.Fatal(err)
	}
	defer noToken.Close()
	if _, err := noToken.Info(t.Context()); err == nil {
		t.Error("Info without the token succeeded, want the middleware's refusal")
	}

	untrusted, err := client.New(ts.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer untrusted.Close()
	if _, err := untrusted.Info(t.Context()); !errors.Is(err, runtime.ErrUnavailable) || !strings.Contains(err.Error(), "does not trust") {
		t.Errorf("Info with an untrusted certificate = %v, want ErrUnavailable saying the certificate is not trusted", err)
	}
}
