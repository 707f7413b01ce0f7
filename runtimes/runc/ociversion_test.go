package runc

import (
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Bundles say the spec version the OCI runtime knows when it is older
// than the package's: crun 1.8 refuses a config.json of a newer one.
func TestPickOCIVersion(t *testing.T) {
	for _, tc := range []struct{ out, want string }{
		{"runc version 1.1.5+ds1\ncommit: 1.1.5+ds1-1+deb12u1\nspec: 1.0.2-dev\ngo: go1.19.8\n", "1.0.2-dev"},
		{"crun version 1.8.1\ncommit: f8a096be060b22ccd3d5f3ebe44108517fbf6c30\nrundir: /run/crun\nspec: 1.0.0\n+SYSTEMD +SELINUX +SECCOMP\n", "1.0.0"},
		{"runc version 9.0.0\nspec: 9.9.9\n", specs.Version},
		{"an OCI runtime that says nothing of its spec\n", specs.Version},
		{"spec: garbage\n", specs.Version},
	} {
		if got := pickOCIVersion(tc.out); got != tc.want {
			t.Errorf("pickOCIVersion(%q) = %q; want %q", tc.out, got, tc.want)
		}
	}
}
