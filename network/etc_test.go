package network

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"
)

func TestResolvConf(t *testing.T) {
	host := []byte("# managed\nnameserver 127.0.0.53\nnameserver 10.0.0.2\nnameserver ::1\nsearch example.com lan\noptions edns0 trust-ad\nnameserver bogus\n")
	got := string(ResolvConf(host, netip.Addr{}))
	want := "nameserver 10.0.0.2\nsearch example.com lan\noptions edns0 trust-ad\n"
	if got != want {
		t.Fatalf("resolv.conf:\n%s\nwant:\n%s", got, want)
	}
	if got := string(ResolvConf(host, netip.MustParseAddr("10.90.0.1"))); got != "nameserver 10.90.0.1\nsearch example.com lan\noptions edns0 trust-ad\n" {
		t.Fatalf("with the network's server: %q", got)
	}
}

func TestHosts(t *testing.T) {
	if got := string(Hosts("web-rep-0", netip.MustParseAddr("10.90.0.5"))); !strings.Contains(got, "10.90.0.5\tweb-rep-0\n") || !strings.HasPrefix(got, "127.0.0.1\tlocalhost\n") {
		t.Fatalf("hosts: %q", got)
	}
	if got := string(Hosts("solo", netip.Addr{})); !strings.Contains(got, "127.0.1.1\tsolo\n") {
		t.Fatalf("hosts without an address: %q", got)
	}
}

// The host's resolv.conf is outside input: whatever it holds, the result
// has only well-formed lines.
func FuzzResolvConf(f *testing.F) {
	f.Add([]byte("nameserver 1.1.1.1\nsearch a b\n"))
	f.Add([]byte("nameserver\n\x00options\tndots:5\nnameserver ::ffff:127.0.0.1\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		out := ResolvConf(in, netip.Addr{})
		for _, line := range bytes.Split(bytes.TrimSuffix(out, []byte("\n")), []byte("\n")) {
			if len(line) == 0 {
				continue
			}
			f := strings.Fields(string(line))
			switch f[0] {
			case "nameserver":
				a, err := netip.ParseAddr(f[1])
				if err != nil || a.Unmap().IsLoopback() || len(f) != 2 {
					t.Fatalf("bad nameserver line %q", line)
				}
			case "search", "domain", "options":
			default:
				t.Fatalf("unexpected line %q", line)
			}
		}
	})
}
