package node

import (
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/agent"
)

func testConfig(t *testing.T) Config {
	dir := t.TempDir()
	cfg := Config{Agent: agent.DefaultConfig()}
	cfg.Agent.Root = filepath.Join(dir, "root")
	cfg.Agent.Socket = filepath.Join(dir, "sy.sock")
	cfg.Networks.Disabled = true // no bridge of the host's is touched
	return cfg
}

// A node that cannot be assembled leaves nothing held: the next start on
// the same root takes its lock, and its image store opens.
func TestFailedStartReleasesEverything(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	for _, tc := range []struct {
		name   string
		mutate func(*Config)
		saying string
	}{
		{"unknown runtime", func(c *Config) { c.Agent.Runtimes = []string{"nope"} }, `unknown runtime "nope"`},
		{"runtime named twice", func(c *Config) {
			c.Agent.Runtimes = []string{"d", "d"}
			c.Delegates = []Delegate{{Name: "d", Address: "unix:///nowhere.sock"}}
		}, "listed twice"},
		{"plain TCP on a public address", func(c *Config) {
			c.Agent.Runtimes = []string{"d"}
			c.Delegates = []Delegate{{Name: "d", Address: "unix:///nowhere.sock"}}
			c.Listen = Listen{Address: "tcp://0.0.0.0:0"}
		}, "listen"},
		{"token without an address", func(c *Config) { c.Listen = Listen{TokenFile: "/x"} }, "no listen address"},
		{"empty token file", func(c *Config) {
			c.Agent.Runtimes = []string{"d"}
			c.Delegates = []Delegate{{Name: "d", Address: "unix:///nowhere.sock"}}
			c.DelegateTokenFile = "/dev/null"
		}, "empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig(t)
			tc.mutate(&cfg)
			_, err := Start(t.Context(), cfg, log)
			if err == nil || !strings.Contains(err.Error(), tc.saying) {
				t.Fatalf("Start = %v, want an error saying %q", err, tc.saying)
			}
			lock, err := agent.LockRoot(cfg.Agent.Root)
			if err != nil {
				t.Fatalf("the failed start left the root locked: %v", err)
			}
			if err := lock.Release(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// A node of one delegate serves and closes cleanly, and Close may be called
// again.
func TestStartServeClose(t *testing.T) {
	cfg := testConfig(t)
	cfg.Agent.Runtimes = []string{"d"}
	cfg.Delegates = []Delegate{{Name: "d", Address: "unix:///nowhere.sock"}}
	n, err := Start(t.Context(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if got := n.Agent.Runtimes(); len(got) != 1 || got[0].Name() != "remote:d" {
		t.Errorf("runtimes = %v", got)
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	if err := n.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := agent.LockRoot(cfg.Agent.Root); err != nil {
		t.Errorf("Close left the root locked: %v", err)
	}
}
