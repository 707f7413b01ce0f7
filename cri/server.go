// Package cri is the Kubernetes Container Runtime Interface front door: a
// gRPC RuntimeService and ImageService (k8s.io/cri-api v1) over the same
// runtime the node's other front doors serve, so that a kubelet, crictl or
// critest can drive the node.
//
// So far it serves the runtime's identity and health (Version, Status,
// RuntimeConfig), pod sandboxes and the whole ImageService; every other
// RPC answers codes.Unimplemented naming the method (the generated
// Unimplemented servers' answer), never a silent success.
package cri

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/cri-streaming/pkg/streaming"

	"github.com/switchyard/switchyard/runtime"
)

// APIVersion is the CRI version served.
const APIVersion = "v1"

// RuntimeName is the name the runtime gives itself in Version.
const RuntimeName = "switchyard"

// RuntimeLister lists the node's runtimes, in preference order: the CRI
// runtime handlers.
type RuntimeLister interface {
	Runtimes() []runtime.Containers
}

// Server serves CRI over a node's runtime.
type Server struct {
	runtimeapi.UnimplementedRuntimeServiceServer
	runtimeapi.UnimplementedImageServiceServer

	rt   runtime.Runtime
	opts options
	pods pods

	streamMu sync.Mutex
	stream   streaming.Server // guarded by streamMu; nil until Streaming
}

type options struct {
	log      *slog.Logger
	version  string
	root     string
	runtimes RuntimeLister
	networks Networks
	pause    []string
	events   EventSource
}

// Option configures a Server.
type Option func(*options) error

// WithLogger sets the logger for failed calls. Default: discard.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) error {
		if l == nil {
			return fmt.Errorf("cri: logger is nil: %w", runtime.ErrInvalidArgument)
		}
		o.log = l
		return nil
	}
}

// WithVersion sets switchyard's version, reported by Version.
func WithVersion(v string) Option {
	return func(o *options) error { o.version = v; return nil }
}

// WithRoot sets the node's state directory, whose filesystem ImageFsInfo
// reports.
func WithRoot(dir string) Option {
	return func(o *options) error { o.root = dir; return nil }
}

// WithRuntimeLister makes the node's runtimes the runtime handlers Status
// reports.
func WithRuntimeLister(l RuntimeLister) Option {
	return func(o *options) error {
		if l == nil {
			return fmt.Errorf("cri: runtime lister is nil: %w", runtime.ErrInvalidArgument)
		}
		o.runtimes = l
		return nil
	}
}

// New returns a Server over rt.
func New(rt runtime.Runtime, opts ...Option) (*Server, error) {
	if rt == nil {
		return nil, fmt.Errorf("cri: runtime is nil: %w", runtime.ErrInvalidArgument)
	}
	o := options{log: slog.New(slog.DiscardHandler), version: "0.0.0-devel"}
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	return &Server{rt: rt, opts: o}, nil
}

// Register registers both services on g.
func (s *Server) Register(g *grpc.Server) {
	runtimeapi.RegisterRuntimeServiceServer(g, s)
	runtimeapi.RegisterImageServiceServer(g, s)
}

// grpcError gives err the gRPC code of its kind, keeping its message (a
// route to a peer is FailedPrecondition, with the remedy in the message).
func (s *Server) grpcError(ctx context.Context, method string, err error) error {
	var rp *runtime.RouteToPeerError
	var un unimplemented
	code := codes.Internal
	switch {
	case errors.As(err, &un):
		code = codes.Unimplemented
	case errors.As(err, &rp):
		code = codes.FailedPrecondition
	case errors.Is(err, runtime.ErrNotFound):
		code = codes.NotFound
	case errors.Is(err, runtime.ErrAlreadyExists):
		code = codes.AlreadyExists
	case errors.Is(err, runtime.ErrInvalidArgument):
		code = codes.InvalidArgument
	case errors.Is(err, runtime.ErrFailedPrecondition):
		code = codes.FailedPrecondition
	case errors.Is(err, runtime.ErrNotSupported):
		// A value this node cannot act on, in a call it serves: the
		// call's arguments, not a missing method (Unimplemented, which
		// a kubelet takes for a feature the runtime lacks).
		code = codes.InvalidArgument
	case errors.Is(err, runtime.ErrUnavailable):
		code = codes.Unavailable
	case errors.Is(err, context.Canceled):
		code = codes.Canceled
	case errors.Is(err, context.DeadlineExceeded):
		code = codes.DeadlineExceeded
	}
	level := slog.LevelDebug
	if code == codes.Internal {
		level = slog.LevelWarn
	}
	s.opts.log.Log(ctx, level, "cri call failed", "method", method, "code", code.String(), "err", err)
	return status.Error(code, err.Error())
}

