package server

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"

	"github.com/switchyard/switchyard/runtime"
)

// ServerTLSConfig returns the TLS configuration of a TCP listener: the
// daemon's certificate and key (PEM files), and, when clientCAFile is not
// empty, the CA whose client certificates it accepts; every client must then
// present one (tls.RequireAndVerifyClientCert), and a connection without
// one, or with one from another CA, fails in the handshake. TLS 1.2 is the
// oldest version accepted. The error wraps runtime.ErrInvalidArgument and
// names the file that is missing or unreadable.
func ServerTLSConfig(certFile, keyFile, clientCAFile string) (*tls.Config, error) {
	if certFile == "" || keyFile == "" {
		return nil, fmt.Errorf("TLS certificate %q and key %q: give both files (PEM) to serve TCP: %w", certFile, keyFile, runtime.ErrInvalidArgument)
	}
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("TLS certificate %s and key %s: %w; give a PEM certificate and its private key: %w", certFile, keyFile, err, runtime.ErrInvalidArgument)
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}
	if clientCAFile != "" {
		pool, err := loadPool(clientCAFile)
		if err != nil {
			return nil, err
		}
		cfg.ClientCAs = pool
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return cfg, nil
}

// loadPool reads a PEM file of CA certificates into a pool.
func loadPool(file string) (*x509.CertPool, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("client CA file %s: %w: %w", file, err, runtime.ErrInvalidArgument)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("client CA file %s: no PEM certificate in it; give the CA certificate that signs the clients' certificates: %w", file, runtime.ErrInvalidArgument)
	}
	return pool, nil
}

// ListenTCP listens on addr (host:port). With tlsCfg it serves TLS, which
// the daemon requires unless CheckListen allowed plain TCP; tlsCfg must
// hold a certificate. Validate the whole listen configuration with
// CheckListen first.
func ListenTCP(addr string, tlsCfg *tls.Config) (net.Listener, error) {
	if tlsCfg != nil && len(tlsCfg.Certificates) == 0 && tlsCfg.GetCertificate == nil && tlsCfg.GetConfigForClient == nil {
		return nil, fmt.Errorf("listen %s: the TLS configuration has no certificate; build it with ServerTLSConfig: %w", addr, runtime.ErrInvalidArgument)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", addr, err)
	}
	// Bounded below TLS, so that the server still sees its *tls.Conn.
	if tlsCfg != nil {
		ln = tls.NewListener(limitConnsSilent(ln, MaxConns, MaxConnsPerClient), tlsCfg)
	} else {
		ln = LimitConns(ln, MaxConns, MaxConnsPerClient)
	}
	return ln, nil
}

// CheckListen validates the configuration of a TCP listener before the
// daemon opens it: TCP needs TLS, and TLS needs a bearer token or required
// client certificates, so that no one on the network can drive the node.
// Only a loopback address (127.0.0.1, ::1, localhost) may relax this, and
// only when insecure is set. addr is host:port; the error wraps
// runtime.ErrInvalidArgument and says what to add.
func CheckListen(addr string, tlsCfg *tls.Config, token string, insecure bool) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || port == "" {
		return fmt.Errorf("listen address %q: want host:port, such as 0.0.0.0:7443 or 127.0.0.1:7443: %w", addr, runtime.ErrInvalidArgument)
	}
	loopback := isLoopback(host)
	if insecure && !loopback {
		return fmt.Errorf("listen address %s: insecure listening is allowed on a loopback address only (127.0.0.1, ::1, localhost); drop insecure and give a TLS certificate and a token or client CA: %w", addr, runtime.ErrInvalidArgument)
	}
	if insecure {
		return nil
	}
	if tlsCfg == nil {
		return fmt.Errorf("listen address %s: TCP needs TLS; give the daemon a certificate and key (and a token or client CA), or listen on a unix socket: %w", addr, runtime.ErrInvalidArgument)
	}
	certs := tlsCfg.ClientAuth == tls.RequireAndVerifyClientCert && tlsCfg.ClientCAs != nil
	if token == "" && !certs {
		return fmt.Errorf("listen address %s: TLS alone lets anyone who reaches the port drive the node; give a bearer token or a client CA as well: %w", addr, runtime.ErrInvalidArgument)
	}
	return nil
}

// isLoopback reports whether host names only this machine. An empty host
// (every interface) is not loopback.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}
