package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/switchyard/switchyard/api/client"
	"github.com/switchyard/switchyard/runtime"
)

// defaultSocket is where the daemon listens unless --socket or
// SWITCHYARD_SOCKET say otherwise.
const defaultSocket = "/run/switchyard/switchyard.sock"

// rootOptions are the flags every client command shares.
type rootOptions struct {
	socket string
	// For a daemon on https://: the CA that signed its certificate, a
	// client certificate and key, and a file holding its bearer token.
	tlsCA, tlsCert, tlsKey, tokenFile string
}

// flagOrEnv returns the flag's value, else the environment variable's.
func flagOrEnv(flag, env string) string {
	if flag != "" {
		return flag
	}
	return os.Getenv(env)
}

// address returns the daemon address: --socket, else SWITCHYARD_SOCKET, else
// the default socket.
func (o *rootOptions) address() string {
	if o.socket != "" {
		return o.socket
	}
	if env := os.Getenv("SWITCHYARD_SOCKET"); env != "" {
		return env
	}
	return defaultSocket
}

// client connects to the daemon. The client is lazy: a daemon that is not
// running shows up at the first call, with an error saying how to start it.
// A daemon on https:// takes --tlscacert, --tlscert, --tlskey and
// --token-file (or SWITCHYARD_TLS_CA, SWITCHYARD_TLS_CERT, SWITCHYARD_TLS_KEY
// and SWITCHYARD_TOKEN_FILE), so every command reaches a delegate or a
// remote node as it reaches the local socket.
func (o *rootOptions) client() (*client.Client, error) {
	var opts []client.Option
	ca, cert, key := flagOrEnv(o.tlsCA, "SWITCHYARD_TLS_CA"), flagOrEnv(o.tlsCert, "SWITCHYARD_TLS_CERT"), flagOrEnv(o.tlsKey, "SWITCHYARD_TLS_KEY")
	if ca != "" || cert != "" || key != "" {
		cfg, err := client.TLSConfig(ca, cert, key)
		if err != nil {
			return nil, err
		}
		opts = append(opts, client.WithTLSConfig(cfg))
	}
	if tf := flagOrEnv(o.tokenFile, "SWITCHYARD_TOKEN_FILE"); tf != "" {
		tok, err := client.ReadTokenFile(tf)
		if err != nil {
			return nil, fmt.Errorf("--token-file: %w", err)
		}
		opts = append(opts, client.WithToken(tok))
	}
	return client.New(o.address(), opts...)
}

// containerID resolves what a user typed to a ContainerID: the full string
// form (web-rep-0), or a bare name, which names replica 0 of that service
// (the name `run --name web` gave it).
func containerID(arg string) (runtime.ContainerID, error) {
	if id, err := runtime.ParseContainerID(arg); err == nil {
		return id, nil
	}
	id := runtime.ContainerID{Service: arg}
	if err := id.Validate(); err != nil {
		return runtime.ContainerID{}, fmt.Errorf("%q is not a container name: %w", arg, err)
	}
	return id, nil
}

// containerIDs resolves every argument, stopping at the first bad one.
func containerIDs(args []string) ([]runtime.ContainerID, error) {
	ids := make([]runtime.ContainerID, 0, len(args))
	for _, a := range args {
		id, err := containerID(a)
		if err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// clientFor resolves the container names in args and connects.
func (o *rootOptions) clientFor(args []string) (*client.Client, []runtime.ContainerID, error) {
	ids, err := containerIDs(args)
	if err != nil {
		return nil, nil, err
	}
	c, err := o.client()
	return c, ids, err
}

// eachID connects and runs fn for every container named in args, printing
// each name it succeeded for as docker does, and returns an error naming
// every failure.
func (o *rootOptions) eachID(cmd *cobra.Command, args []string, fn func(ctx context.Context, c *client.Client, id runtime.ContainerID) error) error {
	c, ids, err := o.clientFor(args)
	if err != nil {
		return err
	}
	var errs []error
	for i, id := range ids {
		if err := fn(cmd.Context(), c, id); err != nil {
			errs = append(errs, err)
			continue
		}
		fmt.Fprintln(cmd.OutOrStdout(), args[i])
	}
	return errors.Join(errs...)
}

// formatFlag adds --format (table or json) to cmd.
func formatFlag(cmd *cobra.Command, dst *string) {
	cmd.Flags().StringVar(dst, "format", "table", "output format: table or json")
}

// checkFormat validates a --format value.
func checkFormat(f string) error {
	if f != "table" && f != "json" {
		return fmt.Errorf("--format %q: want table or json", f)
	}
	return nil
}

// writeJSON prints v as indented JSON.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// newTable returns a tabwriter for people-facing tables.
func newTable(w io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(w, 0, 8, 3, ' ', 0)
}

// ago formats how long ago t was, as docker ps does ("3 minutes ago").
func ago(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	d := time.Since(t)
	switch {
	case d < time.Second:
		return "Less than a second ago"
	case d < time.Minute:
		return plural(int(d/time.Second), "second") + " ago"
	case d < time.Hour:
		return plural(int(d/time.Minute), "minute") + " ago"
	case d < 48*time.Hour:
		return plural(int(d/time.Hour), "hour") + " ago"
	}
	return plural(int(d/(24*time.Hour)), "day") + " ago"
}

func plural(n int, unit string) string {
	if n == 1 {
		if unit == "hour" {
			return "About an hour"
		}
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}

// humanSize formats bytes as docker does (decimal units).
func humanSize(n int64) string {
	return formatSize(float64(n), 1000, []string{"B", "kB", "MB", "GB", "TB", "PB"}, 3)
}

// binarySize formats bytes with binary units (memory).
func binarySize(n uint64) string {
	return formatSize(float64(n), 1024, []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB"}, 4)
}

// formatSize scales n by base until it is below base (or the units run
// out) and prints it with digits significant digits and the unit.
func formatSize(n, base float64, units []string, digits int) string {
	i := 0
	for n >= base && i < len(units)-1 {
		n /= base
		i++
	}
	if i == 0 {
		return fmt.Sprintf("%d%s", int64(n), units[0])
	}
	return fmt.Sprintf("%.*g%s", digits, n, units[i])
}

// parseMemory parses a docker-style memory size: a number with an optional
// unit b, k, m or g (binary multiples), as in --memory 64m.
func parseMemory(s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	t := strings.ToLower(strings.TrimSpace(s))
	mult := int64(1)
	t = strings.TrimSuffix(t, "b")
	if n := len(t); n > 0 {
		switch t[n-1] {
		case 'k':
			mult, t = 1<<10, t[:n-1]
		case 'm':
			mult, t = 1<<20, t[:n-1]
		case 'g':
			mult, t = 1<<30, t[:n-1]
		}
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || v <= 0 || math.IsInf(v, 0) {
		return 0, fmt.Errorf("memory %q: want a size such as 64m, 512k or 1g", s)
	}
	if v*float64(mult) > 1<<50 {
		return 0, fmt.Errorf("memory %q is too large", s)
	}
	return int64(v * float64(mult)), nil
}

// isTerminal reports whether f is a terminal, for progress displays.
func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
