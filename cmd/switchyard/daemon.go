package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/spf13/cobra"

	"github.com/switchyard/switchyard/agent"
	"github.com/switchyard/switchyard/images"
	"github.com/switchyard/switchyard/registry"
	"github.com/switchyard/switchyard/runtime"
	"github.com/switchyard/switchyard/runtimes/runc"
	"github.com/switchyard/switchyard/runtimes/wasm"
)

// daemonOptions are the daemon's flags beyond agent.Config.
type daemonOptions struct {
	cfg       agent.Config
	runtimes  string
	runcPath  string
	insecure  []string
	pidsLimit int64
	delegate  delegateFlags
}

func newDaemonCmd() *cobra.Command {
	o := daemonOptions{cfg: agent.DefaultConfig()}
	cmd := &cobra.Command{
		Use:   "daemon",
		Short: "Run the switchyard agent: serve the API and supervise workloads",
		Long: `Run the switchyard agent. It combines the runtimes named by --runtimes, in
preference order (the first is the primary), serves the API on a unix socket,
and finds again every workload a previous agent on the same --root started.
Stopping the agent leaves workloads running: their shims own them.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return o.run(cmd)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.cfg.Root, "root", o.cfg.Root, "state directory (images, containers, deployments)")
	fl.StringVar(&o.cfg.Socket, "socket", o.cfg.Socket, "unix socket to serve the API on (mode 0660)")
	fl.StringVar(&o.runtimes, "runtimes", strings.Join(o.cfg.Runtimes, ","), "runtimes in preference order: runc, wasm, or a --delegate NAME")
	fl.StringVar(&o.runcPath, "runc", "runc", "OCI runtime binary with runc's command line (runc, or a path)")
	fl.StringVar(&o.cfg.LogLevel, "log-level", o.cfg.LogLevel, "log level: debug, info, warn or error")
	fl.StringVar(&o.cfg.LogFormat, "log-format", o.cfg.LogFormat, "log format: text or json")
	fl.StringArrayVar(&o.insecure, "insecure-registry", nil, "registry host[:port] that may be reached over plain HTTP (loopback always may)")
	fl.Int64Var(&o.pidsLimit, "pids-limit", 4096, "default limit on processes per Linux container")
	o.delegate.register(cmd)
	return cmd
}

func (o *daemonOptions) run(cmd *cobra.Command) error {
	ctx := cmd.Context()
	o.cfg.Runtimes = splitList(o.runtimes)
	if err := o.cfg.Validate(); err != nil {
		return err
	}
	log := o.cfg.Logger(os.Stderr)
	// The root lock comes first: a second daemon must fail with a message
	// about the daemon, not about some file under the root.
	lock, err := agent.LockRoot(o.cfg.Root)
	if err != nil {
		return err
	}
	store, err := images.Open(filepath.Join(o.cfg.Root, "images"), images.WithLogger(log))
	if err != nil {
		_ = lock.Release()
		return err
	}
	defer store.Close()
	local, localPlatforms, err := o.buildLocal(store, log)
	if err != nil {
		_ = lock.Release()
		return err
	}
	// The node's one image service: it pulls, under each reference, the
	// manifests of every platform the local runtimes serve.
	ropts := []registry.Option{registry.WithLogger(log), registry.WithInsecureRegistries(o.insecure...)}
	if len(localPlatforms) > 0 {
		ropts = append(ropts, registry.WithPlatforms(localPlatforms...))
	}
	imgs := registry.NewImageService(store, ropts...)
	delegates, err := o.delegate.buildDelegates(log)
	if err != nil {
		_ = lock.Release()
		return err
	}
	defer func() {
		for _, d := range delegates {
			_ = d.Close()
		}
	}()
	rts, err := order(o.cfg.Runtimes, local, delegates)
	if err != nil {
		_ = lock.Release()
		return err
	}
	listen, err := o.delegate.listenOptions()
	if err != nil {
		_ = lock.Release()
		return err
	}
	load := func(ctx context.Context, path string) ([]runtime.ImageInfo, error) {
		imgs, err := store.LoadFile(ctx, path)
		if err != nil {
			return nil, err
		}
		infos := make([]runtime.ImageInfo, len(imgs))
		for i, img := range imgs {
			infos[i] = img.Info()
		}
		return infos, nil
	}
	aopts := append(listen,
		agent.WithImageLoader(load),
		agent.WithRootLock(lock),
		agent.WithLogger(log),
		agent.WithInspector(imgs),
		agent.WithVersion(buildVersion()))
	if len(local) > 0 {
		aopts = append(aopts, agent.WithImages(imgs))
	}
	a, err := agent.New(ctx, o.cfg, rts, aopts...)
	if err != nil {
		return err
	}
	log.Info("switchyard daemon serving", "socket", o.cfg.Socket, "root", o.cfg.Root, "runtimes", o.cfg.Runtimes, "version", buildVersion())
	return a.Serve(ctx)
}

// buildLocal makes the local runtimes --runtimes names (runc, wasm), and
// returns them with their platforms in preference order; the other names
// must be delegates.
func (o *daemonOptions) buildLocal(store *images.Store, log *slog.Logger) (map[string]runtime.Containers, []ocispec.Platform, error) {
	local := map[string]runtime.Containers{}
	var plats []ocispec.Platform
	for _, name := range o.cfg.Runtimes {
		switch name {
		case "runc":
			rt, err := runc.New(filepath.Join(o.cfg.Root, "runc"), store,
				runc.WithRuncBinary(o.runcPath),
				runc.WithPIDsLimit(o.pidsLimit),
				runc.WithLogger(log))
			if err != nil {
				return nil, nil, fmt.Errorf("runtime runc: %w", err)
			}
			local[name] = rt
			plats = append(plats, rt.Platforms()...)
		case "wasm":
			dir := filepath.Join(o.cfg.Root, "wasm")
			rt, err := wasm.New(dir, wasm.StoreModules(store, filepath.Join(dir, "modules")),
				wasm.WithLogger(log))
			if err != nil {
				return nil, nil, fmt.Errorf("runtime wasm: %w", err)
			}
			local[name] = rt
			plats = append(plats, rt.Platforms()...)
		}
	}
	return local, plats, nil
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
