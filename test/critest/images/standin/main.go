// Command standin is the one program inside critest's stand-in images that
// busybox cannot play. It is built with CGO_ENABLED=0 for linux and copied
// into each image under the name of what it stands in for; that name
// (argv[0]) picks its part:
//
//	nginx             e2e-test-images/nginx:1.14-2 and hostnet-nginx: an HTTP
//	                  server (default :80, -listen ADDR) of -root's files, its
//	                  pid in /var/run/nginx.pid, and "nginx: master process
//	                  nginx -g daemon off;" as its command line, as critest's
//	                  PID-namespace specs look for
//	httpd-foreground  e2e-test-images/httpd:2.4.39-4: an HTTP server on :80 of
//	                  /usr/local/apache2/htdocs that logs a line naming httpd
//	pause             pause:3.9: waits for SIGINT or SIGTERM, reaping children
//	nnp               e2e-test-images/nonewprivs:1.3 (installed setuid root):
//	                  prints "Effective uid: N" and exits
//
// Each server exits 0 on SIGTERM and SIGINT, nginx on SIGQUIT too and
// httpd on SIGWINCH, their images' other stop signals.
package main

import (
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// nginxTitle is the command line nginx's master process shows in
// /proc/PID/cmdline, which critest's ContainerPID and PodPID specs grep for.
const nginxTitle = "nginx: master process nginx -g daemon off;"

func main() {
	name := filepath.Base(os.Args[0])
	var err error
	switch {
	case strings.HasPrefix(name, "nginx"):
		err = nginx(os.Args[1:])
	case strings.HasPrefix(name, "httpd"):
		// httpd's image stops it with SIGWINCH (graceful stop).
		err = serve("httpd", ":80", "/usr/local/apache2/htdocs", syscall.SIGWINCH)
	case name == "pause":
		pause()
	case name == "nnp":
		fmt.Printf("Effective uid: %d\n", os.Geteuid())
	default:
		err = fmt.Errorf("run me as nginx, httpd-foreground, pause or nnp, not %q", name)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		os.Exit(1)
	}
}

// nginx runs the nginx stand-in. Started under its own name, it executes
// itself again with nginx's master-process title as argv[0]; the path it
// executes keeps the name, so comm (what pidof matches) stays "nginx".
func nginx(args []string) error {
	if os.Args[0] != nginxTitle {
		exe, err := os.Executable()
		if err != nil {
			return err
		}
		return syscall.Exec(exe, append([]string{nginxTitle}, args...), os.Environ())
	}
	fs := flag.NewFlagSet("nginx", flag.ContinueOnError)
	fs.String("g", "", "nginx directives (ignored; the image passes 'daemon off;')")
	listen := fs.String("listen", ":80", "address to serve on")
	root := fs.String("root", "/usr/share/nginx/html", "directory served")
	pidFile := fs.String("pidfile", "/var/run/nginx.pid", "file the pid is written to")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := os.WriteFile(*pidFile, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
		return err
	}
	return serve("nginx", *listen, *root, syscall.SIGQUIT)
}

// serve serves root's files on addr until SIGTERM, SIGINT or stop, logging
// one line to stderr once it listens.
func serve(name, addr, root string, stop os.Signal) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "%s (critest stand-in): serving %s on %s\n", name, root, ln.Addr())
	errc := make(chan error, 1)
	go func() { errc <- http.Serve(ln, http.FileServer(http.Dir(root))) }()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT, stop)
	select {
	case s := <-sig:
		fmt.Fprintf(os.Stderr, "%s (critest stand-in): %v, exiting\n", name, s)
		return nil
	case err := <-errc:
		return err
	}
}

// pause waits for SIGINT or SIGTERM and exits 0, reaping any child that
// exits meanwhile (it may be PID 1 of a shared PID namespace).
func pause() {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT, syscall.SIGCHLD)
	for s := range sig {
		if s != syscall.SIGCHLD {
			return
		}
		for {
			pid, err := syscall.Wait4(-1, nil, syscall.WNOHANG, nil)
			if pid <= 0 || err != nil {
				break
			}
		}
	}
}
