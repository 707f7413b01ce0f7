package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/switchyard/switchyard/api/client"
	"github.com/switchyard/switchyard/runtime"
	"github.com/switchyard/switchyard/spec"
)

// createFlags are the flags create and run share.
type createFlags struct {
	name       string
	platform   string
	env        []string
	volumes    []string
	memory     string
	cpus       float64
	entrypoint string
	workdir    string
	pull       string
	rm         bool
	network    string
	publish    []string
	runtime    string
	tty        bool
	stdin      bool
	restart    string
}

func (f *createFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.name, "name", "", "name of the container (default: generated from the image)")
	fl.StringVar(&f.platform, "platform", "", "platform to run as, e.g. linux/amd64 or wasip1/wasm (default: from the image)")
	fl.StringArrayVarP(&f.env, "env", "e", nil, "set an environment variable KEY=VALUE (repeatable)")
	fl.StringArrayVarP(&f.volumes, "volume", "v", nil, "bind a host directory SRC:DST[:ro] (repeatable)")
	fl.StringVarP(&f.memory, "memory", "m", "", "memory limit, e.g. 64m or 1g")
	fl.Float64Var(&f.cpus, "cpus", 0, "CPU limit in cores, e.g. 0.5")
	fl.StringVar(&f.entrypoint, "entrypoint", "", "override the image's entrypoint")
	fl.StringVarP(&f.workdir, "workdir", "w", "", "working directory inside the container")
	fl.StringVar(&f.pull, "pull", "missing", "pull the image: always, missing or never")
	fl.StringArrayVarP(&f.publish, "publish", "p", nil, "publish a port [IP:][HOSTPORT:]CONTAINERPORT[/tcp|/udp] (repeatable; CONTAINERPORT alone takes a free host port)")
	fl.StringVar(&f.network, "network", "", "connect to a network: bridge (the default), none, host, or a network's name")
	fl.StringVar(&f.runtime, "runtime", "", "the runtime that must run it (runc, wasm, a delegate's name); an image it cannot run is an error (default: chosen by platform)")
	fl.BoolVarP(&f.tty, "tty", "t", false, "give the workload a terminal (its output, stdout and stderr as one, reaches the log through it)")
	fl.BoolVarP(&f.stdin, "interactive", "i", false, "keep the workload's standard input open; run relays this command's input to it")
	fl.StringVar(&f.restart, "restart", "", "restart policy: no, always, unless-stopped, on-failure[:N]; the daemon restarts the container by it, as dockerd does")
	fl.BoolVar(&f.rm, "rm", false, "remove the container when it exits after a start (the daemon does it, even if this command is killed)")
	fl.SetInterspersed(false) // flags after IMAGE belong to the workload
}

