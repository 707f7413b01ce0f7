package cri

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/switchyard/switchyard/internal/nspin"
)

// PodSandboxStats implements RuntimeService: the pod's containers' CPU
// and memory, summed, and its network interface's traffic.
func (s *Server) PodSandboxStats(ctx context.Context, req *runtimeapi.PodSandboxStatsRequest) (*runtimeapi.PodSandboxStatsResponse, error) {
	pod, err := s.findPod(req.GetPodSandboxId())
	if err != nil {
		return nil, s.grpcError(ctx, "PodSandboxStats", err)
	}
	return &runtimeapi.PodSandboxStatsResponse{Stats: s.podStats(ctx, pod)}, nil
}

// ListPodSandboxStats implements RuntimeService, with CRI's filters: an
// id (or a prefix), labels that must all match.
func (s *Server) ListPodSandboxStats(ctx context.Context, req *runtimeapi.ListPodSandboxStatsRequest) (*runtimeapi.ListPodSandboxStatsResponse, error) {
	pods, err := s.ListPodSandbox(ctx, &runtimeapi.ListPodSandboxRequest{Filter: &runtimeapi.PodSandboxFilter{
		Id: req.GetFilter().GetId(), LabelSelector: req.GetFilter().GetLabelSelector()}})
	if err != nil {
		return nil, err
	}
	resp := &runtimeapi.ListPodSandboxStatsResponse{}
	for _, p := range pods.GetItems() {
		if pod, err := s.readPod(p.GetId()); err == nil {
			resp.Stats = append(resp.Stats, s.podStats(ctx, pod))
		}
	}
	return resp, nil
}

func (s *Server) podStats(ctx context.Context, pod *podRecord) *runtimeapi.PodSandboxStats {
	now := time.Now().UnixNano()
	lx := &runtimeapi.LinuxPodSandboxStats{
		Cpu:     &runtimeapi.CpuUsage{Timestamp: now, UsageCoreNanoSeconds: &runtimeapi.UInt64Value{}},
		Memory:  &runtimeapi.MemoryUsage{Timestamp: now, WorkingSetBytes: &runtimeapi.UInt64Value{}},
		Process: &runtimeapi.ProcessUsage{Timestamp: now, ProcessCount: &runtimeapi.UInt64Value{}},
	}
	for _, c := range s.podCtrs(pod.ID) {
		cs, pids := s.ctrStatsPIDs(ctx, c)
		lx.Containers = append(lx.Containers, cs)
		lx.Cpu.UsageCoreNanoSeconds.Value += cs.GetCpu().GetUsageCoreNanoSeconds().GetValue()
		lx.Memory.WorkingSetBytes.Value += cs.GetMemory().GetWorkingSetBytes().GetValue()
		lx.Process.ProcessCount.Value += pids
	}
	if pod.ready() && pod.NetNS != "" {
		if ifs, err := netStats(pod.NetNS); err == nil {
			lx.Network = &runtimeapi.NetworkUsage{Timestamp: now}
			for _, i := range ifs {
				if i.GetName() == "eth0" {
					lx.Network.DefaultInterface = i
				} else {
					lx.Network.Interfaces = append(lx.Network.Interfaces, i)
				}
			}
		}
	}
	return &runtimeapi.PodSandboxStats{
		Attributes: &runtimeapi.PodSandboxAttributes{Id: pod.ID, Metadata: pod.metadata(), Labels: pod.Labels, Annotations: pod.Annotations},
		Linux:      lx,
	}
}

// netStats reads the traffic of the interfaces (but loopback) of the
// network namespace pinned at netns, from /proc/thread-self/net/dev of a
// thread inside it.
func netStats(netns string) ([]*runtimeapi.NetworkInterfaceUsage, error) {
	var b []byte
	err := nspin.Run(netns, unix.CLONE_NEWNET, func() (err error) {
		b, err = os.ReadFile("/proc/thread-self/net/dev")
		return err
	})
	if err != nil {
		return nil, err
	}
	return parseNetDev(b), nil
}

// parseNetDev reads /proc/net/dev: after two header lines, "name: rx
// bytes packets errs drop fifo frame compressed multicast tx bytes
// packets errs ...".
func parseNetDev(b []byte) []*runtimeapi.NetworkInterfaceUsage {
	var out []*runtimeapi.NetworkInterfaceUsage
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), ":")
		name = strings.TrimSpace(name)
		f := strings.Fields(rest)
		if !ok || name == "lo" || len(f) < 11 {
			continue
		}
		n := func(i int) *runtimeapi.UInt64Value {
			v, _ := strconv.ParseUint(f[i], 10, 64)
			return &runtimeapi.UInt64Value{Value: v}
		}
		out = append(out, &runtimeapi.NetworkInterfaceUsage{Name: name, RxBytes: n(0), RxErrors: n(2), TxBytes: n(8), TxErrors: n(10)})
	}
	return out
}
