package runc

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/runtime"
)

// TestSecretsStayOutOfRecords: a secret reaches the workload as a variable
// and as a file, survives a restart, and is nowhere on disk outside the
// secret dir, nor in Inspect.
func TestSecretsStayOutOfRecords(t *testing.T) {
	secretDir := filepath.Join(t.TempDir(), "secrets", ".containers")
	if err := os.MkdirAll(secretDir, 0o700); err != nil {
		t.Fatal(err)
	}
	rt := newTestRuntime(t, WithSecretDir(secretDir))
	const value = "s3cr3t-value-9f2c"
	cs := &runtime.CreateSpec{Env: []string{"PLAIN=visible"}, Secrets: []runtime.Secret{
		{Name: "db-password", Env: "DB_PASSWORD", Value: []byte(value)},
		{Name: "db-password", File: "/run/secrets/db-password", Value: []byte(value)},
	}}
	out := runOutput(t, rt, "secretive", cs, `echo env=$DB_PASSWORD; echo file=$(cat /run/secrets/db-password); echo $PLAIN`)
	if !strings.Contains(out, "env="+value) || !strings.Contains(out, "file="+value) {
		t.Fatalf("the workload saw:\n%s", out)
	}
	id := cid("secretive")
	// Started again from the same bundle, it still gets them.
	if err := rt.Start(context.Background(), id); err != nil {
		t.Fatal(err)
	}
	mustWait(t, rt, id)
	if n := strings.Count(logText(t, rt, id, runtime.Stdout), "env="+value); n != 2 {
		t.Errorf("after a restart the secret was seen %d times, want 2", n)
	}
	d, err := rt.Inspect(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if !contains(d.Env, "DB_PASSWORD=$S:db-password") || strings.Contains(strings.Join(d.Env, " "), value) {
		t.Errorf("inspect env = %v; want the reference, not the value", d.Env)
	}
	// No file of the runtime's state holds the value but those under the
	// secret dir (the container's log, log.json, holds what the workload
	// printed).
	err = filepath.WalkDir(rt.root, func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() || strings.HasPrefix(filepath.Base(p), "log.json") || strings.Contains(p, "/rootfs/") || e.Type()&fs.ModeSymlink != 0 {
			return nil
		}
		b, err := os.ReadFile(p)
		if err == nil && bytes.Contains(b, []byte(value)) {
			t.Errorf("%s holds the secret in clear", p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(secretDir, mustKey(t, rt, id)))
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("secret dir of the container: %v, %v", fi, err)
	}
	if err := rt.Remove(context.Background(), id, true); err != nil {
		t.Fatal(err)
	}
	if left, _ := os.ReadDir(secretDir); len(left) != 0 {
		t.Errorf("removal left %d entries in the secret dir", len(left))
	}
}

// TestSecretsRefusedWithoutASecretDir: no secret dir, no secrets.
func TestSecretsRefusedWithoutASecretDir(t *testing.T) {
	rt := newTestRuntime(t)
	cs := &runtime.CreateSpec{Image: busyboxRef, Entrypoint: []string{"true"}, Secrets: []runtime.Secret{{Name: "x", Env: "X", Value: []byte("v")}}}
	if err := rt.Create(context.Background(), cid("nosecrets"), cs); err == nil || !strings.Contains(err.Error(), "keeps none") {
		t.Fatalf("Create: %v; want a refusal", err)
	}
}

func mustKey(t *testing.T, rt *Runtime, id runtime.ContainerID) string {
	t.Helper()
	key, err := rt.resolve(id)
	if err != nil {
		t.Fatal(err)
	}
	return key
}
