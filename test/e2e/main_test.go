package e2e

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// build is what TestMain found and made once for the whole package: the
// switchyard binary, or the reason every test skips. It is written only by
// TestMain, before any test runs.
var build struct {
	bin  string // path of the built switchyard binary
	skip string // non-empty: why the tests cannot run here
}

// TestMain builds switchyard once into a temporary directory, so that every
// test drives the same binary a user would install.
func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	flag.Parse() // testing.Short needs the test flags parsed
	switch {
	case runtime.GOOS != "linux":
		build.skip = "end-to-end tests run Linux containers: they need Linux"
	case os.Geteuid() != 0:
		build.skip = "end-to-end tests run runc containers: run them as root"
	default:
		if _, err := exec.LookPath("runc"); err != nil {
			build.skip = "end-to-end tests need runc on PATH (apt-get install runc)"
		} else if _, err := os.Stat("/bin/busybox"); err != nil {
			build.skip = "end-to-end tests need /bin/busybox for the test image (apt-get install busybox-static)"
		}
	}
	if build.skip == "" && !testing.Short() {
		dir, err := os.MkdirTemp("", "switchyard-e2e-bin-")
		if err != nil {
			fmt.Fprintln(os.Stderr, "e2e:", err)
			return 1
		}
		defer os.RemoveAll(dir)
		build.bin = filepath.Join(dir, "switchyard")
		// The binaries side by side as installed: switchyard daemon runs
		// switchyard-daemon, and the runc runtime runs switchyard-shim,
		// from the directory of switchyard.
		for _, b := range []struct{ pkg, cgo string }{
			{"github.com/switchyard/switchyard/cmd/switchyard", "0"},
			{"github.com/switchyard/switchyard/cmd/switchyard-daemon", "1"},
			{"github.com/switchyard/switchyard/cmd/switchyard-shim", "0"},
		} {
			cmd := exec.Command("go", "build", "-o", dir+"/", b.pkg)
			cmd.Env = append(os.Environ(), "CGO_ENABLED="+b.cgo)
			cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
			if err := cmd.Run(); err != nil {
				fmt.Fprintf(os.Stderr, "e2e: go build of %s failed: %v\n", b.pkg, err)
				return 1
			}
		}
	}
	if testing.Short() && build.skip == "" {
		build.skip = "end-to-end tests are skipped in -short mode"
	}
	return m.Run()
}

// needE2E skips t, with the reason, where the end-to-end tests cannot run.
func needE2E(t *testing.T) {
	t.Helper()
	if build.skip != "" {
		t.Skip(build.skip)
	}
}
