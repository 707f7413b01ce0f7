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
	goruntime "runtime"
	"syscall"
)

func main() {
	// The CLI waits on its daemon and copies streams: one processor is
	// all it uses, and a second only has the Go runtime start and wake
	// threads for it (thread creations, futex wake-ups, cross-CPU
	// wake-ups of an idle core).
	goruntime.GOMAXPROCS(1)
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
