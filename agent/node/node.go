// Package node assembles a switchyard node from its configuration: the
// root lock, the node's image store and image service, the local runtimes
// (runc, wasm), the delegates (remote runtimes over the API), the API
// listeners, and the agent over all of them. Whatever fails part-way, what
// was made so far is released; Close releases everything. The daemon
// command only parses flags into a Config.
package node

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/switchyard/switchyard/agent"
	"github.com/switchyard/switchyard/api"
	"github.com/switchyard/switchyard/api/client"
	"github.com/switchyard/switchyard/api/server"
	"github.com/switchyard/switchyard/cri"
	"github.com/switchyard/switchyard/images"
	"github.com/switchyard/switchyard/network"
	"github.com/switchyard/switchyard/registry"
	"github.com/switchyard/switchyard/runtime"
	"github.com/switchyard/switchyard/runtimes/remote"
	"github.com/switchyard/switchyard/runtimes/runc"
	"github.com/switchyard/switchyard/runtimes/runc/shim"
	"github.com/switchyard/switchyard/runtimes/wasm"
	"github.com/switchyard/switchyard/secrets"
	"github.com/switchyard/switchyard/volumes"
)

// Config is everything a node is made of.
type Config struct {
	// Agent is the agent's configuration: root, socket, the runtimes in
	// preference order (runc, wasm, or a delegate's name), logging.
	Agent agent.Config
	// RuncBinary is the OCI runtime binary with runc's command line.
	RuncBinary string
	// PIDsLimit is the default limit on processes per Linux container.
	PIDsLimit int64
	// LogMaxSize and LogMaxFiles rotate each container's log (0: the
	// defaults, 20 MiB and 5 files).
	LogMaxSize  int64
	LogMaxFiles int
	// InsecureRegistries may be reached over plain HTTP (loopback always may).
	InsecureRegistries []string
	// RegistryMirrors maps a registry host to its mirrors, tried in order
	// before it by every pull and inspection of the node (registry.WithMirrors;
	// registry.ParseMirror reads the daemon's --registry-mirror into it).
	RegistryMirrors map[string][]string
	// Delegates are the agents this node hands platforms to, in order.
	Delegates []Delegate
	// DelegateTLS and DelegateTokenFile are how this node authenticates to
	// its delegates.
	DelegateTLS       TLSFiles
	DelegateTokenFile string
	// Listen, when its Address is set, serves the API on TCP too.
	Listen Listen
	// Version is what the API reports.
	Version string
	// Networks configures the node's networks; see NetworkConfig.
	Networks NetworkConfig
	// StepHook, when set, is told of each step boundary of a create and a
	// removal in the local runtimes, as "runc:create:dir" (runc.CreateSteps
	// and the like): tests stop the agent there.
	StepHook func(step string)
}

// NetworkConfig is the node's networking: the default network's bridge and
// subnet (the network package's defaults when zero), or none at all.
type NetworkConfig struct {
	// Disabled gives containers loopback alone (or the host's network),
	// as on a node without the CNI plugins.
	Disabled bool
	// Bridge is the default network's bridge device (network.DefaultBridge
	// when empty).
	Bridge string
	// Subnet is the default network's subnet (network.DefaultSubnet when
	// zero).
	Subnet netip.Prefix
}

// stepHook is cfg's StepHook for the runtime named name, or nil.
func (cfg Config) stepHook(name string) func(string) {
	if cfg.StepHook == nil {
		return nil
	}
	return func(step string) { cfg.StepHook(name + ":" + step) }
}

// Delegate is another agent this node hands workloads to.
type Delegate struct {
	// Name names it among the runtimes (remote:NAME).
	Name string
	// Address is unix:///path or https://host:port.
	Address string
	// Platforms are claimed while the delegate cannot be asked; empty
	// means ask it.
	Platforms []ocispec.Platform
}

// TLSFiles name PEM files: a CA, a certificate and its key.
type TLSFiles struct{ CA, Cert, Key string }

// Listen is the TCP listener of the API.
type Listen struct {
	// Address is tcp://HOST:PORT; empty for none.
	Address string
	// Cert and Key are the server's TLS certificate; ClientCA, when set,
	// requires client certificates it signed.
	Cert, Key, ClientCA string
	// TokenFile holds the bearer token clients must send.
	TokenFile string
	// Insecure allows plain TCP without authentication on loopback.
	Insecure bool
}

