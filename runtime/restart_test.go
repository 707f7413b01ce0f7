package runtime

import (
	"errors"
	"testing"
)

func TestParseRestartPolicy(t *testing.T) {
	for _, s := range []string{"no", "always", "unless-stopped", "on-failure", "on-failure:3"} {
		p, err := ParseRestartPolicy(s)
		if err != nil || p.String() != s {
			t.Errorf("ParseRestartPolicy(%q) = %+v, %v; want it back", s, p, err)
		}
	}
	for _, s := range []string{"", "sometimes", "always:2", "on-failure:x", "on-failure:-1"} {
		if _, err := ParseRestartPolicy(s); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("ParseRestartPolicy(%q): %v; want invalid argument", s, err)
		}
	}
}

func FuzzParseRestartPolicy(f *testing.F) {
	f.Add("on-failure:3")
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParseRestartPolicy(s)
		if err != nil {
			return
		}
		if q, err := ParseRestartPolicy(p.String()); err != nil || q != p {
			t.Fatalf("%q: %+v does not survive its own String %q: %+v, %v", s, p, p.String(), q, err)
		}
	})
}
