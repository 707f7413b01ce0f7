package spec

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// svc builds a one-service spec whose service body starts at line 6: the
// first line of body is line 6, the second line 7, and so on.
func svc(body string) string {
	var b strings.Builder
	b.WriteString("version: v1\ndeployment: demo\nservices:\n  web:\n    image: {name: busybox}\n")
	for _, l := range strings.Split(strings.TrimSuffix(body, "\n"), "\n") {
		b.WriteString("    " + l + "\n")
	}
	return b.String()
}

// mustParse parses src and fails the test on error.
func mustParse(t *testing.T, src string) *Deployment {
	t.Helper()
	d, err := Parse([]byte(src))
	if err != nil {
		t.Fatalf("Parse: %v\nspec:\n%s", err, src)
	}
	return d
}

func TestParseValid(t *testing.T) {
	amd64 := &ocispec.Platform{OS: "linux", Architecture: "amd64"}
	for _, tc := range []struct {
		name string
		src  string
		want *ServiceSpec
	}{
		{"defaults", svc("rtype: service"), &ServiceSpec{
			Name: "web", RType: RTypeService, Image: ImageSpec{Name: "busybox", PullPolicy: PullIfNotPresent}, Scale: Scale{Replicas: 1},
		}},
		{"image short form", "version: v1\ndeployment: demo\nservices:\n  web:\n    image: busybox:1.36\n", &ServiceSpec{
			Name: "web", RType: RTypeService, Image: ImageSpec{Name: "busybox:1.36", PullPolicy: PullIfNotPresent}, Scale: Scale{Replicas: 1},
		}},
		{"everything", "version: v1\ndeployment: demo\nservices:\n  web:\n" +
			"    rtype: job\n" +
			"    image: {name: 127.0.0.1:5000/demo/app@sha256:" + strings.Repeat("a", 64) + ", pull_policy: never}\n" +
			"    platform: {os: Linux, arch: x86_64}\n" +
			"    command: {entrypoint: [/bin/sh, -c], args: [echo, 1, true, 2.5], workdir: /srv}\n" +
			"    env: {A: x, N: 42, B: false, F: 0.50, E: \"\"}\n" +
			"    endpoints:\n" +
			"      - {name: http, protocol: http, port: 80, expose: internal}\n" +
			"      - {name: dns, protocol: udp, port: 53}\n" +
			"      - {name: dns-tcp, protocol: tcp, port: 53}\n" +
			"    resources: {cpu: \"1500m\", memory: 1.5Gi}\n" +
			"    scale: {mode: fixed, replicas: 3}\n" +
			"    volumes:\n" +
			"      - {name: data, path: /data, source: /srv/data, read_only: true}\n" +
			"      - {name: cache, path: /cache}\n" +
			"    registry_auth: {username: u, password: 1234}\n",
			&ServiceSpec{
				Name: "web", RType: RTypeJob,
				Image:    ImageSpec{Name: "127.0.0.1:5000/demo/app@sha256:" + strings.Repeat("a", 64), PullPolicy: PullNever},
				Platform: amd64,
				Command:  Command{Entrypoint: []string{"/bin/sh", "-c"}, Args: []string{"echo", "1", "true", "2.5"}, Workdir: "/srv"},
				Env:      map[string]string{"A": "x", "N": "42", "B": "false", "F": "0.50", "E": ""},
				Endpoints: []Endpoint{
					{Name: "http", Protocol: "http", Port: 80, Expose: "internal"},
					{Name: "dns", Protocol: "udp", Port: 53, Expose: "internal"},
					{Name: "dns-tcp", Protocol: "tcp", Port: 53, Expose: "internal"},
				},
				Resources:    Resources{CPU: 1.5, MemoryBytes: 3 << 29},
				Scale:        Scale{Replicas: 3},
				Volumes:      []Volume{{Name: "data", Path: "/data", Source: "/srv/data", ReadOnly: true}, {Name: "cache", Path: "/cache"}},
				RegistryAuth: &RegistryAuth{Username: "u", Password: "1234"},
			}},
		{"platform string wasi", svc("platform: wasi/wasm"), &ServiceSpec{
			Name: "web", RType: RTypeService, Image: ImageSpec{Name: "busybox", PullPolicy: PullIfNotPresent}, Scale: Scale{Replicas: 1},
			Platform: &ocispec.Platform{OS: "wasip1", Architecture: "wasm"},
		}},
		{"os-only platform", svc("platform: windows"), &ServiceSpec{
			Name: "web", RType: RTypeService, Image: ImageSpec{Name: "busybox", PullPolicy: PullIfNotPresent}, Scale: Scale{Replicas: 1},
			Platform: &ocispec.Platform{OS: "windows"},
		}},
		{"platform map with variant", svc("platform: {os: linux, arch: aarch64, variant: v8}"), &ServiceSpec{
			Name: "web", RType: RTypeService, Image: ImageSpec{Name: "busybox", PullPolicy: PullIfNotPresent}, Scale: Scale{Replicas: 1},
			Platform: &ocispec.Platform{OS: "linux", Architecture: "arm64"},
		}},
		{"token auth, cpu number, plain bytes", svc("registry_auth: {token: abc}\nresources: {cpu: 2, memory: 1048576}\nscale: {replicas: 1000}"), &ServiceSpec{
			Name: "web", RType: RTypeService, Image: ImageSpec{Name: "busybox", PullPolicy: PullIfNotPresent}, Scale: Scale{Replicas: 1000},
			RegistryAuth: &RegistryAuth{Token: "abc"}, Resources: Resources{CPU: 2, MemoryBytes: 1 << 20},
		}},
		{"aliases are followed", "version: v1\ndeployment: demo\nservices:\n  web:\n    image: {name: busybox}\n    env: &e {A: b}\n  db:\n    image: {name: busybox}\n    env: *e\n", &ServiceSpec{
			Name: "web", RType: RTypeService, Image: ImageSpec{Name: "busybox", PullPolicy: PullIfNotPresent}, Scale: Scale{Replicas: 1},
			Env: map[string]string{"A": "b"},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := mustParse(t, tc.src)
			if d.Version != "v1" || d.Name != "demo" {
				t.Errorf("deployment = %q %q, want v1 demo", d.Version, d.Name)
			}
			got := d.Services["web"]
			if tc.want.Scale.Mode == "" {
				tc.want.Scale.Mode = "fixed"
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("service =\n%+v\nwant\n%+v", got, tc.want)
			}
			if err := d.Validate(); err != nil {
				t.Errorf("parsed deployment does not re-validate: %v", err)
			}
		})
	}
}

