package e2e

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/api"
	"github.com/switchyard/switchyard/api/client"
	"github.com/switchyard/switchyard/internal/tlstest"
)

// Container names of the delegate test's deployment.
const (
	delegatedWeb = "mix-web-rep-0"   // Linux: lands on agent B
	localHello   = "mix-hello-rep-0" // wasm: stays on agent A
	soloName     = "solo-rep-0"      // run -d through A: lands on agent B
)

// TestDelegateAcrossNamespaces runs two agents on one machine, B in a
// network namespace of its own serving Linux containers over TLS, A in the
// root namespace with only the wasm runtime and B as its delegate. Through
// A's CLI, a spec with no platforms puts the Linux service on B and the
// wasm one on A; logs, exec and stop work through A; B's outage fails only
// B's containers, with errors that name the delegate, until B comes back;
// and clients with a wrong token or a certificate of another CA are
// refused.
func TestDelegateAcrossNamespaces(t *testing.T) {
	w := newDelegateWorld(t)
	a, b := w.a, w.b

	t.Log("both runtimes are healthy")
	waitFor(t, "A's info to show wasm and remote:b healthy", 30*time.Second, func() bool {
		rts := a.info()
		return rts["wasm"].Healthy && rts["remote:b"].Healthy
	})
	if got := a.info()["remote:b"].Platforms; !anyHasPrefix(got, "linux/") {
		t.Errorf("A's info: remote:b serves %v, want B's linux platform", got)
	}

	t.Log("one spec, no platforms: Linux goes to B, wasm stays on A")
	file := filepath.Join(w.dir, "mix.yaml")
	writeDelegateFile(t, file, fmt.Sprintf(`version: v1
deployment: mix
services:
  web:
    rtype: service
    image:
      name: %s
    command:
      entrypoint: ["/bin/sh", "-c"]
      args:
        - 'trap "exit 0" TERM; i=0; while true; do i=$((i+1)); echo "web: tick $i"; sleep 0.2; done'
  hello:
    rtype: service
    image:
      name: %s
    command:
      args: ["sleep"]
`, w.busybox, w.wasm))
	a.ok("up", "-f", file)
	rows := a.ps()
	if r := rows[delegatedWeb]; r.Runtime != "remote:b" || r.State != "running" || !strings.HasPrefix(r.Platform, "linux/") {
		t.Errorf("A's ps: %s is %+v, want running on remote:b with a linux platform", delegatedWeb, r)
	}
	if r := rows[localHello]; r.Runtime != "wasm" || r.State != "running" {
		t.Errorf("A's ps: %s is %+v, want running on wasm", localHello, r)
	}
	if r := b.ps()[delegatedWeb]; r.Runtime != "runc" || r.State != "running" {
		t.Errorf("B's ps: %s is %+v, want running on runc", delegatedWeb, r)
	}
	if _, ok := b.ps()[localHello]; ok {
		t.Errorf("B's ps lists %s, which A runs itself", localHello)
	}

	t.Log("logs and exec through A")
	waitFor(t, "the delegated service's second tick in its logs through A", 30*time.Second, func() bool {
		return strings.Contains(a.ok("logs", delegatedWeb), "web: tick 2")
	})
	if out := a.ok("exec", delegatedWeb, "echo", "hello from b"); out != "hello from b\n" {
		t.Errorf("exec through A printed %q, want %q", out, "hello from b\n")
	}
	if res := a.sy("exec", delegatedWeb, "sh", "-c", "exit 3"); res.code != 3 {
		t.Errorf("exec through A of `exit 3`: exit %d, want 3 (stderr %s)", res.code, res.stderr)
	}
	waitFor(t, "the wasm service's logs on A", 30*time.Second, func() bool {
		return strings.Contains(a.ok("logs", localHello), "wasm: sleeping")
	})

	t.Log("B stops: B's containers fail with errors naming the delegate; A's own go on")
	b.stop()
	for _, args := range [][]string{
		{"logs", delegatedWeb},
		{"exec", delegatedWeb, "true"},
		{"stop", "-t", "1", delegatedWeb},
	} {
		res := a.sy(args...)
		if res.code == 0 || !strings.Contains(res.stderr, "delegate b") {
			t.Errorf("while B is down, `switchyard %s` through A: exit %d, stderr %q; want a failure naming delegate b",
				strings.Join(args, " "), res.code, res.stderr)
		}
	}
	if out := a.ok("logs", localHello); !strings.Contains(out, "wasm: sleeping") {
		t.Errorf("while B is down, A's wasm logs are %q, want its output", out)
	}
	a.ok("images")
	rows = a.ps()
	if r := rows[delegatedWeb]; r.State != "unknown" || r.Runtime != "remote:b" || r.Reason == "" {
		t.Errorf("while B is down, A's ps shows %s as %+v, want state unknown on remote:b with a reason", delegatedWeb, r)
	}
	if r := rows[localHello]; r.State != "running" {
		t.Errorf("while B is down, A's ps shows %s as %+v, want running", localHello, r)
	}
	if rt := a.info()["remote:b"]; rt.Healthy || rt.Error == "" {
		t.Errorf("while B is down, A's info shows remote:b as %+v, want unhealthy with a reason", rt)
	}
	if rt := a.info()["wasm"]; !rt.Healthy {
		t.Errorf("while B is down, A's info shows wasm as %+v, want healthy", rt)
	}

	t.Log("B comes back on the same root with the same flags: A's calls work again")
	b.start()
	waitFor(t, "exec through A to work again", 60*time.Second, func() bool {
		return a.sy("exec", delegatedWeb, "true").code == 0
	})
	if out := a.ok("logs", "--tail", "1", delegatedWeb); !strings.Contains(out, "web: tick") {
		t.Errorf("after B's return, logs through A printed %q, want a tick", out)
	}
	waitFor(t, "A's info to show remote:b healthy again", 30*time.Second, func() bool {
		return a.info()["remote:b"].Healthy
	})

	// Stop is shown on a container of its own: A's deployment supervisor
	// restarts a stopped replica of a service, as it does on any runtime.
	t.Log("run, stop and rm of a delegated container through A")
	a.ok("run", "-d", "--name", "solo", w.busybox, "sh", "-c", sleeper)
	if r := a.ps()[soloName]; r.Runtime != "remote:b" || r.State != "running" {
		t.Fatalf("A's ps: %s is %+v, want running on remote:b", soloName, r)
	}
	a.ok("stop", "-t", "5", "solo")
	if r := a.ps()[soloName]; !r.exited(0) {
		t.Errorf("after stop through A, A's ps shows %s as %+v, want exited (0)", soloName, r)
	}
	if r := b.ps()[soloName]; !r.exited(0) {
		t.Errorf("after stop through A, B's ps shows %s as %+v, want exited (0)", soloName, r)
	}
	a.ok("rm", "solo")
	if r, ok := b.ps()[soloName]; ok {
		t.Errorf("after rm through A, B's ps still shows %+v", r)
	}

	t.Log("wrong credentials are refused")
	t.Run("credentials", func(t *testing.T) { testDelegateCredentials(t, w) })

	a.ok("down", "-f", file)
	if rows := b.ps(); len(rows) != 0 {
		t.Errorf("after down through A, B still lists %v", rows)
	}
}

