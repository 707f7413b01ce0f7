package api_test

import (
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/switchyard/switchyard/api"
	"github.com/switchyard/switchyard/runtime"
)

func TestToHTTPFromHTTP(t *testing.T) {
	for _, tc := range []struct {
		name   string
		err    error
		status int
		kind   api.Kind
	}{
		{"not found", fmt.Errorf("container a-rep-0: %w", runtime.ErrNotFound), 404, api.KindNotFound},
		{"already exists", fmt.Errorf("container a-rep-0: %w", runtime.ErrAlreadyExists), 409, api.KindAlreadyExists},
		{"invalid argument", fmt.Errorf("tail: %w", runtime.ErrInvalidArgument), 400, api.KindInvalidArgument},
		{"not supported", fmt.Errorf("exec: %w", runtime.ErrNotSupported), 501, api.KindNotSupported},
		{"failed precondition", fmt.Errorf("running: %w", runtime.ErrFailedPrecondition), 412, api.KindFailedPrecondition},
		{"unavailable", fmt.Errorf("wsl: %w", runtime.ErrUnavailable), 503, api.KindUnavailable},
		{"route to peer", fmt.Errorf("create: %w", &runtime.RouteToPeerError{Service: "s", Platform: "windows", Reason: "r"}), 421, api.KindRouteToPeer},
		{"unauthenticated", fmt.Errorf("bearer token missing: %w", api.ErrUnauthenticated), 401, api.KindUnauthenticated},
		{"internal", errors.New("boom"), 500, api.KindInternal},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, e := api.ToHTTP(tc.err)
			if status != tc.status || e.Kind != tc.kind || e.Message != tc.err.Error() {
				t.Fatalf("ToHTTP = %d %+v, want %d %s", status, e, tc.status, tc.kind)
			}
			back := api.FromHTTP(status, &e)
			if back.Error() != tc.err.Error() {
				t.Errorf("message = %q, want %q", back, tc.err)
			}
			for _, kind := range []error{runtime.ErrNotFound, runtime.ErrUnavailable, api.ErrUnauthenticated} {
				if errors.Is(tc.err, kind) != errors.Is(back, kind) {
					t.Errorf("errors.Is(back, %v) = %v, want %v", kind, errors.Is(back, kind), errors.Is(tc.err, kind))
				}
			}
			// Without a body (a proxy's error page) the status alone keeps the
			// kind, except for route_to_peer whose fields cannot be guessed.
			if tc.kind == api.KindRouteToPeer {
				return
			}
			var re *api.RemoteError
			if !errors.As(api.FromHTTP(status, nil), &re) || re.Kind != tc.kind {
				t.Errorf("FromHTTP(%d, nil) kind = %+v, want %s", status, re, tc.kind)
			}
		})
	}
	if err := api.FromHTTP(http.StatusBadGateway, nil); !errors.Is(err, runtime.ErrUnavailable) || err.Error() != "the daemon answered 502 Bad Gateway" {
		t.Errorf("FromHTTP(502, nil) = %v, want unavailable naming the status", err)
	}
	if err := api.FromHTTP(http.StatusOK, &api.Error{Kind: "from_the_future", Message: "new"}); err.Error() != "new" || errors.Is(err, runtime.ErrNotFound) {
		t.Errorf("unknown kind = %v, want its message and no sentinel", err)
	}
}