// Version implements RuntimeService.
func (s *Server) Version(context.Context, *runtimeapi.VersionRequest) (*runtimeapi.VersionResponse, error) {
	v := strings.TrimPrefix(s.opts.version, "v")
	if v == "" || v == "(devel)" {
		v = "0.0.0-devel"
	}
	return &runtimeapi.VersionResponse{Version: "0.1.0", RuntimeName: RuntimeName, RuntimeVersion: v, RuntimeApiVersion: APIVersion}, nil
}

// Status implements RuntimeService: RuntimeReady when every runtime of the
// node answers a list, NetworkReady when the node has networks, and the
// runtime handlers (the default "" routes by the image's platform).
func (s *Server) Status(ctx context.Context, req *runtimeapi.StatusRequest) (*runtimeapi.StatusResponse, error) {
	ready := &runtimeapi.RuntimeCondition{Type: runtimeapi.RuntimeReady, Status: true}
	all := &runtimeapi.RuntimeHandlerFeatures{RecursiveReadOnlyMounts: true}
	handlers := []*runtimeapi.RuntimeHandler{{Name: "", Features: all}}
	info := map[string]string{}
	if s.opts.runtimes != nil {
		var down []string
		rts := s.opts.runtimes.Runtimes()
		for _, r := range rts {
			f := handlerFeatures(r.Name())
			handlers = append(handlers, &runtimeapi.RuntimeHandler{Name: r.Name(), Features: f})
			// The default handler may route to any runtime: it has what
			// they all have.
			all.RecursiveReadOnlyMounts = all.RecursiveReadOnlyMounts && f.RecursiveReadOnlyMounts
			lctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			if _, err := r.List(lctx); err != nil {
				down = append(down, r.Name()+": "+err.Error())
			}
			cancel()
			if req.GetVerbose() {
				var ps []string
				for _, p := range r.Platforms() {
					ps = append(ps, p.OS+"/"+p.Architecture)
				}
				info["runtime."+r.Name()] = fmt.Sprintf("%q", strings.Join(ps, ","))
			}
		}
		// One runtime down (a delegate on another machine) leaves the
		// others serving: the node is ready while any runtime answers.
		switch {
		case len(down) == len(rts) && len(rts) > 0:
			ready.Status, ready.Reason, ready.Message = false, "RuntimeUnavailable", strings.Join(down, "; ")
		case len(down) > 0:
			ready.Message = "some runtimes do not answer: " + strings.Join(down, "; ")
		}
	}
	network := &runtimeapi.RuntimeCondition{Type: runtimeapi.NetworkReady, Status: s.opts.networks != nil}
	if s.opts.networks == nil {
		network.Reason, network.Message = "NoNetworks", "this node runs without networks (its daemon runs with --bridge none, or without the CNI plugins)"
	}
	resp := &runtimeapi.StatusResponse{
		Status:          &runtimeapi.RuntimeStatus{Conditions: []*runtimeapi.RuntimeCondition{ready, network}},
		RuntimeHandlers: handlers,
		Features:        &runtimeapi.RuntimeFeatures{SupplementalGroupsPolicy: true},
	}
	if req.GetVerbose() {
		resp.Info = info
	}
	return resp, nil
}

