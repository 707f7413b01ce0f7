package spec

import (
	"reflect"
	"slices"
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"30s": 30 * time.Second, "5m": 5 * time.Minute, "1h 30m": 90 * time.Minute, "1h30m": 90 * time.Minute,
		"500ms": 500 * time.Millisecond, "2days": 48 * time.Hour, "1w": 7 * 24 * time.Hour, "0": 0, "10 sec": 10 * time.Second,
	} {
		got, err := ParseDuration(in)
		if err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "s", "10", "1.5h", "10 parsecs", "-1s", "99999999999999999999s", "9223372036854775807h"} {
		if _, err := ParseDuration(in); err == nil {
			t.Errorf("ParseDuration(%q) succeeded; want an error", in)
		}
	}
}

func TestZLayerFields(t *testing.T) {
	d := mustParse(t, svc(`storage:
  - {type: bind, source: /srv, target: /srv, readonly: true}
  - {type: named, name: data, target: /data}
  - {type: anonymous, target: /cache}
  - {type: tmpfs, target: /tmp, size: 64Mi, mode: 1777}
health: {check: {type: http, url: "http://localhost:80/"}, interval: 10s}
network_mode: bridge:front
ulimits: {nofile: {soft: 1024}, nproc: 512}
stop_grace_period: 1m
cap_add: [NET_ADMIN]
resources: {cpu: 0.5, pids_limit: 100, cpuset: "0-1", memory_swap: -1, gpu: {count: 2}}
scale: {mode: adaptive, min: 2, max: 5, targets: {cpu: 70}}`))
	s := d.Services["web"]
	wantStorage := []Storage{
		{Type: "bind", Source: "/srv", Target: "/srv", ReadOnly: true},
		{Type: "named", Name: "data", Target: "/data", Tier: "local"},
		{Type: "anonymous", Target: "/cache", Tier: "local"},
		{Type: "tmpfs", Target: "/tmp", Size: "64Mi", SizeBytes: 64 << 20, Mode: ptr(uint32(1777))},
	}
	if !reflect.DeepEqual(s.Storage, wantStorage) {
		t.Errorf("storage = %+v\nwant %+v", s.Storage, wantStorage)
	}
	if s.Health.Check.Type != "http" || s.Health.Check.ExpectStatus != 200 || s.Health.Retries != 3 || time.Duration(*s.Health.Interval) != 10*time.Second {
		t.Errorf("health = %+v (check %+v); want ZLayer's defaults filled in", s.Health, s.Health.Check)
	}
	if *s.NetworkMode != (NetworkMode{Mode: "bridge", Name: "front"}) {
		t.Errorf("network_mode = %+v", *s.NetworkMode)
	}
	if s.Ulimits["nofile"] != (Ulimit{1024, 1024}) || s.Ulimits["nproc"] != (Ulimit{512, 512}) {
		t.Errorf("ulimits = %+v", s.Ulimits)
	}
	if len(s.Capabilities) != 1 || s.Capabilities[0] != "NET_ADMIN" {
		t.Errorf("cap_add did not reach capabilities: %v", s.Capabilities)
	}
	if r := s.Resources; r.PidsLimit != 100 || r.Cpuset != "0-1" || r.MemorySwapBytes != -1 || s.GPU == nil || s.GPU.Count != 2 || s.GPU.Vendor != "nvidia" {
		t.Errorf("resources = %+v, gpu %+v", r, s.GPU)
	}
	if s.Scale.Mode != "adaptive" || s.Scale.Replicas != 2 || s.Scale.Max != 5 || *s.Scale.Targets.CPU != 70 {
		t.Errorf("scale = %+v", s.Scale)
	}
}

