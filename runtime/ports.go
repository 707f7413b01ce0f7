package runtime

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// PortMapping publishes a container's port on the host, as docker's -p.
type PortMapping struct {
	// HostIP is the host address to listen on; the zero Addr means every
	// address of the host.
	HostIP netip.Addr `json:"host_ip,omitzero"`
	// HostPort is the host's port; 0 asks for a free one, chosen at create
	// and reported by Inspect and List.
	HostPort uint16 `json:"host_port,omitempty"`
	// ContainerPort is the container's port.
	ContainerPort uint16 `json:"container_port"`
	// Protocol is "tcp" (also "") or "udp".
	Protocol string `json:"protocol,omitempty"`
}

// Proto is the mapping's protocol, "tcp" when unset.
func (p PortMapping) Proto() string {
	if p.Protocol == "" {
		return "tcp"
	}
	return p.Protocol
}

// String is the mapping as docker ps shows it: 127.0.0.1:8080->80/tcp,
// 0.0.0.0:8080->80/tcp for every address.
func (p PortMapping) String() string {
	ip := "0.0.0.0"
	if p.HostIP.IsValid() {
		ip = p.HostIP.String()
	}
	return fmt.Sprintf("%s->%d/%s", netip.AddrPortFrom(mustAddr(ip), p.HostPort), p.ContainerPort, p.Proto())
}

func mustAddr(s string) netip.Addr {
	a, _ := netip.ParseAddr(s)
	return a
}

// ParsePortMapping parses docker's -p forms: CONTAINERPORT (a free host
// port), HOSTPORT:CONTAINERPORT, IP:HOSTPORT:CONTAINERPORT and
// IP::CONTAINERPORT, each with an optional /tcp or /udp. The error wraps
// ErrInvalidArgument and says what to write.
func ParsePortMapping(s string) (PortMapping, error) {
	bad := func(why string) (PortMapping, error) {
		return PortMapping{}, fmt.Errorf("port %q: %s; write [IP:][HOSTPORT:]CONTAINERPORT[/tcp|/udp], such as 8080:80 or 127.0.0.1:8080:80/tcp: %w", s, why, ErrInvalidArgument)
	}
	var m PortMapping
	rest, proto, hasProto := strings.Cut(s, "/")
	if hasProto {
		if proto != "tcp" && proto != "udp" {
			return bad("the protocol must be tcp or udp")
		}
		m.Protocol = proto
	}
	var ip, host, ctr string
	// An IPv6 host address is written in brackets: [::1]:8080:80.
	if strings.HasPrefix(rest, "[") {
		end := strings.Index(rest, "]")
		if end < 0 || end+1 >= len(rest) || rest[end+1] != ':' {
			return bad("an IPv6 address needs its closing bracket and a port after it")
		}
		ip, rest = rest[1:end], rest[end+2:]
		var ok bool
		if host, ctr, ok = strings.Cut(rest, ":"); !ok {
			return bad("an address needs a host port (or none, as IP::PORT) and a container port")
		}
	} else {
		parts := strings.Split(rest, ":")
		switch len(parts) {
		case 1:
			ctr = parts[0]
		case 2:
			host, ctr = parts[0], parts[1]
			if host == "" {
				return bad("the host port is empty (write CONTAINERPORT alone for a free host port)")
			}
		case 3:
			ip, host, ctr = parts[0], parts[1], parts[2]
		default:
			return bad("too many colons")
		}
	}
	if ip != "" {
		a, err := netip.ParseAddr(ip)
		if err != nil || a.Zone() != "" {
			return bad(fmt.Sprintf("%q is not an IP address", ip))
		}
		if !a.IsUnspecified() {
			m.HostIP = a.Unmap()
		}
	}
	port := func(what, v string) (uint16, error) {
		n, err := strconv.ParseUint(v, 10, 16)
		if err != nil || n == 0 {
			return 0, fmt.Errorf("the %s %q is not a port from 1 to 65535", what, v)
		}
		return uint16(n), nil
	}
	var err error
	if host != "" {
		if m.HostPort, err = port("host port", host); err != nil {
			return bad(err.Error())
		}
	}
	if m.ContainerPort, err = port("container port", ctr); err != nil {
		return bad(err.Error())
	}
	return m, nil
}
