// Command hello-wasm-http is a web server built for wasip1/wasm: it serves
// on the listener switchyard's wasm host hands it for its published port
// (a WASI preview 1 module cannot open a socket of its own).
//
//	GOOS=wasip1 GOARCH=wasm go build -o hello-http.wasm ./examples/hello-wasm-http
//	switchyard run -d -p 8080:8080 --name hello-http IMAGE
//	curl http://127.0.0.1:8080/
//
// The host names the listener of container port P in
// SWITCHYARD_LISTEN_FD_P (and every listener in SWITCHYARD_LISTEN_FDS).
//
// Known cost: wazero's poll_oneoff reports a non-blocking socket ready at
// once, so while this server waits for connections the Go runtime spins
// on accept and keeps a core busy.
package main

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"syscall"
)

func main() {
	port := os.Getenv("PORT")
	if port == "" {
		port = "8080"
	}
	fd, err := strconv.Atoi(os.Getenv("SWITCHYARD_LISTEN_FD_" + port))
	if err != nil {
		fmt.Fprintf(os.Stderr, "no listener for port %s: publish it (-p HOSTPORT:%s); SWITCHYARD_LISTEN_FDS=%q\n", port, port, os.Getenv("SWITCHYARD_LISTEN_FDS"))
		os.Exit(2)
	}
	// Non-blocking, or one accept would stall the whole module.
	if err := syscall.SetNonblock(fd, true); err != nil {
		fmt.Fprintln(os.Stderr, "listener:", err)
		os.Exit(1)
	}
	ln, err := net.FileListener(os.NewFile(uintptr(fd), "listener"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "listener:", err)
		os.Exit(1)
	}
	fmt.Printf("serving on the host's listener (fd %d) from %s/%s\n", fd, runtime.GOOS, runtime.GOARCH)
	err = http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello from wasm, %s/%s, path %s\n", runtime.GOOS, runtime.GOARCH, r.URL.Path)
	}))
	fmt.Fprintln(os.Stderr, "serve:", err)
	os.Exit(1)
}