func TestZLayerFieldErrors(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		want       []fe
	}{
		{"storage without type", "storage: [{target: /x}]", []fe{"services.web.storage[0].type|6|missing; say which kind this is with type: anonymous|bind|named|s3|tmpfs"}},
		{"storage of an unknown type", "storage: [{type: nfs, target: /x}]", []fe{"services.web.storage[0].type|6|unknown type \"nfs\" (want anonymous, bind, named, s3, tmpfs)"}},
		{"field of another variant", "storage: [{type: tmpfs, target: /x, source: /y}]", []fe{"services.web.storage[0].source|6|unknown field \"source\" (known fields: type, target, size, mode)"}},
		{"missing target", "storage: [{type: bind, source: /y}]", []fe{"services.web.storage[0].target|6|missing; storage[0] needs target"}},
		{"exec check", "health: {check: {type: exec, command: [a]}}", []fe{"services.web.health.check.type|6|there is no exec check; write type: command with command: \"the shell command\""}},
		{"bad enum", "depends: [{service: db, condition: healty}]", []fe{"services.web.depends[0].condition|6|\"healty\" is not one of started, healthy, ready; did you mean \"healthy\"?"}},
		{"bad duration", "stop_grace_period: 10 parsecs", []fe{"services.web.stop_grace_period|6|\"10 parsecs\" has an unknown unit \"parsecs\" (want a number with a unit, like 500ms, 30s, 5m or 1h 30m)"}},
		{"bad network mode", "network_mode: overlay", []fe{"services.web.network_mode|6|unknown network mode \"overlay\" (want default, host, none, bridge, bridge:NAME or container:ID)"}},
		{"soft above hard", "ulimits: {nofile: {soft: 10, hard: 5}}", []fe{"services.web.ulimits.nofile|6|soft limit 10 is above hard limit 5; a soft limit cannot exceed its hard one"}},
		{"cap_add and capabilities", "capabilities: [NET_ADMIN]\ncap_add: [SYS_PTRACE]", []fe{"services.web.cap_add|7|\"capabilities\" and \"cap_add\" are the same field; write it once"}},
		{"runtime hint", "runtime: wasm", []fe{"services.web.runtime|6|unknown field \"runtime\"; to name the runtime that runs a service, write labels: {switchyard.runtime: NAME} (runc, wasm, ...)"}},
		{"bad cpuset", "resources: {cpuset: 3-1}", []fe{"services.web.resources.cpuset|6|\"3-1\" is not a CPU list (want CPU numbers and ranges, like 0-3,5)"}},
		{"adaptive min above max", "scale: {mode: adaptive, min: 5, max: 2}", []fe{"services.web.scale.min|6|scale min (5) cannot be greater than max (2)"}},
		{"fixed with min", "scale: {mode: fixed, min: 2}", []fe{"services.web.scale.min|6|min is not a field of scale mode fixed (its fields: mode, replicas)"}},
		{"bad osVersion", "platform: {os: windows, arch: amd64, osVersion: ltsc2019}", []fe{"services.web.platform.osVersion|6|\"ltsc2019\" is not an OS version; write the build family's dotted numbers, like 10.0.17763 (or 10.0.17763.1234)"}},
		{"dependency on no service", "depends: [{service: db}]", []fe{"services.web.depends[0].service|6|\"db\" is not a service of this deployment (its services: web)"}},
		{"wasm block on a standard service", "wasm: {max_memory: 64Mi}", []fe{"services.web.wasm|6|the wasm block is for a wasm service_type (wasm_http, wasm_plugin, ...), and this service's is \"standard\"; set service_type or drop the block"}},
		{"wasm instances", "service_type: wasm_plugin\nwasm: {min_instances: 5, max_instances: 2}", []fe{"services.web.wasm.min_instances|7|min_instances (5) cannot be greater than max_instances (2)"}},
		{"deployment name too short", "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := svc(tc.body)
			if tc.want == nil {
				src = "version: v1\ndeployment: ab\nservices:\n  web:\n    image: {name: busybox}\n"
				tc.want = []fe{"deployment|2|deployment name \"ab\" must be 3 to 63 characters"}
			}
			d, err := Parse([]byte(src))
			if d != nil {
				t.Errorf("Parse returned a deployment with an error")
			}
			checkErrs(t, err, tc.want)
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestPlatformOSVersion(t *testing.T) {
	d := mustParse(t, svc("platform: {os: windows, arch: amd64, osVersion: 10.0.17763}"))
	if p := d.Services["web"].Platform; p == nil || p.OS != "windows" || p.OSVersion != "10.0.17763" {
		t.Errorf("platform = %+v", p)
	}
	d = mustParse(t, svc("platform: {os: macos, arch: arm64}"))
	if p := d.Services["web"].Platform; p.OS != "darwin" {
		t.Errorf("macos read as %+v, want darwin", p)
	}
}

func TestDependencies(t *testing.T) {
	d := mustParse(t, `version: v1
deployment: demo
services:
  web:
    image: busybox
    depends: [{service: api}, {service: db, condition: started}]
  api:
    image: busybox
    depends: [{service: db}]
  db:
    image: busybox
    health: {check: {type: tcp, port: 5432}}
  cache:
    image: busybox
`)
	if dep := d.Services["api"].Depends[0]; dep.Condition != "healthy" || dep.OnTimeout != "fail" || time.Duration(*dep.Timeout) != 5*time.Minute {
		t.Errorf("depends = %+v; want ZLayer's defaults: condition healthy, on_timeout fail, timeout 5m", dep)
	}
	if got, want := d.StartOrder(), []string{"db", "api", "web", "cache"}; !slices.Equal(got, want) {
		t.Errorf("start order %v, want %v", got, want)
	}
	var warned []string
	for _, w := range d.Warnings {
		warned = append(warned, w.Path)
	}
	if want := []string{"services.web.depends[0].service"}; !slices.Equal(warned, want) {
		t.Errorf("warnings at %v, want %v (api has no health check; db has one)", warned, want)
	}
	_, err := Parse([]byte(`version: v1
deployment: demo
services:
  a: {image: busybox, depends: [{service: b}]}
  b: {image: busybox, depends: [{service: c}]}
  c: {image: busybox, depends: [{service: a}]}
`))
	checkErrs(t, err, []fe{"services.a.depends|4|the services depend on each other in a cycle, a → b → c → a, so none of them could start; remove one of the dependencies"})
}
