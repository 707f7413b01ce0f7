package network

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/miekg/dns"
)

// dnsPort is where a network's DNS server listens, on its gateway.
const dnsPort = 53

// recordTTL is the TTL of the answers about containers: short, since
// replicas come and go.
const recordTTL = 5

// names are a network's DNS records: each name (lower case, fully
// qualified) and the addresses of the containers that have it, with which
// container gave which. Safe for concurrent use.
type names struct {
	// alive reports whether a container's attachment still exists: one
	// torn down by another process (a container's exit hook) drops out of
	// the answers before this process hears of it.
	alive func(id string) bool

	mu sync.RWMutex
	// byName maps a name to the containers (by CNI container id) with it
	// and their addresses. Guarded by mu.
	byName map[string]map[string]netip.Addr
	// static are the ids added with addStatic, which no attachment backs
	// (a wasm module, at the host's address). Guarded by mu.
	static map[string]bool
	// groupOf maps a container's address to its group and the container
	// that has the address, so that a query is answered with the group's
	// aliases. Guarded by mu.
	groupOf map[netip.Addr]member
}

// member is the group of the container id at an address.
type member struct{ id, group string }

// recordNames are the names of one container: names every container of
// the network finds, and aliases only the containers of its group find (a
// deployment's service names, as compose scopes them to its project).
type recordNames struct {
	names   []string
	group   string
	aliases []string
}

func newNames(alive func(id string) bool) *names {
	return &names{alive: alive, byName: map[string]map[string]netip.Addr{}, static: map[string]bool{},
		groupOf: map[netip.Addr]member{}}
}

// addStatic is add for an id that no attachment backs: it answers until
// removed. Its address (the gateway) belongs to no group.
func (n *names) addStatic(id string, addr netip.Addr, r recordNames) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.addLocked(id, addr, r)
	n.static[id] = true
}

// add gives container id its names at addr.
func (n *names) add(id string, addr netip.Addr, r recordNames) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.addLocked(id, addr, r)
	// The address is this container's now, whoever had it before.
	n.groupOf[addr] = member{id: id, group: r.group}
}

func (n *names) addLocked(id string, addr netip.Addr, r recordNames) {
	put := func(key string) {
		if n.byName[key] == nil {
			n.byName[key] = map[string]netip.Addr{}
		}
		n.byName[key][id] = addr
	}
	for _, name := range r.names {
		put(dns.Fqdn(strings.ToLower(name)))
	}
	for _, a := range r.aliases {
		if r.group == "" {
			put(dns.Fqdn(strings.ToLower(a))) // no group: every container's
			continue
		}
		put(scopedKey(r.group, dns.Fqdn(strings.ToLower(a))))
	}
}

// scopedKey is the key of an alias of group.
func scopedKey(group, fq string) string { return group + "\x00" + fq }

// remove drops every name of container id.
func (n *names) remove(id string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for name, ids := range n.byName {
		if a, ok := ids[id]; ok && n.groupOf[a].id == id {
			delete(n.groupOf, a)
		}
		delete(ids, id)
		if len(ids) == 0 {
			delete(n.byName, name)
		}
	}
	delete(n.static, id)
}

// lookup returns the addresses of name as the container at client finds
// it (its group's aliases too), sorted; nil when no container has it.
func (n *names) lookup(name string, client netip.Addr) []netip.Addr {
	n.mu.RLock()
	defer n.mu.RUnlock()
	fq := strings.ToLower(name)
	var out []netip.Addr
	keys := []string{fq}
	if m, ok := n.groupOf[client]; ok && m.group != "" && (n.alive == nil || n.alive(m.id)) {
		keys = append(keys, scopedKey(m.group, fq))
	}
	for _, key := range keys {
		for id, a := range n.byName[key] {
			if n.alive == nil || n.static[id] || n.alive(id) {
				out = append(out, a)
			}
		}
	}
	if len(out) == 0 {
		return nil
	}
	slices.SortFunc(out, netip.Addr.Compare)
	return slices.Compact(out)
}

// dnsServer answers a network's containers: their names from the
// network's records, every other name by asking the host's resolvers, as
// docker's embedded DNS and aardvark-dns do.
type dnsServer struct {
	// subnet is the network's: the server answers its containers alone.
	subnet   netip.Prefix
	names    *names
	upstream []string // host:port of the host's resolvers
	udp, tcp *dns.Server
	pc       net.PacketConn
	ln       net.Listener
	client   *dns.Client
}

