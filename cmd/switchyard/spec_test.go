package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSpecValidate(t *testing.T) {
	dir := t.TempDir()
	two := filepath.Join(dir, "two.yaml")
	if err := os.WriteFile(two, []byte("version: v1\ndeployment: dep\nservices:\n  web: {image: busybox, platform: linux/x86_64, scale: {replicas: 2}}\n  hello: {image: hello}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	warned := filepath.Join(dir, "warned.yaml")
	if err := os.WriteFile(warned, []byte("version: v1\ndeployment: dep\nservices:\n  web:\n    image: busybox\n    node_mode: dedicated\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name       string
		args       []string
		wantOut    []string
		wantErr    []string
		wantFailed bool
	}{
		{"example", []string{"../../examples/mixed.yaml"},
			[]string{"../../examples/mixed.yaml: ok: deployment demo, 3 services (web: 1 replica, platform from image; api: 1 replica, platform from image; hello: 1 replica, platform from image)"}, nil, false},
		{"platform and replicas", []string{two},
			[]string{two + ": ok: deployment dep, 2 services (web: 2 replicas, linux/amd64; hello: 1 replica, platform from image)"}, nil, false},
		{"broken", []string{"../../examples/broken/bad-quantity.yaml"}, nil, []string{
			`../../examples/broken/bad-quantity.yaml: services.web.resources.cpu: line 12: "half" is not a CPU quantity`,
			`../../examples/broken/bad-quantity.yaml: services.web.resources.memory: line 13: "64Q" is not a quantity (want a number of bytes with an optional unit: 64Mi, 1Gi, 512M)`,
		}, true},
		{"missing file", []string{filepath.Join(dir, "nope.yaml")}, nil, []string{"spec file " + filepath.Join(dir, "nope.yaml") + ": file does not exist; check the path"}, true},
		{"warning", []string{warned}, []string{warned + ": ok:"}, []string{warned + ": warning: services.web.node_mode: line 6: not acted on: placement is for a cluster's scheduler"}, false},
		{"warning made an error", []string{"--strict", warned}, nil, []string{warned + ": services.web.node_mode: line 6: not acted on: placement is for a cluster's scheduler; this node runs every service it is given (--strict)"}, true},
		{"good and bad", []string{two, "../../examples/broken/unknown-field.yaml"}, []string{two + ": ok:"}, []string{`unknown field "imagee"`}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := newSpecCmd()
			cmd.SilenceErrors, cmd.SilenceUsage = true, true
			var out, errOut bytes.Buffer
			cmd.SetOut(&out)
			cmd.SetErr(&errOut)
			cmd.SetArgs(append([]string{"validate"}, tc.args...))
			err := cmd.Execute()
			var ee *exitError
			if tc.wantFailed != (err != nil) || (err != nil && (!errors.As(err, &ee) || ee.code != 1)) {
				t.Fatalf("err = %v, want failed=%v with exit code 1", err, tc.wantFailed)
			}
			for _, w := range tc.wantOut {
				if !strings.Contains(out.String(), w) {
					t.Errorf("stdout %q lacks %q", out.String(), w)
				}
			}
			for _, w := range tc.wantErr {
				if !strings.Contains(errOut.String(), w) {
					t.Errorf("stderr %q lacks %q", errOut.String(), w)
				}
			}
		})
	}
}
