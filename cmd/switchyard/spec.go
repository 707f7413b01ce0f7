package main

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/switchyard/switchyard/runtime"
	"github.com/switchyard/switchyard/spec"
)

// newSpecCmd groups the commands that work on deployment spec files.
func newSpecCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "spec",
		Short: "Work with deployment spec files",
	}
	cmd.AddCommand(newSpecValidateCmd())
	return cmd
}

func newSpecValidateCmd() *cobra.Command {
	var strict bool
	cmd := &cobra.Command{
		Use:   "validate [--strict] FILE...",
		Short: "Check deployment spec files and report every problem with its line",
		Long: "Check deployment spec files without running anything. Each valid file gets one line\n" +
			"summarising its services; each problem in an invalid file gets one line naming the\n" +
			"field and the YAML line. A field this node parses but does not act on is a warning\n" +
			"line that says why; --strict makes warnings errors. The exit status is 1 when any\n" +
			"file is invalid.",
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			bad := 0
			for _, file := range args {
				if !validateSpecFile(cmd.OutOrStdout(), cmd.ErrOrStderr(), file, strict) {
					bad++
				}
			}
			if bad > 0 {
				return &exitError{code: 1, err: fmt.Errorf("%d of %d spec files invalid", bad, len(args))}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&strict, "strict", false, "treat fields this node does not act on as errors")
	return cmd
}

// validateSpecFile parses one file and reports on it; it returns whether the
// file is valid (and, when strict, has no warnings).
func validateSpecFile(stdout, stderr io.Writer, file string, strict bool) bool {
	d, err := spec.ParseFile(file)
	if err != nil {
		if fes := spec.Errors(err); len(fes) > 0 && errors.Is(err, spec.ErrInvalid) {
			for _, fe := range fes {
				fmt.Fprintf(stderr, "%s: %s\n", file, fe)
			}
		} else {
			fmt.Fprintln(stderr, err)
		}
		return false
	}
	if strict && len(d.Warnings) > 0 {
		for _, w := range d.Warnings {
			fmt.Fprintf(stderr, "%s: %s (--strict)\n", file, w)
		}
		return false
	}
	printWarnings(stderr, file, d)
	fmt.Fprintf(stdout, "%s: ok: %s\n", file, summary(d))
	return true
}

// printWarnings lists the fields of d this node does not act on.
func printWarnings(w io.Writer, file string, d *spec.Deployment) {
	for _, warn := range d.Warnings {
		fmt.Fprintf(w, "%s: warning: %s\n", file, warn)
	}
}

// summary is "deployment NAME, N services (web: 2 replicas, linux/amd64; ...)".
func summary(d *spec.Deployment) string {
	parts := make([]string, 0, len(d.ServiceNames))
	for _, n := range d.ServiceNames {
		s := d.Services[n]
		replicas := fmt.Sprintf("%d replicas", s.Scale.Replicas)
		if s.Scale.Replicas == 1 {
			replicas = "1 replica"
		}
		platform := "platform from image"
		if s.Platform != nil {
			platform = runtime.FormatPlatform(*s.Platform)
		}
		parts = append(parts, fmt.Sprintf("%s: %s, %s", n, replicas, platform))
	}
	noun := "services"
	if len(d.ServiceNames) == 1 {
		noun = "service"
	}
	return fmt.Sprintf("deployment %s, %d %s (%s)", d.Name, len(d.ServiceNames), noun, strings.Join(parts, "; "))
}
