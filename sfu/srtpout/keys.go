package srtpout

import (
	"bytes"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"sync"
	"sync/atomic"

	"github.com/pion/dtls/v3"
	"github.com/pion/dtls/v3/pkg/crypto/prf"
	"github.com/pion/dtls/v3/pkg/protocol/extension"
	"github.com/pion/dtls/v3/pkg/protocol/handshake"
	"github.com/pion/srtp/v3"
	"github.com/pion/webrtc/v4"
)

// Keys is what this side of a DTLS-SRTP association encrypts its RTP
// with: the protection profile the handshake chose and this side's
// master key and salt (RFC 5764, section 4.2).
type Keys struct {
	Profile srtp.ProtectionProfile
	Key     []byte
	Salt    []byte
}

// exporterLabel is the RFC 5705 exporter label DTLS-SRTP uses (RFC 5764,
// section 4.2).
const exporterLabel = "EXTRACTOR-dtls_srtp"

// maxKeyLogLine bounds a key log line kept while waiting for its end; a
// real one ("CLIENT_RANDOM", 64 and 96 hex digits) is under 200 bytes.
const maxKeyLogLine = 512

// KeyCapture learns the SRTP keys of one DTLS server while pion runs its
// handshake, through two documented pion/dtls hooks: the ServerHello this
// side sends (its random, the cipher suite and the SRTP profile it chose)
// and the key log (the client's random and the master secret). From those
// it computes the same RFC 5705 export pion's DTLS transport computes for
// its own SRTP session. Nothing leaves the process: the key log goes to
// this value only.
//
// When this side is the DTLS client no ServerHello is seen, and Keys stays
// nil: the connection then keeps pion's own write path. Its methods are
// safe for concurrent use.
type KeyCapture struct {
	mu      sync.Mutex
	partial []byte       // an unfinished key log line
	hello   *serverHello // from the last ServerHello sent
	err     error        // why the last handshake gave no keys

	keys   atomic.Pointer[Keys]
	remote atomic.Pointer[Keys] // the DTLS client's: what it encrypts with
}

// serverHello is what the keys need from a ServerHello.
type serverHello struct {
	random  [handshake.RandomLength]byte
	suite   dtls.CipherSuiteID
	profile dtls.SRTPProtectionProfile // 0: no use_srtp extension
	mki     bool                       // a master key identifier was agreed
}

// Install points the DTLS hooks of se, a setting engine used by exactly
// one PeerConnection, at k.
func (k *KeyCapture) Install(se *webrtc.SettingEngine) {
	se.SetDTLSKeyLogWriter(k)
	se.SetDTLSServerHelloMessageHook(k.ServerHello)
}

// Keys returns this side's SRTP keys, or nil while the handshake has not
// produced them (or never will: see Err).
func (k *KeyCapture) Keys() *Keys { return k.keys.Load() }

// RemoteKeys returns the keys the remote side (the DTLS client)
// encrypts its RTP and RTCP with, which this side decrypts with, or nil
// as Keys does.
func (k *KeyCapture) RemoteKeys() *Keys { return k.remote.Load() }

// Err says why the handshake seen last gave no keys, or nil.
func (k *KeyCapture) Err() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.err == nil && k.keys.Load() == nil && k.hello == nil {
		return errors.New("no ServerHello sent: this side is not the DTLS server")
	}
	return k.err
}

// ServerHello is the DTLS ServerHello hook: it notes what the keys need
// and returns the message unchanged.
func (k *KeyCapture) ServerHello(msg handshake.MessageServerHello) handshake.Message {
	h := &serverHello{random: msg.Random.MarshalFixed()}
	if msg.CipherSuiteID != nil {
		h.suite = dtls.CipherSuiteID(*msg.CipherSuiteID)
	}
	for _, e := range msg.Extensions {
		if u, ok := e.(*extension.UseSRTP); ok && len(u.ProtectionProfiles) == 1 {
			h.profile = u.ProtectionProfiles[0]
			h.mki = len(u.MasterKeyIdentifier) > 0
		}
	}
	k.mu.Lock()
	k.hello = h
	k.mu.Unlock()
	return &msg
}

