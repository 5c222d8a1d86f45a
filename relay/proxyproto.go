package relay

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
)

// The PROXY protocol (HAProxy's, versions 1 and 2), which nginx's stream
// module sends with `proxy_protocol on`: a header before the proxied
// bytes that names the client's address. kiroku reads it on the TURN-TCP
// listener behind nginx (seed 000's 443 layout).

// proxyV2Signature starts every version 2 header.
var proxyV2Signature = []byte("\r\n\r\n\x00\r\nQUIT\n")

// maxProxyV1 is the longest version 1 line, CRLF included.
const maxProxyV1 = 107

// maxProxyV2 bounds the address block of a version 2 header (TLVs
// included) that kiroku reads; nginx sends 12 to 36 bytes.
const maxProxyV2 = 512

// errNoProxyHeader: the stream does not start with a PROXY header.
var errNoProxyHeader = errors.New("no PROXY protocol header")

// proxyHeader is what a header says of the client.
type proxyHeader struct {
	// source is the client's address; nil for PROXY UNKNOWN, a version 2
	// LOCAL command or an address family other than TCP over IPv4/IPv6:
	// the connection's own peer address is then the client's.
	source *net.TCPAddr
}

// readProxyHeader reads a PROXY header of either version from r. It
// returns errNoProxyHeader, having consumed nothing, when the stream does
// not start with one.
func readProxyHeader(r *bufio.Reader) (proxyHeader, error) {
	first, err := r.Peek(1)
	if err != nil {
		return proxyHeader{}, fmt.Errorf("read PROXY header: %w", err)
	}
	switch first[0] {
	case 'P':
		return readProxyV1(r)
	case '\r':
		return readProxyV2(r)
	}
	return proxyHeader{}, errNoProxyHeader
}

// readProxyV1 reads "PROXY TCP4|TCP6|UNKNOWN src dst sport dport\r\n".
func readProxyV1(r *bufio.Reader) (proxyHeader, error) {
	head, err := r.Peek(6)
	if err != nil || string(head) != "PROXY " {
		return proxyHeader{}, errNoProxyHeader
	}
	var line []byte
	for len(line) < maxProxyV1 {
		b, err := r.ReadByte()
		if err != nil {
			return proxyHeader{}, fmt.Errorf("read PROXY v1 header: %w", err)
		}
		line = append(line, b)
		if b == '\n' {
			break
		}
	}
	if !bytes.HasSuffix(line, []byte("\r\n")) {
		return proxyHeader{}, errors.New("PROXY v1 header: no CRLF within 107 bytes")
	}
	return parseProxyV1(string(line[:len(line)-2]))
}

// parseProxyV1 parses a version 1 line without its CRLF.
func parseProxyV1(line string) (proxyHeader, error) {
	f := strings.Split(line, " ")
	if len(f) >= 2 && f[0] == "PROXY" && f[1] == "UNKNOWN" {
		return proxyHeader{}, nil // whatever follows is to be ignored
	}
	if len(f) != 6 || f[0] != "PROXY" || (f[1] != "TCP4" && f[1] != "TCP6") {
		return proxyHeader{}, fmt.Errorf("PROXY v1 header %q: want PROXY TCP4|TCP6 src dst sport dport", line)
	}
	// Only the source matters. The destination is not checked: nginx
	// names its own end there, which after a hop over a unix socket (the
	// TURN-TLS route of seed 000) is no IP address.
	ip := net.ParseIP(f[2])
	if ip == nil || (ip.To4() != nil) != (f[1] == "TCP4") {
		return proxyHeader{}, fmt.Errorf("PROXY v1 header %q: bad source address", line)
	}
	port, err := strconv.ParseUint(f[4], 10, 16)
	if err != nil || (len(f[4]) > 1 && f[4][0] == '0') {
		return proxyHeader{}, fmt.Errorf("PROXY v1 header %q: bad source port", line)
	}
	return proxyHeader{source: &net.TCPAddr{IP: ip, Port: int(port)}}, nil
}

// readProxyV2 reads a binary version 2 header.
func readProxyV2(r *bufio.Reader) (proxyHeader, error) {
	sig, err := r.Peek(len(proxyV2Signature))
	if err != nil || !bytes.Equal(sig, proxyV2Signature) {
		return proxyHeader{}, errNoProxyHeader
	}
	var fixed [16]byte
	if _, err := io.ReadFull(r, fixed[:]); err != nil {
		return proxyHeader{}, fmt.Errorf("read PROXY v2 header: %w", err)
	}
	n := int(binary.BigEndian.Uint16(fixed[14:16]))
	if n > maxProxyV2 {
		return proxyHeader{}, fmt.Errorf("PROXY v2 header: %d bytes of addresses, at most %d", n, maxProxyV2)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		return proxyHeader{}, fmt.Errorf("read PROXY v2 addresses: %w", err)
	}
	return parseProxyV2(fixed[12], fixed[13], body)
}

// parseProxyV2 reads the command, family and address block of a version 2
// header.
func parseProxyV2(verCmd, family byte, body []byte) (proxyHeader, error) {
	if verCmd>>4 != 2 {
		return proxyHeader{}, fmt.Errorf("PROXY v2 header: version %d", verCmd>>4)
	}
	switch verCmd & 0x0f {
	case 0: // LOCAL: the proxy's own connection (a health check)
		return proxyHeader{}, nil
	case 1: // PROXY
	default:
		return proxyHeader{}, fmt.Errorf("PROXY v2 header: command %d", verCmd&0x0f)
	}
	switch family {
	case 0x11: // TCP over IPv4
		if len(body) < 12 {
			return proxyHeader{}, errors.New("PROXY v2 header: short IPv4 addresses")
		}
		return proxyHeader{source: &net.TCPAddr{IP: net.IP(append([]byte(nil), body[0:4]...)),
			Port: int(binary.BigEndian.Uint16(body[8:10]))}}, nil
	case 0x21: // TCP over IPv6
		if len(body) < 36 {
			return proxyHeader{}, errors.New("PROXY v2 header: short IPv6 addresses")
		}
		return proxyHeader{source: &net.TCPAddr{IP: net.IP(append([]byte(nil), body[0:16]...)),
			Port: int(binary.BigEndian.Uint16(body[32:34]))}}, nil
	}
	return proxyHeader{}, nil // UNSPEC, UDP or unix: the peer address stands
}