// Node is an assembled node.
type Node struct {
	// Agent is the agent over the node's runtimes.
	Agent *agent.Agent
	// closers release what Start made, last made first.
	closers []func() error
}

// Start assembles the node described by cfg, logging to log. On error
// nothing is left held: not the root lock, not the store, not a delegate's
// connections.
func Start(ctx context.Context, cfg Config, log *slog.Logger) (_ *Node, err error) {
	if err := cfg.Agent.Validate(); err != nil {
		return nil, err
	}
	n := &Node{}
	defer func() {
		if err != nil {
			_ = n.Close()
		}
	}()
	// The root lock comes first: a second daemon must fail with a message
	// about the daemon, not about some file under the root.
	lock, err := agent.LockRoot(cfg.Agent.Root)
	if err != nil {
		return nil, err
	}
	n.closers = append(n.closers, lock.Release)
	store, err := images.Open(filepath.Join(cfg.Agent.Root, "images"), images.WithLogger(log))
	if err != nil {
		return nil, err
	}
	n.closers = append(n.closers, store.Close)
	nets := openNetworks(ctx, cfg, log)
	// The node's secrets: resolved by the agent at each create, written by
	// runc only under the store's own directory.
	keep, err := secrets.Open(filepath.Join(cfg.Agent.Root, "secrets"))
	if err != nil {
		return nil, err
	}
	if nets != nil {
		n.closers = append(n.closers, nets.Close)
	}
	vols, err := openVolumes(cfg.Agent.Root, log)
	if err != nil {
		return nil, err
	}
	local, localPlatforms, err := buildLocal(cfg, store, nets, vols, log)
	if r, ok := local["runc"].(*runc.Runtime); ok && nets != nil && err == nil {
		// Attachments of containers removed while no agent ran go now.
		// The pods' attachments are live too.
		if cerr := nets.Collect(ctx, append(r.AttachedKeys(), cri.AttachedKeys(cfg.Agent.Root)...)); cerr != nil {
			log.Warn("networks: collecting the attachments of removed containers", "err", cerr)
		}
	}
	for _, rt := range local {
		// wasm's connections to its host; the runtimes outlive no node.
		if c, ok := rt.(io.Closer); ok {
			n.closers = append(n.closers, c.Close)
		}
	}
	if err != nil {
		return nil, err
	}
	// The node's one image service: it pulls, under each reference, the
	// manifests of every platform the local runtimes serve.
	ropts := []registry.Option{registry.WithLogger(log), registry.WithInsecureRegistries(cfg.InsecureRegistries...),
		registry.WithMirrors(cfg.RegistryMirrors)}
	if len(localPlatforms) > 0 {
		ropts = append(ropts, registry.WithPlatforms(localPlatforms...))
	}
	imgs := registry.NewImageService(store, ropts...)
	delegates, err := buildDelegates(cfg, log)
	for _, d := range delegates {
		n.closers = append(n.closers, d.Close)
	}
	if err != nil {
		return nil, err
	}
	rts, err := order(cfg.Agent.Runtimes, local, delegates)
	if err != nil {
		return nil, err
	}
	aopts, ln, err := listenOptions(cfg.Listen)
	if err != nil {
		return nil, err
	}
	if ln != nil {
		n.closers = append(n.closers, func() error {
			if err := ln.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
				return err
			}
			return nil
		})
	}
	load := func(ctx context.Context, path string) ([]runtime.ImageInfo, error) {
		refs, err := store.LoadFile(ctx, path)
		if err != nil {
			return nil, err
		}
		infos := make([]runtime.ImageInfo, len(refs))
		for i, r := range refs {
			infos[i] = r.Info()
		}
		return infos, nil
	}
	aopts = append(aopts,
		agent.WithImageLoader(load),
		agent.WithRootLock(lock),
		agent.WithLogger(log),
		agent.WithInspector(imgs),
		agent.WithVersion(cfg.Version),
		agent.WithSecrets(keep),
		agent.WithLogins(logins{opts: ropts}),
		agent.WithVolumes(vols))
	if nets != nil {
		aopts = append(aopts, agent.WithNetworks(nets))
	}
	if exe, err := os.Executable(); err == nil {
		aopts = append(aopts, agent.WithCRIOptions(cri.WithPauseCommand(append(runc.ShimCommand(exe), shim.PauseArg)...)))
	}
	if len(local) > 0 {
		aopts = append(aopts, agent.WithImages(imgs))
	}
	a, err := agent.New(ctx, cfg.Agent, rts, aopts...)
	if err != nil {
		return nil, err
	}
	n.Agent = a
	n.closers = append(n.closers, a.Close)
	return n, nil
}

