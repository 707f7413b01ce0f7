// Command switchyard-daemon is the switchyard agent: `switchyard daemon`
// runs it (installed beside switchyard), so that the CLI, run once per
// command, links and initialises only what a client needs. Its hidden
// wasm-host and shim commands are the entry points the agent re-executes
// itself with.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	root := newDaemonCmd()
	root.Use = "switchyard daemon"
	root.SilenceUsage, root.SilenceErrors = true, true
	root.AddCommand(newWasmHostCmd(), newShimCmd(), newRemoveNetworksCmd(), newNetworkTeardownCmd())
	err := root.ExecuteContext(ctx)
	stop()
	if err != nil {
		var ee *exitError
		if !errors.As(err, &ee) || ee.err != nil {
			fmt.Fprintln(os.Stderr, "switchyard daemon:", err)
		}
		code := 1
		if errors.As(err, &ee) {
			code = ee.code
		}
		os.Exit(code)
	}
}

// exitError ends the process with code (a shim's own exit code); err, when
// set, is printed first.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err != nil {
		return e.err.Error()
	}
	return fmt.Sprintf("exit status %d", e.code)
}

func (e *exitError) Unwrap() error { return e.err }