// testDelegateCredentials dials B's TCP address with the API client,
// presenting the right or wrong token and client certificate.
func testDelegateCredentials(t *testing.T, w *delegateWorld) {
	otherCA := tlstest.NewCA(t, "another CA")
	roots := x509.NewCertPool()
	roots.AddCert(w.serverCA.Cert)
	goodCert := w.clientCA.KeyPair(t, "agent-a", false)
	otherCert := otherCA.KeyPair(t, "intruder", false)
	for _, tc := range []struct {
		name    string
		token   string
		certs   []tls.Certificate
		refused bool
	}{
		{"right token and certificate", w.token, []tls.Certificate{goodCert}, false},
		{"wrong token", "not-" + w.token, []tls.Certificate{goodCert}, true},
		{"no token", "", []tls.Certificate{goodCert}, true},
		{"certificate of another CA", w.token, []tls.Certificate{otherCert}, true},
		{"no certificate", w.token, nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := []client.Option{client.WithTLSConfig(&tls.Config{
				MinVersion: tls.VersionTLS12, RootCAs: roots, Certificates: tc.certs,
			})}
			if tc.token != "" {
				opts = append(opts, client.WithToken(tc.token))
			}
			c, err := client.New(w.delegateURL(), opts...)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			_, err = c.List(ctx)
			switch {
			case !tc.refused && err != nil:
				t.Fatalf("List with the right credentials: %v", err)
			case tc.refused && !errors.Is(err, api.ErrUnauthenticated):
				t.Fatalf("List: err = %v, want one matching api.ErrUnauthenticated", err)
			case tc.refused && !strings.Contains(err.Error(), "refused the credentials"):
				t.Errorf("List: error %q does not say the credentials were refused", err)
			}
		})
	}
}

// anyHasPrefix reports whether any of list starts with prefix.
func anyHasPrefix(list []string, prefix string) bool {
	for _, s := range list {
		if strings.HasPrefix(s, prefix) {
			return true
		}
	}
	return false
}
