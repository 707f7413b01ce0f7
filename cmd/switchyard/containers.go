package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/switchyard/switchyard/api/client"
	"github.com/switchyard/switchyard/runtime"
)

func newStartCmd(o *rootOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "start NAME...",
		Short: "Start one or more created or exited containers",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.eachID(cmd, args, func(ctx context.Context, c *client.Client, id runtime.ContainerID) error {
				return c.Start(ctx, id)
			})
		},
	}
}

func newStopCmd(o *rootOptions) *cobra.Command {
	var secs int
	cmd := &cobra.Command{
		Use:   "stop [-t SECS] NAME...",
		Short: "Stop containers: SIGTERM, then SIGKILL after the timeout",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if secs < 0 {
				return fmt.Errorf("-t %d: want a number of seconds >= 0", secs)
			}
			return o.eachID(cmd, args, func(ctx context.Context, c *client.Client, id runtime.ContainerID) error {
				return c.Stop(ctx, id, time.Duration(secs)*time.Second)
			})
		},
	}
	cmd.Flags().IntVarP(&secs, "time", "t", 10, "seconds to wait before killing the container")
	return cmd
}

func newKillCmd(o *rootOptions) *cobra.Command {
	var sig string
	cmd := &cobra.Command{
		Use:   "kill [-s SIGNAL] NAME...",
		Short: "Send a signal to containers (default SIGKILL)",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := runtime.ParseSignal(sig); err != nil {
				return err
			}
			return o.eachID(cmd, args, func(ctx context.Context, c *client.Client, id runtime.ContainerID) error {
				return c.Kill(ctx, id, sig)
			})
		},
	}
	cmd.Flags().StringVarP(&sig, "signal", "s", "KILL", "signal to send: a name (TERM, SIGHUP) or a number")
	return cmd
}

func newRmCmd(o *rootOptions) *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:     "rm [-f] NAME...",
		Aliases: []string{"remove"},
		Short:   "Remove containers (-f to kill running ones first)",
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.eachID(cmd, args, func(ctx context.Context, c *client.Client, id runtime.ContainerID) error {
				err := c.Remove(ctx, id, force)
				if errors.Is(err, runtime.ErrFailedPrecondition) && !force {
					return fmt.Errorf("%w (stop it first, or use rm -f)", err)
				}
				return err
			})
		},
	}
	cmd.Flags().BoolVarP(&force, "force", "f", false, "kill a running container before removing it")
	return cmd
}

func newWaitCmd(o *rootOptions) *cobra.Command {
	var cond string
	cmd := &cobra.Command{
		Use:   "wait NAME...",
		Short: "Wait for containers to stop and print their exit codes",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			wc, err := runtime.ParseWaitCondition(cond)
			if err != nil {
				return err
			}
			c, ids, err := o.clientFor(args)
			if err != nil {
				return err
			}
			for _, id := range ids {
				out, err := c.WaitOutcome(cmd.Context(), id, wc)
				if err != nil {
					return err
				}
				fmt.Fprintln(cmd.OutOrStdout(), out.ExitCode)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&cond, "condition", "not-running", "wait for: not-running, next-exit or removed")
	return cmd
}

func newRenameCmd(o *rootOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "rename OLD NEW",
		Short: "Rename a container",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, ids, err := o.clientFor(args)
			if err != nil {
				return err
			}
			return c.Rename(cmd.Context(), ids[0], ids[1])
		},
	}
}

func newInspectCmd(o *rootOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "inspect NAME...",
		Short: "Show everything known about containers, as JSON",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, ids, err := o.clientFor(args)
			if err != nil {
				return err
			}
			out := make([]runtime.Details, 0, len(ids))
			for _, id := range ids {
				d, err := c.Inspect(cmd.Context(), id)
				if err != nil {
					return err
				}
				out = append(out, d)
			}
			return writeJSON(cmd.OutOrStdout(), out)
		},
	}
}

