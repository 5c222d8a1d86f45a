package srtpout

import (
	"bytes"
	"context"
	"crypto/tls"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/pion/dtls/v3"
	"github.com/pion/dtls/v3/pkg/crypto/selfsign"
	"github.com/pion/srtp/v3"
)

// dtlsPair runs a real DTLS handshake between two pion/dtls endpoints on
// 127.0.0.1, with server and client configs changed by the caller, and
// returns both connections.
func dtlsPair(t *testing.T, server, client *dtls.Config) (*dtls.Conn, *dtls.Conn) {
	t.Helper()
	cert, err := selfsign.GenerateSelfSigned()
	if err != nil {
		t.Fatal(err)
	}
	server.Certificates = []tls.Certificate{cert}
	client.Certificates = []tls.Certificate{cert}
	client.InsecureSkipVerify = true
	sa, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	ca, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := dtls.Server(sa, ca.LocalAddr(), server)
	if err != nil {
		t.Fatal(err)
	}
	cli, err := dtls.Client(ca, sa.LocalAddr(), client)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close(); _ = cli.Close(); _ = sa.Close(); _ = ca.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	errs := make(chan error, 1)
	go func() { errs <- cli.HandshakeContext(ctx) }()
	if err := srv.HandshakeContext(ctx); err != nil {
		t.Fatalf("server handshake: %v", err)
	}
	if err := <-errs; err != nil {
		t.Fatalf("client handshake: %v", err)
	}
	return srv, cli
}

// TestKeyCaptureMatchesExporter compares the keys captured through the
// hooks with the ones pion/dtls exports itself (what pion/webrtc's SRTP
// session uses), for every PRF hash, several SRTP profiles and both kinds
// of master secret.
func TestKeyCaptureMatchesExporter(t *testing.T) {
	for _, tc := range []struct {
		name    string
		suite   dtls.CipherSuiteID
		profile dtls.SRTPProtectionProfile
		ems     dtls.ExtendedMasterSecretType
	}{
		{"aes128gcm sha256, srtp aead128", dtls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, dtls.SRTP_AEAD_AES_128_GCM, dtls.RequireExtendedMasterSecret},
		{"aes256gcm sha384, srtp aead256", dtls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, dtls.SRTP_AEAD_AES_256_GCM, dtls.RequireExtendedMasterSecret},
		{"aes256gcm sha384, srtp cm80, no ems", dtls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, dtls.SRTP_AES128_CM_HMAC_SHA1_80, dtls.DisableExtendedMasterSecret},
		{"aes256cbc sha, srtp cm32", dtls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA, dtls.SRTP_AES128_CM_HMAC_SHA1_32, dtls.RequestExtendedMasterSecret},
		{"chacha20, srtp aead128", dtls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, dtls.SRTP_AEAD_AES_128_GCM, dtls.RequestExtendedMasterSecret},
		{"aes128ccm, srtp aead256", dtls.TLS_ECDHE_ECDSA_WITH_AES_128_CCM, dtls.SRTP_AEAD_AES_256_GCM, dtls.DisableExtendedMasterSecret},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var server, client KeyCapture
			srv, _ := dtlsPair(t,
				&dtls.Config{SRTPProtectionProfiles: []dtls.SRTPProtectionProfile{tc.profile},
					CipherSuites: []dtls.CipherSuiteID{tc.suite}, ExtendedMasterSecret: tc.ems,
					KeyLogWriter: &server, ServerHelloMessageHook: server.ServerHello},
				&dtls.Config{SRTPProtectionProfiles: []dtls.SRTPProtectionProfile{tc.profile},
					CipherSuites: []dtls.CipherSuiteID{tc.suite}, ExtendedMasterSecret: tc.ems,
					KeyLogWriter: &client})
			got := server.Keys()
			if got == nil {
				t.Fatalf("no keys captured: %v", server.Err())
			}
			profile := srtp.ProtectionProfile(tc.profile)
			if got.Profile != profile {
				t.Fatalf("profile %v, want %v", got.Profile, profile)
			}
			// RFC 5764 4.2: client key, server key, client salt, server salt.
			keyLen, _ := profile.KeyLen()
			saltLen, _ := profile.SaltLen()
			state, ok := srv.ConnectionState()
			if !ok {
				t.Fatal("no connection state")
			}
			want, err := state.ExportKeyingMaterial(exporterLabel, nil, 2*(keyLen+saltLen))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Key, want[keyLen:2*keyLen]) {
				t.Errorf("key %x, want %x", got.Key, want[keyLen:2*keyLen])
			}
			if !bytes.Equal(got.Salt, want[2*keyLen+saltLen:]) {
				t.Errorf("salt %x, want %x", got.Salt, want[2*keyLen+saltLen:])
			}
			remote := server.RemoteKeys()
			if remote == nil || remote.Profile != profile {
				t.Fatalf("remote keys %+v", remote)
			}
			if !bytes.Equal(remote.Key, want[:keyLen]) || !bytes.Equal(remote.Salt, want[2*keyLen:2*keyLen+saltLen]) {
				t.Errorf("remote key %x salt %x, want %x %x", remote.Key, remote.Salt, want[:keyLen], want[2*keyLen:2*keyLen+saltLen])
			}
			// The DTLS client side sees no ServerHello: no keys, and why.
			if client.Keys() != nil {
				t.Error("client side captured keys")
			}
			if err := client.Err(); err == nil || !strings.Contains(err.Error(), "not the DTLS server") {
				t.Errorf("client side error %v", err)
			}
		})
	}
}