// RuntimeConfig implements RuntimeService: the cgroup driver is cgroupfs,
// as the runtime writes its cgroups itself.
func (s *Server) RuntimeConfig(context.Context, *runtimeapi.RuntimeConfigRequest) (*runtimeapi.RuntimeConfigResponse, error) {
	return &runtimeapi.RuntimeConfigResponse{Linux: &runtimeapi.LinuxRuntimeConfiguration{CgroupDriver: runtimeapi.CgroupDriver_CGROUPFS}}, nil
}

// UpdateRuntimeConfig implements RuntimeService: the pod CIDR a kubelet
// sends is taken note of; the node's networks keep their own subnets.
func (s *Server) UpdateRuntimeConfig(ctx context.Context, req *runtimeapi.UpdateRuntimeConfigRequest) (*runtimeapi.UpdateRuntimeConfigResponse, error) {
	if cidr := req.GetRuntimeConfig().GetNetworkConfig().GetPodCidr(); cidr != "" {
		s.opts.log.Info("cri: the kubelet's pod CIDR is noted; the node's networks keep their own subnets", "pod_cidr", cidr)
	}
	return &runtimeapi.UpdateRuntimeConfigResponse{}, nil
}

// ListImages implements ImageService: one image per digest, with every
// reference that names it.
func (s *Server) ListImages(ctx context.Context, req *runtimeapi.ListImagesRequest) (*runtimeapi.ListImagesResponse, error) {
	imgs, err := s.rt.ListImages(ctx)
	if err != nil {
		return nil, s.grpcError(ctx, "ListImages", err)
	}
	var want string
	if f := req.GetFilter().GetImage().GetImage(); f != "" {
		want = f
	}
	byID := map[string]*runtimeapi.Image{}
	var out []*runtimeapi.Image
	for _, img := range imgs {
		if want != "" && !refMatches(img, want) {
			continue
		}
		ci := byID[img.Digest]
		if ci == nil {
			ci = criImage(img)
			byID[img.Digest] = ci
			out = append(out, ci)
		}
		addRef(ci, img)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Id < out[j].Id })
	return &runtimeapi.ListImagesResponse{Images: out}, nil
}

// addRef adds img's reference to ci as a tag or a digest.
func addRef(ci *runtimeapi.Image, img runtime.ImageInfo) {
	if strings.Contains(img.Reference, "@") {
		ci.RepoDigests = append(ci.RepoDigests, img.Reference)
		return
	}
	ci.RepoTags = append(ci.RepoTags, img.Reference)
	if r, err := name.ParseReference(img.Reference); err == nil {
		ci.RepoDigests = append(ci.RepoDigests, r.Context().Name()+"@"+img.Digest)
	}
}

// refMatches reports whether ref (a reference, in any of its spellings, or
// an image id, with or without sha256:) names img.
func refMatches(img runtime.ImageInfo, ref string) bool {
	if img.Reference == ref || img.Digest == ref || img.Digest == "sha256:"+ref {
		return true
	}
	want, err1 := name.ParseReference(ref)
	have, err2 := name.ParseReference(img.Reference)
	if err1 == nil && err2 == nil && want.Name() == have.Name() {
		return true
	}
	if d, ok := want.(name.Digest); ok && err1 == nil && d.DigestStr() == img.Digest {
		return true
	}
	return false
}

// findImage finds the image ref names; nil when there is none.
func (s *Server) findImage(ctx context.Context, ref string) (*runtimeapi.Image, error) {
	imgs, err := s.rt.ListImages(ctx)
	if err != nil {
		return nil, err
	}
	var ci *runtimeapi.Image
	for _, img := range imgs {
		if !refMatches(img, ref) {
			continue
		}
		ci = criImage(img)
		break
	}
	if ci == nil {
		return nil, nil
	}
	// Every reference of that image.
	for _, img := range imgs {
		if img.Digest == ci.Id {
			addRef(ci, img)
		}
	}
	return ci, nil
}

