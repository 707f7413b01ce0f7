package runtime

import (
	"errors"
	"net/netip"
	"testing"
)

func TestParsePortMapping(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want PortMapping
		str  string
	}{
		{"80", PortMapping{ContainerPort: 80}, "0.0.0.0:0->80/tcp"},
		{"8080:80", PortMapping{HostPort: 8080, ContainerPort: 80}, "0.0.0.0:8080->80/tcp"},
		{"127.0.0.1:8080:80/tcp", PortMapping{HostIP: netip.MustParseAddr("127.0.0.1"), HostPort: 8080, ContainerPort: 80, Protocol: "tcp"}, "127.0.0.1:8080->80/tcp"},
		{"127.0.0.1::53/udp", PortMapping{HostIP: netip.MustParseAddr("127.0.0.1"), ContainerPort: 53, Protocol: "udp"}, "127.0.0.1:0->53/udp"},
		{"0.0.0.0:9000:9000", PortMapping{HostPort: 9000, ContainerPort: 9000}, "0.0.0.0:9000->9000/tcp"},
		{"[::1]:8080:80", PortMapping{HostIP: netip.MustParseAddr("::1"), HostPort: 8080, ContainerPort: 80}, "[::1]:8080->80/tcp"},
	} {
		got, err := ParsePortMapping(tc.in)
		if err != nil || got != tc.want || got.String() != tc.str {
			t.Errorf("%s: %+v (%s), %v; want %+v (%s)", tc.in, got, got.String(), err, tc.want, tc.str)
		}
	}
	for _, bad := range []string{"", "0", "65536", "80/sctp", "a:80", "1.2.3:80:80", "1:2:3:4", "8080:", ":80", "[::1]80", "x/tcp", "80/", "fe80::1%eth0:80:80"} {
		if _, err := ParsePortMapping(bad); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("%q: %v, want invalid argument", bad, err)
		}
	}
}

// -p is outside input: whatever it is, the parser returns a valid mapping
// or an error, and a mapping prints as what parses back to it.
func FuzzParsePortMapping(f *testing.F) {
	for _, s := range []string{"80", "8080:80/udp", "127.0.0.1::80", "[::1]:1:2", "::::", "[", "1.2.3.4:0:1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParsePortMapping(s)
		if err != nil {
			return
		}
		if m.ContainerPort == 0 || m.Proto() != "tcp" && m.Proto() != "udp" {
			t.Fatalf("%q parsed to %+v", s, m)
		}
	})
}
