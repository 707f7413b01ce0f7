package registry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"syscall"

	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/switchyard/switchyard/runtime"
)

// The registry's own error kinds, for what a caller may handle differently
// from the contract's kinds. Each wraps the closest kind of package runtime
// where there is one, so errors.Is(err, runtime.ErrUnavailable) also holds
// for ErrUnreachable.
var (
	// ErrUnauthorized: the registry refused the credentials, or wanted some
	// and got none (HTTP 401 or 403). Fix the credentials (docker login, or
	// the spec's registry auth) and retry. Wraps runtime.ErrFailedPrecondition.
	ErrUnauthorized error = &kindError{msg: "unauthorized", kind: runtime.ErrFailedPrecondition}
	// ErrUnreachable: the registry could not be reached (connection refused,
	// DNS failure, timeout, a connection cut mid-transfer). Wraps
	// runtime.ErrUnavailable.
	ErrUnreachable error = &kindError{msg: "registry unreachable", kind: runtime.ErrUnavailable}
	// ErrBadContent: the registry answered with something that is not an
	// image manifest, index or blob we can use (a wrong content type, JSON
	// that does not decode).
	ErrBadContent = errors.New("bad content from registry")
	// ErrDigestMismatch: content did not hash to the digest it was asked for
	// by (a corrupt blob, a proxy that rewrote a manifest). Wraps ErrBadContent.
	ErrDigestMismatch error = &kindError{msg: "digest mismatch", kind: ErrBadContent}
)

// kindError is a sentinel that also matches a broader kind with errors.Is.
type kindError struct {
	msg  string
	kind error
}

func (e *kindError) Error() string { return e.msg }
func (e *kindError) Unwrap() error { return e.kind }

// translate maps an error from go-containerregistry (or the network under
// it) to switchyard's kinds, keeping the original in the chain. what names
// the object first ("image 127.0.0.1:5000/app:1"). Errors that already carry
// one of our kinds pass through with the name added.
func translate(what string, err error) error {
	if err == nil {
		return nil
	}
	if kind := kindOf(err); kind != nil && !errors.Is(err, kind) {
		return fmt.Errorf("%s: %w: %w", what, kind, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// kindOf picks the kind for err, or nil when err already carries one or
// none fits.
func kindOf(err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return nil
	}
	var terr *transport.Error
	if errors.As(err, &terr) {
		return statusKind(terr)
	}
	var nerr net.Error
	var operr *net.OpError
	var dnserr *net.DNSError
	switch {
	case errors.As(err, &dnserr), errors.As(err, &operr), errors.Is(err, syscall.ECONNREFUSED),
		errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.ErrUnexpectedEOF), errors.As(err, &nerr) && nerr.Timeout():
		return ErrUnreachable
	}
	return nil
}

// statusKind maps a registry's HTTP answer to a kind: the distribution
// spec's error codes first, then the status code.
func statusKind(terr *transport.Error) error {
	for _, d := range terr.Errors {
		switch d.Code {
		case transport.ManifestUnknownErrorCode, transport.NameUnknownErrorCode, transport.BlobUnknownErrorCode:
			return runtime.ErrNotFound
		case transport.UnauthorizedErrorCode, transport.DeniedErrorCode:
			return ErrUnauthorized
		case transport.NameInvalidErrorCode, transport.TagInvalidErrorCode, transport.DigestInvalidErrorCode:
			return runtime.ErrInvalidArgument
		case transport.UnsupportedErrorCode:
			return runtime.ErrNotSupported
		case transport.TooManyRequestsErrorCode, transport.UnavailableErrorCode:
			return runtime.ErrUnavailable
		}
	}
	switch c := terr.StatusCode; {
	case c == http.StatusNotFound:
		return runtime.ErrNotFound
	case c == http.StatusUnauthorized || c == http.StatusForbidden:
		return ErrUnauthorized
	case c == http.StatusBadRequest:
		return runtime.ErrInvalidArgument
	case c == http.StatusTooManyRequests || c == http.StatusRequestTimeout || c >= 500:
		return runtime.ErrUnavailable
	}
	return nil
}
