package api

// LoginRequest is the body of POST /v1/login: credentials for a registry,
// checked with it and kept where the daemon's pulls find them.
type LoginRequest struct {
	// Server is the registry: host[:port] or a URL; "" is Docker Hub.
	Server string `json:"server,omitempty"`
	// Username and Password are the credentials.
	Username string `json:"username"`
	// Password is the user's password or an access token.
	Password string `json:"password"`
}
