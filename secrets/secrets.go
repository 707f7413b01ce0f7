// Package secrets keeps a node's secrets: named values that workloads get
// as environment variables ($S:NAME in a spec's env) or as files under
// /run/secrets, and that nothing else shows. Each lives in a file of its
// own, readable by root alone, under a directory no one else may enter;
// values are never logged, listed or returned by anything but Get.
//
//	s, err := secrets.Open(filepath.Join(root, "secrets"))
//	err = s.Create("db-password", []byte("hunter2"))
//	v, err := s.Get("db-password")
package secrets

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/switchyard/switchyard/runtime"
)

// MaxSize is the largest secret, as docker's: a secret is a password, a
// key or a certificate, not a file to ship.
const MaxSize = 500 << 10

// PrivateDir is the directory under a store's root kept for runtimes: the
// files they make of secrets for a container (its OCI config, its
// /run/secrets files) live there, under the store's protection.
const PrivateDir = ".containers"

// Store is the secrets of a node, under one directory.
type Store struct {
	dir string
}

// Info describes a secret without its value.
type Info struct {
	// Name is the secret's name.
	Name string `json:"name"`
	// Created is when it was created.
	Created time.Time `json:"created"`
	// Size is its length in bytes.
	Size int64 `json:"size"`
}

// Open opens (and makes, mode 0700) the store under dir.
func Open(dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("secrets: %w", err)
	}
	// A directory made by an older version, or by hand, is closed too.
	if err := os.Chmod(dir, 0o700); err != nil {
		return nil, fmt.Errorf("secrets: %w", err)
	}
	if err := os.MkdirAll(filepath.Join(dir, PrivateDir), 0o700); err != nil {
		return nil, fmt.Errorf("secrets: %w", err)
	}
	return &Store{dir: dir}, nil
}

// Dir is the store's directory.
func (s *Store) Dir() string { return s.dir }

// CheckName says what is wrong with a secret name, or "": ZLayer's rule, a
// letter then letters, digits, '-' and '_', at most 64 characters.
func CheckName(name string) string {
	switch {
	case name == "":
		return "a secret needs a name"
	case len(name) > 64:
		return fmt.Sprintf("secret name %q is longer than 64 characters", name)
	case !(name[0] >= 'a' && name[0] <= 'z' || name[0] >= 'A' && name[0] <= 'Z'):
		return fmt.Sprintf("secret name %q must start with a letter", name)
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return fmt.Sprintf("secret name %q has %q; use letters, digits, '-' and '_'", name, c)
		}
	}
	return ""
}

func (s *Store) path(name string) (string, error) {
	if msg := CheckName(name); msg != "" {
		return "", fmt.Errorf("%s: %w", msg, runtime.ErrInvalidArgument)
	}
	return filepath.Join(s.dir, name), nil
}

// Create stores a new secret. An existing name is an error wrapping
// runtime.ErrAlreadyExists (remove it first, as with docker); the value is
// written whole or not at all.
func (s *Store) Create(name string, value []byte) error {
	p, err := s.path(name)
	if err != nil {
		return err
	}
	if len(value) == 0 {
		return fmt.Errorf("secret %s: the value is empty; give it on stdin or in a file: %w", name, runtime.ErrInvalidArgument)
	}
	if len(value) > MaxSize {
		return fmt.Errorf("secret %s: %d bytes is more than the %d a secret may hold: %w", name, len(value), MaxSize, runtime.ErrInvalidArgument)
	}
	tmp, err := os.CreateTemp(s.dir, ".new-*")
	if err != nil {
		return fmt.Errorf("secret %s: %w", name, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(value); err != nil {
		tmp.Close()
		return fmt.Errorf("secret %s: %w", name, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("secret %s: %w", name, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("secret %s: %w", name, err)
	}
	// A hard link fails if the name exists: no two creates both win.
	if err := os.Link(tmp.Name(), p); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("secret %s: %w; remove it first (switchyard secret rm %s)", name, runtime.ErrAlreadyExists, name)
		}
		return fmt.Errorf("secret %s: %w", name, err)
	}
	return syncDir(s.dir)
}

// Get returns a secret's value, or an error wrapping runtime.ErrNotFound.
func (s *Store) Get(name string) ([]byte, error) {
	p, err := s.path(name)
	if err != nil {
		return nil, err
	}
	v, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("secret %s: %w; create it with `switchyard secret create %s`", name, runtime.ErrNotFound, name)
	}
	if err != nil {
		return nil, fmt.Errorf("secret %s: %w", name, err)
	}
	return v, nil
}

// List describes every secret, by name.
func (s *Store) List() ([]Info, error) {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, fmt.Errorf("secrets: %w", err)
	}
	out := []Info{}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") || !e.Type().IsRegular() {
			continue
		}
		fi, err := e.Info()
		if err != nil {
			continue // removed meanwhile
		}
		out = append(out, Info{Name: e.Name(), Created: fi.ModTime().UTC(), Size: fi.Size()})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Remove deletes a secret; a missing one is an error wrapping
// runtime.ErrNotFound. Containers made with it keep their copy.
func (s *Store) Remove(name string) error {
	p, err := s.path(name)
	if err != nil {
		return err
	}
	if err := os.Remove(p); errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("secret %s: %w", name, runtime.ErrNotFound)
	} else if err != nil {
		return fmt.Errorf("secret %s: %w", name, err)
	}
	return syncDir(s.dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
