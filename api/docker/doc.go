// Package docker is the Docker Engine API front door: it lets the docker
// CLI, docker compose and docker-py talk to a switchyard node on a socket of
// its own. It speaks the wire types of github.com/moby/moby/api, advertises
// API 1.41 (as podman 4 does, accepting 1.24 and up) and converts what it
// serves into the same runtime contract as switchyard's own API, over the
// same composite.
//
// So far it serves the version handshake (_ping, /version, /info),
// docker's error bodies, container create (converted into the contract's
// create request), start, stop, restart, kill, remove, wait, attach
// (output), logs, list, inspect and exec (output and exit code), and
// images: pull with docker's progress stream, list, inspect, tag, remove,
// prune. Every other endpoint answers 501 with its name, never a silent
// success.
package docker
