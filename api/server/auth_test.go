package server_test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/api"
	"github.com/switchyard/switchyard/api/server"
	"github.com/switchyard/switchyard/internal/tlstest"
	"github.com/switchyard/switchyard/runtime"
	"github.com/switchyard/switchyard/runtime/runtimetest"
)

// TestTokenAuth: over TCP, a request without the token or with a wrong one
// is answered 401 with kind unauthenticated and changes nothing; the right
// token passes; a unix socket needs no token.
func TestTokenAuth(t *testing.T) {
	f := runtimetest.NewFake("fake")
	h, err := server.New(f, server.WithToken("s3cret"))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := server.ListenTCP("127.0.0.1:0", nil)
	if err != nil {
		t.Fatal(err)
	}
	mustServeListener(t, ln, h)
	base := "http://" + ln.Addr().String()
	body := `{"image":"fake"}`

	for _, tc := range []struct {
		name, header string
		want         int
	}{
		{"no header", "", http.StatusUnauthorized},
		{"wrong token", "Bearer nope", http.StatusUnauthorized},
		{"token prefix", "Bearer s3cre", http.StatusUnauthorized},
		{"other scheme", "Basic s3cret", http.StatusUnauthorized},
		{"empty bearer", "Bearer ", http.StatusUnauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f.ResetCalls()
			resp, b := doWith(t, http.MethodPost, base+"/v1/containers/web-rep-0", body, tc.header)
			if resp.StatusCode != tc.want {
				t.Fatalf("status = %d, want %d (%s)", resp.StatusCode, tc.want, b)
			}
			var eb api.ErrorBody
			if err := json.Unmarshal(b, &eb); err != nil || eb.Error.Kind != api.KindUnauthenticated {
				t.Errorf("body = %s, want kind %s", b, api.KindUnauthenticated)
			}
			if strings.Contains(string(b), "s3cret") {
				t.Errorf("the answer reveals the token: %s", b)
			}
			if !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("WWW-Authenticate = %q, want Bearer", resp.Header.Get("WWW-Authenticate"))
			}
			if calls := f.Calls(); len(calls) != 0 {
				t.Errorf("the runtime saw %v, want nothing", calls)
			}
			if list, _ := f.List(t.Context()); len(list) != 0 {
				t.Errorf("containers after a refused create: %v", list)
			}
		})
	}

	resp, b := doWith(t, http.MethodPost, base+"/v1/containers/web-rep-0", body, "Bearer s3cret")
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create with the token = %d %s, want 201", resp.StatusCode, b)
	}

	sock := filepath.Join(t.TempDir(), "api.sock")
	uln, err := server.ListenUnix(sock, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	mustServeListener(t, uln, h)
	uc := &http.Client{Transport: &http.Transport{DialContext: unixDialer(sock)}}
	t.Cleanup(uc.CloseIdleConnections)
	uresp, err := uc.Get("http://switchyard/v1/containers")
	if err != nil {
		t.Fatal(err)
	}
	uresp.Body.Close()
	if uresp.StatusCode != http.StatusOK {
		t.Errorf("list on the unix socket without a token = %d, want 200", uresp.StatusCode)
	}
}

// TestClientCertRequired: WithClientCertRequired refuses a TCP request
// that came without a verified client certificate, even when the TLS
// configuration lets it through.
func TestClientCertRequired(t *testing.T) {
	ca := tlstest.NewCA(t, "ca")
	srvCfg := &tls.Config{
		Certificates: []tls.Certificate{ca.KeyPair(t, "daemon", true, "127.0.0.1")},
		ClientCAs:    ca.Pool(),
		ClientAuth:   tls.VerifyClientCertIfGiven,
	}
	h, err := server.New(runtimetest.NewFake("fake"), server.WithClientCertRequired())
	if err != nil {
		t.Fatal(err)
	}
	ln, err := server.ListenTCP("127.0.0.1:0", srvCfg)
	if err != nil {
		t.Fatal(err)
	}
	mustServeListener(t, ln, h)
	url := "https://" + ln.Addr().String() + "/v1/info"
	for _, tc := range []struct {
		name  string
		certs []tls.Certificate
		want  int
	}{
		{"no certificate", nil, http.StatusUnauthorized},
		{"certificate of the CA", []tls.Certificate{ca.KeyPair(t, "agent", false)}, http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.Pool(), Certificates: tc.certs}}
			t.Cleanup(tr.CloseIdleConnections)
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
			resp, err := (&http.Client{Transport: tr}).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Errorf("status = %d, want %d", resp.StatusCode, tc.want)
			}
		})
	}
}

func TestWithTokenRejectsBadTokens(t *testing.T) {
	for _, tok := range []string{"", "a b", "a\nb"} {
		if _, err := server.New(runtimetest.NewFake("f"), server.WithToken(tok)); !errors.Is(err, runtime.ErrInvalidArgument) {
			t.Errorf("WithToken(%q) = %v, want ErrInvalidArgument", tok, err)
		}
	}
}

