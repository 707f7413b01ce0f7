package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/switchyard/switchyard/secrets"
)

// maxSecretInput bounds what secret create reads: the store's limit and a
// byte more, so that a larger value is refused rather than cut.
const maxSecretInput = secrets.MaxSize + 1

func newSecretCmd(o *rootOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "secret",
		Short: "Manage the node's secrets",
		Long: `Manage the secrets a deployment's services get: an env value $S:NAME is the
secret NAME, and a service's secrets list mounts each at /run/secrets/NAME.
Values are kept under the daemon's root, readable by root alone, and never
shown: not by ls, not by inspect.`,
	}
	cmd.AddCommand(newSecretCreateCmd(o), newSecretLsCmd(o), newSecretRmCmd(o))
	return cmd
}

func newSecretCreateCmd(o *rootOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "create NAME [FILE|-]",
		Short: "Store a secret, its value read from FILE or from stdin",
		Long: `Store a secret. The value is read from FILE, or from stdin when FILE is - or
left out (as docker secret create). One trailing newline is kept: write the
value with printf, not echo, if it must not end in one.`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			var in io.Reader = cmd.InOrStdin()
			if len(args) == 2 && args[1] != "-" {
				f, err := os.Open(args[1])
				if err != nil {
					return fmt.Errorf("secret %s: %w", args[0], err)
				}
				defer f.Close()
				in = f
			}
			value, err := io.ReadAll(io.LimitReader(in, maxSecretInput))
			if err != nil {
				return fmt.Errorf("secret %s: %w", args[0], err)
			}
			c, err := o.client()
			if err != nil {
				return err
			}
			err = c.CreateSecret(cmd.Context(), args[0], value)
			// Not kept longer than needed in this process.
			clear(value)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), args[0])
			return nil
		},
	}
}

func newSecretLsCmd(o *rootOptions) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:     "ls [--format json]",
		Aliases: []string{"list"},
		Short:   "List the secrets (names, never values)",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkFormat(format); err != nil {
				return err
			}
			c, err := o.client()
			if err != nil {
				return err
			}
			list, err := c.Secrets(cmd.Context())
			if err != nil {
				return err
			}
			if format == "json" {
				return writeJSON(cmd.OutOrStdout(), list)
			}
			tw := newTable(cmd.OutOrStdout())
			fmt.Fprintln(tw, "NAME\tCREATED\tSIZE")
			for _, s := range list {
				fmt.Fprintf(tw, "%s\t%s\t%d B\n", s.Name, s.Created.Local().Format(time.DateTime), s.Size)
			}
			return tw.Flush()
		},
	}
	formatFlag(cmd, &format)
	return cmd
}

func newSecretRmCmd(o *rootOptions) *cobra.Command {
	return &cobra.Command{
		Use:     "rm NAME...",
		Aliases: []string{"remove"},
		Short:   "Remove secrets (containers made with them keep their copy)",
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := o.client()
			if err != nil {
				return err
			}
			var errs []error
			for _, name := range args {
				if err := c.RemoveSecret(cmd.Context(), name); err != nil {
					errs = append(errs, err)
					continue
				}
				fmt.Fprintln(cmd.OutOrStdout(), name)
			}
			return errors.Join(errs...)
		},
	}
}
