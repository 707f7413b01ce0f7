package network

import (
	"bufio"
	"bytes"
	"fmt"
	"net/netip"
	"strings"
)

// Hosts is a container's /etc/hosts: localhost, and its hostname at its
// address (at 127.0.1.1 when it has none of its own, as Debian does, so
// that the name always resolves).
func Hosts(hostname string, addr netip.Addr) []byte {
	var b bytes.Buffer
	b.WriteString("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n")
	if !addr.IsValid() {
		addr = netip.MustParseAddr("127.0.1.1")
	}
	fmt.Fprintf(&b, "%s\t%s\n", addr, hostname)
	return b.Bytes()
}

// ResolvConf is a container's /etc/resolv.conf made from the host's: its
// search domains and options kept, and as nameserver the network's DNS
// server when it has one (it answers the containers' names and asks the
// host's resolvers for the rest), else the host's nameservers but those on
// loopback, which a container's own loopback does not serve, as docker
// does.
func ResolvConf(host []byte, server netip.Addr) []byte {
	var b bytes.Buffer
	if server.IsValid() {
		fmt.Fprintf(&b, "nameserver %s\n", server)
	}
	sc := bufio.NewScanner(bytes.NewReader(host))
	sc.Buffer(make([]byte, 0, 4096), 64<<10)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		switch f[0] {
		case "nameserver":
			a, err := netip.ParseAddr(f[1])
			if server.IsValid() || err != nil || a.Unmap().IsLoopback() {
				continue
			}
			fmt.Fprintf(&b, "nameserver %s\n", a)
		case "search", "domain", "options":
			fmt.Fprintf(&b, "%s\n", strings.Join(f, " "))
		}
	}
	return b.Bytes()
}