// serviceSpec turns the flags and IMAGE [ARG...] into a validated spec.
func (f *createFlags) serviceSpec(args []string) (runtime.ContainerID, *spec.ServiceSpec, error) {
	image := args[0]
	svc := &spec.ServiceSpec{
		RType: spec.RTypeJob,
		Image: spec.ImageSpec{Name: image},
		Scale: spec.Scale{Replicas: 1},
		Env:   map[string]string{},
	}
	switch f.pull {
	case "missing", "":
		svc.Image.PullPolicy = spec.PullIfNotPresent
	case "always":
		svc.Image.PullPolicy = spec.PullAlways
	case "never":
		svc.Image.PullPolicy = spec.PullNever
	default:
		return runtime.ContainerID{}, nil, fmt.Errorf("--pull %q: want always, missing or never", f.pull)
	}
	if f.platform != "" {
		p, err := spec.ParsePlatform(f.platform)
		if err != nil {
			return runtime.ContainerID{}, nil, fmt.Errorf("--platform: %w", err)
		}
		svc.Platform = &p
	}
	for _, kv := range f.env {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			// docker -e KEY passes the variable from the caller's environment.
			v, ok = os.LookupEnv(k)
			if !ok {
				continue
			}
		}
		if k == "" {
			return runtime.ContainerID{}, nil, fmt.Errorf("-e %q: want KEY=VALUE", kv)
		}
		svc.Env[k] = v
	}
	for i, v := range f.volumes {
		vol, err := parseVolume(v, i)
		if err != nil {
			return runtime.ContainerID{}, nil, err
		}
		svc.Volumes = append(svc.Volumes, vol)
	}
	mem, err := parseMemory(f.memory)
	if err != nil {
		return runtime.ContainerID{}, nil, fmt.Errorf("--memory: %w", err)
	}
	if f.cpus < 0 {
		return runtime.ContainerID{}, nil, fmt.Errorf("--cpus %g: want a positive number of cores", f.cpus)
	}
	svc.Resources = spec.Resources{CPU: f.cpus, MemoryBytes: mem}
	if f.entrypoint != "" {
		svc.Command.Entrypoint = []string{f.entrypoint}
	}
	svc.Command.Args = args[1:]
	svc.Command.Workdir = f.workdir
	if f.runtime != "" {
		svc.Labels = map[string]string{runtime.LabelRuntime: f.runtime}
	}
	svc.TTY = f.tty

	var id runtime.ContainerID
	if f.name != "" {
		id, err = containerID(f.name)
		if err != nil {
			return runtime.ContainerID{}, nil, fmt.Errorf("--name: %w", err)
		}
	} else {
		id = runtime.ContainerID{Service: runtime.GeneratedName(image)}
	}
	svc.Name = id.Service
	if err := svc.Validate(); err != nil {
		return runtime.ContainerID{}, nil, err
	}
	return id, svc, nil
}

// parseVolume parses -v SRC:DST[:ro|rw].
func parseVolume(s string, i int) (spec.Volume, error) {
	parts := strings.Split(s, ":")
	if len(parts) < 2 || len(parts) > 3 || parts[0] == "" || parts[1] == "" {
		return spec.Volume{}, fmt.Errorf("-v %q: want SRC:DST or SRC:DST:ro", s)
	}
	src, err := filepath.Abs(parts[0])
	if err != nil {
		return spec.Volume{}, fmt.Errorf("-v %q: %w", s, err)
	}
	if _, err := os.Stat(src); err != nil {
		return spec.Volume{}, fmt.Errorf("-v %q: source %s does not exist; create it first", s, src)
	}
	vol := spec.Volume{Name: fmt.Sprintf("vol%d", i), Source: src, Path: parts[1]}
	if len(parts) == 3 {
		switch parts[2] {
		case "ro":
			vol.ReadOnly = true
		case "rw":
		default:
			return spec.Volume{}, fmt.Errorf("-v %q: option %q: want ro or rw", s, parts[2])
		}
	}
	return vol, nil
}

