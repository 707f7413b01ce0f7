package agent

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/switchyard/switchyard/runtime"
	"github.com/switchyard/switchyard/spec"
)

// backendTTL is how long a balancer trusts its list of replicas.
const backendTTL = 500 * time.Millisecond

// balancer spreads the connections to a public tcp endpoint of a service
// over its replicas: one host port, every replica behind it, as compose
// users expect of a scaled service. A
// connection goes to the next replica in turn that runs (and is healthy,
// for a checked service), and to the one after when a replica refuses, so
// that a replica replaced by a rollout costs a client nothing.
type balancer struct {
	a          *Agent
	deployment string
	service    string
	port       uint16 // the replicas' port
	hostPort   uint16 // the node's port it listens on
	ln         net.Listener
	next       atomic.Uint64
	wg         sync.WaitGroup

	mu       sync.Mutex
	backends []string              // guarded by mu
	fetched  time.Time             // guarded by mu
	conns    map[net.Conn]struct{} // the clients' connections, guarded by mu
}

// balanced reports whether svc's public endpoints are served by the
// agent's balancers rather than published by a replica: a service's tcp
// ones are, whatever its replica count, so that scaling it never moves a
// host port from one holder to another.
func balanced(svc *spec.ServiceSpec) bool {
	return isService(svc) && len(balancedEndpoints(svc)) > 0
}

// balancedHere is balanced for a service of deployment whose replicas have
// addresses to forward to: a wasm module has none (it listens on its own
// published host ports), so a wasm service publishes as before.
func (a *Agent) balancedHere(deployment, name string, svc *spec.ServiceSpec) bool {
	if !balanced(svc) {
		return false
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return !a.unbalanceable[serviceKey(deployment, name)]
}

// noteWasm records whether a service's image is a wasm module's, which
// the balancer cannot forward to.
func (a *Agent) noteWasm(deployment, name string, wasm bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if wasm {
		a.unbalanceable[serviceKey(deployment, name)] = true
	} else {
		delete(a.unbalanceable, serviceKey(deployment, name))
	}
}

// isWasmImage reports whether a service runs as a wasm module: it declares
// wasip1, or every platform of its image is.
func isWasmImage(svc *spec.ServiceSpec, ps []ocispec.Platform) bool {
	if svc.Platform != nil {
		return svc.Platform.OS == "wasip1"
	}
	if len(ps) == 0 {
		return false
	}
	for _, p := range ps {
		if p.OS != "wasip1" {
			return false
		}
	}
	return true
}

// balancedEndpoints are svc's public endpoints a balancer can serve: all
// but udp.
func balancedEndpoints(svc *spec.ServiceSpec) []spec.Endpoint {
	var out []spec.Endpoint
	for _, e := range svc.Endpoints {
		if e.Expose == "public" && e.Protocol != "udp" {
			out = append(out, e)
		}
	}
	return out
}

func balancerKey(deployment, service string, port uint16) string {
	return deployment + "/" + service + "/" + strconv.Itoa(int(port))
}

// balance makes sure every public endpoint of svc has its balancer, and
// closes those of endpoints it no longer has. A host port another process
// holds is an error that names it.
func (a *Agent) balance(deployment, name string, svc *spec.ServiceSpec) error {
	want := map[string]spec.Endpoint{}
	if a.balancedHere(deployment, name, svc) {
		for _, e := range balancedEndpoints(svc) {
			want[balancerKey(deployment, name, e.Port)] = e
		}
	}
	a.mu.Lock()
	var stale []*balancer
	for k, b := range a.balancers {
		if b.deployment == deployment && b.service == name {
			if _, ok := want[k]; !ok {
				stale = append(stale, b)
				delete(a.balancers, k)
			}
		}
	}
	a.mu.Unlock()
	for _, b := range stale {
		b.close()
	}
	for k, e := range want {
		a.mu.Lock()
		_, ok := a.balancers[k]
		a.mu.Unlock()
		if ok {
			continue
		}
		ln, err := net.Listen("tcp", ":"+strconv.Itoa(int(e.Port)))
		if err != nil {
			return fmt.Errorf("service %s: endpoint %s: host port %d: %w; free it, or choose another port: %w", name, e.Name, e.Port, err, runtime.ErrFailedPrecondition)
		}
		target := e.TargetPort
		if target == 0 {
			target = e.Port
		}
		b := &balancer{a: a, deployment: deployment, service: name, port: target, hostPort: e.Port, ln: ln}
		a.mu.Lock()
		if a.closed.Load() {
			a.mu.Unlock()
			ln.Close()
			return nil
		}
		a.balancers[k] = b
		a.wg.Add(1)
		a.mu.Unlock()
		go func() {
			defer a.wg.Done()
			b.serve()
		}()
	}
	return nil
}

// unbalance closes every balancer of a service.
func (a *Agent) unbalance(deployment, name string) {
	a.mu.Lock()
	var gone []*balancer
	for k, b := range a.balancers {
		if b.deployment == deployment && b.service == name {
			gone = append(gone, b)
			delete(a.balancers, k)
		}
	}
	a.mu.Unlock()
	for _, b := range gone {
		b.close()
	}
}

// close stops the balancer: no new connection, and those it carries are
// cut (a client that keeps a connection open must not hold up a down).
func (b *balancer) close() {
	b.ln.Close()
	b.mu.Lock()
	for c := range b.conns {
		c.Close()
	}
	b.mu.Unlock()
	b.wg.Wait()
}

func (b *balancer) serve() {
	for {
		c, err := b.ln.Accept()
		if err != nil {
			b.close()
			return
		}
		b.mu.Lock()
		if b.conns == nil {
			b.conns = map[net.Conn]struct{}{}
		}
		b.conns[c] = struct{}{}
		b.mu.Unlock()
		b.wg.Add(1)
		go func() {
			defer b.wg.Done()
			defer func() {
				b.mu.Lock()
				delete(b.conns, c)
				b.mu.Unlock()
			}()
			b.forward(c)
		}()
	}
}

// forward connects c to a replica, trying each in turn once.
func (b *balancer) forward(c net.Conn) {
	defer c.Close()
	backends := b.list()
	start := int(b.next.Add(1))
	for i := range backends {
		addr := backends[(start+i)%len(backends)]
		up, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			continue
		}
		defer up.Close()
		done := make(chan struct{}, 2)
		go func() { _, _ = io.Copy(up, c); closeWrite(up); done <- struct{}{} }()
		go func() { _, _ = io.Copy(c, up); closeWrite(c); done <- struct{}{} }()
		<-done
		<-done
		return
	}
	b.a.log.Warn("balancer: no replica took the connection", "deployment", b.deployment, "service", b.service, "replicas", len(backends))
}

