// Command hello-wasm is the WebAssembly half of the demo: a Go program built
// for wasip1/wasm that greets, shows its arguments and environment, and
// exits with the code given by EXIT_CODE (default 0).
package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
)

func main() {
	name := os.Getenv("NAME")
	if name == "" {
		name = "world"
	}
	fmt.Printf("hello, %s, from %s/%s\n", name, runtime.GOOS, runtime.GOARCH)
	if len(os.Args) > 1 {
		fmt.Printf("args: %q\n", os.Args[1:])
	}
	if code, err := strconv.Atoi(os.Getenv("EXIT_CODE")); err == nil {
		os.Exit(code)
	}
}
