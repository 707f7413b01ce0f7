package main

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/switchyard/switchyard/network"
	"github.com/switchyard/switchyard/runtimes/runc"
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

// newNetworkTeardownCmd is the hidden `network-teardown`, a container's
// network exit hook: its shim runs it when the container exits, whether or
// not the agent is running, to release the container's address, ports and
// namespace (runc.TeardownNetwork).
func newNetworkTeardownCmd() *cobra.Command {
	var networks, bridge, subnet, dir string
	cmd := &cobra.Command{
		Use:    "network-teardown --networks DIR --dir CONTAINERDIR",
		Short:  "Tear down an exited container's network",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			p, err := netip.ParsePrefix(subnet)
			if err != nil {
				return fmt.Errorf("--bridge-subnet %q: %w", subnet, err)
			}
			m, err := network.Open(cmd.Context(), networks, network.WithoutSetup(), network.WithDefaultBridge(bridge, p))
			if err != nil {
				return err
			}
			return runc.TeardownNetwork(cmd.Context(), m, dir)
		},
	}
	cmd.Flags().StringVar(&networks, "networks", "", "the agent's networks directory")
	cmd.Flags().StringVar(&bridge, "bridge", network.DefaultBridge, "the default network's bridge")
	cmd.Flags().StringVar(&subnet, "bridge-subnet", network.DefaultSubnet().String(), "the default network's subnet")
	cmd.Flags().StringVar(&dir, "dir", "", "the container's state directory")
	return cmd
}
