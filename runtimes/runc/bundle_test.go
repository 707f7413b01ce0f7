package runc

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/switchyard/switchyard/runtime"
)

func TestProcessArgs(t *testing.T) {
	img := ocispec.ImageConfig{Entrypoint: []string{"/entry"}, Cmd: []string{"default", "args"}}
	for _, tc := range []struct {
		name string
		img  ocispec.ImageConfig
		cmd  runtime.CreateSpec
		want []string
	}{
		{"image as is", img, runtime.CreateSpec{}, []string{"/entry", "default", "args"}},
		{"args replace cmd", img, runtime.CreateSpec{Args: []string{"mine"}}, []string{"/entry", "mine"}},
		{"entrypoint resets cmd", img, runtime.CreateSpec{Entrypoint: []string{"/other"}}, []string{"/other"}},
		{"entrypoint and args", img, runtime.CreateSpec{Entrypoint: []string{"/other"}, Args: []string{"x"}}, []string{"/other", "x"}},
		{"cmd only image", ocispec.ImageConfig{Cmd: []string{"sh"}}, runtime.CreateSpec{}, []string{"sh"}},
		{"nothing", ocispec.ImageConfig{}, runtime.CreateSpec{}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := processArgs(tc.img, &tc.cmd); !slices.Equal(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestProcessEnv(t *testing.T) {
	got := processEnv([]string{"PATH=/bin", "A=1", "B=2"}, []string{"B=spec", "C=3"}, "h")
	want := []string{"PATH=/bin", "A=1", "B=spec", "C=3", "HOSTNAME=h"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	if got := processEnv(nil, nil, "h"); !slices.Equal(got, []string{defaultPath, "HOSTNAME=h"}) {
		t.Errorf("empty env: got %q", got)
	}
}

// fakeRootfs makes a directory that looks enough like an image's root
// filesystem for buildSpec: /bin/sh, /etc/passwd, /etc/group, /tmp.
func fakeRootfs(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	for _, d := range []string{"bin", "etc", "tmp"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	files := map[string]string{
		"bin/sh":     "",
		"etc/passwd": "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n",
		"etc/group":  "root:x:0:\napp:x:1000:\nextra:x:2000:app,other\n",
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(root, name), []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func TestBuildSpec(t *testing.T) {
	root := fakeRootfs(t)
	svc := &runtime.CreateSpec{
		Entrypoint: []string{"sh"}, Args: []string{"-c", "true"}, Workdir: "/tmp",
		Env:       []string{"K=v"},
		Resources: runtime.Resources{CPU: 1.5, MemoryBytes: 64 << 20},
		Volumes:   []runtime.Volume{{Name: "data", Path: "/data", ReadOnly: true}},
	}
	in := bundleInput{
		id: runtime.ContainerID{Service: "web", Replica: 2}, key: "web-rep-2.abcd", rootfs: root,
		image: ocispec.ImageConfig{User: "app"}, spec: svc, volumeDir: t.TempDir(), pidsLimit: 4096,
	}
	s, mounts, err := buildSpec(in)
	if err != nil {
		t.Fatal(err)
	}
	p := s.Process
	if strings.Join(p.Args, " ") != "sh -c true" || p.Cwd != "/tmp" || !p.NoNewPrivileges || s.Hostname != "web-rep-2" {
		t.Errorf("process %+v, hostname %q", p, s.Hostname)
	}
	if p.User.UID != 1000 || p.User.GID != 1000 || !slices.Equal(p.User.AdditionalGids, []uint32{2000}) {
		t.Errorf("user %+v", p.User)
	}
	if len(p.Capabilities.Effective) != 0 || len(p.Capabilities.Bounding) != 14 {
		t.Errorf("a non-root user keeps capabilities only in its bounding set: %+v", p.Capabilities)
	}
	if s.Linux.CgroupsPath != "/switchyard/web-rep-2.abcd" || *s.Linux.Resources.CPU.Quota != 150000 ||
		*s.Linux.Resources.Memory.Limit != 64<<20 || *s.Linux.Resources.Pids.Limit != 4096 {
		t.Errorf("linux %+v", s.Linux)
	}
	if s.Linux.Seccomp == nil || len(s.Linux.Seccomp.Syscalls) == 0 || len(s.Linux.MaskedPaths) == 0 {
		t.Errorf("no default security profile: %+v", s.Linux)
	}
	if len(mounts) != 1 || !mounts[0].ReadOnly || !strings.HasPrefix(mounts[0].Source, in.volumeDir) {
		t.Errorf("mounts %+v", mounts)
	}
	last := s.Mounts[len(s.Mounts)-1]
	if last.Destination != "/data" || !slices.Contains(last.Options, "ro") {
		t.Errorf("volume mount %+v", last)
	}
}

func TestBuildSpecRefuses(t *testing.T) {
	root := fakeRootfs(t)
	for _, tc := range []struct {
		name   string
		img    ocispec.ImageConfig
		cmd    runtime.CreateSpec
		vols   []runtime.Volume
		saying string
	}{
		{"no command", ocispec.ImageConfig{}, runtime.CreateSpec{}, nil, "no command"},
		{"relative workdir", ocispec.ImageConfig{}, runtime.CreateSpec{Entrypoint: []string{"sh"}, Workdir: "tmp"}, nil, "not absolute"},
		{"missing workdir", ocispec.ImageConfig{WorkingDir: "/srv"}, runtime.CreateSpec{Entrypoint: []string{"sh"}}, nil, "does not exist"},
		{"missing program", ocispec.ImageConfig{}, runtime.CreateSpec{Entrypoint: []string{"/bin/nope"}}, nil, "does not exist"},
		{"unknown user", ocispec.ImageConfig{User: "ghost"}, runtime.CreateSpec{Entrypoint: []string{"sh"}}, nil, "ghost"},
		{"unknown group", ocispec.ImageConfig{User: "app:ghosts"}, runtime.CreateSpec{Entrypoint: []string{"sh"}}, nil, "ghosts"},
		{"missing volume source", ocispec.ImageConfig{}, runtime.CreateSpec{Entrypoint: []string{"sh"}}, []runtime.Volume{{Name: "v", Path: "/d", Source: "/no/such/source"}}, "does not exist"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := buildSpec(bundleInput{
				id: runtime.ContainerID{Service: "x"}, key: "k", rootfs: root, image: tc.img,
				spec: withVolumes(tc.cmd, tc.vols), volumeDir: t.TempDir(),
			})
			if !errors.Is(err, runtime.ErrInvalidArgument) || !strings.Contains(err.Error(), tc.saying) {
				t.Errorf("got %v, want invalid argument saying %q", err, tc.saying)
			}
		})
	}
}

const testPasswd = "root:x:0:0:root:/root:/bin/sh\n# comment\nnobody:x:65534:65534::/:/bin/false\napp:x:1000:1001::/app:/bin/sh\nbroken:x:zz:1\n"
const testGroup = "root:x:0:\nnogroup:x:65534:\napp:x:1001:\nwheel:x:10:app,root\nstaff:x:50:app\n"

func TestParseUser(t *testing.T) {
	for _, tc := range []struct {
		user    string
		uid     uint32
		gid     uint32
		extra   []uint32
		wantErr bool
	}{
		{user: "", uid: 0, gid: 0, extra: []uint32{10}},
		{user: "root", uid: 0, gid: 0, extra: []uint32{10}},
		{user: "app", uid: 1000, gid: 1001, extra: []uint32{10, 50}},
		{user: "1000", uid: 1000, gid: 1001, extra: []uint32{10, 50}},
		{user: "4242", uid: 4242, gid: 0},
		{user: "4242:77", uid: 4242, gid: 77},
		{user: "app:staff", uid: 1000, gid: 50, extra: []uint32{10}},
		{user: "nobody:nogroup", uid: 65534, gid: 65534},
		{user: "ghost", wantErr: true},
		{user: "app:ghosts", wantErr: true},
		{user: "broken", wantErr: true},
	} {
		t.Run(tc.user, func(t *testing.T) {
			u, err := parseUser(tc.user, strings.NewReader(testPasswd), strings.NewReader(testGroup))
			if tc.wantErr {
				if !errors.Is(err, runtime.ErrInvalidArgument) {
					t.Errorf("got %+v, %v; want invalid argument", u, err)
				}
				return
			}
			if err != nil || u.UID != tc.uid || u.GID != tc.gid || !slices.Equal(u.AdditionalGids, tc.extra) {
				t.Errorf("got %+v, %v; want uid %d gid %d extra %v", u, err, tc.uid, tc.gid, tc.extra)
			}
		})
	}
	if u, err := parseUser("5", nil, nil); err != nil || u.UID != 5 {
		t.Errorf("numeric user without /etc/passwd: %+v, %v", u, err)
	}
}

// FuzzParseUser feeds arbitrary users and databases (both come from the
// image): no panic, and errors are invalid arguments.
func FuzzParseUser(f *testing.F) {
	f.Add("app:staff", testPasswd, testGroup)
	f.Add("1000", "a:b:c", "::::::")
	f.Add(":", "\n\n", "x:y:1:a,b,,")
	f.Fuzz(func(t *testing.T, user, passwd, group string) {
		_, err := parseUser(user, strings.NewReader(passwd), strings.NewReader(group))
		if err != nil && !errors.Is(err, runtime.ErrInvalidArgument) {
			t.Fatalf("error of another kind: %v", err)
		}
	})
}

// withVolumes returns cs with vols, as one request.
func withVolumes(cs runtime.CreateSpec, vols []runtime.Volume) *runtime.CreateSpec {
	cs.Volumes = vols
	return &cs
}