// create, what create and run share, builds the container's spec from
// the flags and IMAGE [ARG...] and has the daemon make it through ask (a
// create, or a create and start), pulling the image first or when the
// daemon says it lacks it, as --pull says.
func (f *createFlags) create(cmd *cobra.Command, o *rootOptions, args []string, ask askFunc) (*client.Client, runtime.ContainerID, error) {
	id, svc, err := f.serviceSpec(args)
	if err != nil {
		return nil, id, err
	}
	// Bad ports and policies fail before anything is pulled.
	var restart runtime.RestartPolicy
	if f.restart != "" {
		if restart, err = runtime.ParseRestartPolicy(f.restart); err != nil {
			return nil, id, fmt.Errorf("--restart: %w", err)
		}
		if f.rm && restart.Name != "no" {
			return nil, id, fmt.Errorf("--restart %s and --rm conflict: a container the daemon restarts is not removed at its exit: %w", f.restart, runtime.ErrInvalidArgument)
		}
	}
	var ports []runtime.PortMapping
	for _, p := range f.publish {
		m, err := runtime.ParsePortMapping(p)
		if err != nil {
			return nil, id, fmt.Errorf("-p: %w", err)
		}
		ports = append(ports, m)
	}
	c, err := o.client()
	if err != nil {
		return nil, id, err
	}
	ctx := cmd.Context()
	pull := func() error {
		opts := runtime.PullOptions{Policy: svc.Image.PullPolicy, Auth: svc.RegistryAuth, Platform: svc.Platform}
		display := newPullDisplay(os.Stderr, isTerminal(os.Stderr), svc.Image.Name)
		opts.Progress = display.update
		_, err := c.Pull(ctx, svc.Image.Name, opts)
		display.close()
		return err
	}
	// With --pull missing (the default) the create is asked first, as
	// docker run does: an image already here costs no pull request, and
	// one the daemon does not have is pulled, then the create asked again.
	// Any other policy decides before the create.
	pullFirst := svc.Image.PullPolicy != spec.PullIfNotPresent
	if pullFirst {
		if err := pull(); err != nil {
			return nil, id, err
		}
	}
	cs := svc.CreateSpec()
	cs.AutoRemove = f.rm
	if restart.Name != "" && restart.Name != "no" {
		if cs.Labels == nil {
			cs.Labels = map[string]string{}
		}
		cs.Labels[runtime.LabelRestart] = restart.String()
	}
	cs.TTY = cs.TTY || f.tty
	// As docker run -i: the input ends with the first client's.
	cs.OpenStdin, cs.StdinOnce = f.stdin, f.stdin
	if cs.TTY {
		cs.TerminalSize = terminalSize()
	}
	cs.Network.Mode = f.network
	cs.Network.Ports = ports
	err = ask(ctx, c, id, cs)
	if !pullFirst && errors.Is(err, runtime.ErrNotFound) {
		// The image (or its platform) is not here: pull it. Something
		// else the create did not find (a volume, a network) is still
		// not found after the pull, and the second create says so.
		if err := pull(); err != nil {
			return nil, id, err
		}
		err = ask(ctx, c, id, cs)
	}
	return c, id, err
}

// askFunc has the daemon make container id from cs: create it, or create
// and start it.
type askFunc func(ctx context.Context, c *client.Client, id runtime.ContainerID, cs *runtime.CreateSpec) error

// justCreate is the askFunc of create.
func justCreate(ctx context.Context, c *client.Client, id runtime.ContainerID, cs *runtime.CreateSpec) error {
	return c.Create(ctx, id, cs)
}

func newCreateCmd(o *rootOptions) *cobra.Command {
	var f createFlags
	cmd := &cobra.Command{
		Use:   "create [flags] IMAGE [ARG...]",
		Short: "Create a container without starting it",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			_, id, err := f.create(cmd, o, args, justCreate)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), id.String())
			return nil
		},
	}
	f.register(cmd)
	return cmd
}

