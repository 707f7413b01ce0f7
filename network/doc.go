// Package network is the node's networks: CNI networks driven through
// libcni with the standard plugins (Debian's containernetworking-plugins,
// which speak CNI spec 1.0.0 at the newest), and the network namespaces
// containers join.
//
// A Manager keeps its state under one root: a conflist per network (the
// bridge plugin with host-local IPAM, then portmap), the IPAM state and the
// libcni cache, so that a detach is the CNI DEL of the cached result. The
// default network, "bridge", is made the first time on a bridge device and
// subnet of switchyard's own (sy0, 10.90.0.0/16), apart from docker's and
// podman's. Forwarding and masquerading are one set of iptables rules per
// network, in switchyard's own chains, made when the network is: the
// bridge plugin's per-container masquerade chains cost tens of
// milliseconds on every start.
//
// A container's namespace is made by NewNamespace, pinned by a bind mount
// on a file the caller chooses, with loopback up, so that it outlives the
// process that made it and can be attached before the container starts.
package network
