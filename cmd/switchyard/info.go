package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

func newInfoCmd(o *rootOptions) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "info",
		Short: "Show the daemon's runtimes in preference order, their platforms and health",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkFormat(format); err != nil {
				return err
			}
			c, err := o.client()
			if err != nil {
				return err
			}
			list, err := c.Runtimes(cmd.Context())
			if err != nil {
				return err
			}
			if format == "json" {
				return writeJSON(cmd.OutOrStdout(), list)
			}
			tw := newTable(cmd.OutOrStdout())
			fmt.Fprintln(tw, "RUNTIME\tPLATFORMS\tHEALTH\tCONTAINERS")
			for _, rt := range list {
				health := "ok"
				if !rt.Healthy {
					health = "unhealthy: " + rt.Error
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%d\n", rt.Name, strings.Join(rt.Platforms, ","), health, rt.Containers)
			}
			return tw.Flush()
		},
	}
	formatFlag(cmd, &format)
	return cmd
}