// startDNS serves names on addr:53, UDP and TCP, asking upstream
// (host:port) for other names. The sockets are bound with IP_FREEBIND:
// the gateway's address appears on the bridge only when the first
// container attaches.
//
// It answers queries from subnet alone.
func startDNS(addr netip.Addr, subnet netip.Prefix, n *names, upstream []string, log *slog.Logger) (*dnsServer, error) {
	s := &dnsServer{subnet: subnet, names: n, upstream: upstream,
		client: &dns.Client{Timeout: 2 * time.Second}}
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_IP, syscall.IP_FREEBIND, 1)
		})
		if err != nil {
			return err
		}
		return serr
	}}
	hostport := netip.AddrPortFrom(addr, dnsPort).String()
	pc, err := lc.ListenPacket(context.Background(), "udp4", hostport)
	if err != nil {
		return nil, fmt.Errorf("DNS on %s: %w", hostport, err)
	}
	ln, err := lc.Listen(context.Background(), "tcp4", hostport)
	if err != nil {
		pc.Close()
		return nil, fmt.Errorf("DNS on %s: %w", hostport, err)
	}
	s.pc, s.ln = pc, ln
	h := dns.HandlerFunc(s.serve)
	s.udp = &dns.Server{PacketConn: pc, Handler: h}
	s.tcp = &dns.Server{Listener: ln, Handler: h, ReadTimeout: 5 * time.Second}
	for _, srv := range []*dns.Server{s.udp, s.tcp} {
		go func() {
			if err := srv.ActivateAndServe(); err != nil {
				log.Debug("network DNS server ended", "address", hostport, "err", err)
			}
		}()
	}
	return s, nil
}

// close stops the server and frees its port: the sockets are closed
// here too, since a server that has not begun to serve yet keeps them
// through Shutdown.
func (s *dnsServer) close() {
	_ = s.udp.Shutdown()
	_ = s.tcp.Shutdown()
	_ = s.pc.Close()
	_ = s.ln.Close()
}

// serve answers one query.
func (s *dnsServer) serve(w dns.ResponseWriter, req *dns.Msg) {
	// Another network's containers, or anyone who can route to the
	// gateway, get nothing: neither the names nor a free resolver.
	if ap, err := netip.ParseAddrPort(w.RemoteAddr().String()); err != nil || !s.subnet.Contains(ap.Addr().Unmap()) {
		m := new(dns.Msg)
		m.SetRcode(req, dns.RcodeRefused)
		_ = w.WriteMsg(m)
		return
	}
	if len(req.Question) != 1 {
		m := new(dns.Msg)
		m.SetRcode(req, dns.RcodeFormatError)
		_ = w.WriteMsg(m)
		return
	}
	q := req.Question[0]
	client, _ := netip.ParseAddrPort(w.RemoteAddr().String())
	if addrs := s.names.lookup(q.Name, client.Addr().Unmap()); addrs != nil && q.Qclass == dns.ClassINET {
		m := new(dns.Msg)
		m.SetReply(req)
		m.Authoritative = true
		m.RecursionAvailable = true
		if q.Qtype == dns.TypeA || q.Qtype == dns.TypeANY {
			for _, a := range addrs {
				if a.Is4() {
					m.Answer = append(m.Answer, &dns.A{
						Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: recordTTL},
						A:   a.AsSlice(),
					})
				}
			}
		}
		// Another type of a container's name: no such record, the name
		// exists (NOERROR with no answer).
		_ = w.WriteMsg(m)
		return
	}
	s.forward(w, req)
}

// forward asks the host's resolvers, in turn, and relays the first answer.
func (s *dnsServer) forward(w dns.ResponseWriter, req *dns.Msg) {
	proto := "udp"
	if _, ok := w.RemoteAddr().(*net.TCPAddr); ok {
		proto = "tcp"
	}
	c := *s.client
	c.Net = proto
	for _, up := range s.upstream {
		resp, _, err := c.Exchange(req, up)
		if err == nil && resp != nil {
			_ = w.WriteMsg(resp)
			return
		}
	}
	m := new(dns.Msg)
	m.SetRcode(req, dns.RcodeServerFailure)
	_ = w.WriteMsg(m)
}

// hostResolvers are the host's nameservers, from /etc/resolv.conf,
// loopback ones included: the agent runs in the host's namespace, where
// they answer.
func hostResolvers() []string {
	b, err := os.ReadFile("/etc/resolv.conf")
	if err != nil {
		return nil
	}
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 2 && f[0] == "nameserver" {
			if a, err := netip.ParseAddr(f[1]); err == nil {
				out = append(out, netip.AddrPortFrom(a.Unmap(), 53).String())
			}
		}
	}
	return out
}
