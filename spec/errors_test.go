package spec

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// fe is a wanted FieldError, written "path|line|message".
type fe = string

func formatErrs(errs []*FieldError) []string {
	out := make([]string, len(errs))
	for i, e := range errs {
		out[i] = fmt.Sprintf("%s|%d|%s", e.Path, e.Line, e.Msg)
	}
	return out
}

// checkErrs asserts that err holds exactly the wanted problems, in order,
// that each is a *FieldError reachable with errors.As, and that err wraps
// ErrInvalid.
func checkErrs(t *testing.T, err error, want []fe) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %q", want)
	}
	if !errors.Is(err, ErrInvalid) {
		t.Errorf("error does not wrap ErrInvalid: %v", err)
	}
	var first *FieldError
	if !errors.As(err, &first) {
		t.Fatalf("errors.As(*FieldError) fails for %v", err)
	}
	got := formatErrs(Errors(err))
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("errors:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

const memHint = "(want a number of bytes with an optional unit: 64Mi, 1Gi, 512M)"
const cpuH = "(want cores, like 0.5 or 2, or millicores, like \"500m\")"
const imgHint = "write it like busybox:1.36 or 127.0.0.1:5000/demo/app:latest"
const knownResources = "(known fields: cpu, memory, gpu, pids_limit, cpuset, cpu_shares, memory_swap, memory_reservation, memory_swappiness, oom_score_adj, oom_kill_disable, blkio_weight)"

const knownSvc = "(a service takes ZLayer's fields: see the spec reference in the README)"

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		src  string
		want []fe
	}{
		// The document as a whole.
		{"empty", "", []fe{"|0|the spec is empty; it needs version: v1, deployment: NAME and services:"}},
		{"null document", "~\n", []fe{"|1|the spec is empty; it needs version: v1, deployment: NAME and services:"}},
		{"comment only", "# nothing\n", []fe{"|0|the spec is empty; it needs version: v1, deployment: NAME and services:"}},
		{"syntax error", "version: v1\ndeployment: [demo\n", []fe{"|2|YAML syntax: did not find expected ',' or ']'"}},
		{"tab indentation", "version: v1\n\tdeployment: demo\n", []fe{"|2|YAML syntax: found a tab character that violates indentation"}},
		{"two documents", "version: v1\n---\nversion: v1\n", []fe{
			"deployment|1|missing; name the deployment, like deployment: demo",
			"services|1|no services; add at least one under services:",
			"|2|a second YAML document starts here; a spec file holds one deployment (remove the '---' and what follows, or move it to a file of its own)",
		}},
		{"bad second document", "version: v1\n---\n[x\n", []fe{"|3|YAML syntax: did not find expected ',' or ']'"}},
		{"not a map", "- a\n", []fe{"|1|want a map, got a list"}},
		{"missing everything", "{}\n", []fe{
			"version|1|missing; start the spec with version: v1",
			"deployment|1|missing; name the deployment, like deployment: demo",
			"services|1|no services; add at least one under services:",
		}},
		{"wrong version and name", "version: 1\ndeployment: my demo\nservices: {}\n", []fe{
			"version|1|want a string, got integer 1; write it in quotes (\"1\") if you mean the text",
			"deployment|2|deployment name \"my demo\" has ' '; use letters, digits, '-', '_' and '.'",
			"services|3|no services; add at least one under services:",
		}},
		{"unsupported version", "version: v2\ndeployment: demo\nservices:\n", []fe{
			"version|1|unsupported version \"v2\" (want v1)",
			"services|3|no services; add at least one under services:",
		}},
		{"unknown top-level field with suggestion", "version: v1\ndeployment: demo\nservice: {}\nnetworks: {}\n", []fe{
			"services|1|no services; add at least one under services:",
			"service|3|unknown field \"service\"; did you mean \"services\"? (known fields: version, deployment, services, externals, tunnels, api)",
			"networks|4|unknown field \"networks\" (known fields: version, deployment, services, externals, tunnels, api)",
		}},
		{"services not a map", "version: v1\ndeployment: demo\nservices: [web]\n", []fe{"services|3|want a map, got a list"}},
		{"duplicate service", "version: v1\ndeployment: demo\nservices:\n  web: {image: a}\n  web: {image: b}\n", []fe{
			"services.web|5|duplicate key \"web\" (first written at line 4); write each key once",
		}},
		{"bad service name", "version: v1\ndeployment: demo\nservices:\n  _web: {image: a}\n  \"w/b\": {image: a}\n", []fe{
			"services._web|4|service name \"_web\" must start with a letter or digit",
			"services.w/b|5|service name \"w/b\" has '/'; use letters, digits, '-', '_' and '.'",
		}},
		{"long service name", "version: v1\ndeployment: demo\nservices:\n  " + strings.Repeat("a", 129) + ": {image: a}\n", []fe{
			"services." + strings.Repeat("a", 129) + "|4|service name \"" + strings.Repeat("a", 129) + "\" is longer than 128 characters",
		}},
		{"service not a map", "version: v1\ndeployment: demo\nservices:\n  web: busybox\n", []fe{
			"services.web|4|want a map, got string \"busybox\"",
		}},
		{"non-string key", "version: v1\ndeployment: demo\nservices:\n  [a]: {image: a}\n", []fe{
			"services|3|no services; add at least one under services:",
			"services|4|has a key that is a list; keys are names",
		}},
		{"non-string key at the top", "version: v1\n[a]: b\nservices:\n  web: {image: a, rtype: x}\n", []fe{
			"deployment|1|missing; name the deployment, like deployment: demo",
			"|2|has a key that is a list; keys are names",
			"services.web.rtype|4|unknown rtype \"x\" (want service, job or cron)",
		}},
		{"merge key", "version: v1\ndeployment: demo\nx: &b {image: a}\nservices:\n  web:\n    <<: *b\n", []fe{
			"x|3|unknown field \"x\" (known fields: version, deployment, services, externals, tunnels, api)",
			"services.web|6|merge keys (<<) are not supported; write the fields out",
		}},

		// Per-service fields; svc bodies start at line 6.
		{"unknown service field", svc("imag: x\nhelth: {}"), []fe{
			"services.web.imag|6|unknown field \"imag\"; did you mean \"image\"? " + knownSvc,
			"services.web.helth|7|unknown field \"helth\"; did you mean \"health\"? " + knownSvc,
		}},
		{"bad rtype", svc("rtype: daily"), []fe{"services.web.rtype|6|unknown rtype \"daily\" (want service, job or cron)"}},
		{"cron without schedule", svc("rtype: cron"), []fe{"services.web.schedule|4|missing; a cron service needs a schedule, like schedule: \"0 0 3 * * *\" (seconds first)"}},
		{"schedule of five fields", svc("rtype: cron\nschedule: \"0 3 * * *\""), []fe{"services.web.schedule|7|schedule \"0 3 * * *\" has 5 fields; ZLayer's schedules start with seconds: write \"0 0 3 * * *\""}},
		{"schedule without cron", svc("schedule: \"0 0 3 * * *\""), []fe{"services.web.schedule|6|a schedule is for rtype: cron; set rtype: cron or remove the schedule"}},
		{"rtype not a string", svc("rtype: [job]"), []fe{"services.web.rtype|6|want a string, got a list"}},
		{"missing image", "version: v1\ndeployment: demo\nservices:\n  web:\n    rtype: job\n", []fe{
			"services.web.image.name|4|missing or empty; name the image to run, like busybox:1.36 or 127.0.0.1:5000/demo/app:latest",
		}},
		{"empty image name", "version: v1\ndeployment: demo\nservices:\n  web:\n    image: {name: \"\"}\n", []fe{
			"services.web.image.name|5|missing or empty; name the image to run, like busybox:1.36 or 127.0.0.1:5000/demo/app:latest",
		}},
		{"bad image reference", "version: v1\ndeployment: demo\nservices:\n  web:\n    image: {name: \"Busy Box\"}\n", []fe{
			"services.web.image.name|5|\"Busy Box\" is not an image reference (could not parse reference: Busy Box); " + imgHint,
		}},
		{"image name a number", "version: v1\ndeployment: demo\nservices:\n  web:\n    image: {name: 42}\n", []fe{
			"services.web.image.name|5|want a string, got integer 42; write it in quotes (\"42\") if you mean the text",
		}},
		{"image unknown field and bad policy", "version: v1\ndeployment: demo\nservices:\n  web:\n    image: {name: a, tag: b, pull_policy: sometimes}\n", []fe{
			"services.web.image.tag|5|unknown field \"tag\" (known fields: name, pull_policy, source_policy)",
			"services.web.image.pull_policy|5|unknown pull policy \"sometimes\" (want always, if_not_present or never)",
		}},
		{"image null", "version: v1\ndeployment: demo\nservices:\n  web:\n    image:\n", []fe{
			"services.web.image.name|5|want a string, got nothing (null)",
		}},
		{"bad platform string", svc("platform: linux/amd65"), []fe{
			"services.web.platform|6|\"linux/amd65\" is not a platform: unknown architecture \"amd65\" (want one of amd64, arm64, arm, 386, ppc64le, s390x, riscv64, wasm)",
		}},
		{"platform unknown os", svc("platform: {os: plan9, arch: amd64}"), []fe{
			"services.web.platform|6|\"plan9/amd64\" is not a platform: unknown OS \"plan9\" (want one of linux, windows, darwin, freebsd, wasip1)",
		}},
		{"platform map missing os", svc("platform: {arch: amd64}"), []fe{
			"services.web.platform.os|6|missing; a platform needs an os (linux, windows, darwin, freebsd, wasip1)",
		}},
		{"platform map unknown field", svc("platform: {os: linux, cpu: amd64}"), []fe{
			"services.web.platform.cpu|6|unknown field \"cpu\" (known fields: os, arch, variant, osVersion)",
		}},
		{"platform map non-string", svc("platform: {os: linux, arch: 386}"), []fe{
			"services.web.platform.arch|6|want a string, got integer 386; write it in quotes (\"386\") if you mean the text",
		}},
		{"platform list", svc("platform: [linux]"), []fe{"services.web.platform|6|want a map, got a list"}},
		{"platform number", svc("platform: 1"), []fe{
			"services.web.platform|6|want a string, got integer 1; write it in quotes (\"1\") if you mean the text",
		}},
		{"command fields", svc("command:\n  entrypoint: /bin/sh\n  args: [a, {b: c}, ~]\n  workdir: srv\n  user: root"), []fe{
			"services.web.command.entrypoint|7|want a list, got string \"/bin/sh\"",
			"services.web.command.args[1]|8|want a string, got a map",
			"services.web.command.args[2]|8|want a string, got nothing (null)",
			"services.web.command.workdir|9|\"srv\" is not an absolute path; write it from the root, like /app",
			"services.web.command.user|10|unknown field \"user\" (known fields: entrypoint, args, workdir)",
		}},
		{"env problems", svc("env:\n  A: 1\n  A: 2\n  B:\n  C: [x]\n  \"X=Y\": z"), []fe{
			"services.web.env.A|8|duplicate key \"A\" (first written at line 7); write each key once",
			"services.web.env.B|9|has no value; write \"B\": \"\" for an empty value",
			"services.web.env.C|10|want a string, got a list",
			"services.web.env.X=Y|11|environment variable name \"X=Y\" contains '=' or a NUL byte; use letters, digits and '_'",
		}},
		{"env list", svc("env: [A=b]"), []fe{"services.web.env|6|want a map, got a list"}},
		{"env empty name and NUL", svc("env: {\"\": a, B: \"x\\0y\"}"), []fe{
			"services.web.env.|6|an environment variable needs a name",
			"services.web.env.B|6|the value contains a NUL byte, which no environment can hold",
		}},
		{"endpoint problems", svc("endpoints:\n" +
			"  - {name: http, protocol: http, port: 8080}\n" +
			"  - {name: http, protocol: tcp, port: 8080}\n" +
			"  - {name: dns, protocol: udp, port: 0}\n" +
			"  - {protocol: quic, port: 70000, expose: world}\n" +
			"  - {name: -x, port: \"80\", target: 1}\n" +
			"  - x"), []fe{
			"services.web.endpoints[1].name|8|duplicate endpoint name \"http\" (also services.web.endpoints[0]); give each endpoint its own name",
			"services.web.endpoints[1].port|8|duplicate port 8080/tcp (also services.web.endpoints[0]); give each endpoint its own port",
			"services.web.endpoints[2].port|9|port 0 is out of range (want 1 to 65535)",
			"services.web.endpoints[3].name|10|missing; name the endpoint, like name: http",
			"services.web.endpoints[3].protocol|10|unknown protocol \"quic\" (want http, https, tcp, udp or websocket)",
			"services.web.endpoints[3].port|10|port 70000 is out of range (want 1 to 65535)",
			"services.web.endpoints[3].expose|10|unknown expose \"world\" (want public or internal)",
			"services.web.endpoints[4].protocol|11|missing; want http, https, tcp, udp or websocket",
			"services.web.endpoints[4].name|11|endpoint name \"-x\" must start with a letter or digit",
			"services.web.endpoints[4].port|11|want port (an integer from 1 to 65535), got string \"80\"",
			"services.web.endpoints[4].target|11|unknown field \"target\" (known fields: name, protocol, port, target_port, path, host, expose, stream, target_role, tunnel)",
			"services.web.endpoints[5]|12|want a map, got string \"x\"",
		}},
		{"endpoints not a list", svc("endpoints: {http: 80}"), []fe{"services.web.endpoints|6|want a list, got a map"}},
		{"bad memory", svc("resources:\n  memory: 64Q"), []fe{"services.web.resources.memory|7|\"64Q\" is not a quantity " + memHint}},
		{"fractional bytes", svc("resources: {memory: 1.5}"), []fe{"services.web.resources.memory|6|\"1.5\" is not a whole number of bytes " + memHint}},
		{"huge memory", svc("resources: {memory: 100Ei}"), []fe{"services.web.resources.memory|6|\"100Ei\" is too large (at most 9223372036854775807 bytes)"}},
		{"negative memory", svc("resources: {memory: -1}"), []fe{"services.web.resources.memory|6|\"-1\" is not a quantity " + memHint}},
		{"memory a list", svc("resources: {memory: [1]}"), []fe{"services.web.resources.memory|6|want a quantity, got a list"}},
		{"memory a bool", svc("resources: {memory: true}"), []fe{"services.web.resources.memory|6|want a quantity, got boolean true"}},
		{"bad cpu", svc("resources: {cpu: half, gpus: 1}"), []fe{
			"services.web.resources.cpu|6|\"half\" is not a CPU quantity " + cpuH,
			"services.web.resources.gpus|6|unknown field \"gpus\"; did you mean \"gpu\"? " + knownResources,
		}},
		{"cpu too fine", svc("resources: {cpu: 0.0005}"), []fe{"services.web.resources.cpu|6|\"0.0005\" is finer than a millicore (0.001 cores) " + cpuH}},
		{"cpu too many", svc("resources: {cpu: 2000}"), []fe{"services.web.resources.cpu|6|\"2000\" is more than 1024 cores " + cpuH}},
		{"cpu exponent", svc("resources: {cpu: 1e3}"), []fe{"services.web.resources.cpu|6|\"1e3\" is not a CPU quantity " + cpuH}},
		{"replicas zero", svc("scale: {mode: fixed, replicas: 0}"), []fe{"services.web.scale.replicas|6|replicas 0 is out of range (want 1 to 1000)"}},
		{"replicas absurd", svc("scale: {replicas: 1000000}"), []fe{"services.web.scale.replicas|6|replicas 1000000 is out of range (want 1 to 1000)"}},
		{"replicas text", svc("scale: {replicas: two}"), []fe{"services.web.scale.replicas|6|want replicas (an integer from 1 to 1000), got string \"two\""}},
		{"scale adaptive", svc("scale: {mode: adaptive, min: 1}"), []fe{
			"services.web.scale.max|6|missing; adaptive scaling needs min and max",
		}},
		{"scale a number", svc("scale: 3"), []fe{"services.web.scale|6|want a map, got integer 3"}},
		{"volume problems", svc("volumes:\n" +
			"  - {name: data, path: /data}\n" +
			"  - {name: data, path: /data/, source: rel}\n" +
			"  - {path: relative, read_only: yes}\n" +
			"  - {name: root, path: /}\n" +
			"  - {name: nopath, type: bind}"), []fe{
			"services.web.volumes[1].name|8|duplicate volume name \"data\" (also services.web.volumes[0]); give each volume its own name",
			"services.web.volumes[1].path|8|duplicate volume path \"/data\" (also services.web.volumes[0]); mount one volume per path",
			"services.web.volumes[1].source|8|\"rel\" is not an absolute path; write the host directory from the root, or leave source out for a managed volume",
			"services.web.volumes[2].name|9|missing; name the volume, like name: data",
			"services.web.volumes[2].path|9|\"relative\" is not an absolute path below /; write it like /data",
			"services.web.volumes[2].read_only|9|want true or false, got string \"yes\"",
			"services.web.volumes[3].path|10|\"/\" is not an absolute path below /; write it like /data",
			"services.web.volumes[4].path|11|missing; say where the volume appears in the workload, like path: /data",
			"services.web.volumes[4].type|11|unknown field \"type\" (known fields: name, path, source, read_only)",
		}},
		{"volume bad name", svc("volumes: [{name: \"a b\", path: /x}]"), []fe{
			"services.web.volumes[0].name|6|volume name \"a b\" has ' '; use letters, digits, '-', '_' and '.'",
		}},
		{"auth both", svc("registry_auth: {username: u, password: p, token: t}"), []fe{
			"services.web.registry_auth|6|has both a token and a username/password; use one or the other",
		}},
		{"auth username only", svc("registry_auth: {username: u}"), []fe{"services.web.registry_auth.password|6|missing; a username needs a password"}},
		{"auth password only", svc("registry_auth: {password: p}"), []fe{"services.web.registry_auth.username|6|missing; a password needs a username"}},
		{"auth empty", svc("registry_auth: {}"), []fe{"services.web.registry_auth|6|is empty; give username and password, or token"}},
		{"auth bad", svc("registry_auth: {user: u}"), []fe{
			"services.web.registry_auth|6|is empty; give username and password, or token",
			"services.web.registry_auth.user|6|unknown field \"user\" (known fields: username, password, token)",
		}},
		{"auth not a map", svc("registry_auth: secret"), []fe{"services.web.registry_auth|6|want a map, got string \"secret\""}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := Parse([]byte(tc.src))
			if d != nil {
				t.Errorf("Parse returned a deployment with an error")
			}
			checkErrs(t, err, tc.want)
		})
	}
}

func TestFieldErrorFormat(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  FieldError
		want string
	}{
		{"path and line", FieldError{"services.web.resources.memory", 12, "bad"}, "services.web.resources.memory: line 12: bad"},
		{"no line", FieldError{"services.web", 0, "bad"}, "services.web: bad"},
		{"no path", FieldError{"", 3, "bad"}, "line 3: bad"},
		{"message only", FieldError{"", 0, "bad"}, "bad"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.err.Error(); got != tc.want {
				t.Errorf("Error() = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestErrorsUnwrapsWrapping(t *testing.T) {
	_, err := Parse([]byte(svc("rtype: x\nscale: {replicas: 0}")))
	wrapped := fmt.Errorf("deploy demo: %w", err)
	if got := len(Errors(wrapped)); got != 2 {
		t.Errorf("Errors(wrapped) found %d, want 2", got)
	}
	if Errors(nil) != nil || Errors(errors.New("x")) != nil {
		t.Error("Errors of a non-spec error should be empty")
	}
	if !errors.Is(wrapped, ErrInvalid) {
		t.Error("wrapped error lost ErrInvalid")
	}
}
