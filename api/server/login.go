package server

import (
	"context"
	"fmt"
	"net/http"

	"github.com/switchyard/switchyard/api"
	"github.com/switchyard/switchyard/runtime"
)

// Logins keeps the daemon's registry credentials.
type Logins interface {
	// Login checks req with its registry and stores it.
	Login(ctx context.Context, req api.LoginRequest) error
	// Logout removes a registry's stored credentials.
	Logout(ctx context.Context, server string) error
}

// WithLogins serves the login endpoints through l:
//
//	POST   /v1/login           check and store credentials (a LoginRequest)
//	DELETE /v1/login/{server}  remove a registry's credentials
//
// A password is never logged nor returned.
func WithLogins(l Logins) Option {
	return func(o *options) error {
		if l == nil {
			return fmt.Errorf("logins: nil: %w", runtime.ErrInvalidArgument)
		}
		o.logins = l
		return nil
	}
}

func (s *Server) loginRoutes() {
	l := s.opts.logins
	if l == nil {
		none := func(http.ResponseWriter, *http.Request) error {
			return fmt.Errorf("this daemon keeps no registry credentials: %w", runtime.ErrNotSupported)
		}
		s.handle("POST /v1/login", none)
		s.handle("DELETE /v1/login/{server}", none)
		return
	}
	s.handleBody("POST /v1/login", 64<<10, func(w http.ResponseWriter, r *http.Request) error {
		var req api.LoginRequest
		if err := api.Decode(r.Body, &req, "login request"); err != nil {
			return err
		}
		if err := l.Login(r.Context(), req); err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "Login Succeeded"})
		return nil
	})
	s.handle("DELETE /v1/login/{server}", func(w http.ResponseWriter, r *http.Request) error {
		if err := l.Logout(r.Context(), r.PathValue("server")); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
}
