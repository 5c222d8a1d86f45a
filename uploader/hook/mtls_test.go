package hook

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/kiroku-sfu/kiroku/uploader/scan"
)

// clientCert writes a self-signed client certificate and key as PEM files.
func clientCert(t *testing.T, dir string) (certPath, keyPath string, cert *x509.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "uploader"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, KeyUsage: x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certPath, keyPath = filepath.Join(dir, "fullchain.pem"), filepath.Join(dir, "privkey.pem")
	if err := os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, err = x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return certPath, keyPath, cert
}

func TestMutualTLS(t *testing.T) {
	dir := t.TempDir()
	certPath, keyPath, cert := clientCert(t, dir)
	rec := &receiver{}
	srv := httptest.NewUnstartedServer(rec)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	srv.TLS = &tls.Config{ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pool}
	srv.StartTLS()
	defer srv.Close()
	caPath := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}

	withCert := sender(t, srv.URL, func(c *Config) { c.CACertPath, c.FullchainPath, c.PrivkeyPath = caPath, certPath, keyPath })
	if err := withCert.Send(context.Background(), Event{Kind: scan.Report}); err != nil {
		t.Fatalf("with a client certificate: %v", err)
	}
	without := sender(t, srv.URL, func(c *Config) { c.CACertPath, c.MaxAttempts = caPath, 1 })
	if err := without.Send(context.Background(), Event{Kind: scan.Report}); err == nil {
		t.Fatal("accepted without a client certificate")
	}
	if n := len(rec.snapshot()); n != 1 {
		t.Errorf("%d calls, want 1", n)
	}
	bad := DefaultConfig()
	bad.FullchainPath, bad.PrivkeyPath = certPath, caPath // not a key
	if _, err := New(bad, fixedNow); err == nil {
		t.Error("New accepted a certificate without its key")
	}
}
