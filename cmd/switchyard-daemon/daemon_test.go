package main

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/runtime"
)

func TestParseMirrors(t *testing.T) {
	got, err := parseMirrors([]string{"docker.io=mirror.example.com", "registry.k8s.io=http://10.0.0.5:5000", "index.docker.io=https://second.example.com/hub/"})
	want := map[string][]string{
		"index.docker.io": {"mirror.example.com", "second.example.com/hub"},
		"registry.k8s.io": {"http://10.0.0.5:5000"},
	}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("parseMirrors = %v, %v; want %v", got, err, want)
	}
	if got, err := parseMirrors(nil); got != nil || err != nil {
		t.Errorf("parseMirrors(nil) = %v, %v; want nothing", got, err)
	}
}

// TestRegistryMirrorFlag: a bad --registry-mirror stops the daemon before
// it starts, with an error that names the flag and the value, and the help
// describes the flag.
func TestRegistryMirrorFlag(t *testing.T) {
	for _, tc := range []struct{ value, why string }{
		{"registry.k8s.io", "has no '='"},
		{"registry.k8s.io=", "the mirror after '=' is empty"},
		{"registry.k8s.io=ftp://mirror", `the scheme "ftp" is neither http nor https`},
		{"registry.k8s.io=mirror:5000?ns=k8s", "a query or a fragment cannot be honoured"},
	} {
		cmd := newDaemonCmd()
		cmd.SilenceUsage, cmd.SilenceErrors = true, true
		cmd.SetArgs([]string{"--root", t.TempDir(), "--registry-mirror", "docker.io=mirror.example.com", "--registry-mirror", tc.value})
		err := cmd.Execute()
		if !errors.Is(err, runtime.ErrInvalidArgument) || !strings.Contains(err.Error(), "--registry-mirror") ||
			!strings.Contains(err.Error(), tc.value) || !strings.Contains(err.Error(), tc.why) {
			t.Errorf("--registry-mirror %q: err = %v; want invalid argument naming the flag, the value and %q", tc.value, err, tc.why)
		}
	}
	cmd := newDaemonCmd()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetArgs([]string{"--help"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "--registry-mirror HOST=MIRROR") {
		t.Errorf("help lacks --registry-mirror HOST=MIRROR:\n%s", out.String())
	}
}