// ImageStatus implements ImageService: an image that is not here is an
// empty answer, not an error, as CRI asks.
func (s *Server) ImageStatus(ctx context.Context, req *runtimeapi.ImageStatusRequest) (*runtimeapi.ImageStatusResponse, error) {
	ref := req.GetImage().GetImage()
	if ref == "" {
		return nil, status.Error(codes.InvalidArgument, "ImageStatus: no image named: give ImageSpec.image")
	}
	ci, err := s.findImage(ctx, ref)
	if err != nil {
		return nil, s.grpcError(ctx, "ImageStatus", err)
	}
	resp := &runtimeapi.ImageStatusResponse{Image: ci}
	if ci != nil && req.GetVerbose() {
		resp.Info = map[string]string{"info": fmt.Sprintf(`{"id":%q}`, ci.Id)}
	}
	return resp, nil
}

// PullImage implements ImageService. The runtime handler, when the pod
// names one, decides the platform pulled: the first that runtime serves.
func (s *Server) PullImage(ctx context.Context, req *runtimeapi.PullImageRequest) (*runtimeapi.PullImageResponse, error) {
	ref := req.GetImage().GetImage()
	if ref == "" {
		return nil, status.Error(codes.InvalidArgument, "PullImage: no image named: give ImageSpec.image")
	}
	opts := runtime.PullOptions{Policy: runtime.PullAlways}
	if a := req.GetAuth(); a != nil {
		auth, err := registryAuth(a)
		if err != nil {
			return nil, s.grpcError(ctx, "PullImage", err)
		}
		opts.Auth = auth
	}
	if h := req.GetImage().GetRuntimeHandler(); h != "" {
		p, err := s.handlerPlatform(h)
		if err != nil {
			return nil, s.grpcError(ctx, "PullImage", err)
		}
		opts.Platform = p
	}
	info, err := s.rt.Pull(ctx, ref, opts)
	if err != nil {
		return nil, s.grpcError(ctx, "PullImage", err)
	}
	return &runtimeapi.PullImageResponse{ImageRef: info.Digest}, nil
}

// RemoveImage implements ImageService: every reference of the image goes;
// one that is not here is not an error, as CRI asks.
func (s *Server) RemoveImage(ctx context.Context, req *runtimeapi.RemoveImageRequest) (*runtimeapi.RemoveImageResponse, error) {
	ref := req.GetImage().GetImage()
	if ref == "" {
		return nil, status.Error(codes.InvalidArgument, "RemoveImage: no image named: give ImageSpec.image")
	}
	imgs, err := s.rt.ListImages(ctx)
	if err != nil {
		return nil, s.grpcError(ctx, "RemoveImage", err)
	}
	var digest string
	for _, img := range imgs {
		if refMatches(img, ref) {
			digest = img.Digest
			break
		}
	}
	if digest == "" {
		return &runtimeapi.RemoveImageResponse{}, nil
	}
	for _, img := range imgs {
		if img.Digest != digest {
			continue
		}
		if err := s.rt.RemoveImage(ctx, img.Reference, false); err != nil && !errors.Is(err, runtime.ErrNotFound) {
			return nil, s.grpcError(ctx, "RemoveImage", err)
		}
	}
	return &runtimeapi.RemoveImageResponse{}, nil
}

// ImageFsInfo implements ImageService: the filesystem of the node's root,
// where the image store lives.
func (s *Server) ImageFsInfo(ctx context.Context, _ *runtimeapi.ImageFsInfoRequest) (*runtimeapi.ImageFsInfoResponse, error) {
	dir := filepath.Join(s.opts.root, "images")
	if s.opts.root == "" {
		dir = os.TempDir()
	}
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return nil, s.grpcError(ctx, "ImageFsInfo", fmt.Errorf("image filesystem %s: %w", dir, err))
	}
	used := (st.Blocks - st.Bfree) * uint64(st.Bsize)
	inodes := st.Files - st.Ffree
	fs := &runtimeapi.FilesystemUsage{
		Timestamp:  nowNanos(),
		FsId:       &runtimeapi.FilesystemIdentifier{Mountpoint: dir},
		UsedBytes:  &runtimeapi.UInt64Value{Value: used},
		InodesUsed: &runtimeapi.UInt64Value{Value: inodes},
	}
	return &runtimeapi.ImageFsInfoResponse{ImageFilesystems: []*runtimeapi.FilesystemUsage{fs}}, nil
}

