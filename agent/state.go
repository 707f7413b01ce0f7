package agent

import (
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/switchyard/switchyard/api"
	"github.com/switchyard/switchyard/runtime"
	"github.com/switchyard/switchyard/spec"
)

// stateName is the deployment database under the root.
const stateName = "deployments.db"

// bucketDeployments maps a deployment name to its JSON deploymentRecord.
const bucketDeployments = "deployments"

// recordVersion is written into every record so that a later agent can
// migrate (or refuse) records it does not understand.
const recordVersion = 1

// deploymentRecord is what the agent remembers of a deployment: enough to
// converge the next Up, to Down it, and to resume supervision after a
// restart.
type deploymentRecord struct {
	Version  int                       `json:"version"`
	Name     string                    `json:"name"`
	Services map[string]*serviceRecord `json:"services"`
	// Order is the services' order in the last spec, for stable output.
	Order   []string  `json:"order"`
	Updated time.Time `json:"updated"`
}

// serviceRecord is one service of a deployment.
type serviceRecord struct {
	// Hash identifies the normalised service spec and the image digest the
	// replicas were created from; a different hash means replace them.
	Hash string `json:"hash"`
	// Replicas is how many replicas exist, numbered 0 to Replicas-1.
	Replicas uint32 `json:"replicas"`
	// Spec is the service spec without its registry credentials, which are
	// never written to disk.
	Spec *spec.ServiceSpec `json:"spec"`
	// ImageDigest is the digest the pull reported, when it reported one.
	ImageDigest string `json:"image_digest,omitempty"`
	// LastRun is when a cron service last ran on its schedule.
	LastRun time.Time `json:"last_run,omitzero"`
	// Runs are a job's or cron service's last runs, oldest first.
	Runs []api.JobRun `json:"runs,omitempty"`
}

// maxRuns is how many runs of a job the record keeps.
const maxRuns = 20

// lastRunOf is rec's LastRun; zero for no record.
func lastRunOf(rec *serviceRecord) time.Time {
	if rec == nil {
		return time.Time{}
	}
	return rec.LastRun
}

// stateStore persists deployment records in bbolt.
type stateStore struct {
	db *bolt.DB
}

func openState(root string) (*stateStore, error) {
	path := filepath.Join(root, stateName)
	// The root lock is held, so nobody else has the file open; the timeout
	// only guards against a bug elsewhere.
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		return nil, fmt.Errorf("state %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists([]byte(bucketDeployments))
		return err
	})
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("state %s: %w", path, err)
	}
	return &stateStore{db: db}, nil
}

func (s *stateStore) close() error { return s.db.Close() }

// get returns the record of name; the error wraps runtime.ErrNotFound when
// there is none.
func (s *stateStore) get(name string) (*deploymentRecord, error) {
	var rec *deploymentRecord
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucketDeployments)).Get([]byte(name))
		if b == nil {
			return fmt.Errorf("deployment %s: %w", name, runtime.ErrNotFound)
		}
		var err error
		rec, err = decodeRecord(name, b)
		return err
	})
	return rec, err
}

// list returns every record, ordered by name.
func (s *stateStore) list() ([]*deploymentRecord, error) {
	var recs []*deploymentRecord
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte(bucketDeployments)).ForEach(func(k, v []byte) error {
			rec, err := decodeRecord(string(k), v)
			if err != nil {
				return err
			}
			recs = append(recs, rec)
			return nil
		})
	})
	return recs, err
}

func (s *stateStore) put(rec *deploymentRecord) error {
	rec.Version = recordVersion
	rec.Updated = time.Now().UTC()
	b, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("deployment %s: encode state: %w", rec.Name, err)
	}
	err = s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte(bucketDeployments)).Put([]byte(rec.Name), b)
	})
	if err != nil {
		return fmt.Errorf("deployment %s: save state: %w", rec.Name, err)
	}
	return nil
}

func (s *stateStore) delete(name string) error {
	err := s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte(bucketDeployments)).Delete([]byte(name))
	})
	if err != nil {
		return fmt.Errorf("deployment %s: delete state: %w", name, err)
	}
	return nil
}

func decodeRecord(name string, b []byte) (*deploymentRecord, error) {
	var rec deploymentRecord
	if err := json.Unmarshal(b, &rec); err != nil {
		return nil, fmt.Errorf("deployment %s: decode state: %w", name, err)
	}
	if rec.Version != recordVersion {
		return nil, fmt.Errorf("deployment %s: state version %d is not %d; this agent is too old for its root: %w",
			name, rec.Version, recordVersion, runtime.ErrFailedPrecondition)
	}
	if rec.Services == nil {
		rec.Services = map[string]*serviceRecord{}
	}
	return &rec, nil
}

// errIsNotFound reports whether err wraps runtime.ErrNotFound.
func errIsNotFound(err error) bool { return errors.Is(err, runtime.ErrNotFound) }
