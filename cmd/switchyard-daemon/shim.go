package main

import (
	"github.com/spf13/cobra"

	"github.com/switchyard/switchyard/runtimes/runc/shim"
)

// newShimCmd is the hidden entry point of a container's shim when the small
// switchyard-shim binary is not installed beside this one: the runc runtime
// then re-executes this binary with it, in a session of its own, once per
// run of a container. Its flags are the shim's own (package shim).
func newShimCmd() *cobra.Command {
	return &cobra.Command{
		Use:                "shim --dir DIR --id ID [flags]",
		Short:              "Supervise one container (started by the runc runtime)",
		Hidden:             true,
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			if code := shim.Main(args); code != 0 {
				return &exitError{code: code}
			}
			return nil
		},
	}
}