// registryAuth is a's credentials; nil when it holds none. Auth is
// base64("user:password"), as in a docker config.
func registryAuth(a *runtimeapi.AuthConfig) (*runtime.RegistryAuth, error) {
	ra := &runtime.RegistryAuth{Username: a.GetUsername(), Password: a.GetPassword()}
	if enc := a.GetAuth(); enc != "" && ra.Username == "" {
		b, err := base64.StdEncoding.DecodeString(enc)
		if err != nil {
			return nil, fmt.Errorf("PullImage: auth.auth is not base64 of user:password: %w", runtime.ErrInvalidArgument)
		}
		user, pass, ok := strings.Cut(string(b), ":")
		if !ok {
			return nil, fmt.Errorf("PullImage: auth.auth is not base64 of user:password: %w", runtime.ErrInvalidArgument)
		}
		ra.Username, ra.Password = user, pass
	}
	if t := a.GetIdentityToken(); t != "" {
		ra.Token = t
	} else if t := a.GetRegistryToken(); t != "" {
		ra.Token = t
	}
	if ra.Username == "" && ra.Password == "" && ra.Token == "" {
		return nil, nil
	}
	return ra, nil
}

// handlerPlatform is the first platform the runtime named h serves: what a
// pull for a pod of that runtime handler fetches.
func (s *Server) handlerPlatform(h string) (*ocispec.Platform, error) {
	if s.opts.runtimes != nil {
		for _, r := range s.opts.runtimes.Runtimes() {
			if r.Name() == h {
				if ps := r.Platforms(); len(ps) > 0 {
					p := ps[0]
					return &p, nil
				}
				return nil, nil
			}
		}
	}
	return nil, fmt.Errorf("runtime handler %q: this node has no runtime of that name (its handlers are in crictl info): %w", h, runtime.ErrInvalidArgument)
}

func nowNanos() int64 { return time.Now().UnixNano() }

// criImage is img's CRI description, without its references: its id, its
// size, and the user it runs as (a uid, or a name when the config names
// one; the group is not CRI's to report).
func criImage(img runtime.ImageInfo) *runtimeapi.Image {
	ci := &runtimeapi.Image{Id: img.Digest, Size: uint64(max(img.Size, 1)), Spec: &runtimeapi.ImageSpec{Image: img.Digest, Annotations: img.Annotations}}
	user, _, _ := strings.Cut(img.User, ":")
	if uid, err := strconv.ParseInt(user, 10, 64); err == nil && uid >= 0 {
		ci.Uid = &runtimeapi.Int64Value{Value: uid}
	} else if user != "" {
		ci.Username = user
	}
	return ci
}

// handlerFeatures is what a runtime of the node can do of CRI's optional
// features: the local ones make read-only mounts recursive (runc with
// mount_setattr; a wasm module's read-only directory is a whole tree); a
// delegate is not known to.
func handlerFeatures(name string) *runtimeapi.RuntimeHandlerFeatures {
	local := name == "runc" || name == "wasm"
	return &runtimeapi.RuntimeHandlerFeatures{RecursiveReadOnlyMounts: local}
}

// unimplemented marks an error as a CRI feature this node does not have
// (image volumes): Unimplemented, which a kubelet and critest take for a
// feature the runtime lacks, where a value it cannot act on is
// InvalidArgument.
type unimplemented struct{ error }

func (u unimplemented) Unwrap() error { return u.error }
