package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/switchyard/switchyard/runtime"
)

// Kind is the machine-readable kind of an error on the wire.
type Kind string

// ErrUnauthenticated: the daemon refused the request's credentials (a
// missing or wrong bearer token, or no trusted client certificate). It is
// the API's own kind, not the runtime contract's: only a daemon's front
// door answers it, never a runtime.
var ErrUnauthenticated = errors.New("unauthenticated")

// The error kinds. Each but KindInternal, KindRouteToPeer and
// KindUnauthenticated stands for one of runtime's sentinel errors;
// KindUnauthenticated stands for ErrUnauthenticated.
const (
	KindNotFound           Kind = "not_found"
	KindAlreadyExists      Kind = "already_exists"
	KindInvalidArgument    Kind = "invalid_argument"
	KindNotSupported       Kind = "not_supported"
	KindFailedPrecondition Kind = "failed_precondition"
	KindUnavailable        Kind = "unavailable"
	KindResourceExhausted  Kind = "resource_exhausted"
	KindRouteToPeer        Kind = "route_to_peer"
	KindUnauthenticated    Kind = "unauthenticated"
	KindInternal           Kind = "internal"
)

// Error is the wire form of an error: its kind, the message people read,
// and, for KindRouteToPeer, the fields of runtime.RouteToPeerError.
type Error struct {
	Kind    Kind   `json:"kind"`
	Message string `json:"message"`
	// Service, Platform, Image and Reason are set for KindRouteToPeer.
	Service  string `json:"service,omitempty"`
	Platform string `json:"platform,omitempty"`
	Image    string `json:"image,omitempty"`
	Reason   string `json:"reason,omitempty"`
}

// ErrorBody is the body of every error response.
type ErrorBody struct {
	Error Error `json:"error"`
}

// RemoteError is an error that came over the wire. Its message is the
// server's message unchanged; it unwraps to the runtime sentinel of its kind
// (or to a *runtime.RouteToPeerError), so errors.Is and errors.As work on
// the client exactly as they do on the server.
type RemoteError struct {
	// Kind is the kind the server sent.
	Kind Kind
	// Message is the server's message.
	Message string
	// Status is the HTTP status code of the response.
	Status int
	cause  error
}

// Error implements error.
func (e *RemoteError) Error() string { return e.Message }

// Unwrap returns the runtime sentinel (or *runtime.RouteToPeerError, or
// ErrUnauthenticated) of the error's kind; nil for KindInternal and kinds
// this version does not know.
func (e *RemoteError) Unwrap() error { return e.cause }

// ToHTTP maps an error to its HTTP status code and wire form. It is the only
// place where the server turns error kinds into status codes.
func ToHTTP(err error) (int, Error) {
	e := Error{Message: err.Error()}
	var rp *runtime.RouteToPeerError
	switch {
	case errors.As(err, &rp):
		e.Kind, e.Service, e.Platform, e.Image, e.Reason = KindRouteToPeer, rp.Service, rp.Platform, rp.Image, rp.Reason
		// 421: this node is the wrong one to serve the request; a peer is.
		return http.StatusMisdirectedRequest, e
	case runtime.KindOf(err) != nil:
		// The contract's one table names the kind and its status.
		status, _ := runtime.KindStatus(err)
		e.Kind = Kind(runtime.KindName(err))
		return status, e
	case errors.Is(err, context.DeadlineExceeded):
		e.Kind = KindUnavailable
		return http.StatusServiceUnavailable, e
	case errors.Is(err, ErrUnauthenticated):
		// After the runtime kinds on purpose: a delegate that refused this
		// agent's credentials is, for this agent's own clients, a runtime
		// that is unavailable (the remote runtime marks it so), not a
		// refusal of their credentials.
		e.Kind = KindUnauthenticated
		return http.StatusUnauthorized, e
	}
	e.Kind = KindInternal
	return http.StatusInternalServerError, e
}

// FromHTTP turns an error response back into an error. e is the decoded
// ErrorBody's Error, or nil when the body was missing or not ours (a proxy's
// page): the kind then comes from the status code. It is the only place
// where the client turns status codes and kinds into errors.
func FromHTTP(status int, e *Error) error {
	if e == nil || e.Kind == "" {
		e = &Error{Message: fmt.Sprintf("the daemon answered %d %s", status, http.StatusText(status))}
		// An answer without a body (a proxy's, say): its status says the kind.
		switch status {
		case http.StatusRequestEntityTooLarge:
			e.Kind = KindInvalidArgument
		case http.StatusMethodNotAllowed:
			e.Kind = KindNotSupported
		case http.StatusBadGateway, http.StatusGatewayTimeout:
			e.Kind = KindUnavailable
		case http.StatusUnauthorized:
			e.Kind = KindUnauthenticated
		default:
			e.Kind = Kind(runtime.KindName(runtime.KindFromStatus(status)))
			if e.Kind == "" {
				e.Kind = KindInternal
			}
		}
	}
	re := &RemoteError{Kind: e.Kind, Message: e.Message, Status: status}
	switch e.Kind {
	case KindUnauthenticated:
		re.cause = ErrUnauthenticated
	case KindRouteToPeer:
		re.cause = &runtime.RouteToPeerError{Service: e.Service, Platform: e.Platform, Image: e.Image, Reason: e.Reason}
	default:
		re.cause = runtime.KindFromName(string(e.Kind)) // nil for internal, or a kind of a newer daemon
	}
	if re.Message == "" {
		re.Message = string(e.Kind)
	}
	return re
}

// NoRoute begins the message of a daemon's answer to a request it has no
// route for (kind not_found, status 404); the rest names the method and
// the path. Every daemon so far answers so, which lets a client tell an
// older daemon, one without an endpoint the client knows, from a missing
// object.
const NoRoute = "no route for "

// IsNoRoute reports whether err is a daemon's answer that it has no route
// for the request.
func IsNoRoute(err error) bool {
	var re *RemoteError
	return errors.As(err, &re) && re.Kind == KindNotFound && strings.HasPrefix(re.Message, NoRoute)
}
