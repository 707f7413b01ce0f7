package server

import (
	"context"
	"fmt"
	"io"
	"net/http"

	"github.com/switchyard/switchyard/api"
	"github.com/switchyard/switchyard/runtime"
	"github.com/switchyard/switchyard/secrets"
)

// Secrets keeps the node's secrets: the agent, over package secrets.
type Secrets interface {
	// Secrets lists them, without values.
	Secrets(ctx context.Context) ([]api.Secret, error)
	// CreateSecret stores a new one.
	CreateSecret(ctx context.Context, name string, value []byte) error
	// RemoveSecret deletes one.
	RemoveSecret(ctx context.Context, name string) error
}

// WithSecrets serves the secret endpoints through s:
//
//	GET    /v1/secrets         every secret: name, created, size (never a value)
//	POST   /v1/secrets/{name}  store a new one; the body is the value
//	DELETE /v1/secrets/{name}  remove one
//
// No endpoint returns a value, and none is logged.
func WithSecrets(s Secrets) Option {
	return func(o *options) error {
		if s == nil {
			return fmt.Errorf("secrets: nil: %w", runtime.ErrInvalidArgument)
		}
		o.secrets = s
		return nil
	}
}

// maxSecretBody bounds a POST /v1/secrets/{name} body: the store's limit,
// and one byte more so that a larger value is told apart.
const maxSecretBody = secrets.MaxSize + 1

func (s *Server) secretRoutes() {
	sec := s.opts.secrets
	if sec == nil {
		none := func(http.ResponseWriter, *http.Request) error {
			return fmt.Errorf("this node keeps no secrets: %w", runtime.ErrNotSupported)
		}
		for _, p := range []string{"GET /v1/secrets", "POST /v1/secrets/{name}", "DELETE /v1/secrets/{name}"} {
			s.handle(p, none)
		}
		return
	}
	s.handle("GET /v1/secrets", func(w http.ResponseWriter, r *http.Request) error {
		list, err := sec.Secrets(r.Context())
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, list)
		return nil
	})
	s.handleBody("POST /v1/secrets/{name}", maxSecretBody, func(w http.ResponseWriter, r *http.Request) error {
		value, err := io.ReadAll(r.Body)
		if err != nil {
			return fmt.Errorf("secret %s: the value is larger than 500 KiB, the most a secret may hold: %w", r.PathValue("name"), runtime.ErrInvalidArgument)
		}
		if err := sec.CreateSecret(r.Context(), r.PathValue("name"), value); err != nil {
			return err
		}
		writeJSON(w, http.StatusCreated, map[string]string{"name": r.PathValue("name")})
		return nil
	})
	s.handle("DELETE /v1/secrets/{name}", func(w http.ResponseWriter, r *http.Request) error {
		if err := sec.RemoveSecret(r.Context(), r.PathValue("name")); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
}
