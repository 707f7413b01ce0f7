package runc

import (
	"context"
	"os/exec"
	"strconv"
	"strings"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// ociRuntime is what the OCI runtime binary says of itself.
type ociRuntime struct {
	// version is the runtime spec version to write in bundles: the one
	// its --version names ("spec: 1.0.2-dev" from runc, "spec: 1.0.0"
	// from crun) when it is older than the spec this package is built
	// with, else that one. A binary that says nothing gets the package's.
	version string
	// isRunc is set when the binary is runc ("runc version ..."), whose
	// state directory the shim may remove itself.
	isRunc bool
}

// probeOCIRuntime runs bin --version and reads what it says.
func probeOCIRuntime(bin string) ociRuntime {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "--version").Output()
	if err != nil {
		return ociRuntime{version: specs.Version}
	}
	return ociRuntime{version: pickOCIVersion(string(out)), isRunc: strings.HasPrefix(string(out), "runc version ")}
}

// pickOCIVersion reads the "spec: X" line of an OCI runtime's --version
// output and returns the older of X and the package's spec version.
func pickOCIVersion(out string) string {
	for _, line := range strings.Split(out, "\n") {
		v, ok := strings.CutPrefix(strings.TrimSpace(line), "spec:")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		if older(v, specs.Version) {
			return v
		}
		return specs.Version
	}
	return specs.Version
}

// older reports whether version a (major.minor.patch, a suffix such as
// -dev ignored) is older than b; an unreadable a is not.
func older(a, b string) bool {
	pa, okA := versionParts(a)
	pb, okB := versionParts(b)
	if !okA || !okB {
		return false
	}
	for i := range pa {
		if pa[i] != pb[i] {
			return pa[i] < pb[i]
		}
	}
	return false
}

func versionParts(v string) ([3]int, bool) {
	var out [3]int
	v, _, _ = strings.Cut(v, "-")
	f := strings.Split(v, ".")
	if len(f) != 3 {
		return out, false
	}
	for i, s := range f {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return out, false
		}
		out[i] = n
	}
	return out, true
}
