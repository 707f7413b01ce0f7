package network

import (
	"net/netip"
	"os"
	"slices"
	"testing"
	"time"

	"log/slog"

	"github.com/miekg/dns"
)

// The server answers its containers' names (every address of a name,
// following adds and removals, in any case), says a known name has no
// other record types, and relays other names to its upstream.
func TestDNSServer(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root (port 53)")
	}
	// An upstream of the test's own.
	up := &dns.Server{Addr: "127.0.0.1:0", Net: "udp", Handler: dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(r)
		m.Answer = append(m.Answer, &dns.A{Hdr: dns.RR_Header{Name: r.Question[0].Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60}, A: []byte{192, 0, 2, 7}})
		_ = w.WriteMsg(m)
	})}
	started := make(chan struct{})
	up.NotifyStartedFunc = func() { close(started) }
	go func() { _ = up.ListenAndServe() }()
	<-started
	defer up.Shutdown()

	n := newNames(nil)
	s, err := startDNS(netip.MustParseAddr("127.0.0.3"), netip.MustParsePrefix("127.0.0.0/8"), n, []string{up.PacketConn.LocalAddr().String()}, slog.Default())
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	n.add("k1", netip.MustParseAddr("10.9.0.2"), recordNames{names: []string{"web", "web-rep-0"}})
	n.add("k2", netip.MustParseAddr("10.9.0.3"), recordNames{names: []string{"web", "web-rep-1"}})
	c := &dns.Client{Timeout: 2 * time.Second}
	ask := func(name string, qtype uint16) *dns.Msg {
		t.Helper()
		m := new(dns.Msg)
		m.SetQuestion(dns.Fqdn(name), qtype)
		r, _, err := c.Exchange(m, "127.0.0.3:53")
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return r
	}
	addrs := func(r *dns.Msg) []string {
		var out []string
		for _, rr := range r.Answer {
			if a, ok := rr.(*dns.A); ok {
				out = append(out, a.A.String())
			}
		}
		slices.Sort(out)
		return out
	}
	if got := addrs(ask("WEB", dns.TypeA)); !slices.Equal(got, []string{"10.9.0.2", "10.9.0.3"}) {
		t.Errorf("web: %v", got)
	}
	if r := ask("web-rep-1", dns.TypeAAAA); r.Rcode != dns.RcodeSuccess || len(r.Answer) != 0 {
		t.Errorf("AAAA of a container: %v", r)
	}
	n.remove("k1")
	if got := addrs(ask("web", dns.TypeA)); !slices.Equal(got, []string{"10.9.0.3"}) {
		t.Errorf("web after a removal: %v", got)
	}
	if got := addrs(ask("example.com", dns.TypeA)); !slices.Equal(got, []string{"192.0.2.7"}) {
		t.Errorf("a name of the world, relayed: %v", got)
	}
	// Another network's server refuses this client: it is not on its
	// subnet.
	other, err := startDNS(netip.MustParseAddr("127.0.0.4"), netip.MustParsePrefix("10.9.0.0/24"), n, []string{up.PacketConn.LocalAddr().String()}, slog.Default())
	if err != nil {
		t.Fatal(err)
	}
	defer other.close()
	m := new(dns.Msg)
	m.SetQuestion("web.", dns.TypeA)
	if r, _, err := c.Exchange(m, "127.0.0.4:53"); err != nil || r.Rcode != dns.RcodeRefused || len(r.Answer) != 0 {
		t.Errorf("a client off the network's subnet: %v, %v; want refused", r, err)
	}
}

// A group's aliases answer the containers of the group alone: two
// deployments' web services do not find each other's.
func TestGroupAliases(t *testing.T) {
	n := newNames(nil)
	a1, a2 := netip.MustParseAddr("10.9.0.2"), netip.MustParseAddr("10.9.0.3")
	b1 := netip.MustParseAddr("10.9.0.9")
	outsider := netip.MustParseAddr("10.9.0.50")
	n.add("a-web", a1, recordNames{names: []string{"a-web-rep-0", "a-web"}, group: "a", aliases: []string{"web"}})
	n.add("a-client", a2, recordNames{names: []string{"a-client-rep-0"}, group: "a", aliases: []string{"client"}})
	n.add("b-web", b1, recordNames{names: []string{"b-web-rep-0", "b-web"}, group: "b", aliases: []string{"web"}})
	if got := n.lookup("web.", a2); !slices.Equal(got, []netip.Addr{a1}) {
		t.Errorf("a's client finds web at %v, want a's alone (%s)", got, a1)
	}
	if got := n.lookup("web.", b1); !slices.Equal(got, []netip.Addr{b1}) {
		t.Errorf("b's web finds web at %v, want its own", got)
	}
	if got := n.lookup("web.", outsider); got != nil {
		t.Errorf("a container of no group finds web at %v, want nothing", got)
	}
	if got := n.lookup("b-web.", a2); !slices.Equal(got, []netip.Addr{b1}) {
		t.Errorf("a's client finds b's service by its full name at %v, want %s", got, b1)
	}
	n.remove("a-web")
	if got := n.lookup("web.", a2); got != nil {
		t.Errorf("after a's web went, a's client finds web at %v", got)
	}
	// An alias without a group answers every container.
	n.add("solo", netip.MustParseAddr("10.9.0.20"), recordNames{names: []string{"solo-rep-0"}, aliases: []string{"db"}})
	if got := n.lookup("db.", outsider); len(got) != 1 {
		t.Errorf("an alias without a group: %v, want it answered", got)
	}
	// An address given to a new container of no group is no longer the
	// old one's group, and the old one's removal leaves the new one be.
	n.add("newcomer", a2, recordNames{names: []string{"newcomer-rep-0"}})
	if got := n.lookup("client.", a2); got != nil {
		t.Errorf("the newcomer at a's client's old address finds a's alias: %v", got)
	}
	n.remove("a-client")
	n.add("b-client", a2, recordNames{names: []string{"b-client-rep-0"}, group: "b", aliases: []string{"client"}})
	n.remove("newcomer")
	if got := n.lookup("web.", a2); !slices.Equal(got, []netip.Addr{b1}) {
		t.Errorf("b's client at the reused address finds web at %v, want b's (%s)", got, b1)
	}
}
