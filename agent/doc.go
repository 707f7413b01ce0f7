// Package agent is the node agent's core: its configuration, the assembly
// of the runtimes it was given into one (each wrapped in a metrics
// decorator), the API it serves on a unix socket, and deployments: specs
// of services whose replicas it creates, converges and keeps running.
//
// The daemon command builds the concrete runtimes and hands them over:
//
//	cfg := agent.DefaultConfig()
//	cfg.Root = rootFlag
//	if err := cfg.Validate(); err != nil {
//		return err
//	}
//	a, err := agent.New(ctx, cfg, []runtime.Runtime{runcRT, wasmRT}, agent.WithLogger(cfg.Logger(os.Stderr)))
//	if err != nil {
//		return err // another daemon on the same root is refused here
//	}
//	return a.Serve(ctx) // until ctx is done; workloads keep running after
//
// # Root
//
// An agent owns its root exclusively (an flock on <root>/agent.lock that
// holds its pid). The deployments it made are kept in <root>/deployments.db
// (bbolt), so that an agent started again on the same root finds its
// workloads (the composite rebuilds its dispatch records from each
// runtime's List) and resumes supervising deployed services. Closing the
// agent or ending Serve never stops a workload: the shims own them.
//
// # Deployments
//
// Up pulls each service's image (its pull policy and registry credentials
// from the spec), then creates and starts scale.replicas replicas named
// <deployment>-<service>-rep-<n>. Running Up again converges: missing
// replicas are added, surplus ones removed, the replicas of a service whose
// spec or image digest changed are replaced, services no longer in the spec
// are removed, and an unchanged spec changes nothing. Replicas of rtype
// service are restarted when they exit, after a back-off of 200 ms doubling
// to 30 s (reset once a replica ran 10 s); job replicas are left exited.
// Down stops and removes everything Up made.
//
// # HTTP API
//
// The agent's API is package api/server's: the container and image API over
// the combined runtime, and these routes over the agent (server.Deployer,
// server.RuntimeLister, server.Loader); package api/client calls them all:
//
//	GET    /metrics                  Prometheus metrics of this agent
//	POST   /v1/deployments           up: body is the spec's YAML (Content-Type
//	                                 application/yaml) or a DeploymentRequest
//	                                 (application/json); answers a Result
//	GET    /v1/deployments           every deployment's Status
//	GET    /v1/deployments/{name}    one deployment's Status
//	DELETE /v1/deployments/{name}    down; answers a Result
//
//	GET    /v1/runtimes              the runtimes with their health
//	POST   /v1/images/load           an image archive into the node's store
//
// # Metrics
//
// Every runtime call is counted by runtime, operation and error kind
// (switchyard_runtime_operations_total) and timed
// (switchyard_runtime_operation_duration_seconds); restarts of replicas
// (switchyard_replica_restarts_total) and the replicas each deployment asks
// for (switchyard_deployment_replicas) are exported too. The metrics live
// in the agent's own registry, never the global one.
package agent