func newLogsCmd(o *rootOptions) *cobra.Command {
	var (
		follow bool
		tail   string
	)
	cmd := &cobra.Command{
		Use:   "logs [-f] [--tail N] NAME",
		Short: "Print a container's output",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			n := runtime.TailAll
			if tail != "all" {
				if _, err := fmt.Sscanf(tail, "%d", &n); err != nil || n < 0 {
					return fmt.Errorf("--tail %q: want a number of lines or all", tail)
				}
			}
			c, ids, err := o.clientFor(args[:1])
			if err != nil {
				return err
			}
			id := ids[0]
			if follow {
				stream, err := c.FollowLogs(cmd.Context(), id, n)
				if err != nil {
					return err
				}
				defer stream.Close()
				err = copyLogs(stream, cmd.OutOrStdout(), cmd.ErrOrStderr())
				if errors.Is(err, context.Canceled) {
					return nil
				}
				return err
			}
			entries, err := c.Logs(cmd.Context(), id, n)
			if err != nil {
				return err
			}
			for _, e := range entries {
				w := cmd.OutOrStdout()
				if e.Stream == runtime.Stderr {
					w = cmd.ErrOrStderr()
				}
				fmt.Fprintln(w, e.Text)
			}
			return nil
		},
	}
	cmd.Flags().BoolVarP(&follow, "follow", "f", false, "follow the output until the container stops")
	cmd.Flags().StringVarP(&tail, "tail", "n", "all", "number of lines to show from the end")
	return cmd
}

func newExecCmd(o *rootOptions) *cobra.Command {
	var (
		interactive, tty bool
		env              []string
		user, workdir    string
	)
	cmd := &cobra.Command{
		Use:   "exec NAME CMD [ARG...]",
		Short: "Run a command in a running container and exit with its code",
		Args:  cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, ids, err := o.clientFor(args[:1])
			if err != nil {
				return err
			}
			id := ids[0]
			ctx := cmd.Context()
			opts := runtime.ExecOptions{Env: env, User: user, Workdir: workdir, TTY: tty}
			if tty {
				opts.TerminalSize = terminalSize()
			}
			if interactive {
				opts.Stdin = os.Stdin
			}
			stream, err := c.ExecStreamWith(ctx, id, args[1:], opts)
			if err != nil {
				return err
			}
			defer stream.Close()
			if rz, ok := stream.(runtime.Resizer); ok && tty {
				t := rawTerminal()
				defer t.restore()
				sized, stop := context.WithCancel(ctx)
				defer stop()
				followSize(sized, rz.Resize)
			}
			for {
				ev, err := stream.Recv()
				if err != nil {
					return fmt.Errorf("exec in %s: the stream ended before the command's exit code arrived: %w", id, err)
				}
				switch ev.Kind {
				case runtime.ExecStdout:
					cmd.OutOrStdout().Write(ev.Data)
				case runtime.ExecStderr:
					cmd.ErrOrStderr().Write(ev.Data)
				case runtime.ExecExit:
					if ev.ExitCode != 0 {
						return &exitError{code: ev.ExitCode}
					}
					return nil
				}
			}
		},
	}
	fl := cmd.Flags()
	fl.BoolVarP(&interactive, "interactive", "i", false, "relay this command's input to the command's standard input")
	fl.BoolVarP(&tty, "tty", "t", false, "give the command a terminal (its output, stdout and stderr as one)")
	fl.StringArrayVarP(&env, "env", "e", nil, "set an environment variable KEY=VALUE (repeatable)")
	fl.StringVarP(&user, "user", "u", "", "run as user[:group], names from the image or numbers")
	fl.StringVarP(&workdir, "workdir", "w", "", "working directory inside the container")
	fl.SetInterspersed(false)
	return cmd
}

// psRow is one row of `ps --format json`.
type psRow struct {
	Name     string    `json:"name"`
	Image    string    `json:"image"`
	Platform string    `json:"platform"`
	Runtime  string    `json:"runtime"`
	State    string    `json:"state"`
	ExitCode *int      `json:"exit_code"`
	Reason   string    `json:"reason,omitempty"`
	Created  time.Time `json:"created"`
	Ports    []string  `json:"ports,omitempty"`
	// Health is a checked replica's: starting, healthy or unhealthy.
	Health string `json:"health,omitempty"`
}