func newRunCmd(o *rootOptions) *cobra.Command {
	var (
		f      createFlags
		detach bool
	)
	cmd := &cobra.Command{
		Use:   "run [flags] IMAGE [ARG...]",
		Short: "Pull if needed, create and start a container; in the foreground, print its output and exit with its code",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			// With --rm the daemon removes the container once it has
			// exited (or its start failed), whatever becomes of this
			// command.
			var removed <-chan waitResult
			attach := f.stdin && !detach
			ask := justCreate
			if !attach {
				// The create and the start in one request, and with --rm
				// the wait for the removal too, begun before the start
				// as docker run asks for it: the answer is the exit of
				// the run, given once it has been removed.
				ask = func(ctx context.Context, c *client.Client, id runtime.ContainerID, cs *runtime.CreateSpec) error {
					cond := runtime.WaitCondition("")
					if f.rm && !detach {
						cond = runtime.WaitRemoved
					}
					if cond != "" {
						// The request carries the wait, which outlives an
						// interrupt: the run's outcome is still wanted
						// then (the interrupt stops the container).
						ctx = context.WithoutCancel(ctx)
					}
					outcome, err := c.Run(ctx, id, cs, cond)
					if err != nil {
						return err
					}
					if outcome != nil {
						removed = waitWith(outcome)
					}
					return nil
				}
			}
			c, id, err := f.create(cmd, o, args, ask)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			var input io.WriteCloser
			if attach {
				// Created, not started: the input first.
				if f.rm {
					removed = waitAsync(ctx, c, id, runtime.WaitRemoved)
				}
				// Attached before the start, so that nothing typed or
				// piped in is lost.
				if input, err = c.AttachStdin(ctx, id); err != nil {
					return err
				}
				if err := c.Start(ctx, id); err != nil {
					return err
				}
			}
			if detach {
				fmt.Fprintln(cmd.OutOrStdout(), id.String())
				return nil
			}
			if f.tty {
				t := rawTerminal()
				defer t.restore()
				sized, stop := context.WithCancel(context.WithoutCancel(ctx))
				defer stop()
				followSize(sized, func(rows, cols uint16) error { return c.ResizeTerminal(sized, id, rows, cols) })
			}
			if input != nil {
				go func() {
					_, _ = io.Copy(input, os.Stdin)
					input.Close()
				}()
			}
			return runForeground(ctx, c, id, removed, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f.register(cmd)
	cmd.Flags().BoolVarP(&detach, "detach", "d", false, "run in the background and print the container name")
	return cmd
}

// runForeground streams the workload's output until it exits, then exits
// with its code. An interrupt (Ctrl-C) stops the container, as docker does
// with --sig-proxy.
//
// removed, when set, is the answer to a wait for the removal of an
// auto-remove container, asked before the start: its outcome is the run's.
func runForeground(ctx context.Context, c *client.Client, id runtime.ContainerID, removed <-chan waitResult, stdout, stderr io.Writer) error {
	bg := context.WithoutCancel(ctx)
	stream, err := c.FollowLogs(ctx, id, runtime.TailAll)
	if err != nil {
		return err
	}
	// The stream ends when the workload does, or at an interrupt (Ctrl-C),
	// which stops the container as docker run does.
	copyLogs(stream, stdout, stderr)
	stream.Close()
	if ctx.Err() != nil {
		_ = c.Stop(bg, id, 10*time.Second)
	}
	var out runtime.WaitOutcome
	if removed != nil {
		r := <-removed
		out, err = r.out, r.err
	} else {
		out, err = c.WaitOutcome(bg, id, runtime.WaitNotRunning)
	}
	if err != nil {
		return err
	}
	if out.Reason == runtime.ReasonRuntimeError && out.Message != "" {
		fmt.Fprintln(stderr, "switchyard:", out.Message)
	}
	if out.Reason == runtime.ReasonOOMKilled {
		fmt.Fprintln(stderr, "switchyard: the workload was killed for exceeding its memory limit")
	}
	if out.ExitCode != 0 {
		return &exitError{code: out.ExitCode}
	}
	return nil
}

// waitResult is the answer to a WaitOutcome.
type waitResult struct {
	out runtime.WaitOutcome
	err error
}

// waitWith delivers the answer of outcome (a run's wait) on a channel.
func waitWith(outcome func() (runtime.WaitOutcome, error)) <-chan waitResult {
	ch := make(chan waitResult, 1)
	go func() {
		out, err := outcome()
		ch <- waitResult{out, err}
	}()
	return ch
}

// waitAsync asks for id's outcome under cond in the background. The wait
// outlives an interrupt of ctx: the run's outcome is still wanted then.
func waitAsync(ctx context.Context, c *client.Client, id runtime.ContainerID, cond runtime.WaitCondition) <-chan waitResult {
	ch := make(chan waitResult, 1)
	go func() {
		out, err := c.WaitOutcome(context.WithoutCancel(ctx), id, cond)
		ch <- waitResult{out, err}
	}()
	return ch
}

// copyLogs writes followed log entries to stdout or stderr until the stream ends.
func copyLogs(stream runtime.Stream[runtime.LogEntry], stdout, stderr io.Writer) error {
	for {
		e, err := stream.Recv()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		w := stdout
		if e.Stream == runtime.Stderr {
			w = stderr
		}
		if e.Partial {
			fmt.Fprint(w, e.Text)
		} else {
			fmt.Fprintln(w, e.Text)
		}
	}
}
