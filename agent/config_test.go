package agent

import (
	"errors"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/runtime"
)

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(*Config)
		want   string // "" = valid
	}{
		{"default is valid", func(*Config) {}, ""},
		{"json debug is valid", func(c *Config) { c.LogFormat, c.LogLevel = "json", "debug" }, ""},
		{"empty root", func(c *Config) { c.Root = "" }, "root is empty"},
		{"relative root", func(c *Config) { c.Root = "var/lib" }, "is relative"},
		{"relative socket", func(c *Config) { c.Socket = "sy.sock" }, "socket \"sy.sock\" is relative"},
		{"long socket", func(c *Config) { c.Socket = "/" + strings.Repeat("s", 120) }, "at most 107"},
		{"relative docker socket", func(c *Config) { c.DockerSocket = "docker.sock" }, "docker socket \"docker.sock\" is relative"},
		{"docker socket is the API's", func(c *Config) { c.DockerSocket = c.Socket }, "give --docker-socket a path of its own"},
		{"log format", func(c *Config) { c.LogFormat = "xml" }, "use text or json"},
		{"log level", func(c *Config) { c.LogLevel = "loud" }, "use debug, info, warn or error"},
		{"no runtimes", func(c *Config) { c.Runtimes = nil }, "no runtimes are enabled"},
		{"duplicate runtime", func(c *Config) { c.Runtimes = []string{"runc", "runc"} }, "listed twice"},
		{"empty runtime", func(c *Config) { c.Runtimes = []string{" "} }, "empty name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultConfig()
			tc.change(&c)
			err := c.Validate()
			if tc.want == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate = %v, want an error containing %q", err, tc.want)
			}
			if !errors.Is(err, runtime.ErrInvalidArgument) {
				t.Errorf("Validate error does not wrap ErrInvalidArgument: %v", err)
			}
		})
	}
}

func TestConfigValidateReportsEveryProblem(t *testing.T) {
	c := Config{Root: "rel", LogFormat: "xml"}
	err := c.Validate()
	for _, want := range []string{"root \"rel\" is relative", "socket is empty", "log format", "log level", "no runtimes"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate = %v, want it to mention %q", err, want)
		}
	}
}

func TestConfigLogger(t *testing.T) {
	var b strings.Builder
	c := DefaultConfig()
	c.LogFormat, c.LogLevel = "json", "warn"
	l := c.Logger(&b)
	l.Info("hidden")
	l.Warn("shown", "k", "v")
	if got := b.String(); strings.Contains(got, "hidden") || !strings.Contains(got, `"msg":"shown"`) {
		t.Fatalf("json logger at warn wrote %q", got)
	}
}