func TestServerTLSConfig(t *testing.T) {
	ca := tlstest.NewCA(t, "ca")
	dir := t.TempDir()
	cert, key := ca.WriteServer(t, dir, "127.0.0.1")
	caFile := ca.WriteCA(t, dir)
	garbage := filepath.Join(dir, "garbage.pem")
	if err := os.WriteFile(garbage, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.pem")

	cfg, err := server.ServerTLSConfig(cert, key, caFile)
	if err != nil {
		t.Fatalf("ServerTLSConfig: %v", err)
	}
	if cfg.ClientAuth != tls.RequireAndVerifyClientCert || cfg.ClientCAs == nil || cfg.MinVersion < tls.VersionTLS12 {
		t.Errorf("config = auth %v, CAs %v, min %x; want required client certs from the CA, TLS >= 1.2", cfg.ClientAuth, cfg.ClientCAs != nil, cfg.MinVersion)
	}
	if cfg, err := server.ServerTLSConfig(cert, key, ""); err != nil || cfg.ClientAuth != tls.NoClientCert {
		t.Errorf("without a client CA = %v, %v; want no client certificates asked", cfg, err)
	}
	for _, tc := range []struct {
		name, cert, key, ca, want string
	}{
		{"no cert", "", key, "", "give both"},
		{"no key", cert, "", "", "give both"},
		{"missing cert", missing, key, "", "missing.pem"},
		{"garbage key", cert, garbage, "", "garbage.pem"},
		{"missing CA", cert, key, missing, "missing.pem"},
		{"garbage CA", cert, key, garbage, "no PEM certificate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := server.ServerTLSConfig(tc.cert, tc.key, tc.ca)
			if !errors.Is(err, runtime.ErrInvalidArgument) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("ServerTLSConfig = %v, want ErrInvalidArgument mentioning %q", err, tc.want)
			}
		})
	}
	if _, err := server.ListenTCP("127.0.0.1:0", &tls.Config{}); !errors.Is(err, runtime.ErrInvalidArgument) {
		t.Errorf("ListenTCP with a certificate-less TLS config = %v, want ErrInvalidArgument", err)
	}
}

func TestCheckListen(t *testing.T) {
	withCA := &tls.Config{ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: tlstest.NewCA(t, "ca").Pool()}
	plainTLS := &tls.Config{}
	for _, tc := range []struct {
		name     string
		addr     string
		tls      *tls.Config
		token    string
		insecure bool
		ok       bool
	}{
		{"TLS and token", "0.0.0.0:7443", plainTLS, "t", false, true},
		{"TLS and client CA", ":7443", withCA, "", false, true},
		{"TLS alone", "0.0.0.0:7443", plainTLS, "", false, false},
		{"plain TCP with token", "0.0.0.0:7443", nil, "t", false, false},
		{"plain TCP", "10.0.0.2:7443", nil, "", false, false},
		{"insecure loopback v4", "127.0.0.1:7443", nil, "", true, true},
		{"insecure loopback v6", "[::1]:7443", nil, "", true, true},
		{"insecure localhost", "localhost:7443", nil, "", true, true},
		{"insecure on all interfaces", ":7443", nil, "", true, false},
		{"insecure on a LAN address", "10.0.0.2:7443", plainTLS, "t", true, false},
		{"loopback without insecure", "127.0.0.1:7443", nil, "", false, false},
		{"no port", "127.0.0.1", plainTLS, "t", false, false},
		{"empty", "", plainTLS, "t", false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := server.CheckListen(tc.addr, tc.tls, tc.token, tc.insecure)
			if tc.ok && err != nil {
				t.Errorf("CheckListen = %v, want ok", err)
			}
			if !tc.ok && !errors.Is(err, runtime.ErrInvalidArgument) {
				t.Errorf("CheckListen = %v, want ErrInvalidArgument", err)
			}
		})
	}
}

// FuzzCheckListen: any address is accepted or refused with
// ErrInvalidArgument, never a panic; plain TCP is never accepted off
// loopback.
func FuzzCheckListen(f *testing.F) {
	for _, s := range []string{"0.0.0.0:7443", "127.0.0.1:7443", "[::1]:1", "localhost:0", ":7443", "", "[::ffff:127.0.0.1]:80", "host:port:x", "127.0.0.1"} {
		f.Add(s, true)
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, addr string, insecure bool) {
		err := server.CheckListen(addr, nil, "", insecure)
		if err != nil && !errors.Is(err, runtime.ErrInvalidArgument) {
			t.Fatalf("CheckListen(%q) = %v, want nil or ErrInvalidArgument", addr, err)
		}
		if err == nil && !insecure {
			t.Fatalf("CheckListen(%q) accepted plain TCP without insecure", addr)
		}
	})
}

func doWith(t *testing.T, method, url, body, authz string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if authz != "" {
		req.Header.Set("Authorization", authz)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

// mustServeListener serves h on ln until the test ends.
func mustServeListener(t *testing.T, ln net.Listener, h http.Handler) {
	t.Helper()
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second, ErrorLog: log.New(io.Discard, "", 0)}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	t.Cleanup(func() {
		srv.Close()
		if err := <-served; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("Serve: %v", err)
		}
	})
}

// unixDialer dials the unix socket at sock whatever address is asked.
func unixDialer(sock string) func(ctx context.Context, _, _ string) (net.Conn, error) {
	return func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", sock)
	}
}
