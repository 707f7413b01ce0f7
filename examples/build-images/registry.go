package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"syscall"
	"time"

	"github.com/switchyard/switchyard/internal/imagebuild"
)

// probeTimeout bounds the reachability check, so that a registry address
// that swallows packets fails fast instead of at the first push.
const probeTimeout = 5 * time.Second

// probe checks that something listens at the registry's address before any
// image is built, so that the common mistake (no registry started) costs
// seconds and gets a message that says what to do.
func probe(ctx context.Context, registry string) error {
	addr := registry
	if _, _, err := net.SplitHostPort(registry); err != nil {
		port := "443"
		if imagebuild.IsLoopback(registry) {
			port = "80"
		}
		addr = net.JoinHostPort(registry, port)
	}
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
	if err != nil {
		return unreachable(registry, err)
	}
	return conn.Close()
}

// explain adds the remedy to a push error when the cause is that the
// registry went away or never answered.
func explain(registry string, err error) error {
	var op *net.OpError
	if errors.Is(err, syscall.ECONNREFUSED) || (errors.As(err, &op) && op.Op == "dial") {
		return unreachable(registry, err)
	}
	return err
}

func unreachable(registry string, err error) error {
	return fmt.Errorf("registry %s is not reachable: %w; start a registry there first "+
		"(scripts/demo starts one on 127.0.0.1:5000 with docker-registry) or pass --registry HOST:PORT", registry, err)
}
