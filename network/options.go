package network

import (
	"fmt"
	"log/slog"
	"net/netip"

	"github.com/switchyard/switchyard/runtime"
)

// Option configures a Manager made by Open.
type Option func(*options) error

type options struct {
	pluginDirs []string
	bridge     string
	subnet     netip.Prefix
	log        *slog.Logger
	noDNS      bool
	noSetup    bool
}

// DefaultPluginDirs are where the CNI plugins are looked for: Debian's
// containernetworking-plugins, then the usual upstream place.
func DefaultPluginDirs() []string { return []string{"/usr/lib/cni", "/opt/cni/bin"} }

// DefaultBridge and DefaultSubnet are the default network's bridge device
// and subnet: a name of switchyard's own and a private range that is
// neither docker's (172.17.0.0/16) nor podman's (10.88.0.0/16).
const DefaultBridge = "sy0"

// DefaultSubnet is the default network's subnet (see DefaultBridge).
func DefaultSubnet() netip.Prefix { return netip.MustParsePrefix("10.90.0.0/16") }

func makeOptions(opts []Option) (options, error) {
	o := options{pluginDirs: DefaultPluginDirs(), bridge: DefaultBridge, subnet: DefaultSubnet(), log: slog.Default()}
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return o, err
		}
	}
	return o, nil
}

// WithPluginDirs sets the directories the CNI plugins are looked for in.
func WithPluginDirs(dirs ...string) Option {
	return func(o *options) error {
		if len(dirs) == 0 {
			return fmt.Errorf("CNI plugin directories: none given: %w", runtime.ErrInvalidArgument)
		}
		o.pluginDirs = dirs
		return nil
	}
}

// WithDefaultBridge sets the default network's bridge device and subnet,
// used when the network is first made (as dockerd's --bridge and --bip).
func WithDefaultBridge(bridge string, subnet netip.Prefix) Option {
	return func(o *options) error {
		if bridge == "" || len(bridge) > 15 {
			return fmt.Errorf("bridge name %q: want 1 to 15 characters: %w", bridge, runtime.ErrInvalidArgument)
		}
		if !subnet.IsValid() {
			return fmt.Errorf("default subnet: none given: %w", runtime.ErrInvalidArgument)
		}
		o.bridge, o.subnet = bridge, subnet
		return nil
	}
}

// WithLogger sets the logger. The default is slog.Default().
func WithLogger(l *slog.Logger) Option {
	return func(o *options) error {
		if l == nil {
			return fmt.Errorf("logger: nil: %w", runtime.ErrInvalidArgument)
		}
		o.log = l
		return nil
	}
}

// WithoutDNS opens the networks without their DNS servers: for a tool that
// only manages networks (removes them, say) beside or after an agent.
func WithoutDNS() Option {
	return func(o *options) error { o.noDNS = true; return nil }
}

// WithoutSetup opens the networks as they are, for a short-lived process
// that only detaches (a container's exit hook): no default network is
// made, no iptables rule is checked, no DNS server started.
func WithoutSetup() Option {
	return func(o *options) error { o.noSetup, o.noDNS = true, true; return nil }
}