// Serve serves the API until ctx is done (see agent.Agent.Serve), then
// releases the node.
func (n *Node) Serve(ctx context.Context) error {
	err := n.Agent.Serve(ctx)
	return errors.Join(err, n.Close())
}

// Close releases everything Start made, last made first. It is safe to call
// more than once.
func (n *Node) Close() error {
	var errs []error
	for i := len(n.closers) - 1; i >= 0; i-- {
		errs = append(errs, n.closers[i]())
	}
	n.closers = nil
	return errors.Join(errs...)
}

// buildLocal makes the local runtimes cfg names (runc, wasm), and returns
// them with their platforms in preference order; the other names must be
// delegates. It returns those it made even with an error, for the caller
// to close.
func buildLocal(cfg Config, store *images.Store, nets *network.Manager, vols *volumes.Store, log *slog.Logger) (map[string]runtime.Containers, []ocispec.Platform, error) {
	local := map[string]runtime.Containers{}
	var plats []ocispec.Platform
	for _, name := range cfg.Agent.Runtimes {
		var rt runtime.Containers
		switch name {
		case "runc":
			bin := cfg.RuncBinary
			if bin == "" {
				bin = "runc"
			}
			ropts := []runc.Option{runc.WithRuncBinary(bin), runc.WithPIDsLimit(cfg.PIDsLimit), runc.WithLogger(log),
				runc.WithLogRotation(cfg.LogMaxSize, cfg.LogMaxFiles), runc.WithStepHook(cfg.stepHook("runc")),
				runc.WithSecretDir(filepath.Join(cfg.Agent.Root, "secrets", secrets.PrivateDir)), runc.WithNamedVolumes(vols.Dir())}
			if nets != nil {
				ropts = append(ropts, runc.WithNetworks(nets))
				// A container's network goes when it exits, even with no
				// agent running: its shim runs this binary's
				// network-teardown.
				if exe, err := os.Executable(); err == nil {
					bridge, subnet := network.DefaultBridge, network.DefaultSubnet()
					if cfg.Networks.Bridge != "" {
						bridge = cfg.Networks.Bridge
					}
					if cfg.Networks.Subnet.IsValid() {
						subnet = cfg.Networks.Subnet
					}
					ropts = append(ropts, runc.WithNetworkExitHook(exe, "network-teardown",
						"--networks", filepath.Join(cfg.Agent.Root, "networks"), "--bridge", bridge, "--bridge-subnet", subnet.String()))
				}
			}
			r, err := runc.New(filepath.Join(cfg.Agent.Root, "runc"), store, ropts...)
			if err != nil {
				return local, nil, fmt.Errorf("runtime runc: %w", err)
			}
			rt = r
		case "wasm":
			dir := filepath.Join(cfg.Agent.Root, "wasm")
			wopts := []wasm.Option{wasm.WithLogger(log), wasm.WithLogRotation(cfg.LogMaxSize, cfg.LogMaxFiles), wasm.WithStepHook(cfg.stepHook("wasm")),
				wasm.WithNamedVolumes(vols.Dir())}
			if nets != nil {
				wopts = append(wopts, wasm.WithPublisher(nets))
			}
			w, err := wasm.New(dir, wasm.StoreModules(store, filepath.Join(dir, "modules")), wopts...)
			if err != nil {
				return local, nil, fmt.Errorf("runtime wasm: %w", err)
			}
			rt = w
		default:
			continue
		}
		local[name] = rt
		plats = append(plats, rt.Platforms()...)
	}
	return local, plats, nil
}

