package main

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/switchyard/switchyard/network"
)

// newRemoveNetworksCmd is the hidden `remove-networks`: it removes every
// network an agent made under a root (bridges, iptables rules, IPAM
// state), for demos, tests and uninstalls. The agent must be stopped and
// its containers removed first.
func newRemoveNetworksCmd() *cobra.Command {
	var root, bridge, subnet string
	cmd := &cobra.Command{
		Use:    "remove-networks --root DIR",
		Short:  "Remove every network of a stopped agent's root",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if _, err := os.Stat(filepath.Join(root, "networks")); errors.Is(err, os.ErrNotExist) {
				return nil // no networks were made there
			}
			p, err := netip.ParsePrefix(subnet)
			if err != nil {
				return fmt.Errorf("--bridge-subnet %q: %w", subnet, err)
			}
			m, err := network.Open(cmd.Context(), filepath.Join(root, "networks"), network.WithoutDNS(), network.WithDefaultBridge(bridge, p))
			if err != nil {
				return err
			}
			return m.RemoveAll(cmd.Context())
		},
	}
	cmd.Flags().StringVar(&root, "root", "/var/lib/switchyard", "the agent's state directory")
	cmd.Flags().StringVar(&bridge, "bridge", network.DefaultBridge, "the default network's bridge, as the agent had it")
	cmd.Flags().StringVar(&subnet, "bridge-subnet", network.DefaultSubnet().String(), "the default network's subnet, as the agent had it")
	return cmd
}
