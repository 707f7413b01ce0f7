package api

import (
	"fmt"
	"sort"
	"time"

	"github.com/switchyard/switchyard/runtime"
	"github.com/switchyard/switchyard/spec"
)

// DeploymentRequest is the JSON body of POST /v1/deployments: a deployment
// spec with its services in deployment order, each in the API's service
// spec form. (The spec's YAML, as application/yaml, is the other body.)
type DeploymentRequest struct {
	// Version is the spec format version; "" or "v1".
	Version string `json:"version,omitempty"`
	// Deployment is the deployment's name.
	Deployment string `json:"deployment"`
	// Services are the deployment's services, in order; each names itself.
	Services []ServiceSpec `json:"services"`
}

// FromDeployment returns the wire form of d.
func FromDeployment(d *spec.Deployment) DeploymentRequest {
	r := DeploymentRequest{Version: d.Version, Deployment: d.Name}
	names := d.ServiceNames
	if len(names) == 0 {
		for name := range d.Services {
			names = append(names, name)
		}
		sort.Strings(names)
	}
	for _, name := range names {
		svc := d.Services[name]
		if svc == nil {
			continue // the deployer reports it
		}
		w := FromServiceSpec(svc)
		w.Name = name
		r.Services = append(r.Services, w)
	}
	return r
}

// Spec converts r to the deployment it describes; the deployer validates
// it (once, whatever front door it came through). The error wraps
// runtime.ErrInvalidArgument and names the service that is wrong.
func (r DeploymentRequest) Spec() (*spec.Deployment, error) {
	d := &spec.Deployment{Version: r.Version, Name: r.Deployment, Services: make(map[string]*spec.ServiceSpec, len(r.Services))}
	for i, w := range r.Services {
		if w.Name == "" {
			return nil, fmt.Errorf("deployment %q: services[%d]: name is empty; give every service a name: %w", r.Deployment, i, runtime.ErrInvalidArgument)
		}
		if _, dup := d.Services[w.Name]; dup {
			return nil, fmt.Errorf("deployment %q: service %q is given twice; give each service once: %w", r.Deployment, w.Name, runtime.ErrInvalidArgument)
		}
		svc, err := w.Spec()
		if err != nil {
			return nil, fmt.Errorf("deployment %q: service %q: %w", r.Deployment, w.Name, err)
		}
		d.Services[w.Name] = svc
		d.ServiceNames = append(d.ServiceNames, w.Name)
	}
	return d, nil
}

// DeployResult is the answer of an up or a down: what changed.
type DeployResult struct {
	// Deployment is the deployment's name.
	Deployment string `json:"deployment"`
	// Created are replicas that did not exist before.
	Created []string `json:"created,omitempty"`
	// Removed are replicas that no longer exist.
	Removed []string `json:"removed,omitempty"`
	// Replaced are replicas removed and created again from a changed spec.
	Replaced []string `json:"replaced,omitempty"`
	// Unchanged are replicas left as they were.
	Unchanged []string `json:"unchanged,omitempty"`
	// Waits say what up waited for, and how long: "db to be healthy (2.1s)",
	// with what a timeout did.
	Waits []string `json:"waits,omitempty"`
}

// DeploymentStatus describes a deployment as the agent knows it.
type DeploymentStatus struct {
	Name     string          `json:"name"`
	Services []ServiceStatus `json:"services"`
	// Updated is when the deployment was last changed.
	Updated time.Time `json:"updated"`
}

// ServiceStatus describes one service of a deployment.
type ServiceStatus struct {
	Name        string     `json:"name"`
	Image       string     `json:"image"`
	ImageDigest string     `json:"image_digest,omitempty"`
	RType       spec.RType `json:"rtype"`
	// Replicas is how many replicas the agent made.
	Replicas uint32 `json:"replicas"`
	// Containers is each replica's current state.
	Containers []ReplicaStatus `json:"containers"`
}

// ReplicaStatus is one replica's current state.
type ReplicaStatus struct {
	ID    string        `json:"id"`
	State runtime.State `json:"state"`
	// Error says why the state could not be read, if it could not.
	Error string `json:"error,omitempty"`
	// Supervised is set while the agent restarts the replica when it exits.
	Supervised bool `json:"supervised,omitempty"`
}

// RuntimeStatus is one runtime of a node, as GET /v1/runtimes (and
// `switchyard info`) shows it.
type RuntimeStatus struct {
	// Name is the runtime's name (runc, wasm, remote:NAME).
	Name string `json:"name"`
	// Platforms are what it serves, in its order.
	Platforms []string `json:"platforms"`
	// Healthy is whether it answered a List just now; Error says why not.
	Healthy bool   `json:"healthy"`
	Error   string `json:"error,omitempty"`
	// Containers is how many containers it reported.
	Containers int `json:"containers"`
}

// JobRun is the answer of POST /v1/deployments/{name}/jobs/{service}: one
// run of a job, once it has ended.
type JobRun struct {
	// Container is the job's replica.
	Container string `json:"container"`
	// Trigger says what started the run: up, job run or schedule.
	Trigger string `json:"trigger,omitempty"`
	// Started and Finished bound the run.
	Started time.Time `json:"started,omitzero"`
	// Finished is when the run ended.
	Finished time.Time `json:"finished,omitzero"`
	// ExitCode is the run's exit code; Reason says why it ended when it did
	// not exit on its own (oom-killed, a signal, a failure).
	ExitCode int    `json:"exit_code"`
	Reason   string `json:"reason,omitempty"`
}

// ScaleRequest is the body of POST
// /v1/deployments/{name}/services/{service}/scale.
type ScaleRequest struct {
	// Replicas is the count to converge to.
	Replicas uint32 `json:"replicas"`
}