// openVolumes opens the node's named volumes under root/volumes, shared by
// its local runtimes. Each runtime kept its own before (root/runc/volumes,
// root/wasm/volumes): what they hold moves here, so no data is left
// behind; a name both had keeps runc's, and wasm's stays where it was,
// with a warning.
func openVolumes(root string, log *slog.Logger) (*volumes.Store, error) {
	dir := filepath.Join(root, "volumes")
	for _, old := range []string{filepath.Join(root, "runc", "volumes"), filepath.Join(root, "wasm", "volumes")} {
		if fi, err := os.Lstat(old); err != nil || !fi.IsDir() {
			continue // none, or a link made before
		}
		ents, err := os.ReadDir(old)
		if err != nil {
			return nil, fmt.Errorf("volumes: %w", err)
		}
		if err := os.MkdirAll(dir, 0o711); err != nil {
			return nil, fmt.Errorf("volumes: %w", err)
		}
		for _, e := range ents {
			from, to := filepath.Join(old, e.Name()), filepath.Join(dir, e.Name())
			if _, err := os.Lstat(to); err == nil {
				log.Warn("volumes: a volume of this name is kept already; the older copy stays where it was", "volume", e.Name(), "kept", to, "left", from)
				continue
			}
			if err := os.Rename(from, to); err != nil {
				return nil, fmt.Errorf("volumes: move %s to %s: %w", from, to, err)
			}
		}
		// The bundles of containers made before point at the old place:
		// it becomes a link to the new one, once empty.
		if os.Remove(old) == nil {
			if err := os.Symlink(dir, old); err != nil {
				return nil, fmt.Errorf("volumes: %w", err)
			}
		}
	}
	return volumes.Open(dir)
}

// buildDelegates makes a remote runtime per delegate, in order. It returns
// those it made even with an error, for the caller to close.
func buildDelegates(cfg Config, log *slog.Logger) ([]*remote.Runtime, error) {
	if len(cfg.Delegates) == 0 {
		return nil, nil
	}
	var copts []client.Option
	if t := cfg.DelegateTLS; t.CA != "" || t.Cert != "" || t.Key != "" {
		tcfg, err := client.TLSConfig(t.CA, t.Cert, t.Key)
		if err != nil {
			return nil, fmt.Errorf("delegate TLS: %w", err)
		}
		copts = append(copts, client.WithTLSConfig(tcfg))
	}
	token, err := client.ReadTokenFile(cfg.DelegateTokenFile)
	if err != nil {
		return nil, fmt.Errorf("delegate token: %w", err)
	}
	if token != "" {
		copts = append(copts, client.WithToken(token))
	}
	var out []*remote.Runtime
	seen := map[string]bool{}
	for _, d := range cfg.Delegates {
		if d.Name == "" || d.Address == "" {
			return out, fmt.Errorf("delegate %q at %q: give a name and an address, such as wsl=unix:///run/wsl/switchyard.sock or peer=https://10.0.0.2:7443: %w", d.Name, d.Address, runtime.ErrInvalidArgument)
		}
		if seen[d.Name] {
			return out, fmt.Errorf("two delegates are named %s: %w", d.Name, runtime.ErrInvalidArgument)
		}
		seen[d.Name] = true
		ropts := []remote.Option{remote.WithLogger(log), remote.WithClientOptions(copts...)}
		if len(d.Platforms) > 0 {
			ropts = append(ropts, remote.WithPlatforms(d.Platforms...))
		}
		rt, err := remote.New(d.Name, d.Address, ropts...)
		if err != nil {
			return out, fmt.Errorf("delegate %s: %w", d.Name, err)
		}
		out = append(out, rt)
	}
	return out, nil
}

// order puts the runtimes in preference order: those names lists (a
// delegate by its name), in its order, then the other delegates in order.
func order(names []string, local map[string]runtime.Containers, delegates []*remote.Runtime) ([]runtime.Containers, error) {
	byName := map[string]runtime.Containers{}
	for n, rt := range local {
		byName[n] = rt
	}
	for _, d := range delegates {
		byName[strings.TrimPrefix(d.Name(), "remote:")] = d
	}
	var out []runtime.Containers
	used := map[string]bool{}
	for _, n := range names {
		rt, ok := byName[n]
		if !ok {
			return nil, fmt.Errorf("runtimes: unknown runtime %q (this node offers runc and wasm, and the delegates' names): %w", n, runtime.ErrInvalidArgument)
		}
		if used[n] {
			return nil, fmt.Errorf("runtimes: %s is named twice: %w", n, runtime.ErrInvalidArgument)
		}
		used[n] = true
		out = append(out, rt)
	}
	for _, d := range delegates {
		if n := strings.TrimPrefix(d.Name(), "remote:"); !used[n] {
			out = append(out, d)
		}
	}
	return out, nil
}

