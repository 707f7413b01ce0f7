package main

import (
	"errors"
	"fmt"

	sversion "github.com/switchyard/switchyard/internal/version"

	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=..."; when it
// is not, the module version from the build info is used.
var version = ""

// exitError carries a specific exit code out of a command (run exits with the
// workload's code); its message may be empty when nothing more needs saying.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// exitCode maps an error returned by a command to the process exit code.
func exitCode(err error) int {
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return 1
}

// newRootCmd builds the whole command tree explicitly: no init() registration.
func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "switchyard",
		Short:         "Run every workload on the runtime that can run it",
		Long:          "switchyard is a node agent: Linux containers run through runc, WebAssembly modules through wazero,\nand workloads for other platforms are handed to a delegate agent or answered with a route-to-peer.",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	o := &rootOptions{}
	pf := root.PersistentFlags()
	pf.StringVar(&o.socket, "socket", "", "daemon address: a unix socket path, or https://HOST:PORT (default $SWITCHYARD_SOCKET or "+defaultSocket+")")
	pf.StringVar(&o.tlsCA, "tlscacert", "", "for https://: CA that signed the daemon's certificate (default $SWITCHYARD_TLS_CA)")
	pf.StringVar(&o.tlsCert, "tlscert", "", "for https://: client certificate (default $SWITCHYARD_TLS_CERT)")
	pf.StringVar(&o.tlsKey, "tlskey", "", "for https://: key of --tlscert (default $SWITCHYARD_TLS_KEY)")
	pf.StringVar(&o.tokenFile, "token-file", "", "for https://: file holding the daemon's bearer token (default $SWITCHYARD_TOKEN_FILE)")
	root.AddCommand(
		newVersionCmd(),
		newDaemonCmd(),
		newRunCmd(o),
		newCreateCmd(o),
		newStartCmd(o),
		newStopCmd(o),
		newKillCmd(o),
		newRmCmd(o),
		newWaitCmd(o),
		newRenameCmd(o),
		newInspectCmd(o),
		newLogsCmd(o),
		newExecCmd(o),
		newPsCmd(o),
		newInfoCmd(o),
		newNetworkCmd(o),
		newSecretCmd(o),
		newJobCmd(o),
		newScaleCmd(o),
		newLoginCmd(o),
		newLogoutCmd(o),
		newStatsCmd(o),
		newPullCmd(o),
		newImagesCmd(o),
		newRmiCmd(o),
		newTagCmd(o),
		newImageCmd(o),
		newLoadCmd(o),
		newUpCmd(o),
		newDownCmd(o),
		newSpecCmd(),
	)
	return root
}

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version of switchyard",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintln(cmd.OutOrStdout(), "switchyard", buildVersion())
			return nil
		},
	}
}

func buildVersion() string {
	if version != "" {
		return version
	}
	return sversion.String()
}
