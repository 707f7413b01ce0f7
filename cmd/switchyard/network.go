package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/switchyard/switchyard/api"
)

func newNetworkCmd(o *rootOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "network",
		Short: "Manage the node's networks",
		Long: `Manage the networks containers join. Every node has the default network,
bridge; run and create join it unless --network names another, none or host.`,
	}
	cmd.AddCommand(newNetworkCreateCmd(o), newNetworkLsCmd(o), newNetworkInspectCmd(o), newNetworkRmCmd(o))
	return cmd
}

func newNetworkCreateCmd(o *rootOptions) *cobra.Command {
	var req api.NetworkCreateRequest
	cmd := &cobra.Command{
		Use:   "create [--subnet CIDR] [--gateway IP] NAME",
		Short: "Create a network",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			req.Name = args[0]
			c, err := o.client()
			if err != nil {
				return err
			}
			n, err := c.CreateNetwork(cmd.Context(), req)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: %s, gateway %s, bridge %s\n", n.Name, n.Subnet, n.Gateway, n.Bridge)
			return nil
		},
	}
	cmd.Flags().StringVar(&req.Subnet, "subnet", "", "the network's subnet, e.g. 10.91.3.0/24 (default: a free 10.91.N.0/24)")
	cmd.Flags().StringVar(&req.Gateway, "gateway", "", "the gateway's address (default: the subnet's first)")
	return cmd
}

func newNetworkLsCmd(o *rootOptions) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:     "ls [--format json]",
		Aliases: []string{"list"},
		Short:   "List the networks",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkFormat(format); err != nil {
				return err
			}
			c, err := o.client()
			if err != nil {
				return err
			}
			list, err := c.Networks(cmd.Context())
			if err != nil {
				return err
			}
			if format == "json" {
				return writeJSON(cmd.OutOrStdout(), list)
			}
			tw := newTable(cmd.OutOrStdout())
			fmt.Fprintln(tw, "NAME\tSUBNET\tGATEWAY\tBRIDGE\tCONTAINERS")
			for _, n := range list {
				name := n.Name
				if n.Default {
					name += " (default)"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\n", name, n.Subnet, n.Gateway, n.Bridge, n.Containers)
			}
			return tw.Flush()
		},
	}
	formatFlag(cmd, &format)
	return cmd
}

func newNetworkInspectCmd(o *rootOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "inspect NAME...",
		Short: "Show networks as JSON",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := o.client()
			if err != nil {
				return err
			}
			var out []api.Network
			var errs []error
			for _, name := range args {
				n, err := c.Network(cmd.Context(), name)
				if err != nil {
					errs = append(errs, err)
					continue
				}
				out = append(out, n)
			}
			if len(out) > 0 {
				if err := writeJSON(cmd.OutOrStdout(), out); err != nil {
					return err
				}
			}
			return errors.Join(errs...)
		},
	}
}

func newNetworkRmCmd(o *rootOptions) *cobra.Command {
	return &cobra.Command{
		Use:     "rm NAME...",
		Aliases: []string{"remove"},
		Short:   "Remove networks no container uses",
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := o.client()
			if err != nil {
				return err
			}
			var errs []error
			for _, name := range args {
				if err := c.RemoveNetwork(cmd.Context(), name); err != nil {
					errs = append(errs, err)
					continue
				}
				fmt.Fprintln(cmd.OutOrStdout(), name)
			}
			return errors.Join(errs...)
		},
	}
}
