package remote_test

import (
	"crypto/tls"
	"errors"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/api"
	"github.com/switchyard/switchyard/api/client"
	"github.com/switchyard/switchyard/internal/tlstest"
	"github.com/switchyard/switchyard/runtime"
	"github.com/switchyard/switchyard/runtime/runtimetest"
	"github.com/switchyard/switchyard/runtimes/remote"
)

// TestWrongToken: a wrong token is refused with api.ErrUnauthenticated
// (and ErrUnavailable, for this agent's clients), names the delegate, and
// creates nothing.
func TestWrongToken(t *testing.T) {
	p := mustPKI(t)
	f := runtimetest.NewFake("fake", amd64)
	a := mustTLSAgent(t, f, p, "s3cret", false)
	for _, tc := range []struct {
		name string
		opts []client.Option
	}{
		{"wrong token", []client.Option{client.WithTLSConfig(mustClientTLS(t, p, false)), client.WithToken("guess")}},
		{"no token", []client.Option{client.WithTLSConfig(mustClientTLS(t, p, false))}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := mustRemote(t, "peer", a.url(), remote.WithClientOptions(tc.opts...))
			err := r.Create(t.Context(), runtime.ContainerID{Service: "web"}, runtimetest.FakeSpec(runtimetest.Workload{}))
			var re *api.RemoteError
			if !errors.Is(err, api.ErrUnauthenticated) || !errors.Is(err, runtime.ErrUnavailable) ||
				!errors.As(err, &re) || re.Status != 401 || re.Kind != api.KindUnauthenticated {
				t.Fatalf("Create = %v, want a 401 matching api.ErrUnauthenticated and runtime.ErrUnavailable", err)
			}
			t.Logf("Create: %v", err)
			for _, want := range []string{"delegate peer (" + a.url() + ") refused this agent's credentials", "--delegate-token-file"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("message %q does not say %q", err, want)
				}
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Errorf("message reveals the token: %q", err)
			}
			if len(f.Calls()) != 0 {
				t.Errorf("the delegate's runtime saw %v, want nothing", f.Calls())
			}
			if got := r.Platforms(); len(got) != 0 {
				t.Errorf("Platforms of a delegate that refuses us = %v, want none", got)
			}
		})
	}
}

// TestClientCertificates: a delegate that requires client certificates
// refuses a client without one and a client whose certificate another CA
// signed; the error matches api.ErrUnauthenticated.
func TestClientCertificates(t *testing.T) {
	p := mustPKI(t)
	f := runtimetest.NewFake("fake", amd64)
	a := mustTLSAgent(t, f, p, "", true)

	other := tlstest.NewCA(t, "another CA")
	dir := t.TempDir()
	otherCert, otherKey := other.WriteClient(t, dir, "intruder")
	foreign, err := client.TLSConfig(p.caFile, otherCert, otherKey)
	if err != nil {
		t.Fatal(err)
	}
	// crypto/tls offers only a certificate that the daemon's CA list
	// accepts; this client sends its foreign one regardless, so that the
	// daemon's own verification is what refuses it.
	pushy := foreign.Clone()
	pushy.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
		return &foreign.Certificates[0], nil
	}
	for _, tc := range []struct {
		name   string
		opt    client.Option
		wantOK bool
	}{
		{"certificate of the client CA", client.WithTLSConfig(mustClientTLS(t, p, true)), true},
		{"no certificate", client.WithTLSConfig(mustClientTLS(t, p, false)), false},
		{"certificate of another CA, not offered", client.WithTLSConfig(foreign), false},
		{"certificate of another CA, sent anyway", client.WithTLSConfig(pushy), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := mustRemote(t, "peer", a.url(), remote.WithClientOptions(tc.opt))
			_, err := r.List(t.Context())
			if tc.wantOK {
				if err != nil {
					t.Fatalf("List = %v, want ok", err)
				}
				return
			}
			t.Logf("List: %v", err)
			if !errors.Is(err, api.ErrUnauthenticated) || !strings.Contains(err.Error(), "refused") {
				t.Errorf("List = %v, want a refusal matching api.ErrUnauthenticated", err)
			}
		})
	}
}
