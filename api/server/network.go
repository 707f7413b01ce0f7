package server

import (
	"fmt"
	"net/http"

	"github.com/switchyard/switchyard/api"
	"github.com/switchyard/switchyard/runtime"
)

// Networks manages the node's networks: api.Networks, one interface for
// every front door.
type Networks = api.Networks

// WithNetworks serves the network endpoints through n:
//
//	GET    /v1/networks         every network, the default first
//	POST   /v1/networks         create one (a NetworkCreateRequest)
//	GET    /v1/networks/{name}  one network
//	DELETE /v1/networks/{name}  remove one (refused while a container uses it)
//
// Without it they answer that this node has no networks.
func WithNetworks(n Networks) Option {
	return func(o *options) error {
		if n == nil {
			return fmt.Errorf("networks: nil: %w", runtime.ErrInvalidArgument)
		}
		o.networks = n
		return nil
	}
}

// maxNetworkBody bounds a POST /v1/networks body.
const maxNetworkBody = 64 << 10

func (s *Server) networkRoutes() {
	n := s.opts.networks
	if n == nil {
		none := func(http.ResponseWriter, *http.Request) error {
			return fmt.Errorf("this node has no networks (its daemon runs with --bridge none, or without the CNI plugins): %w", runtime.ErrNotSupported)
		}
		for _, p := range []string{"GET /v1/networks", "POST /v1/networks", "GET /v1/networks/{name}", "DELETE /v1/networks/{name}"} {
			s.handle(p, none)
		}
		return
	}
	s.handle("GET /v1/networks", func(w http.ResponseWriter, r *http.Request) error {
		list, err := n.Networks(r.Context())
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, list)
		return nil
	})
	s.handleBody("POST /v1/networks", maxNetworkBody, func(w http.ResponseWriter, r *http.Request) error {
		var req api.NetworkCreateRequest
		if err := api.Decode(r.Body, &req, "network create request"); err != nil {
			return err
		}
		net, err := n.CreateNetwork(r.Context(), req)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusCreated, net)
		return nil
	})
	s.handle("GET /v1/networks/{name}", func(w http.ResponseWriter, r *http.Request) error {
		net, err := n.Network(r.Context(), r.PathValue("name"))
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, net)
		return nil
	})
	s.handle("DELETE /v1/networks/{name}", func(w http.ResponseWriter, r *http.Request) error {
		if err := n.RemoveNetwork(r.Context(), r.PathValue("name")); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
}
