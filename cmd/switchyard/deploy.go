package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/switchyard/switchyard/api"
	"github.com/switchyard/switchyard/spec"
)

func newUpCmd(o *rootOptions) *cobra.Command {
	var file string
	cmd := &cobra.Command{
		Use:   "up -f FILE",
		Short: "Deploy a deployment spec, or converge a running deployment to it",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			d, err := spec.ParseFile(file)
			if err != nil {
				return err
			}
			printWarnings(cmd.ErrOrStderr(), file, d)
			c, err := o.client()
			if err != nil {
				return err
			}
			res, err := c.Up(cmd.Context(), d)
			if err != nil {
				return err
			}
			printResult(cmd.OutOrStdout(), res)
			return nil
		},
	}
	cmd.Flags().StringVarP(&file, "file", "f", "", "deployment spec (YAML)")
	_ = cmd.MarkFlagRequired("file")
	return cmd
}

func newDownCmd(o *rootOptions) *cobra.Command {
	var file string
	cmd := &cobra.Command{
		Use:   "down -f FILE | down NAME",
		Short: "Stop and remove what `up` deployed",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var name string
			switch {
			case file != "" && len(args) == 0:
				d, err := spec.ParseFile(file)
				if err != nil {
					return err
				}
				name = d.Name
			case file == "" && len(args) == 1:
				name = args[0]
			default:
				return fmt.Errorf("give either -f FILE or a deployment name")
			}
			c, err := o.client()
			if err != nil {
				return err
			}
			res, err := c.Down(cmd.Context(), name)
			if err != nil {
				return err
			}
			printResult(cmd.OutOrStdout(), res)
			return nil
		},
	}
	cmd.Flags().StringVarP(&file, "file", "f", "", "deployment spec (YAML)")
	return cmd
}

// printResult lists what up or down changed, one replica a line.
func printResult(w io.Writer, res api.DeployResult) {
	for _, wait := range res.Waits {
		fmt.Fprintf(w, "waited    for %s\n", wait)
	}
	for _, group := range []struct {
		verb string
		ids  []string
	}{{"created", res.Created}, {"replaced", res.Replaced}, {"removed", res.Removed}, {"unchanged", res.Unchanged}} {
		for _, id := range group.ids {
			fmt.Fprintf(w, "%-9s %s\n", group.verb, id)
		}
	}
	if len(res.Created)+len(res.Replaced)+len(res.Removed) == 0 {
		fmt.Fprintf(w, "deployment %s: nothing to change\n", res.Deployment)
	}
}
