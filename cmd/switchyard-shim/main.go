// Command switchyard-shim supervises one run of one container for the runc
// runtime: it runs `runc create`, reports on file descriptor 3, collects
// the container's output into its log, reaps its init, records the exit and
// runs `runc delete`. The runc runtime starts it, once per run, from the
// directory of the switchyard binary; `switchyard shim` serves the same
// flags when it is not installed.
//
// It is a binary of its own, not switchyard re-executed, because every
// container pays for its start and keeps it resident for its whole life:
// it links only package shim and what that needs.
package main

import (
	"os"

	"github.com/switchyard/switchyard/runtimes/runc/shim"
)

func main() {
	os.Exit(shim.Main(os.Args[1:]))
}
