package server

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"net"
	"net/http"
	"strings"

	"github.com/switchyard/switchyard/api"
	"github.com/switchyard/switchyard/runtime"
)

// auth is what a client that connects over TCP must present.
type auth struct {
	// tokenSum is the SHA-256 of the bearer token; nil when no token is
	// required. Comparing fixed-size sums in constant time hides the
	// token's length as well as its bytes.
	tokenSum []byte
	// clientCert requires a verified client certificate chain.
	clientCert bool
}

func (a auth) enabled() bool { return a.tokenSum != nil || a.clientCert }

// WithToken requires every request that arrives over TCP to carry
// "Authorization: Bearer TOKEN". The comparison takes the same time
// whatever the token sent. Requests on a unix socket are not checked: the
// socket's file mode guards them. Default: no token; token must not be
// empty nor hold spaces or line breaks.
func WithToken(token string) Option {
	return func(o *options) error {
		if token == "" || strings.ContainsAny(token, " \t\r\n") {
			return fmt.Errorf("bearer token is empty or holds white space: give a token of printable characters (from a file of its own): %w", runtime.ErrInvalidArgument)
		}
		sum := sha256.Sum256([]byte(token))
		o.auth.tokenSum = sum[:]
		return nil
	}
}

// WithClientCertRequired requires every request that arrives over TCP to
// come on a TLS connection whose client certificate was verified. The TLS
// configuration from ServerTLSConfig already refuses such connections
// during the handshake; this option is the second lock for a listener
// whose configuration only verifies certificates when given. Requests on
// a unix socket are not checked. Default: not required.
func WithClientCertRequired() Option {
	return func(o *options) error {
		o.auth.clientCert = true
		return nil
	}
}

// authenticate wraps next so that TCP requests without the required
// credentials are answered 401 with an api.KindUnauthenticated error and
// reach nothing else.
func (s *Server) authenticate(next http.Handler) http.Handler {
	a := s.opts.auth
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := a.check(r); err != nil {
			// Bearer tells standard clients which scheme to use.
			w.Header().Set("WWW-Authenticate", `Bearer realm="switchyard"`)
			s.writeError(w, r, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// check returns nil when r may proceed, else an error wrapping
// api.ErrUnauthenticated that says what was missing (never the token).
func (a auth) check(r *http.Request) error {
	if onUnixSocket(r.Context()) {
		return nil
	}
	if a.clientCert && (r.TLS == nil || len(r.TLS.VerifiedChains) == 0) {
		return fmt.Errorf("this daemon requires a client certificate signed by its client CA; connect over TLS with one: %w", api.ErrUnauthenticated)
	}
	if a.tokenSum == nil {
		return nil
	}
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return fmt.Errorf("this daemon requires a bearer token and the request carries none; give the client the daemon's token: %w", api.ErrUnauthenticated)
	}
	sum := sha256.Sum256([]byte(token))
	if subtle.ConstantTimeCompare(sum[:], a.tokenSum) != 1 {
		return fmt.Errorf("the request's bearer token is not this daemon's; give the client the daemon's token: %w", api.ErrUnauthenticated)
	}
	return nil
}

// onUnixSocket reports whether the request came in on a unix socket.
func onUnixSocket(ctx context.Context) bool {
	addr, ok := ctx.Value(http.LocalAddrContextKey).(net.Addr)
	return ok && addr.Network() == "unix"
}