// Write takes key log output (NSS key log format, one line per
// handshake) and derives the keys once a line names a master secret.
func (k *KeyCapture) Write(p []byte) (int, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.partial = append(k.partial, p...)
	for {
		line, rest, found := bytes.Cut(k.partial, []byte{'\n'})
		if !found {
			break
		}
		k.keyLogLine(line)
		k.partial = rest
	}
	if len(k.partial) > maxKeyLogLine {
		k.partial = nil
	}
	if len(k.partial) == 0 {
		k.partial = nil // do not keep the master secret's bytes around
	}
	return len(p), nil
}

// keyLogLine handles one key log line; k.mu is held.
func (k *KeyCapture) keyLogLine(line []byte) {
	clientRandom, master, err := parseKeyLogLine(line)
	if err != nil {
		k.err = err
		return
	}
	if clientRandom == nil {
		return // another label: nothing the keys need
	}
	if k.hello == nil {
		k.err = errors.New("master secret without a ServerHello: this side is not the DTLS server")
		return
	}
	keys, remote, err := deriveKeys(master, clientRandom, k.hello)
	if err != nil {
		k.err = err
		return
	}
	k.err = nil
	k.remote.Store(remote)
	k.keys.Store(keys)
}

// parseKeyLogLine reads "CLIENT_RANDOM <client random> <master secret>",
// both in hex. Lines with another label give nil, nil, nil.
func parseKeyLogLine(line []byte) (clientRandom, master []byte, err error) {
	fields := bytes.Fields(line)
	if len(fields) != 3 || string(fields[0]) != "CLIENT_RANDOM" {
		return nil, nil, nil
	}
	clientRandom, err = hex.DecodeString(string(fields[1]))
	if err != nil || len(clientRandom) != handshake.RandomLength {
		return nil, nil, fmt.Errorf("key log: client random %q is not %d bytes of hex", fields[1], handshake.RandomLength)
	}
	master, err = hex.DecodeString(string(fields[2]))
	if err != nil || len(master) == 0 {
		return nil, nil, errors.New("key log: master secret is not hex")
	}
	return clientRandom, master, nil
}

// deriveKeys is RFC 5705's exporter with DTLS-SRTP's label and no
// context, cut as RFC 5764 section 4.2 lays it out: client key, server
// key, client salt, server salt. This side is the server: local gets the
// server's half, remote the client's.
func deriveKeys(master, clientRandom []byte, h *serverHello) (local, remote *Keys, err error) {
	prfHash := suitePRFHash(h.suite)
	if prfHash == nil {
		return nil, nil, fmt.Errorf("cipher suite %s: PRF hash unknown", dtls.CipherSuiteName(h.suite))
	}
	if h.profile == 0 {
		return nil, nil, errors.New("ServerHello carries no SRTP profile")
	}
	if h.mki {
		return nil, nil, errors.New("SRTP master key identifiers are not supported")
	}
	profile := srtp.ProtectionProfile(h.profile)
	keyLen, err := profile.KeyLen()
	if err != nil {
		return nil, nil, fmt.Errorf("SRTP profile %#04x: %w", uint16(h.profile), err)
	}
	saltLen, err := profile.SaltLen()
	if err != nil {
		return nil, nil, fmt.Errorf("SRTP profile %#04x: %w", uint16(h.profile), err)
	}
	seed := make([]byte, 0, len(exporterLabel)+2*handshake.RandomLength)
	seed = append(append(append(seed, exporterLabel...), clientRandom...), h.random[:]...)
	material, err := prf.PHash(master, seed, 2*(keyLen+saltLen), prfHash)
	if err != nil {
		return nil, nil, fmt.Errorf("export SRTP keys: %w", err)
	}
	local = &Keys{Profile: profile, Key: material[keyLen : 2*keyLen], Salt: material[2*keyLen+saltLen:]}
	remote = &Keys{Profile: profile, Key: material[:keyLen], Salt: material[2*keyLen : 2*keyLen+saltLen]}
	return local, remote, nil
}

// suitePRFHash is the hash of the TLS 1.2 PRF each cipher suite pion/dtls
// implements uses: SHA-384 for the AES-256-GCM suites, SHA-256 for the
// rest. Unknown suites give nil.
func suitePRFHash(id dtls.CipherSuiteID) func() hash.Hash {
	switch id {
	case dtls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, dtls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384:
		return sha512.New384
	case dtls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, dtls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
		dtls.TLS_ECDHE_ECDSA_WITH_AES_128_CCM, dtls.TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8,
		dtls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA, dtls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA,
		dtls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, dtls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256:
		return sha256.New
	}
	return nil
}
