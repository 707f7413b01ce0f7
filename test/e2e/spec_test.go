package e2e

import (
	"bytes"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/switchyard/switchyard/internal/testimages"
)

// TestSecretsAndEnvReferences deploys a service whose env takes one value
// from the agent's environment ($E:) and one from a secret ($S:), with the
// secret also mounted as a file and the service confined by ZLayer's
// security fields. The workload sees the values; inspect, the agent's log
// and every state file outside the secret store do not hold the secret.
func TestSecretsAndEnvReferences(t *testing.T) {
	const value = "e2e-s3cr3t-4b1d"
	t.Setenv("E2E_GREETING", "hello-from-the-agent")
	e := newEnv(t)
	secretFile := filepath.Join(e.dir, "db-password")
	if err := os.WriteFile(secretFile, []byte(value), 0o600); err != nil {
		t.Fatal(err)
	}
	e.ok("secret", "create", "db-password", secretFile)
	if out := e.ok("secret", "ls"); !strings.Contains(out, "db-password") || strings.Contains(out, value) {
		t.Errorf("secret ls = %q; want the name and never the value", out)
	}
	if res := e.sy("secret", "create", "db-password", secretFile); res.code == 0 || !strings.Contains(res.stderr, "already exists") {
		t.Errorf("a second create: exit %d, %s", res.code, res.stderr)
	}
	spec := fmt.Sprintf(`version: v1
deployment: secrets-demo
services:
  app:
    image: {name: %s}
    command:
      entrypoint: [/bin/sh, -c]
      args: ['echo "greeting=$GREETING"; echo "env=$DB_PASSWORD"; echo "file=$(cat /run/secrets/db-password)"; id; grep CapEff /proc/self/status; touch /x 2>/dev/null || echo read-only; hostname; %s']
    env:
      GREETING: $E:E2E_GREETING
      DB_PASSWORD: $S:db-password
    secrets: [db-password]
    user: "1000:1000"
    cap_drop: [ALL]
    read_only_root_fs: true
    hostname: app.internal
`, e.images.busybox, sleeper)
	file := e.writeSpec("secrets.yaml", spec)
	e.ok("up", "-f", file)
	id := "secrets-demo-app-rep-0"
	waitFor(t, "the workload's output", 20*time.Second, func() bool { return strings.Contains(e.ok("logs", id), "up") })
	logs := e.ok("logs", id)
	for _, want := range []string{"greeting=hello-from-the-agent", "env=" + value, "file=" + value, "uid=1000 gid=1000", "CapEff:\t0000000000000000", "read-only", "app.internal"} {
		if !strings.Contains(logs, want) {
			t.Errorf("the workload's output lacks %q:\n%s", want, logs)
		}
	}
	inspect := e.ok("inspect", id)
	if strings.Contains(inspect, value) || !strings.Contains(inspect, "DB_PASSWORD=$S:db-password") || !strings.Contains(inspect, "GREETING=hello-from-the-agent") {
		t.Errorf("inspect shows:\n%s\nwant the reference, never the value", inspect)
	}
	if strings.Contains(e.daemonLog(), value) {
		t.Error("the agent's log holds the secret")
	}
	// Every file under the agent's root but the secret store and the
	// container's own log (what the workload printed) is free of it.
	err := filepath.WalkDir(e.root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Type()&fs.ModeSymlink != 0 {
			return nil
		}
		rel, _ := filepath.Rel(e.root, p)
		if strings.HasPrefix(rel, "secrets/") || strings.HasPrefix(filepath.Base(p), "log.json") || strings.Contains(rel, "/rootfs/") || strings.HasPrefix(rel, "images/") {
			return nil
		}
		if b, err := os.ReadFile(p); err == nil && bytes.Contains(b, []byte(value)) {
			t.Errorf("%s holds the secret in clear", rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// What is missing fails up, by name, before anything is made.
	missing := strings.ReplaceAll(strings.ReplaceAll(spec, "$S:db-password", "$S:nope"), "deployment: secrets-demo", "deployment: secrets-missing")
	if res := e.sy("up", "-f", e.writeSpec("missing.yaml", missing)); res.code == 0 || !strings.Contains(res.stderr, "secret nope") {
		t.Errorf("up with a missing secret: exit %d, %s", res.code, res.stderr)
	}
	unset := strings.ReplaceAll(strings.ReplaceAll(spec, "$E:E2E_GREETING", "$E:E2E_UNSET_VARIABLE"), "deployment: secrets-demo", "deployment: secrets-unset")
	if res := e.sy("up", "-f", e.writeSpec("unset.yaml", unset)); res.code == 0 || !strings.Contains(res.stderr, "E2E_UNSET_VARIABLE") {
		t.Errorf("up with an unset variable: exit %d, %s", res.code, res.stderr)
	}
	if rows := e.psAll(); len(names(rows, "secrets-missing")) > 0 || len(names(rows, "secrets-unset")) > 0 {
		t.Errorf("a refused up left containers: %v", rows)
	}
	e.ok("down", "secrets-demo")
	e.ok("secret", "rm", "db-password")
	if out := e.ok("secret", "ls"); strings.Contains(out, "db-password") {
		t.Errorf("secret ls after rm = %q", out)
	}
}

// TestRunNamesItsRuntime: run --runtime sends a container to the runtime it
// names, and refuses, naming both, an image that runtime cannot run.
func TestRunNamesItsRuntime(t *testing.T) {
	e := newEnv(t)
	if out := e.ok("run", "--rm", "--runtime", "wasm", e.images.wasm); !strings.Contains(out, "hello") {
		t.Errorf("run --runtime wasm printed %q", out)
	}
	res := e.sy("run", "--rm", "--runtime", "wasm", e.images.busybox, "true")
	if res.code == 0 || !strings.Contains(res.stderr, "names runtime wasm, which cannot run image") || !strings.Contains(res.stderr, "linux/") {
		t.Errorf("run --runtime wasm of a Linux image: exit %d, %s", res.code, res.stderr)
	}
	res = e.sy("run", "--rm", "--runtime", "crun", e.images.busybox, "true")
	if res.code == 0 || !strings.Contains(res.stderr, `runtime "crun"`) {
		t.Errorf("run --runtime crun: exit %d, %s", res.code, res.stderr)
	}
}

// TestLoginGivesPullsTheirCredentials: a spec needs no credentials of its
// own; switchyard login stores them in the docker config, checked with the
// registry first, and the daemon's pulls find them there.
func TestLoginGivesPullsTheirCredentials(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	host := testimages.ServeHandler(t, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if u, p, ok := r.BasicAuth(); !ok || u != "alice" || p != "s3cret" {
				w.Header().Set("WWW-Authenticate", `Basic realm="registry"`)
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			h.ServeHTTP(w, r)
		})
	})
	ref := testimages.Push(t, host, "private/busybox", testimages.Busybox(t), remote.WithAuth(&authn.Basic{Username: "alice", Password: "s3cret"}))
	e := newEnv(t)
	if res := e.sy("pull", ref); res.code == 0 || !strings.Contains(res.stderr, "unauthorized") {
		t.Fatalf("pull without credentials: exit %d, %s", res.code, res.stderr)
	}
	if res := e.sy("login", "-u", "alice", "-p", "wrong", host); res.code == 0 || !strings.Contains(res.stderr, "unauthorized") {
		t.Errorf("login with a wrong password: exit %d, %s", res.code, res.stderr)
	}
	if out := e.ok("login", "-u", "alice", "-p", "s3cret", host); !strings.Contains(out, "Login Succeeded") {
		t.Errorf("login printed %q", out)
	}
	e.ok("pull", ref)
	if out := e.ok("logout", host); !strings.Contains(out, host) {
		t.Errorf("logout printed %q", out)
	}
	if res := e.sy("logout", host); res.code == 0 {
		t.Error("a second logout succeeded")
	}
}
