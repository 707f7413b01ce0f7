package registry

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/switchyard/switchyard/internal/testimages"
	"github.com/switchyard/switchyard/runtime"
)

// distributionBinary is Debian's docker-registry package (the CNCF
// distribution registry).
const distributionBinary = "/usr/bin/docker-registry"

// distribution is a real registry process started for one test.
type distribution struct {
	host       string // 127.0.0.1:port
	user, pass string // empty when auth is off
}

// startDistribution runs the distribution registry on a free loopback port
// with storage in a temp dir and, when user is set, htpasswd basic auth. It
// is stopped when the test ends. The test is skipped when the binary is not
// installed.
func startDistribution(t testing.TB, user, pass string) distribution {
	t.Helper()
	if _, err := os.Stat(distributionBinary); err != nil {
		t.Skipf("the distribution registry (%s, Debian package docker-registry) is not installed: %v", distributionBinary, err)
	}
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	host := ln.Addr().String()
	ln.Close()
	auth := ""
	if user != "" {
		hash, err := bcrypt.GenerateFromPassword([]byte(pass), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		htpasswd := filepath.Join(dir, "htpasswd")
		if err := os.WriteFile(htpasswd, []byte(user+":"+string(hash)+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		auth = fmt.Sprintf("auth:\n  htpasswd:\n    realm: test-registry\n    path: %s\n", htpasswd)
	}
	config := fmt.Sprintf(`version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: %s
  delete:
    enabled: true
http:
  addr: %s
%s`, filepath.Join(dir, "data"), host, auth)
	cfgPath := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(cfgPath, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(distributionBinary, "serve", cfgPath)
	logf, err := os.Create(filepath.Join(dir, "registry.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", distributionBinary, err)
	}
	exited := make(chan error, 1) // written once by the waiting goroutine
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
		logf.Close()
	})
	// Poll until it answers its version check (401 with auth, 200 without).
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := http.Get("http://" + host + "/v2/")
		if err == nil {
			resp.Body.Close()
			break
		}
		select {
		case err := <-exited:
			log, _ := os.ReadFile(logf.Name())
			t.Fatalf("registry exited: %v\n%s", err, log)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("registry on %s did not answer within 15s: %v", host, err)
		}
		time.Sleep(20 * time.Millisecond) // poll interval while it starts
	}
	return distribution{host: host, user: user, pass: pass}
}

// TestDistributionEndToEnd pushes the test images to a real distribution
// registry with htpasswd auth, then inspects and pulls them as the agent
// would.
func TestDistributionEndToEnd(t *testing.T) {
	ctx := context.Background()
	reg := startDistribution(t, "carol", "correct horse")
	auth := &runtime.RegistryAuth{Username: reg.user, Password: reg.pass}
	push := basicAuthOption(reg.user, reg.pass)
	refs := map[string]string{
		"busybox":  testimages.Push(t, reg.host, "library/busybox:1", testimages.Busybox(t), push),
		"index":    testimages.Push(t, reg.host, "multi:1", testimages.Index(t), push),
		"artifact": testimages.Push(t, reg.host, "wasm/hello:1", testimages.WasmImage(t, testimages.MinimalWasm(), testimages.ConventionArtifact), push),
		"windows":  testimages.Push(t, reg.host, "win:1", testimages.Windows(t), push),
	}
	svc := NewImageService(mustStore(t), noKeychain, WithPlatforms(linuxAMD64, wasm))
	for _, tc := range []struct {
		image, platforms string
		pullable         bool
	}{
		{"busybox", "linux/amd64", true},
		{"index", "linux/amd64,linux/arm64,wasip1/wasm", true},
		{"artifact", "wasip1/wasm", true},
		{"windows", "windows(10.0.20348.1)/amd64", false},
	} {
		t.Run(tc.image, func(t *testing.T) {
			ps, err := svc.InspectPlatforms(ctx, refs[tc.image], auth)
			if err != nil {
				t.Fatalf("inspect: %v", err)
			}
			if got := platformStrings(ps); got != tc.platforms {
				t.Errorf("platforms = %s, want %s", got, tc.platforms)
			}
			info, err := svc.Pull(ctx, refs[tc.image], runtime.PullOptions{Policy: runtime.PullAlways, Auth: auth})
			if tc.pullable != (err == nil) {
				t.Fatalf("pull: %v (want success %v)", err, tc.pullable)
			}
			if err == nil && platformStrings(info.Platforms) != tc.platforms {
				t.Errorf("recorded platforms = %s, want %s", platformStrings(info.Platforms), tc.platforms)
			}
		})
	}
	t.Run("errors", func(t *testing.T) {
		_, err := svc.InspectPlatforms(ctx, refs["busybox"], nil)
		if !errors.Is(err, ErrUnauthorized) {
			t.Errorf("no credentials: %v", err)
		}
		_, err = svc.InspectPlatforms(ctx, refs["busybox"], &runtime.RegistryAuth{Username: reg.user, Password: "wrong"})
		if !errors.Is(err, ErrUnauthorized) {
			t.Errorf("wrong password: %v", err)
		}
		_, err = svc.InspectPlatforms(ctx, reg.host+"/nothere:1", auth)
		if !errors.Is(err, runtime.ErrNotFound) {
			t.Errorf("absent image: %v", err)
		}
		_, err = svc.Pull(ctx, strings.TrimSuffix(refs["busybox"], ":1")+":2", runtime.PullOptions{Auth: auth})
		if !errors.Is(err, runtime.ErrNotFound) {
			t.Errorf("absent tag: %v", err)
		}
	})
}
