package main

import (
	"fmt"
	"strconv"
	"time"

	"github.com/spf13/cobra"
)

func newJobCmd(o *rootOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "job",
		Short: "Run a deployment's jobs",
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "run DEPLOYMENT SERVICE",
		Short: "Run a job (or cron) service once more and wait for it; exits with its code",
		Long: `Run a deployed job once more: its replica is started again (made, for a cron
service that has not run yet), and the command waits for the run to end and
exits with its exit code. A run under way is refused. Its output is in
switchyard logs DEPLOYMENT-SERVICE.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := o.client()
			if err != nil {
				return err
			}
			run, err := c.RunJob(cmd.Context(), args[0], args[1])
			if err != nil {
				return err
			}
			what := fmt.Sprintf("exited %d", run.ExitCode)
			if run.Reason != "" && run.Reason != "exited" {
				what += " (" + run.Reason + ")"
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: %s\n", run.Container, what)
			if run.ExitCode != 0 {
				return &exitError{code: run.ExitCode, err: fmt.Errorf("job %s %s", run.Container, what)}
			}
			return nil
		},
	})
	var format string
	runs := &cobra.Command{
		Use:   "runs [--format json] DEPLOYMENT SERVICE",
		Short: "List a job's last runs: what started each, when, and how it ended",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkFormat(format); err != nil {
				return err
			}
			c, err := o.client()
			if err != nil {
				return err
			}
			list, err := c.JobRuns(cmd.Context(), args[0], args[1])
			if err != nil {
				return err
			}
			if format == "json" {
				return writeJSON(cmd.OutOrStdout(), list)
			}
			tw := newTable(cmd.OutOrStdout())
			fmt.Fprintln(tw, "STARTED\tTOOK\tTRIGGER\tEXIT\tREASON")
			for _, r := range list {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\n", r.Started.Local().Format(time.DateTime), r.Finished.Sub(r.Started).Round(time.Millisecond), r.Trigger, r.ExitCode, r.Reason)
			}
			return tw.Flush()
		},
	}
	formatFlag(runs, &format)
	cmd.AddCommand(runs)
	return cmd
}

func newScaleCmd(o *rootOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "scale DEPLOYMENT SERVICE N",
		Short: "Set the number of replicas of a deployed service",
		Long: `Converge a deployed service to N replicas, as up would. A service of scale mode
manual keeps the count across later ups of its file; a fixed one goes back to
the file's count at the next up.`,
		Args: cobra.ExactArgs(3),
		RunE: func(cmd *cobra.Command, args []string) error {
			n, err := strconv.ParseUint(args[2], 10, 32)
			if err != nil {
				return fmt.Errorf("scale: %q is not a number of replicas", args[2])
			}
			c, err := o.client()
			if err != nil {
				return err
			}
			res, err := c.Scale(cmd.Context(), args[0], args[1], uint32(n))
			if err != nil {
				return err
			}
			printResult(cmd.OutOrStdout(), res)
			return nil
		},
	}
}
