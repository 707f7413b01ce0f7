package client_test

import (
	"errors"
	"io"
	"log"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/api"
	"github.com/switchyard/switchyard/api/client"
	"github.com/switchyard/switchyard/api/server"
	"github.com/switchyard/switchyard/internal/tlstest"
	"github.com/switchyard/switchyard/runtime"
	"github.com/switchyard/switchyard/runtime/runtimetest"
)

// TestRefusedCredentials: a daemon that wants a token and a client
// certificate refuses a client that lacks either with an error matching
// api.ErrUnauthenticated that names the daemon and what to check.
func TestRefusedCredentials(t *testing.T) {
	ca := tlstest.NewCA(t, "ca")
	dir := t.TempDir()
	certFile, keyFile := ca.WriteServer(t, dir, "127.0.0.1")
	caFile := ca.WriteCA(t, dir)
	clientCert, clientKey := ca.WriteClient(t, dir, "cli")
	srvCfg, err := server.ServerTLSConfig(certFile, keyFile, caFile)
	if err != nil {
		t.Fatal(err)
	}
	h, err := server.New(runtimetest.NewFake("peer"), server.WithToken("s3cret"))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := server.ListenTCP("127.0.0.1:0", srvCfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second, ErrorLog: log.New(io.Discard, "", 0)}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	addr := "https://" + ln.Addr().String()

	withCert, err := client.TLSConfig(caFile, clientCert, clientKey)
	if err != nil {
		t.Fatal(err)
	}
	withoutCert, err := client.TLSConfig(caFile, "", "")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		opts   []client.Option
		wantOK bool
		status int // of the *api.RemoteError, 0 when the TLS handshake refused
	}{
		{"certificate and token", []client.Option{client.WithTLSConfig(withCert), client.WithToken("s3cret")}, true, 0},
		{"certificate, wrong token", []client.Option{client.WithTLSConfig(withCert), client.WithToken("guess")}, false, 401},
		{"certificate, no token", []client.Option{client.WithTLSConfig(withCert)}, false, 401},
		{"token, no certificate", []client.Option{client.WithTLSConfig(withoutCert), client.WithToken("s3cret")}, false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := client.New(addr, tc.opts...)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			_, err = c.List(t.Context())
			if tc.wantOK {
				if err != nil {
					t.Fatalf("List = %v, want ok", err)
				}
				return
			}
			if !errors.Is(err, api.ErrUnauthenticated) || errors.Is(err, runtime.ErrUnavailable) {
				t.Fatalf("List = %v, want api.ErrUnauthenticated (and not ErrUnavailable)", err)
			}
			for _, want := range []string{"daemon at " + addr + " refused the credentials", "--delegate-token-file", "client certificate"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("message %q does not say %q", err, want)
				}
			}
			var re *api.RemoteError
			if got := errors.As(err, &re); got != (tc.status != 0) || (got && re.Status != tc.status) {
				t.Errorf("RemoteError = %+v, want status %d", re, tc.status)
			}
		})
	}
}

func TestTLSConfigFiles(t *testing.T) {
	ca := tlstest.NewCA(t, "ca")
	dir := t.TempDir()
	caFile := ca.WriteCA(t, dir)
	cert, key := ca.WriteClient(t, dir, "cli")
	garbage := filepath.Join(dir, "garbage.pem")
	if err := os.WriteFile(garbage, []byte("nope"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.pem")
	if cfg, err := client.TLSConfig("", "", ""); err != nil || cfg.RootCAs != nil || len(cfg.Certificates) != 0 {
		t.Errorf("TLSConfig with no files = %+v, %v; want system roots and no certificate", cfg, err)
	}
	if cfg, err := client.TLSConfig(caFile, cert, key); err != nil || cfg.RootCAs == nil || len(cfg.Certificates) != 1 {
		t.Errorf("TLSConfig = %+v, %v; want the CA and one certificate", cfg, err)
	}
	for _, tc := range []struct {
		name, ca, cert, key, want string
	}{
		{"missing CA", missing, "", "", "missing.pem"},
		{"garbage CA", garbage, "", "", "no PEM certificate"},
		{"cert without key", caFile, cert, "", "both or neither"},
		{"key without cert", caFile, "", key, "both or neither"},
		{"garbage key", caFile, cert, garbage, "garbage.pem"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := client.TLSConfig(tc.ca, tc.cert, tc.key)
			if !errors.Is(err, runtime.ErrInvalidArgument) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("TLSConfig = %v, want ErrInvalidArgument saying %q", err, tc.want)
			}
		})
	}
}