// TestKeyCaptureKeyLog covers the key log lines pion never writes but a
// writer must survive: split writes, other labels, bad hex, junk.
func TestKeyCaptureKeyLog(t *testing.T) {
	random := strings.Repeat("ab", 32)
	master := strings.Repeat("cd", 48)
	hello := &serverHello{suite: dtls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, profile: dtls.SRTP_AEAD_AES_128_GCM}
	for _, tc := range []struct {
		name    string
		writes  []string
		hello   *serverHello
		keys    bool
		errPart string
	}{
		{"one line", []string{"CLIENT_RANDOM " + random + " " + master + "\n"}, hello, true, ""},
		{"split line", []string{"CLIENT_RANDOM " + random[:10], random[10:] + " " + master, "\n"}, hello, true, ""},
		{"unfinished line", []string{"CLIENT_RANDOM " + random + " " + master}, hello, false, ""},
		{"other label", []string{"CLIENT_HANDSHAKE_TRAFFIC_SECRET " + random + " " + master + "\n"}, hello, false, ""},
		{"short random", []string{"CLIENT_RANDOM abcd " + master + "\n"}, hello, false, "client random"},
		{"bad master", []string{"CLIENT_RANDOM " + random + " zz\n"}, hello, false, "master secret"},
		{"no server hello", []string{"CLIENT_RANDOM " + random + " " + master + "\n"}, nil, false, "not the DTLS server"},
		{"unknown suite", []string{"CLIENT_RANDOM " + random + " " + master + "\n"},
			&serverHello{suite: 0xffff, profile: dtls.SRTP_AEAD_AES_128_GCM}, false, "PRF hash unknown"},
		{"no srtp profile", []string{"CLIENT_RANDOM " + random + " " + master + "\n"},
			&serverHello{suite: dtls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}, false, "no SRTP profile"},
		{"mki", []string{"CLIENT_RANDOM " + random + " " + master + "\n"},
			&serverHello{suite: dtls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, profile: dtls.SRTP_AEAD_AES_128_GCM, mki: true},
			false, "master key identifiers"},
		{"unknown srtp profile", []string{"CLIENT_RANDOM " + random + " " + master + "\n"},
			&serverHello{suite: dtls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, profile: 0x7777}, false, "SRTP profile"},
		{"overlong junk", []string{strings.Repeat("x", 2*maxKeyLogLine), "\n"}, hello, false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var k KeyCapture
			k.hello = tc.hello
			for _, w := range tc.writes {
				if n, err := k.Write([]byte(w)); n != len(w) || err != nil {
					t.Fatalf("Write = %d, %v", n, err)
				}
			}
			if got := k.Keys() != nil; got != tc.keys {
				t.Fatalf("keys %v, want %v (err %v)", got, tc.keys, k.Err())
			}
			err := k.Err()
			if tc.errPart == "" {
				if tc.keys && err != nil {
					t.Fatalf("err %v with keys", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.errPart) {
				t.Fatalf("err %v, want one mentioning %q", err, tc.errPart)
			}
		})
	}
}

// FuzzKeyCaptureWrite feeds arbitrary key log bytes: no panic, and keys
// only from a well-formed line.
func FuzzKeyCaptureWrite(f *testing.F) {
	f.Add([]byte("CLIENT_RANDOM " + strings.Repeat("ab", 32) + " " + strings.Repeat("cd", 48) + "\n"))
	f.Add([]byte("CLIENT_RANDOM\n\n  \nCLIENT_RANDOM a b c\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		k := KeyCapture{hello: &serverHello{suite: dtls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
			profile: dtls.SRTP_AEAD_AES_128_GCM}}
		if n, err := k.Write(data); n != len(data) || err != nil {
			t.Fatalf("Write = %d, %v", n, err)
		}
		if keys := k.Keys(); keys != nil && (len(keys.Key) != 16 || len(keys.Salt) != 12) {
			t.Fatalf("keys of %d and %d bytes", len(keys.Key), len(keys.Salt))
		}
		if k.Keys() != nil && !bytes.Contains(data, []byte("CLIENT_RANDOM")) {
			t.Fatal("keys without a CLIENT_RANDOM line")
		}
	})
}
