package docker

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/moby/moby/api/types/network"

	"github.com/switchyard/switchyard/api"
	"github.com/switchyard/switchyard/runtime"
)

// Networks manages the node's networks: api.Networks, one interface for
// every front door.
type Networks = api.Networks

// WithNetworks serves docker's network endpoints over n. Without it they
// answer that this node has no networks.
func WithNetworks(n Networks) Option {
	return func(o *options) error {
		if n == nil {
			return fmt.Errorf("docker API: networks are nil: %w", runtime.ErrInvalidArgument)
		}
		o.networks = n
		return nil
	}
}

// maxNetworkBody bounds a network request's body.
const maxNetworkBody = 64 << 10

// networkID is the 64-hex id docker clients know a network by: derived
// from its name, so that every front door and every agent agree on it
// without keeping it.
func networkID(name string) string {
	sum := sha256.Sum256([]byte("switchyard network " + name))
	return hex.EncodeToString(sum[:])
}

// modeNetworks are docker's networks that are modes here, not networks:
// every dockerd lists them, and clients (compose among them) expect them.
var modeNetworks = [...]struct{ name, driver string }{{runtime.NetworkHost, "host"}, {runtime.NetworkNone, "null"}}

func (s *Server) networkRoutes() {
	s.handle("GET /networks", s.listNetworks)
	s.handle("GET /networks/{id}", s.inspectNetwork)
	s.handle("POST /networks/create", s.createNetwork)
	s.handle("DELETE /networks/{id}", func(w http.ResponseWriter, r *http.Request) error {
		n, err := s.findNetwork(r.Context(), r.PathValue("id"))
		if err != nil {
			return err
		}
		if n.Driver != "bridge" || n.Name == runtime.NetworkBridge {
			return fmt.Errorf("%s is a pre-defined network and cannot be removed: %w", n.Name, runtime.ErrFailedPrecondition)
		}
		if err := s.opts.networks.RemoveNetwork(r.Context(), n.Name); err != nil {
			return err
		}
		s.emit(eventNetwork, "destroy", n.Name, map[string]string{"name": n.Name, "type": "bridge"})
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
	s.handle("POST /networks/prune", func(w http.ResponseWriter, r *http.Request) error {
		if s.opts.networks == nil {
			return errNoNetworks
		}
		list, err := s.opts.networks.Networks(r.Context())
		if err != nil {
			return err
		}
		rep := network.PruneReport{NetworksDeleted: []string{}}
		for _, n := range list {
			if n.Default || n.Containers > 0 {
				continue
			}
			if err := s.opts.networks.RemoveNetwork(r.Context(), n.Name); err == nil {
				rep.NetworksDeleted = append(rep.NetworksDeleted, n.Name)
				s.emit(eventNetwork, "destroy", n.Name, map[string]string{"name": n.Name, "type": "bridge"})
			}
		}
		writeJSON(w, http.StatusOK, rep)
		return nil
	})
	s.handle("POST /networks/{id}/connect", func(w http.ResponseWriter, r *http.Request) error {
		var req network.ConnectRequest
		return s.connect(w, r, &req, func(ctx context.Context, nc runtime.NetworkConnector, c runtime.Container, name string) error {
			var aliases []string
			if req.EndpointConfig != nil {
				if req.EndpointConfig.IPAMConfig != nil && (req.EndpointConfig.IPAMConfig.IPv4Address.IsValid() || req.EndpointConfig.IPAMConfig.IPv6Address.IsValid()) {
					return fmt.Errorf("connect %s to %s: a chosen address (--ip) is not supported here; the network gives one: %w", dockerName(c), name, runtime.ErrNotSupported)
				}
				aliases = req.EndpointConfig.Aliases
			}
			return nc.ConnectNetwork(ctx, c.ID, name, aliases)
		})
	})
	s.handle("POST /networks/{id}/disconnect", func(w http.ResponseWriter, r *http.Request) error {
		var req network.DisconnectRequest
		return s.connect(w, r, &req, func(ctx context.Context, nc runtime.NetworkConnector, c runtime.Container, name string) error {
			return nc.DisconnectNetwork(ctx, c.ID, name)
		})
	})
}

// errNoNetworks answers the network endpoints of a node without networks.
var errNoNetworks = fmt.Errorf("this node has no networks (its daemon runs with --bridge none, or without the CNI plugins): %w", runtime.ErrNotSupported)

// connect serves connect and disconnect: req is decoded from the body, and
// act runs with the container and network it names.
func (s *Server) connect(w http.ResponseWriter, r *http.Request, req any, act func(context.Context, runtime.NetworkConnector, runtime.Container, string) error) error {
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxNetworkBody)).Decode(req); err != nil {
		return fmt.Errorf("network request: %v: %w", err, runtime.ErrInvalidArgument)
	}
	n, err := s.findNetwork(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	if n.Driver != "bridge" {
		return fmt.Errorf("container cannot be connected to or disconnected from the %s network: it is a mode chosen at create (--network %s): %w", n.Name, n.Name, runtime.ErrFailedPrecondition)
	}
	var ref string
	switch v := req.(type) {
	case *network.ConnectRequest:
		ref = v.Container
	case *network.DisconnectRequest:
		ref = v.Container
	}
	c, err := s.resolve(r.Context(), ref)
	if err != nil {
		return err
	}
	nc, ok := s.rt.(runtime.NetworkConnector)
	if !ok {
		return fmt.Errorf("network connect and disconnect: %w", runtime.ErrNotSupported)
	}
	if err := act(r.Context(), nc, c, n.Name); err != nil {
		return err
	}
	action := "connect"
	if _, ok := req.(*network.DisconnectRequest); ok {
		action = "disconnect"
	}
	s.emit(eventNetwork, action, n.Name, map[string]string{"name": n.Name, "type": "bridge", "container": dockerID(c)})
	w.WriteHeader(http.StatusOK)
	return nil
}

// dockerNetwork is a network as docker reports it, without its containers.
func dockerNetwork(n api.Network) network.Inspect {
	out := network.Inspect{Network: network.Network{
		Name: n.Name, ID: networkID(n.Name), Created: n.Created, Scope: "local", Driver: "bridge", EnableIPv4: true,
		IPAM:    network.IPAM{Driver: "default", Options: map[string]string{}, Config: []network.IPAMConfig{{Subnet: n.Subnet, Gateway: n.Gateway}}},
		Options: map[string]string{}, Labels: n.Labels, Attachable: true,
	}, Containers: map[string]network.EndpointResource{}}
	if out.Labels == nil {
		out.Labels = map[string]string{}
	}
	if n.Default {
		// docker's own default network reports its bridge this way.
		out.Options["com.docker.network.bridge.name"] = n.Bridge
		out.Options["com.docker.network.bridge.default_bridge"] = "true"
	}
	return out
}

// modeNetwork is host or none as docker reports them.
func modeNetwork(name, driver string) network.Inspect {
	return network.Inspect{Network: network.Network{
		Name: name, ID: networkID(name), Scope: "local", Driver: driver, EnableIPv4: true,
		IPAM:    network.IPAM{Driver: "default", Options: map[string]string{}, Config: []network.IPAMConfig{}},
		Options: map[string]string{}, Labels: map[string]string{},
	}, Containers: map[string]network.EndpointResource{}}
}

// allNetworks lists the node's networks and the two modes, as docker
// lists its networks.
func (s *Server) allNetworks(ctx context.Context) ([]network.Inspect, error) {
	var out []network.Inspect
	if s.opts.networks != nil {
		list, err := s.opts.networks.Networks(ctx)
		if err != nil {
			return nil, err
		}
		for _, n := range list {
			out = append(out, dockerNetwork(n))
		}
	}
	for _, m := range modeNetworks {
		out = append(out, modeNetwork(m.name, m.driver))
	}
	return out, nil
}

// findNetwork finds a network by name, id or unique id prefix, as dockerd
// does.
func (s *Server) findNetwork(ctx context.Context, ref string) (network.Inspect, error) {
	all, err := s.allNetworks(ctx)
	if err != nil {
		return network.Inspect{}, err
	}
	var prefixed []network.Inspect
	for _, n := range all {
		if n.Name == ref || n.ID == ref {
			return n, nil
		}
		if ref != "" && strings.HasPrefix(n.ID, ref) {
			prefixed = append(prefixed, n)
		}
	}
	if len(prefixed) == 1 {
		return prefixed[0], nil
	}
	if len(prefixed) > 1 {
		return network.Inspect{}, fmt.Errorf("network %s is ambiguous (%d matches found on id prefix); give more of the id: %w", ref, len(prefixed), runtime.ErrInvalidArgument)
	}
	if s.opts.networks == nil {
		return network.Inspect{}, fmt.Errorf("network %s not found (%w): %w", ref, errNoNetworks, runtime.ErrNotFound)
	}
	return network.Inspect{}, fmt.Errorf("network %s not found: %w", ref, runtime.ErrNotFound)
}

func (s *Server) listNetworks(w http.ResponseWriter, r *http.Request) error {
	f, err := parseFilters(r)
	if err != nil {
		return err
	}
	all, err := s.allNetworks(r.Context())
	if err != nil {
		return err
	}
	out := []network.Summary{}
	for _, n := range all {
		ok, err := f.matchNetwork(n)
		if err != nil {
			return err
		}
		if ok {
			out = append(out, network.Summary{Network: n.Network})
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// matchNetwork reports whether n passes every filter; an unknown filter is
// an error, as dockerd's.
func (f filters) matchNetwork(n network.Inspect) (bool, error) {
	return f.match("name, id, label, driver, scope, type or dangling", func(key, v string) (bool, bool) {
		switch key {
		case "name":
			return strings.Contains(n.Name, v), true
		case "id":
			return strings.HasPrefix(n.ID, v), true
		case "label":
			return hasLabel(n.Labels, v), true
		case "driver":
			return n.Driver == v, true
		case "scope":
			return n.Scope == v, true
		case "type":
			builtin := n.Driver != "bridge" || n.Name == runtime.NetworkBridge
			return v == "builtin" && builtin || v == "custom" && !builtin, true
		case "dangling":
			// Whether a container uses it is not known from the list:
			// every network counts as in use.
			return v == "false" || v == "0", true
		}
		return false, false
	})
}

func (s *Server) inspectNetwork(w http.ResponseWriter, r *http.Request) error {
	n, err := s.findNetwork(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	ds, err := runtime.ListDetails(r.Context(), s.rt)
	if err != nil {
		return err
	}
	for _, d := range ds {
		c := d.Container
		if !running(c.State) && c.State.Status != runtime.StatusPending {
			continue // an exited container holds no address
		}
		if d.Network == nil || d.Network.Network != n.Name || !d.Network.Address.IsValid() {
			continue
		}
		ep := network.EndpointResource{Name: dockerName(c), EndpointID: networkID(n.Name + "/" + dockerID(c)), IPv4Address: d.Network.Address}
		var mac network.HardwareAddr
		if mac.UnmarshalText([]byte(d.Network.MAC)) == nil {
			ep.MacAddress = mac
		}
		n.Containers[dockerID(c)] = ep
	}
	writeJSON(w, http.StatusOK, n)
	return nil
}

func (s *Server) createNetwork(w http.ResponseWriter, r *http.Request) error {
	if s.opts.networks == nil {
		return errNoNetworks
	}
	var req network.CreateRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxNetworkBody)).Decode(&req); err != nil {
		return fmt.Errorf("network create request: %v: %w", err, runtime.ErrInvalidArgument)
	}
	if req.Name == "" {
		return fmt.Errorf("network create: a name is required: %w", runtime.ErrInvalidArgument)
	}
	if req.Driver != "" && req.Driver != "bridge" {
		return fmt.Errorf("network %s: driver %q: this node's networks are bridges; leave the driver out or write bridge: %w", req.Name, req.Driver, runtime.ErrNotSupported)
	}
	if req.Internal || req.EnableIPv6 != nil && *req.EnableIPv6 || req.ConfigOnly || req.ConfigFrom != nil || req.Ingress {
		return fmt.Errorf("network %s: internal, IPv6, config-only and ingress networks are not supported here: %w", req.Name, runtime.ErrNotSupported)
	}
	if len(req.Options) > 0 {
		keys := make([]string, 0, len(req.Options))
		for k := range req.Options {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		return fmt.Errorf("network %s: driver options (%s) are not supported here; leave -o out: %w", req.Name, strings.Join(keys, ", "), runtime.ErrNotSupported)
	}
	if _, err := s.findNetwork(r.Context(), req.Name); err == nil {
		return fmt.Errorf("network with name %s already exists: %w", req.Name, runtime.ErrAlreadyExists)
	}
	creq := api.NetworkCreateRequest{Name: req.Name, Labels: req.Labels}
	if req.IPAM != nil {
		if req.IPAM.Driver != "" && req.IPAM.Driver != "default" {
			return fmt.Errorf("network %s: IPAM driver %q: this node gives addresses itself; leave it out: %w", req.Name, req.IPAM.Driver, runtime.ErrNotSupported)
		}
		switch len(req.IPAM.Config) {
		case 0:
		case 1:
			c := req.IPAM.Config[0]
			if c.IPRange.IsValid() || len(c.AuxAddress) > 0 {
				return fmt.Errorf("network %s: --ip-range and --aux-address are not supported here: %w", req.Name, runtime.ErrNotSupported)
			}
			if c.Subnet.IsValid() {
				creq.Subnet = c.Subnet.String()
			}
			if c.Gateway.IsValid() {
				creq.Gateway = c.Gateway.String()
			}
		default:
			return fmt.Errorf("network %s: a network here has one subnet; give one --subnet: %w", req.Name, runtime.ErrNotSupported)
		}
	}
	n, err := s.opts.networks.CreateNetwork(r.Context(), creq)
	if err != nil {
		return err
	}
	s.emit(eventNetwork, "create", n.Name, map[string]string{"name": n.Name, "type": "bridge"})
	writeJSON(w, http.StatusCreated, network.CreateResponse{ID: networkID(n.Name), Warning: ""})
	return nil
}

// endpointOf is the container's endpoint on its network, as docker's
// container inspect and list report it.
func endpointOf(d runtime.Details) (string, *network.EndpointSettings) {
	n := d.Network
	if n == nil || n.Network == "" {
		return "", nil
	}
	ep := &network.EndpointSettings{NetworkID: networkID(n.Network), Gateway: n.Gateway, DNSNames: []string{dockerName(d.Container)}}
	if n.Address.IsValid() {
		ep.IPAddress, ep.IPPrefixLen = n.Address.Addr(), n.Address.Bits()
		ep.EndpointID = networkID(n.Network + "/" + dockerID(d.Container))
	}
	var mac network.HardwareAddr
	if err := mac.UnmarshalText([]byte(n.MAC)); err == nil {
		ep.MacAddress = mac
	}
	return n.Network, ep
}