// listenOptions checks the TCP listener's security and returns the agent
// options that serve the API on it. Plain TCP without authentication is
// refused unless the address is loopback and Insecure is set.
func listenOptions(l Listen) ([]agent.Option, net.Listener, error) {
	if l.Address == "" {
		if l.Cert != "" || l.Key != "" || l.ClientCA != "" || l.TokenFile != "" {
			return nil, nil, fmt.Errorf("listen: a TLS certificate, client CA or token is given for no listen address; give the address tcp://HOST:PORT too: %w", runtime.ErrInvalidArgument)
		}
		return nil, nil, nil
	}
	addr, ok := strings.CutPrefix(l.Address, "tcp://")
	if !ok {
		return nil, nil, fmt.Errorf("listen %q: want tcp://HOST:PORT: %w", l.Address, runtime.ErrInvalidArgument)
	}
	var tlsCfg *tls.Config
	if l.Cert != "" || l.Key != "" {
		cfg, err := server.ServerTLSConfig(l.Cert, l.Key, l.ClientCA)
		if err != nil {
			return nil, nil, fmt.Errorf("listen: %w", err)
		}
		tlsCfg = cfg
	} else if l.ClientCA != "" {
		return nil, nil, fmt.Errorf("listen: a client CA needs the server's certificate and key: %w", runtime.ErrInvalidArgument)
	}
	token, err := client.ReadTokenFile(l.TokenFile)
	if err != nil {
		return nil, nil, fmt.Errorf("listen token: %w", err)
	}
	if err := server.CheckListen(addr, tlsCfg, token, l.Insecure); err != nil {
		return nil, nil, fmt.Errorf("listen: %w", err)
	}
	ln, err := server.ListenTCP(addr, tlsCfg)
	if err != nil {
		return nil, nil, fmt.Errorf("listen: %w", err)
	}
	opts := []agent.Option{agent.WithListener(ln)}
	if token != "" {
		opts = append(opts, agent.WithServerOptions(server.WithToken(token)))
	}
	if l.ClientCA != "" {
		opts = append(opts, agent.WithServerOptions(server.WithClientCertRequired()))
	}
	return opts, ln, nil
}

// openNetworks opens the node's networks under its root, or returns nil
// (containers then get loopback alone) when networking is disabled or
// cannot work here: no CNI plugins, no iptables. The log says which.
func openNetworks(ctx context.Context, cfg Config, log *slog.Logger) *network.Manager {
	// Networks are for the local Linux containers; a node of wasm and
	// delegates alone makes none.
	if cfg.Networks.Disabled || !slices.Contains(cfg.Agent.Runtimes, "runc") {
		return nil
	}
	if !slices.ContainsFunc(network.DefaultPluginDirs(), func(d string) bool {
		_, err := os.Stat(filepath.Join(d, "bridge"))
		return err == nil
	}) {
		log.Warn("no CNI plugins found: containers get loopback only; install containernetworking-plugins to give them networks",
			"looked in", network.DefaultPluginDirs())
		return nil
	}
	opts := []network.Option{network.WithLogger(log)}
	if cfg.Networks.Bridge != "" || cfg.Networks.Subnet.IsValid() {
		bridge, subnet := cfg.Networks.Bridge, cfg.Networks.Subnet
		if bridge == "" {
			bridge = network.DefaultBridge
		}
		if !subnet.IsValid() {
			subnet = network.DefaultSubnet()
		}
		opts = append(opts, network.WithDefaultBridge(bridge, subnet))
	}
	m, err := network.Open(ctx, filepath.Join(cfg.Agent.Root, "networks"), opts...)
	if err != nil {
		log.Warn("networks cannot be set up: containers get loopback only", "err", err)
		return nil
	}
	return m
}

// logins checks registry credentials with the node's registry options and
// keeps them in the docker config its pulls read.
type logins struct{ opts []registry.Option }

func (l logins) Login(ctx context.Context, req api.LoginRequest) error {
	return registry.Login(ctx, req.Server, runtime.RegistryAuth{Username: req.Username, Password: req.Password}, l.opts...)
}

func (l logins) Logout(_ context.Context, server string) error { return registry.Logout(server) }
