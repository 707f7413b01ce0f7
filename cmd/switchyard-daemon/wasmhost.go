package main

import (
	"log/slog"
	"os"

	"github.com/spf13/cobra"

	"github.com/switchyard/switchyard/runtimes/wasm/host"
)

// newWasmHostCmd is the hidden entry point of the shared wasm host: the wasm
// runtime re-executes this binary with it, in a session of its own, once
// per root.
func newWasmHostCmd() *cobra.Command {
	var root string
	cmd := &cobra.Command{
		Use:    "wasm-host --root DIR",
		Short:  "Run the shared WebAssembly host for a runtime root (started by the agent)",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log := slog.New(slog.NewTextHandler(os.Stderr, nil))
			return host.Serve(cmd.Context(), root, log)
		},
	}
	cmd.Flags().StringVar(&root, "root", "", "the wasm runtime's root directory")
	_ = cmd.MarkFlagRequired("root")
	return cmd
}
