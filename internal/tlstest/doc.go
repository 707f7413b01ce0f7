// Package tlstest makes certificate authorities and certificates at test
// time with crypto/x509, so that tests of TLS listeners and clients need no
// committed keys and no tools outside Go.
//
//	ca := tlstest.NewCA(t, "test CA")
//	certFile, keyFile := ca.WriteServer(t, dir, "127.0.0.1", "localhost")
//	clientCert, clientKey := ca.WriteClient(t, dir, "agent-a")
//	caFile := ca.WriteCA(t, dir)
//
// Keys are ECDSA P-256 (fast to make), certificates are valid from an hour
// ago for a day. Nothing here is fit for production use.
package tlstest
