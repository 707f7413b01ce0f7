package tlstest_test

import (
	"crypto/x509"
	"testing"

	"github.com/switchyard/switchyard/internal/tlstest"
)

// TestChains: leaves verify against their own CA, for their own use, and
// not against another CA.
func TestChains(t *testing.T) {
	ca, other := tlstest.NewCA(t, "a"), tlstest.NewCA(t, "b")
	for _, tc := range []struct {
		name   string
		server bool
		usage  x509.ExtKeyUsage
		roots  *tlstest.CA
		wantOK bool
	}{
		{"server cert, own CA", true, x509.ExtKeyUsageServerAuth, ca, true},
		{"client cert, own CA", false, x509.ExtKeyUsageClientAuth, ca, true},
		{"server cert, other CA", true, x509.ExtKeyUsageServerAuth, other, false},
		{"client cert used as server", false, x509.ExtKeyUsageServerAuth, ca, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pair := ca.KeyPair(t, "leaf", tc.server, "127.0.0.1", "localhost")
			leaf, err := x509.ParseCertificate(pair.Certificate[0])
			if err != nil {
				t.Fatal(err)
			}
			_, err = leaf.Verify(x509.VerifyOptions{Roots: tc.roots.Pool(), KeyUsages: []x509.ExtKeyUsage{tc.usage}})
			if (err == nil) != tc.wantOK {
				t.Errorf("Verify = %v, want ok=%v", err, tc.wantOK)
			}
			if tc.server && tc.wantOK && leaf.VerifyHostname("127.0.0.1") != nil {
				t.Errorf("server certificate not valid for 127.0.0.1")
			}
		})
	}
}

func TestWrite(t *testing.T) {
	ca := tlstest.NewCA(t, "a")
	dir := t.TempDir()
	if ca.WriteCA(t, dir) == "" {
		t.Fatal("WriteCA returned no path")
	}
	if c, k := ca.WriteServer(t, dir, "127.0.0.1"); c == "" || k == "" {
		t.Fatal("WriteServer returned no paths")
	}
	if c, k := ca.WriteClient(t, dir, "agent"); c == "" || k == "" {
		t.Fatal("WriteClient returned no paths")
	}
}
