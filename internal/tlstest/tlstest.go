package tlstest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// CA is a certificate authority that lives for one test.
type CA struct {
	// Cert is the CA's self-signed certificate.
	Cert *x509.Certificate
	// PEM is Cert, PEM-encoded.
	PEM []byte
	key *ecdsa.PrivateKey
}

// NewCA makes a fresh CA named name.
func NewCA(t testing.TB, name string) *CA {
	t.Helper()
	key := mustKey(t)
	tmpl := &x509.Certificate{
		SerialNumber:          mustSerial(t),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatalf("tlstest: creating CA %s: %v", name, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatalf("tlstest: parsing CA %s: %v", name, err)
	}
	return &CA{Cert: cert, PEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), key: key}
}

// Pool returns a pool that holds only this CA.
func (ca *CA) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.Cert)
	return p
}

// Issue signs a leaf certificate for name and returns it and its key as
// PEM. A server certificate is valid for hosts (IP addresses or DNS names);
// a client certificate is for client authentication only.
func (ca *CA) Issue(t testing.TB, name string, server bool, hosts ...string) (certPEM, keyPEM []byte) {
	t.Helper()
	key := mustKey(t)
	tmpl := &x509.Certificate{
		SerialNumber: mustSerial(t),
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if server {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		for _, h := range hosts {
			if ip := net.ParseIP(h); ip != nil {
				tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
			} else {
				tmpl.DNSNames = append(tmpl.DNSNames, h)
			}
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatalf("tlstest: issuing %s: %v", name, err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatalf("tlstest: encoding the key of %s: %v", name, err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})
}

// KeyPair issues a certificate like Issue and returns it ready for a
// tls.Config.
func (ca *CA) KeyPair(t testing.TB, name string, server bool, hosts ...string) tls.Certificate {
	t.Helper()
	certPEM, keyPEM := ca.Issue(t, name, server, hosts...)
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatalf("tlstest: key pair of %s: %v", name, err)
	}
	return pair
}

// WriteCA writes the CA's certificate to dir/ca.pem and returns the path.
func (ca *CA) WriteCA(t testing.TB, dir string) string {
	t.Helper()
	return mustWrite(t, filepath.Join(dir, "ca.pem"), ca.PEM)
}

// WriteServer issues a server certificate for hosts and writes it and its
// key to dir/server.pem and dir/server-key.pem.
func (ca *CA) WriteServer(t testing.TB, dir string, hosts ...string) (certFile, keyFile string) {
	t.Helper()
	certPEM, keyPEM := ca.Issue(t, "switchyard daemon", true, hosts...)
	return mustWrite(t, filepath.Join(dir, "server.pem"), certPEM), mustWrite(t, filepath.Join(dir, "server-key.pem"), keyPEM)
}

// WriteClient issues a client certificate for name and writes it and its
// key to dir/NAME.pem and dir/NAME-key.pem.
func (ca *CA) WriteClient(t testing.TB, dir, name string) (certFile, keyFile string) {
	t.Helper()
	certPEM, keyPEM := ca.Issue(t, name, false)
	return mustWrite(t, filepath.Join(dir, name+".pem"), certPEM), mustWrite(t, filepath.Join(dir, name+"-key.pem"), keyPEM)
}

func mustKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("tlstest: generating a key: %v", err)
	}
	return key
}

func mustSerial(t testing.TB) *big.Int {
	t.Helper()
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		t.Fatalf("tlstest: serial number: %v", err)
	}
	return n
}

func mustWrite(t testing.TB, path string, data []byte) string {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatalf("tlstest: %v", err)
	}
	return path
}
