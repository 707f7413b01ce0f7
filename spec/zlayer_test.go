package spec

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestZLayerExamples walks the deployment files that ship with ZLayer
// (testdata/zlayer, copied unchanged; its README says from where). Every
// file ZLayer accepts must parse, with exactly the warnings listed here, each
// naming its field and line; every file ZLayer rejects must fail with errors
// that each name a field path and a line.
func TestZLayerExamples(t *testing.T) {
	valid := map[string][]string{
		"cluster-nginx-v1-1r.yaml":                {"services.web.affinity"},
		"cluster-nginx-v1-3r.yaml":                {"services.web.affinity"},
		"cluster-nginx-v2-3r.yaml":                {"services.web.affinity"},
		"cluster-nginx-worker-tier-10r.yaml":      nil,
		"containers-nginx-static-deployment.yaml": nil,
		"e2e-runner.zlayer.yml":                   nil,
		"mac-gpu-mlx.zlayer.yml":                  {"services.llm.resources.gpu"},
		"mac-gpu-pytorch.zlayer.yml":              {"services.inference.resources.gpu"},
		"simple.yaml":                             nil,
		"simple.zlayer.yml":                       nil,
		"zlayer-web.zlayer.yml":                   {"services.web.endpoints[0].host"},
		"zsecrets.zlayer.yml":                     {"services.zsecrets.node_mode", "services.zsecrets.node_selector"},
	}
	// The stale files and a field each must be faulted for (the reason the
	// README gives).
	stale := map[string]string{
		"full-service.yaml":                        "services.cleanup.schedule",
		"containers-multi-service-deployment.yaml": "services.database.health.check.type",
		"containers-postgres-db-deployment.yaml":   "services.database.volumes[0].size",
		"containers-redis-cache-deployment.yaml":   "services.cache.command",
		"python-hello.zlayer.yaml":                 "services.hello.command",
		"wasm-deployment.yaml":                     "services.rust-hello.runtime",
	}
	files, err := filepath.Glob("testdata/zlayer/*.y*ml")
	if err != nil || len(files) != len(valid)+len(stale) {
		t.Fatalf("found %d files (%v), want %d", len(files), err, len(valid)+len(stale))
	}
	for _, file := range files {
		base := filepath.Base(file)
		t.Run(base, func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			d, err := Parse(data)
			if want, ok := valid[base]; ok {
				if err != nil {
					t.Fatalf("ZLayer accepts this file; Parse: %v", err)
				}
				var got []string
				for _, w := range d.Warnings {
					if w.Line == 0 || !strings.HasPrefix(w.Msg, "not acted on: ") {
						t.Errorf("warning without a line or a reason: %v", w)
					}
					got = append(got, w.Path)
				}
				if !slices.Equal(got, want) {
					t.Errorf("warnings at %q, want %q", got, want)
				}
				return
			}
			if err == nil {
				t.Fatalf("ZLayer rejects this file; Parse accepted it")
			}
			fes := Errors(err)
			found := false
			for _, fe := range fes {
				if fe.Line == 0 {
					t.Errorf("error without a line: %v", fe)
				}
				found = found || fe.Path == stale[base]
			}
			if !found {
				t.Errorf("no error at %s; got:\n%v", stale[base], err)
			}
		})
	}
}
