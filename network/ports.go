package network

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	goruntime "runtime"
	"strconv"
	"strings"
	"syscall"

	"github.com/switchyard/switchyard/runtime"
)

// HoldPorts binds the host side of each published port, as nerdctl and
// podman do, so that a port another process holds is an error now, naming
// who holds it, and no one takes it while the container has it. It returns
// the sockets (to keep open for the container's life: the runc runtime
// hands them to the container's shim) and the ports with the free host
// ports chosen. On error nothing is held.
func HoldPorts(ports []runtime.PortMapping) (held []*os.File, resolved []runtime.PortMapping, err error) {
	defer func() {
		if err != nil {
			for _, f := range held {
				f.Close()
			}
			held, resolved = nil, nil
		}
	}()
	for _, p := range ports {
		f, port, err := holdPort(p)
		if err != nil {
			return held, resolved, err
		}
		held = append(held, f)
		p.HostPort = port
		resolved = append(resolved, p)
	}
	return held, resolved, nil
}

// holdPort binds p's host address and port (a listening socket for tcp)
// and returns the socket's file and port.
func holdPort(p runtime.PortMapping) (*os.File, uint16, error) {
	ip := netip.IPv4Unspecified()
	if p.HostIP.IsValid() {
		ip = p.HostIP
	}
	addr := netip.AddrPortFrom(ip, p.HostPort).String()
	var f *os.File
	var bound net.Addr
	switch p.Proto() {
	case "udp":
		// IPv4 alone: the networks are IPv4, and a dual-stack socket
		// would take connections to [::1] that portmap never forwards.
		c, err := net.ListenPacket("udp4", addr)
		if err != nil {
			return nil, 0, portError(p, err)
		}
		defer c.Close()
		bound = c.LocalAddr()
		if f, err = c.(*net.UDPConn).File(); err != nil {
			return nil, 0, err
		}
	default:
		ln, err := net.Listen("tcp4", addr)
		if err != nil {
			return nil, 0, portError(p, err)
		}
		defer ln.Close()
		bound = ln.Addr()
		if f, err = ln.(*net.TCPListener).File(); err != nil {
			return nil, 0, err
		}
	}
	ap, err := netip.ParseAddrPort(bound.String())
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	return f, ap.Port(), nil
}

// portError says why p's host port cannot be had, and who holds it.
func portError(p runtime.PortMapping, err error) error {
	if errors.Is(err, syscall.EADDRINUSE) {
		who := portHolder(p.HostPort, p.Proto())
		if who != "" {
			who = " by " + who
		}
		return fmt.Errorf("port %s: host port %d/%s is in use%s; publish another host port (or none, for a free one): %w",
			p, p.HostPort, p.Proto(), who, runtime.ErrAlreadyExists)
	}
	if errors.Is(err, syscall.EADDRNOTAVAIL) {
		return fmt.Errorf("port %s: %s is not an address of this host: %w", p, p.HostIP, runtime.ErrInvalidArgument)
	}
	return fmt.Errorf("port %s: %w", p, err)
}

// portHolder names the process that holds a local port ("pid 123
// (nginx)"), from the kernel's socket tables and the processes' open
// files; "" when it cannot tell.
func portHolder(port uint16, proto string) string {
	inodes := map[string]bool{}
	// This thread's tables, which are the host's: the process's may be
	// another namespace's if its main thread was ever moved.
	goruntime.LockOSThread()
	defer goruntime.UnlockOSThread()
	for _, table := range []string{"/proc/thread-self/net/" + proto, "/proc/thread-self/net/" + proto + "6"} {
		f, err := os.Open(table)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		sc.Scan() // the header
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			if len(fields) < 10 {
				continue
			}
			_, hexPort, ok := strings.Cut(fields[1], ":")
			n, err := strconv.ParseUint(hexPort, 16, 16)
			if !ok || err != nil || uint16(n) != port {
				continue
			}
			// A TCP socket that holds a port is listening (0A) or bound;
			// a connection's local port is not what is in the way.
			if proto == "tcp" && fields[3] != "0A" && fields[3] != "07" {
				continue
			}
			inodes[fields[9]] = true
		}
		f.Close()
	}
	if len(inodes) == 0 {
		return ""
	}
	procs, _ := os.ReadDir("/proc")
	for _, pe := range procs {
		pid, err := strconv.Atoi(pe.Name())
		if err != nil {
			continue
		}
		fds, _ := os.ReadDir(filepath.Join("/proc", pe.Name(), "fd"))
		for _, fd := range fds {
			target, err := os.Readlink(filepath.Join("/proc", pe.Name(), "fd", fd.Name()))
			if err != nil || !strings.HasPrefix(target, "socket:[") {
				continue
			}
			if inodes[strings.TrimSuffix(strings.TrimPrefix(target, "socket:["), "]")] {
				comm, _ := os.ReadFile(filepath.Join("/proc", pe.Name(), "comm"))
				return fmt.Sprintf("pid %d (%s)", pid, strings.TrimSpace(string(comm)))
			}
		}
	}
	return ""
}