// closeWrite half-closes c, when it can, so that the other side sees the
// end of what this side sent.
func closeWrite(c net.Conn) {
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite()
	}
}

// list is the replicas' addresses, refreshed when older than backendTTL:
// those running, and healthy when the service is checked (all running
// when none is healthy yet).
func (b *balancer) list() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if time.Since(b.fetched) < backendTTL && len(b.backends) > 0 {
		return b.backends
	}
	n := b.a.currentReplicas(b.deployment, b.service)
	var healthy, running []string
	ctx, cancel := context.WithTimeout(b.a.bg, 2*time.Second)
	defer cancel()
	for r := range n {
		id := replicaID(b.deployment, b.service, r)
		if b.a.isDraining(id) {
			continue
		}
		d, err := b.a.rt.Inspect(ctx, id)
		if err != nil || d.State.Status != runtime.StatusRunning || d.Network == nil || !d.Network.Address.IsValid() {
			continue
		}
		addr := netip.AddrPortFrom(d.Network.Address.Addr(), b.port).String()
		running = append(running, addr)
		if h, ok := b.a.healthOf(id); !ok || h.Status == runtime.HealthHealthy {
			healthy = append(healthy, addr)
		}
	}
	b.backends = healthy
	if len(healthy) == 0 {
		b.backends = running
	}
	b.fetched = time.Now()
	return b.backends
}

// drain takes replica id out of its service's balancers before it is
// stopped, so that no new connection goes to it; undrain puts it back
// (its new run, once made again).
func (a *Agent) drain(id runtime.ContainerID) {
	a.mu.Lock()
	a.draining[id] = true
	var bs []*balancer
	for _, b := range a.balancers {
		if replicaServiceOf(b, id) {
			bs = append(bs, b)
		}
	}
	a.mu.Unlock()
	for _, b := range bs {
		b.mu.Lock()
		b.fetched = time.Time{} // look again at the next connection
		b.mu.Unlock()
	}
	if len(bs) > 0 {
		// Connections made just before stay with it; give them a moment.
		time.Sleep(drainGrace) // a grace for requests in flight, not a wait for a condition
	}
}

func (a *Agent) undrain(id runtime.ContainerID) {
	a.mu.Lock()
	delete(a.draining, id)
	a.mu.Unlock()
}

func (a *Agent) isDraining(id runtime.ContainerID) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.draining[id]
}

// drainGrace is how long a drained replica keeps serving the connections
// it has before it is stopped.
const drainGrace = 200 * time.Millisecond

func replicaServiceOf(b *balancer, id runtime.ContainerID) bool {
	return id.Service == b.deployment+"-"+b.service
}

// balancedPorts are the ports the balancers publish for replica id, as a
// published port reads in ps and inspect.
func (a *Agent) balancedPorts(id runtime.ContainerID) []runtime.PortMapping {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []runtime.PortMapping
	for _, b := range a.balancers {
		if replicaServiceOf(b, id) {
			out = append(out, runtime.PortMapping{HostPort: b.hostPort, ContainerPort: b.port, Protocol: "tcp"})
		}
	}
	slices.SortFunc(out, func(x, y runtime.PortMapping) int { return int(x.HostPort) - int(y.HostPort) })
	return out
}