func newPsCmd(o *rootOptions) *cobra.Command {
	var (
		all, quiet bool
		format     string
	)
	cmd := &cobra.Command{
		Use:   "ps [-a] [-q] [--format json]",
		Short: "List containers and the runtime each runs on",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkFormat(format); err != nil {
				return err
			}
			c, err := o.client()
			if err != nil {
				return err
			}
			list, err := c.List(cmd.Context())
			if err != nil {
				return err
			}
			sort.Slice(list, func(i, j int) bool { return list[i].ID.String() < list[j].ID.String() })
			rows := make([]psRow, 0, len(list))
			for _, ct := range list {
				// Unknown means its runtime cannot be asked: it may be running.
				live := ct.State.Status == runtime.StatusRunning || ct.State.Status == runtime.StatusStopping || ct.State.Status == runtime.StatusUnknown
				if !all && !live {
					continue
				}
				r := psRow{
					Name: ct.ID.String(), Image: ct.Image, Platform: runtime.FormatPlatform(ct.Platform),
					Runtime: ct.Runtime, State: string(ct.State.Status), Reason: ct.State.Reason, Created: ct.Created,
					Health: ct.Health,
				}
				if ct.State.Status == runtime.StatusExited {
					code := ct.State.ExitCode
					r.ExitCode = &code
				}
				for _, p := range ct.Ports {
					r.Ports = append(r.Ports, p.String())
				}
				rows = append(rows, r)
			}
			switch {
			case quiet:
				for _, r := range rows {
					fmt.Fprintln(cmd.OutOrStdout(), r.Name)
				}
				return nil
			case format == "json":
				return writeJSON(cmd.OutOrStdout(), rows)
			}
			tw := newTable(cmd.OutOrStdout())
			fmt.Fprintln(tw, "NAME\tIMAGE\tPLATFORM\tRUNTIME\tSTATE\tCREATED\tPORTS")
			for _, r := range rows {
				state := r.State
				if r.ExitCode != nil {
					state = fmt.Sprintf("exited (%d)", *r.ExitCode)
				}
				if r.Reason != "" {
					state += ": " + r.Reason
				}
				if r.Health != "" {
					state += " (" + r.Health + ")" // as docker's "Up 3 minutes (healthy)"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Name, r.Image, r.Platform, r.Runtime, state, ago(r.Created), strings.Join(r.Ports, ", "))
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVarP(&all, "all", "a", false, "show all containers (default shows running ones)")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "print the names only, one a line (rm -f $(switchyard ps -aq))")
	formatFlag(cmd, &format)
	cmd.MarkFlagsMutuallyExclusive("quiet", "format")
	return cmd
}

func newStatsCmd(o *rootOptions) *cobra.Command {
	var noStream bool
	cmd := &cobra.Command{
		Use:   "stats [--no-stream] NAME...",
		Short: "Show containers' CPU and memory use",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, ids, err := o.clientFor(args)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			prev := map[runtime.ContainerID]runtime.Stats{}
			tty := isTerminal(os.Stdout)
			for {
				var b strings.Builder
				tw := newTable(&b)
				fmt.Fprintln(tw, "NAME\tCPU %\tMEM USAGE / LIMIT\tMEM %\tPIDS")
				for _, id := range ids {
					s, err := c.Stats(ctx, id)
					if err != nil {
						return err
					}
					fmt.Fprintf(tw, "%s\t%s\t%s / %s\t%s\t%d\n", id, cpuPercent(prev[id], s), binarySize(s.MemoryBytes), limitString(s.MemoryLimit), memPercent(s), s.PIDs)
					prev[id] = s
				}
				tw.Flush()
				if tty && !noStream {
					fmt.Fprint(cmd.OutOrStdout(), "\x1b[H\x1b[2J")
				}
				fmt.Fprint(cmd.OutOrStdout(), b.String())
				if noStream {
					return nil
				}
				select {
				case <-ctx.Done():
					return nil
				case <-time.After(time.Second):
				}
			}
		},
	}
	cmd.Flags().BoolVar(&noStream, "no-stream", false, "print one sample and exit")
	return cmd
}

// cpuPercent is the CPU use between two samples, in percent of one core.
func cpuPercent(prev, cur runtime.Stats) string {
	if cur.CPUUsageUsec == nil {
		return "n/a"
	}
	if prev.CPUUsageUsec == nil || prev.Timestamp.IsZero() {
		return "--"
	}
	dt := cur.Timestamp.Sub(prev.Timestamp).Microseconds()
	if dt <= 0 {
		return "--"
	}
	return fmt.Sprintf("%.2f%%", float64(*cur.CPUUsageUsec-*prev.CPUUsageUsec)*100/float64(dt))
}

func limitString(l uint64) string {
	if l == 0 {
		return "no limit"
	}
	return binarySize(l)
}

func memPercent(s runtime.Stats) string {
	if s.MemoryLimit == 0 {
		return "--"
	}
	return fmt.Sprintf("%.2f%%", float64(s.MemoryBytes)*100/float64(s.MemoryLimit))
}
