package client

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"reflect"
	"strings"

	"github.com/switchyard/switchyard/api"
	"github.com/switchyard/switchyard/runtime"
)

// TLSConfig returns a TLS configuration for WithTLSConfig: the CA that
// signed the daemon's certificate (caFile; "" for the system roots) and,
// when certFile and keyFile are given, the client certificate the daemon
// asks for. Files are PEM. The error wraps runtime.ErrInvalidArgument and
// names the file at fault.
func TLSConfig(caFile, certFile, keyFile string) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if caFile != "" {
		b, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("CA file %s: %w: %w", caFile, err, runtime.ErrInvalidArgument)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(b) {
			return nil, fmt.Errorf("CA file %s: no PEM certificate in it; give the CA certificate that signed the daemon's certificate: %w", caFile, runtime.ErrInvalidArgument)
		}
		cfg.RootCAs = pool
	}
	if (certFile == "") != (keyFile == "") {
		return nil, fmt.Errorf("client certificate %q and key %q: give both or neither: %w", certFile, keyFile, runtime.ErrInvalidArgument)
	}
	if certFile != "" {
		pair, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, fmt.Errorf("client certificate %s and key %s: %w; give a PEM certificate and its private key: %w", certFile, keyFile, err, runtime.ErrInvalidArgument)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	return cfg, nil
}

// authError is the daemon's refusal of this client's credentials: a 401
// answer, or a TLS alert refusing its certificate. It matches
// api.ErrUnauthenticated and unwraps to its cause.
type authError struct {
	msg   string
	cause error
}

func (e *authError) Error() string   { return e.msg + ": " + e.cause.Error() }
func (e *authError) Unwrap() []error { return []error{api.ErrUnauthenticated, e.cause} }

func (c *Client) authErr(op string, cause error) error {
	msg := fmt.Sprintf("the switchyard daemon at %s refused the credentials: check the token (--delegate-token-file) and the client certificate", c.addr)
	if op != "" {
		msg = op + ": " + msg
	}
	return &authError{msg: msg, cause: cause}
}

// The TLS alerts (RFC 8446, 6.2) by which a server refuses a client's
// certificate, or its lack of one.
var certAlerts = [...]uint64{
	42,  // bad_certificate: Go's answer to a certificate from another CA
	43,  // unsupported_certificate
	44,  // certificate_revoked
	45,  // certificate_expired
	46,  // certificate_unknown
	48,  // unknown_ca
	116, // certificate_required: no certificate sent (TLS 1.3)
}

// isCertRefusal reports whether err is a TLS alert from the daemon that
// refuses this client's certificate. crypto/tls reports a received alert as
// a *net.OpError with Op "remote error" whose Err is an unexported
// uint8-based type; its value is the alert number.
func isCertRefusal(err error) bool {
	var oe *net.OpError
	if !errors.As(err, &oe) || oe.Op != "remote error" || oe.Err == nil {
		return false
	}
	v := reflect.ValueOf(oe.Err)
	if v.Kind() != reflect.Uint8 {
		return false
	}
	for _, a := range certAlerts {
		if v.Uint() == a {
			return true
		}
	}
	return false
}

// ReadTokenFile reads a bearer token from path ("" for none), trimming the
// trailing newline editors add. An empty file is an error: it would mean no
// authentication where some was asked for.
func ReadTokenFile(path string) (string, error) {
	if path == "" {
		return "", nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	tok := strings.TrimSpace(string(b))
	if tok == "" {
		return "", fmt.Errorf("%s is empty; write the token into it: %w", path, runtime.ErrInvalidArgument)
	}
	return tok, nil
}
