// Command switchyard is the switchyard node agent and its CLI: it runs every
// workload on the runtime that can run it (runc for Linux containers, wazero
// for WebAssembly modules, another agent for the rest).
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
	err := newRootCmd().ExecuteContext(ctx)
	stop()
	if err != nil {
		// A workload's own exit code (run, exec) needs no message.
		var ee *exitError
		if !errors.As(err, &ee) || ee.err != nil {
			fmt.Fprintln(os.Stderr, "switchyard:", err)
		}
		os.Exit(exitCode(err))
	}
}
