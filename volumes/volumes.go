// Package volumes keeps the node's named volumes: directories that outlive
// the containers that mount them, shared by every local runtime, with the
// labels and creation time docker volume create records. A volume's data
// is the directory DIR/NAME itself, which is what a container mounts; its
// metadata is kept beside it in DIR/.meta/NAME.json (a name cannot start
// with a dot, so the two never meet).
package volumes

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/switchyard/switchyard/runtime"
)

// metaDir is where the volumes' metadata lives, under the store's
// directory.
const metaDir = ".meta"

// Volume is one named volume.
type Volume struct {
	// Name names it.
	Name string `json:"name"`
	// Path is its directory on the host: what containers mount.
	Path string `json:"-"`
	// Labels are the user's metadata.
	Labels map[string]string `json:"labels,omitempty"`
	// Created is when it was made.
	Created time.Time `json:"created"`
}

// Store is the node's named volumes under one directory. Its methods are
// safe for concurrent use: each works on files alone, and a metadata file
// is replaced whole.
type Store struct {
	dir string
}

// Open returns the store under dir, making the directory.
func Open(dir string) (*Store, error) {
	if err := os.MkdirAll(filepath.Join(dir, metaDir), 0o700); err != nil {
		return nil, fmt.Errorf("volumes %s: %w", dir, err)
	}
	if err := os.Chmod(dir, 0o711); err != nil {
		return nil, fmt.Errorf("volumes %s: %w", dir, err)
	}
	return &Store{dir: dir}, nil
}

// Dir is the store's directory: a runtime mounts DIR/NAME for volume NAME.
func (s *Store) Dir() string { return s.dir }

func check(name string) error {
	if err := runtime.ValidateVolumeName(name); err != nil {
		return fmt.Errorf("volume: %w", err)
	}
	return nil
}

// Create makes the volume name with labels. A volume that exists already
// is returned as it is, as docker volume create does; labels that differ
// from its own are an error.
func (s *Store) Create(name string, labels map[string]string) (Volume, error) {
	if err := check(name); err != nil {
		return Volume{}, err
	}
	if v, err := s.Get(name); err == nil {
		if len(labels) > 0 && !mapsEqual(v.Labels, labels) {
			return Volume{}, fmt.Errorf("volume %s exists already with other labels; remove it first or use it as it is: %w", name, runtime.ErrAlreadyExists)
		}
		return v, nil
	}
	v := Volume{Name: name, Path: filepath.Join(s.dir, name), Labels: labels, Created: time.Now().UTC().Truncate(time.Second)}
	if err := os.Mkdir(v.Path, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
		return Volume{}, fmt.Errorf("volume %s: %w", name, err)
	}
	if err := s.writeMeta(v); err != nil {
		return Volume{}, err
	}
	return v, nil
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// writeMeta replaces v's metadata file whole.
func (s *Store) writeMeta(v Volume) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	p := s.metaPath(v.Name)
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("volume %s: %w", v.Name, err)
	}
	if err := os.Rename(tmp, p); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("volume %s: %w", v.Name, err)
	}
	return nil
}

func (s *Store) metaPath(name string) string { return filepath.Join(s.dir, metaDir, name+".json") }

// Get returns the volume name, or an error wrapping runtime.ErrNotFound. A
// volume a container made by using its name has no metadata: its
// directory's time stands for its creation.
func (s *Store) Get(name string) (Volume, error) {
	if err := check(name); err != nil {
		return Volume{}, fmt.Errorf("%w: %w", err, runtime.ErrNotFound)
	}
	p := filepath.Join(s.dir, name)
	fi, err := os.Stat(p)
	if err != nil || !fi.IsDir() {
		return Volume{}, fmt.Errorf("get %s: no such volume: %w", name, runtime.ErrNotFound)
	}
	v := Volume{Name: name, Path: p, Created: fi.ModTime().UTC().Truncate(time.Second)}
	if b, err := os.ReadFile(s.metaPath(name)); err == nil {
		var m Volume
		if json.Unmarshal(b, &m) == nil {
			v.Labels, v.Created = m.Labels, m.Created
		}
	}
	return v, nil
}

// List returns every volume, by name.
func (s *Store) List() ([]Volume, error) {
	ents, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, fmt.Errorf("volumes: %w", err)
	}
	var out []Volume
	for _, e := range ents {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		if v, err := s.Get(e.Name()); err == nil {
			out = append(out, v)
		}
	}
	slices.SortFunc(out, func(a, b Volume) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// Remove deletes the volume name and its data. The caller makes sure no
// container uses it.
func (s *Store) Remove(name string) error {
	v, err := s.Get(name)
	if err != nil {
		return err
	}
	// The metadata goes last: a removal cut short leaves a volume that
	// still lists, to be removed again.
	if err := os.RemoveAll(v.Path); err != nil {
		return fmt.Errorf("volume %s: %w", name, err)
	}
	if err := os.Remove(s.metaPath(name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("volume %s: %w", name, err)
	}
	return nil
}