func TestParseKeepsServiceOrder(t *testing.T) {
	d := mustParse(t, "version: v1\ndeployment: demo\nservices:\n  zeta: {image: a}\n  alpha: {image: b}\n  mid: {image: c}\n")
	if want := []string{"zeta", "alpha", "mid"}; !reflect.DeepEqual(d.ServiceNames, want) {
		t.Errorf("ServiceNames = %v, want %v", d.ServiceNames, want)
	}
}

func TestParseExamples(t *testing.T) {
	d, err := ParseFile("../examples/mixed.yaml")
	if err != nil {
		t.Fatalf("examples/mixed.yaml: %v", err)
	}
	if d.Name != "demo" || !reflect.DeepEqual(d.ServiceNames, []string{"web", "api", "hello"}) {
		t.Fatalf("got deployment %q with %v, want demo with [web api hello]", d.Name, d.ServiceNames)
	}
	for _, n := range d.ServiceNames {
		if d.Services[n].Platform != nil {
			t.Errorf("service %s declares platform %v; the example leaves it to the image", n, d.Services[n].Platform)
		}
	}
	broken, err := filepath.Glob("../examples/broken/*.yaml")
	if err != nil || len(broken) < 3 {
		t.Fatalf("want at least 3 broken examples, got %d (%v)", len(broken), err)
	}
	for _, f := range broken {
		t.Run(filepath.Base(f), func(t *testing.T) {
			_, err := ParseFile(f)
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("err = %v, want ErrInvalid", err)
			}
			for _, fe := range Errors(err) {
				if fe.Path == "" || fe.Line == 0 {
					t.Errorf("error without field or line: %v", fe)
				}
			}
		})
	}
}

func TestParseFile(t *testing.T) {
	dir := t.TempDir()
	t.Run("missing", func(t *testing.T) {
		_, err := ParseFile(filepath.Join(dir, "nope.yaml"))
		if !errors.Is(err, fs.ErrNotExist) || errors.Is(err, ErrInvalid) {
			t.Fatalf("err = %v, want fs.ErrNotExist and not ErrInvalid", err)
		}
		if strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), "nope.yaml") {
			t.Errorf("want one line naming the file, got %q", err)
		}
	})
	t.Run("directory", func(t *testing.T) {
		if _, err := ParseFile(dir); err == nil || errors.Is(err, ErrInvalid) {
			t.Fatalf("err = %v, want a read error", err)
		}
	})
	t.Run("too large", func(t *testing.T) {
		f := filepath.Join(dir, "big.yaml")
		if err := os.WriteFile(f, []byte("#"+strings.Repeat("x", MaxSize)), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := ParseFile(f)
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "larger than") {
			t.Fatalf("err = %v, want a size error", err)
		}
	})
}
