package spec

import (
	"math"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// valid returns a minimal valid spec built in code, as the CLI's run does.
func valid() *ServiceSpec {
	return &ServiceSpec{Name: "web", Image: ImageSpec{Name: "busybox"}}
}

func TestServiceValidate(t *testing.T) {
	for _, tc := range []struct {
		name   string
		modify func(s *ServiceSpec)
		want   []fe
	}{
		{"minimal", func(*ServiceSpec) {}, nil},
		{"defaults applied", func(s *ServiceSpec) { s.ApplyDefaults() }, nil},
		{"alias platform accepted", func(s *ServiceSpec) { s.Platform = &ocispec.Platform{OS: "linux", Architecture: "x86_64"} }, nil},
		{"bad name", func(s *ServiceSpec) { s.Name = "a b" }, []fe{
			"services.a b|0|service name \"a b\" has ' '; use letters, digits, '-', '_' and '.'",
		}},
		{"empty name", func(s *ServiceSpec) { s.Name = "" }, []fe{"services.|0|service name is empty"}},
		{"bad everything", func(s *ServiceSpec) {
			s.RType = "daily"
			s.Image = ImageSpec{Name: "", PullPolicy: "sometimes"}
			s.Platform = &ocispec.Platform{OS: "linux", Architecture: "sparc"}
			s.Command = Command{Entrypoint: []string{"a\x00"}, Args: []string{"b\x00"}, Workdir: "rel"}
			s.Env = map[string]string{"A=B": "x"}
			s.Endpoints = []Endpoint{{Name: "http", Protocol: "http", Port: 80}, {Name: "http", Protocol: "https", Port: 80, Expose: "world"}, {}}
			s.Resources = Resources{CPU: math.NaN(), MemoryBytes: -1}
			s.Scale.Replicas = MaxReplicas + 1
			s.Volumes = []Volume{{Name: "d", Path: "/d"}, {Name: "e", Path: "/d"}}
			s.RegistryAuth = &RegistryAuth{Username: "u"}
		}, []fe{
			"services.web.rtype|0|unknown rtype \"daily\" (want service, job or cron)",
			"services.web.image.name|0|missing or empty; name the image to run, like busybox:1.36 or 127.0.0.1:5000/demo/app:latest",
			"services.web.image.pull_policy|0|unknown pull policy \"sometimes\" (want always, if_not_present or never)",
			"services.web.platform|0|\"linux/sparc\" is not a platform: unknown architecture \"sparc\" (want one of amd64, arm64, arm, 386, ppc64le, s390x, riscv64, wasm)",
			"services.web.command.entrypoint[0]|0|contains a NUL byte, which no process argument can hold",
			"services.web.command.args[0]|0|contains a NUL byte, which no process argument can hold",
			"services.web.command.workdir|0|\"rel\" is not an absolute path; write it from the root, like /app",
			"services.web.env.A=B|0|environment variable name \"A=B\" contains '=' or a NUL byte; use letters, digits and '_'",
			"services.web.endpoints[1].name|0|duplicate endpoint name \"http\" (also services.web.endpoints[0]); give each endpoint its own name",
			"services.web.endpoints[1].port|0|duplicate port 80/tcp (also services.web.endpoints[0]); give each endpoint its own port",
			"services.web.endpoints[1].expose|0|unknown expose \"world\" (want public or internal)",
			"services.web.endpoints[2].name|0|missing; name the endpoint, like name: http",
			"services.web.endpoints[2].protocol|0|missing; want http, https, tcp, udp or websocket",
			"services.web.endpoints[2].port|0|missing or 0; want a port from 1 to 65535",
			"services.web.resources.cpu|0|NaN is not a CPU quantity (want cores, like 0.5 or 2, or millicores, like \"500m\")",
			"services.web.resources.memory|0|-1 is not a quantity (want a number of bytes with an optional unit: 64Mi, 1Gi, 512M)",
			"services.web.scale.replicas|0|replicas 1001 is out of range (want 1 to 1000)",
			"services.web.volumes[1].path|0|duplicate volume path \"/d\" (also services.web.volumes[0]); mount one volume per path",
			"services.web.registry_auth.password|0|missing; a username needs a password",
		}},
		{"cpu too many", func(s *ServiceSpec) { s.Resources.CPU = 2048 }, []fe{
			"services.web.resources.cpu|0|2048 is more than 1024 cores (want cores, like 0.5 or 2, or millicores, like \"500m\")",
		}},
		{"cpu too fine", func(s *ServiceSpec) { s.Resources.CPU = 0.0001 }, []fe{
			"services.web.resources.cpu|0|0.0001 is finer than a millicore (0.001 cores) (want cores, like 0.5 or 2, or millicores, like \"500m\")",
		}},
		{"platform variant without arch", func(s *ServiceSpec) { s.Platform = &ocispec.Platform{OS: "linux", Variant: "v7"} }, []fe{
			"services.web.platform|0|\"linux//v7\" is not a platform: variant \"v7\" without an architecture (want os/arch/variant, like linux/arm/v7)",
		}},
		{"platform without os", func(s *ServiceSpec) { s.Platform = &ocispec.Platform{Architecture: "amd64"} }, []fe{
			"services.web.platform|0|\"/amd64\" is not a platform: no OS (want os[/arch[/variant]], like linux/amd64)",
		}},
		{"platform os version", func(s *ServiceSpec) {
			s.Platform = &ocispec.Platform{OS: "windows", Architecture: "amd64", OSVersion: "ltsc"}
		}, []fe{
			"services.web.platform|0|\"windows/amd64\" is not a platform: OS version \"ltsc\" is not a version; write the build family's dotted numbers, like 10.0.17763",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := valid()
			tc.modify(s)
			err := s.Validate()
			if tc.want == nil {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			checkErrs(t, err, tc.want)
		})
	}
}

func TestApplyDefaults(t *testing.T) {
	s := valid()
	s.Endpoints = []Endpoint{{Name: "a", Protocol: "tcp", Port: 1}, {Name: "b", Protocol: "tcp", Port: 2, Expose: "public"}}
	s.ApplyDefaults()
	if s.RType != RTypeService || s.Image.PullPolicy != PullIfNotPresent || s.Scale.Replicas != 1 ||
		s.Endpoints[0].Expose != "internal" || s.Endpoints[1].Expose != "public" {
		t.Errorf("ApplyDefaults gave %+v", s)
	}
	s.Scale.Replicas = 5
	s.ApplyDefaults()
	if s.Scale.Replicas != 5 {
		t.Errorf("ApplyDefaults overwrote replicas: %d", s.Scale.Replicas)
	}
}

func TestDeploymentValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		d    *Deployment
		want []fe
	}{
		{"valid", &Deployment{Version: "v1", Name: "demo", Services: map[string]*ServiceSpec{"web": valid()}, ServiceNames: []string{"web"}}, nil},
		{"empty", &Deployment{}, []fe{
			"version|0|missing; start the spec with version: v1",
			"deployment|0|missing; name the deployment, like deployment: demo",
			"services|0|no services; add at least one under services:",
		}},
		{"names out of step", &Deployment{Version: "v1", Name: "demo", Services: map[string]*ServiceSpec{"web": valid()}}, []fe{
			"services|0|ServiceNames does not list exactly the keys of Services; list each service once, in order",
		}},
		{"repeated name", &Deployment{Version: "v1", Name: "demo", Services: map[string]*ServiceSpec{"web": valid(), "db": valid()}, ServiceNames: []string{"web", "web"}}, []fe{
			"services|0|ServiceNames does not list exactly the keys of Services; list each service once, in order",
		}},
		{"nil service and wrong name", &Deployment{Version: "v1", Name: "demo", Services: map[string]*ServiceSpec{"web": nil, "db": valid()}, ServiceNames: []string{"web", "db"}}, []fe{
			"services.web|0|has no spec; give it at least an image",
			"services.db|0|the spec's Name \"web\" differs from its key \"db\"; make them equal",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.d.Validate()
			if tc.want == nil {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			checkErrs(t, err, tc.want)
		})
	}
}
