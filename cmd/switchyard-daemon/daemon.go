package main

import (
	"fmt"
	"net/netip"
	"os"
	"strings"
	"syscall"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/spf13/cobra"

	"github.com/switchyard/switchyard/agent"
	"github.com/switchyard/switchyard/agent/node"
	"github.com/switchyard/switchyard/internal/version"
	"github.com/switchyard/switchyard/network"
	"github.com/switchyard/switchyard/registry"
	"github.com/switchyard/switchyard/spec"
)

// daemonOptions are the daemon's flags: a node.Config and the flags that
// parse into it.
type daemonOptions struct {
	cfg        node.Config
	runtimes   string
	logMaxSize string
	// mirrors are the --registry-mirror values, HOST=MIRROR, in order.
	mirrors  []string
	delegate delegateFlags
	// bridge and bridgeSubnet are the default network's (--bridge none
	// disables networks).
	bridge, bridgeSubnet string
	// crashAt is the hidden --crash-at: a step boundary at which the
	// daemon kills itself, for the tests of what a crash leaves.
	crashAt string
}

func newDaemonCmd() *cobra.Command {
	o := daemonOptions{cfg: node.Config{Agent: agent.DefaultConfig()}}
	cmd := &cobra.Command{
		Use:   "daemon",
		Short: "Run the switchyard agent: serve the API and supervise workloads",
		Long: `Run the switchyard agent. It combines the runtimes named by --runtimes, in
preference order (the first is the primary), serves the API on a unix socket,
and finds again every workload a previous agent on the same --root started.
Stopping the agent leaves workloads running: their shims own them.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.parse(); err != nil {
				return err
			}
			log := o.cfg.Agent.Logger(os.Stderr)
			n, err := node.Start(cmd.Context(), o.cfg, log)
			if err != nil {
				return err
			}
			log.Info("switchyard daemon serving", "socket", o.cfg.Agent.Socket, "root", o.cfg.Agent.Root,
				"runtimes", o.cfg.Agent.Runtimes, "version", o.cfg.Version)
			return n.Serve(cmd.Context())
		},
	}
	c := &o.cfg
	fl := cmd.Flags()
	fl.StringVar(&c.Agent.Root, "root", c.Agent.Root, "state directory (images, containers, deployments)")
	fl.StringVar(&c.Agent.Socket, "socket", c.Agent.Socket, "unix socket to serve the API on (mode 0660)")
	fl.StringVar(&c.Agent.DockerSocket, "docker-socket", "", "unix socket to serve the Docker Engine API on as well (mode 0660), for DOCKER_HOST=unix://PATH")
	fl.StringVar(&c.Agent.CRISocket, "cri-socket", "", "unix socket to serve the Kubernetes CRI on as well (mode 0660), for crictl --runtime-endpoint unix://PATH")
	fl.StringVar(&o.runtimes, "runtimes", strings.Join(c.Agent.Runtimes, ","), "runtimes in preference order: runc, wasm, or a --delegate NAME")
	fl.StringVar(&c.RuncBinary, "runc", "runc", "OCI runtime binary with runc's command line (runc, or a path)")
	fl.StringVar(&c.Agent.LogLevel, "log-level", c.Agent.LogLevel, "log level: debug, info, warn or error")
	fl.StringVar(&c.Agent.LogFormat, "log-format", c.Agent.LogFormat, "log format: text or json")
	fl.StringArrayVar(&c.InsecureRegistries, "insecure-registry", nil, "registry host[:port] that may be reached over plain HTTP (loopback always may)")
	fl.StringArrayVar(&o.mirrors, "registry-mirror", nil, "`HOST=MIRROR`: pull the images of registry HOST (docker.io, registry.k8s.io, ...) from MIRROR, [http://]host[:port][/prefix], first, and from HOST when the mirror lacks one or fails; repeatable, mirrors tried in order")
	fl.Int64Var(&c.PIDsLimit, "pids-limit", 4096, "default limit on processes per Linux container")
	fl.StringVar(&o.logMaxSize, "log-max-size", "20Mi", "rotate each container's log at this size (like docker's max-size)")
	fl.IntVar(&c.LogMaxFiles, "log-max-files", 5, "log files kept per container, the current one included (like docker's max-file)")
	fl.StringVar(&o.bridge, "bridge", network.DefaultBridge, "the default network's bridge device, made the first time; none gives containers loopback only")
	fl.StringVar(&o.bridgeSubnet, "bridge-subnet", network.DefaultSubnet().String(), "the default network's subnet, used when it is first made")
	fl.StringVar(&o.crashAt, "crash-at", "", "for tests: SIGKILL the daemon once a create or removal reaches this step (such as runc:create:bundle)")
	_ = fl.MarkHidden("crash-at")
	o.delegate.register(cmd, c)
	return cmd
}

// parse turns the flags that are lists into the config.
func (o *daemonOptions) parse() error {
	o.cfg.Agent.Runtimes = splitList(o.runtimes)
	size, err := spec.ParseMemory(o.logMaxSize)
	if err != nil || size < 4096 {
		return fmt.Errorf("--log-max-size %q: want a size of at least 4Ki, such as 20Mi or 100M", o.logMaxSize)
	}
	o.cfg.LogMaxSize = size
	if o.cfg.LogMaxFiles < 1 {
		return fmt.Errorf("--log-max-files %d: want 1 or more", o.cfg.LogMaxFiles)
	}
	mirrors, err := parseMirrors(o.mirrors)
	if err != nil {
		return err
	}
	o.cfg.RegistryMirrors = mirrors
	o.cfg.Version = version.String()
	if o.bridge == "none" {
		o.cfg.Networks.Disabled = true
	} else {
		subnet, err := netip.ParsePrefix(o.bridgeSubnet)
		if err != nil {
			return fmt.Errorf("--bridge-subnet %q: want a subnet such as 10.90.0.0/16", o.bridgeSubnet)
		}
		if len(o.bridge) > 15 || o.bridge == "" {
			return fmt.Errorf("--bridge %q: want a device name of 1 to 15 characters, or none", o.bridge)
		}
		o.cfg.Networks.Bridge, o.cfg.Networks.Subnet = o.bridge, subnet
	}
	if want := o.crashAt; want != "" {
		o.cfg.StepHook = func(step string) {
			if step == want {
				_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
				select {} // the signal is on its way
			}
		}
	}
	return o.delegate.into(&o.cfg)
}

// parseMirrors parses the --registry-mirror values into the mirrors of
// each registry, in the order given; nil for none.
func parseMirrors(values []string) (map[string][]string, error) {
	if len(values) == 0 {
		return nil, nil
	}
	out := map[string][]string{}
	for _, v := range values {
		host, mirror, err := registry.ParseMirror(v)
		if err != nil {
			return nil, fmt.Errorf("--registry-mirror: %w", err)
		}
		out[host] = append(out[host], mirror)
	}
	return out, nil
}

// splitList splits a comma-separated flag value, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// parsePlatforms parses a list of platforms for flag.
func parsePlatforms(flag string, list []string) ([]ocispec.Platform, error) {
	out := make([]ocispec.Platform, 0, len(list))
	for _, s := range list {
		p, err := spec.ParsePlatform(s)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", flag, err)
		}
		out = append(out, p)
	}
	return out, nil
}
