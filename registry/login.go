package registry

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/docker/cli/cli/config"
	"github.com/docker/cli/cli/config/types"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/switchyard/switchyard/runtime"
)

// CheckLogin asks the registry at host (host[:port]) whether auth is good,
// as docker login does: it makes the registry's version check (GET /v2/)
// with the credentials, through the token exchange when the registry asks
// for one. It returns nil for good credentials (and for a registry that
// asks for none), an error wrapping ErrUnauthorized for refused ones, and
// the errors of InspectPlatforms for a registry that cannot be reached.
func CheckLogin(ctx context.Context, host string, auth runtime.RegistryAuth, opts ...Option) error {
	o, err := makeOptions(opts)
	if err != nil {
		return err
	}
	if host == "" || strings.ContainsAny(host, "/ ") {
		return fmt.Errorf("registry %q: want host[:port], like registry.example.com or 127.0.0.1:5000: %w", host, runtime.ErrInvalidArgument)
	}
	var nopts []name.Option
	if o.insecure[host] {
		nopts = append(nopts, name.Insecure)
	}
	reg, err := name.NewRegistry(host, nopts...)
	if err != nil {
		return fmt.Errorf("registry %q: %w: %w", host, runtime.ErrInvalidArgument, err)
	}
	what := "registry " + host
	base := &guardTransport{base: o.transport, o: &o, pings: &pingCache{entries: map[string]pingEntry{}}}
	a := authn.FromConfig(authn.AuthConfig{Username: auth.Username, Password: auth.Password, RegistryToken: auth.Token})
	rt, err := transport.NewWithContext(ctx, reg, a, base, nil)
	if err != nil {
		return translate(what, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, reg.Scheme()+"://"+reg.RegistryStr()+"/v2/", nil)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	resp, err := (&http.Client{Transport: rt}).Do(req)
	if err != nil {
		return translate(what, err)
	}
	defer resp.Body.Close()
	return translate(what, transport.CheckError(resp, http.StatusOK))
}

// DockerHub is the registry login means without one, as docker's.
const DockerHub = "https://index.docker.io/v1/"

// HostOf is the registry host of what a user gives login: host[:port], or
// a URL; Docker Hub's names are DockerHub.
func HostOf(server string) string {
	s := strings.TrimPrefix(strings.TrimPrefix(server, "https://"), "http://")
	s, _, _ = strings.Cut(s, "/")
	switch s {
	case "", "docker.io", "index.docker.io", "registry-1.docker.io":
		return DockerHub
	}
	return s
}

// Login checks auth with the registry server (CheckLogin) and stores it in
// the docker config that pulls read (DOCKER_CONFIG, else
// ~/.docker/config.json of this process's user), through the credential
// helper the config names, as docker login does.
func Login(ctx context.Context, server string, auth runtime.RegistryAuth, opts ...Option) error {
	key := HostOf(server)
	if auth.Username == "" || auth.Password == "" && auth.Token == "" {
		return fmt.Errorf("registry %s: give a user name and a password: %w", key, runtime.ErrInvalidArgument)
	}
	if key != DockerHub {
		if err := CheckLogin(ctx, key, auth, opts...); err != nil {
			return err
		}
	}
	cf, err := config.Load(config.Dir())
	if err != nil {
		return fmt.Errorf("registry %s: reading %s: %w", key, config.Dir(), err)
	}
	if err := cf.GetCredentialsStore(key).Store(types.AuthConfig{Username: auth.Username, Password: auth.Password, IdentityToken: auth.Token, ServerAddress: key}); err != nil {
		return fmt.Errorf("registry %s: storing the credentials: %w", key, err)
	}
	return nil
}

// Logout removes the stored credentials of server; none stored is an
// error wrapping runtime.ErrNotFound.
func Logout(server string) error {
	key := HostOf(server)
	cf, err := config.Load(config.Dir())
	if err != nil {
		return fmt.Errorf("registry %s: reading %s: %w", key, config.Dir(), err)
	}
	if _, ok := cf.GetAuthConfigs()[key]; !ok {
		return fmt.Errorf("registry %s: not logged in to it: %w", key, runtime.ErrNotFound)
	}
	if err := cf.GetCredentialsStore(key).Erase(key); err != nil {
		return fmt.Errorf("registry %s: %w", key, err)
	}
	return nil
}
