package main

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/switchyard/switchyard/api"
)

// newLoginCmd has the daemon check credentials with a registry and keep
// them where its pulls find them.
func newLoginCmd(o *rootOptions) *cobra.Command {
	var req api.LoginRequest
	var passwordStdin bool
	cmd := &cobra.Command{
		Use:   "login [-u USER] [--password-stdin | -p PASSWORD] [REGISTRY]",
		Short: "Log in to a registry: the daemon's pulls use the credentials",
		Long: `The daemon checks the credentials with the registry, as docker login does, and
keeps them in its docker config (DOCKER_CONFIG, else ~/.docker/config.json of
the user it runs as; a credential helper named there is used). A spec needs
no credentials of its own: pulls find them there. REGISTRY defaults to Docker Hub.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				req.Server = args[0]
			}
			switch {
			case req.Username == "":
				return fmt.Errorf("login: give the user with -u USER")
			case passwordStdin && req.Password != "":
				return fmt.Errorf("login: give the password once: -p or --password-stdin")
			case passwordStdin:
				line, err := bufio.NewReader(io.LimitReader(cmd.InOrStdin(), 64<<10)).ReadString('\n')
				if err != nil && err != io.EOF {
					return fmt.Errorf("login: reading the password: %w", err)
				}
				req.Password = strings.TrimRight(line, "\r\n")
			case req.Password == "":
				return fmt.Errorf("login: give the password with --password-stdin (or -p)")
			default:
				fmt.Fprintln(cmd.ErrOrStderr(), "warning: a password on the command line is seen by other users of this machine; use --password-stdin")
			}
			c, err := o.client()
			if err != nil {
				return err
			}
			if err := c.Login(cmd.Context(), req); err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), "Login Succeeded")
			return nil
		},
	}
	cmd.Flags().StringVarP(&req.Username, "username", "u", "", "user name")
	cmd.Flags().StringVarP(&req.Password, "password", "p", "", "password (seen by other users; prefer --password-stdin)")
	cmd.Flags().BoolVar(&passwordStdin, "password-stdin", false, "read the password from stdin")
	return cmd
}

func newLogoutCmd(o *rootOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "logout [REGISTRY]",
		Short: "Have the daemon forget a registry's credentials",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			server := "docker.io"
			if len(args) == 1 {
				server = args[0]
			}
			c, err := o.client()
			if err != nil {
				return err
			}
			if err := c.Logout(cmd.Context(), server); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Removing login credentials for %s\n", server)
			return nil
		},
	}
}
