package api

import "time"

// Secret describes one of the node's secrets, never its value: the
// answer of GET /v1/secrets.
type Secret struct {
	// Name is the secret's name.
	Name string `json:"name"`
	// Created is when it was stored.
	Created time.Time `json:"created"`
	// Size is its length in bytes.
	Size int64 `json:"size"`
}
