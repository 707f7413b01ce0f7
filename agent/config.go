package agent

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"

	"github.com/switchyard/switchyard/runtime"
)

// maxSocketPath is the longest path a unix socket address may have on Linux
// (sun_path is 108 bytes including the terminating NUL).
const maxSocketPath = 107

// Config is the agent's configuration. It is a plain value: start from
// DefaultConfig, set fields from flags, and call Validate once before New.
type Config struct {
	// Root is the state directory the agent owns exclusively: the lock file,
	// the deployment database and the runtimes' state live under it.
	Root string
	// Socket is the unix socket the API is served on.
	Socket string
	// DockerSocket, when set, is a unix socket the Docker Engine API is
	// served on as well (package api/docker), for the docker CLI, compose
	// and docker-py.
	DockerSocket string
	// CRISocket, when set, is a unix socket the Kubernetes CRI (package
	// cri) is served on as well, for a kubelet, crictl and critest.
	CRISocket string
	// LogFormat is "text" or "json".
	LogFormat string
	// LogLevel is "debug", "info", "warn" or "error".
	LogLevel string
	// Runtimes names the runtimes to enable, in order of preference (the
	// first is the primary). The daemon command builds them from these names.
	Runtimes []string
}

// DefaultConfig returns the configuration a daemon started without flags
// uses.
func DefaultConfig() Config {
	return Config{
		Root:      "/var/lib/switchyard",
		Socket:    "/run/switchyard/switchyard.sock",
		LogFormat: "text",
		LogLevel:  "info",
		Runtimes:  []string{"runc", "wasm"},
	}
}

// Validate reports every problem of c at once, each saying what is wrong
// and what to pass instead. The error wraps runtime.ErrInvalidArgument.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf(format, args...))
	}
	switch {
	case c.Root == "":
		bad("root is empty; pass --root with an absolute directory such as /var/lib/switchyard")
	case !filepath.IsAbs(c.Root):
		bad("root %q is relative; pass --root with an absolute directory", c.Root)
	}
	switch {
	case c.Socket == "":
		bad("socket is empty; pass --socket with an absolute path such as /run/switchyard/switchyard.sock")
	case !filepath.IsAbs(c.Socket):
		bad("socket %q is relative; pass --socket with an absolute path", c.Socket)
	case len(c.Socket) > maxSocketPath:
		bad("socket %q is %d bytes long; a unix socket path may have at most %d, pass a shorter --socket", c.Socket, len(c.Socket), maxSocketPath)
	}
	// The other APIs' sockets are optional; each needs a path of its own.
	for _, o := range []struct{ what, flag, path, taken string }{
		{"docker socket", "--docker-socket", c.DockerSocket, ""},
		{"CRI socket", "--cri-socket", c.CRISocket, c.DockerSocket},
	} {
		switch {
		case o.path == "":
		case !filepath.IsAbs(o.path):
			bad("%s %q is relative; pass %s with an absolute path", o.what, o.path, o.flag)
		case len(o.path) > maxSocketPath:
			bad("%s %q is %d bytes long; a unix socket path may have at most %d, pass a shorter %s", o.what, o.path, len(o.path), maxSocketPath, o.flag)
		case o.path == c.Socket || o.path == o.taken:
			bad("%s %q is also another API's socket; give %s a path of its own", o.what, o.path, o.flag)
		}
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		bad("log format %q is unknown; use text or json", c.LogFormat)
	}
	if _, err := parseLevel(c.LogLevel); err != nil {
		bad("log level %q is unknown; use debug, info, warn or error", c.LogLevel)
	}
	if len(c.Runtimes) == 0 {
		bad("no runtimes are enabled; enable at least one, such as runc or wasm")
	}
	seen := make(map[string]bool, len(c.Runtimes))
	for _, name := range c.Runtimes {
		switch {
		case strings.TrimSpace(name) == "":
			bad("runtimes lists an empty name; list names such as runc or wasm")
		case seen[name]:
			bad("runtime %q is listed twice; list each runtime once, in order of preference", name)
		}
		seen[name] = true
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("invalid agent configuration: %w: %w", errors.Join(errs...), runtime.ErrInvalidArgument)
}

// Logger returns a logger writing to w in c's format at c's level. Call it
// after Validate; an unknown level falls back to info.
func (c Config) Logger(w io.Writer) *slog.Logger {
	level, err := parseLevel(c.LogLevel)
	if err != nil {
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: level}
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	switch strings.ToLower(s) {
	case "debug", "info", "warn", "error":
		return l, l.UnmarshalText([]byte(s))
	}
	return l, fmt.Errorf("log level %q: %w", s, runtime.ErrInvalidArgument)
}
