package loadgen

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// disconnectWait is how long Close waits for the server to close the
// WebSocket after "disconnect", as the SDK's disconnectWaitTimeout.
const disconnectWait = 3 * time.Second

// readLoop handles server messages until the WebSocket ends: re-offers
// are answered, pings ponged, the own connection.created noted.
func (c *Client) readLoop() {
	defer c.wg.Done()
	defer close(c.readerEnd)
	for {
		m, err := c.readMessage()
		if errors.Is(err, errMalformed) {
			c.log.Warn("ignoring server message", "err", err)
			continue
		}
		if err != nil {
			c.readErr = err
			return
		}
		if err := c.handle(m); err != nil {
			c.readErr = err
			_ = c.ws.Close()
			return
		}
	}
}

func (c *Client) handle(m serverMessage) error {
	switch m.Type {
	case "re-offer":
		c.mu.Lock()
		closing := c.closed
		c.mu.Unlock()
		if closing {
			// Disconnect was said: the server is tearing the connection
			// down, and a re-answer now would reach a closed one.
			return nil
		}
		return c.answer("re-answer", m.SDP)
	case "ping":
		return c.write(typeOnly{Type: "pong"})
	case "notify":
		if m.EventType == "connection.created" && m.ConnectionID == c.id {
			select {
			case <-c.created:
			default:
				close(c.created)
			}
		}
	}
	return nil // push, offer repeats and unknown types are ignored, as the SDK does
}

// awaitConnected waits for the PeerConnection to connect and the own
// connection.created notify.
func (c *Client) awaitConnected(ctx context.Context) error {
	connected := make(chan struct{})
	var once sync.Once
	markConnected := func(s webrtc.PeerConnectionState) {
		if s == webrtc.PeerConnectionStateConnected {
			once.Do(func() { close(connected) })
		}
	}
	c.pc.OnConnectionStateChange(markConnected)
	markConnected(c.pc.ConnectionState()) // it may have connected already
	for _, ch := range []chan struct{}{connected, c.created} {
		select {
		case <-ch:
		case <-c.readerEnd:
			return fmt.Errorf("loadgen: signaling ended before connected: %w", c.readErr)
		case <-ctx.Done():
			return fmt.Errorf("loadgen: waiting for connection: %w", ctx.Err())
		}
	}
	return nil
}

// onTrack reads one forwarded track until the PeerConnection closes.
func (c *Client) onTrack(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.wg.Add(1)
	c.mu.Unlock()
	defer c.wg.Done()
	buf := make([]byte, 1500)
	var p rtp.Packet
	for {
		n, _, err := tr.Read(buf)
		if err != nil {
			return
		}
		if c.cfg.OnPacket == nil || p.Unmarshal(buf[:n]) != nil {
			continue
		}
		read := c.cfg.Now()
		socket, _ := c.arrived.lookup(p.SSRC, p.SequenceNumber)
		c.cfg.OnPacket(&p, read, socket)
	}
}

// startRTCPDrain reads the publisher's incoming RTCP so the interceptors
// (NACK responder, reports) see it.
func (c *Client) startRTCPDrain() {
	for _, s := range c.pc.GetSenders() {
		if c.layers != nil && s.Track() == c.track {
			for layer := range simulcastLayers {
				c.wg.Go(func() { c.layers.readRTCP(s, layer) })
			}
			continue
		}
		c.wg.Go(func() { c.drainRTCP(s, s.Track() == c.track) })
	}
}

// drainRTCP reads a sender's RTCP until it stops; for the video track
// (video) it notes keyframe requests.
func (c *Client) drainRTCP(s *webrtc.RTPSender, video bool) {
	for {
		pkts, _, err := s.ReadRTCP()
		if err != nil {
			return
		}
		if !video {
			continue
		}
		for _, p := range pkts {
			switch p.(type) {
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				c.wantKey.Store(true)
			}
		}
	}
}

// Close says disconnect, waits briefly for the server to close the
// WebSocket, closes the PeerConnection and waits for every goroutine.
func (c *Client) Close() error {
	c.closeOnce.Do(func() { c.closeErr = c.close() })
	return c.closeErr
}

func (c *Client) close() error {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	var errs []error
	if c.ws != nil {
		_ = c.write(typeOnly{Type: "disconnect", Reason: "NO-ERROR"})
		_ = c.ws.SetReadDeadline(time.Now().Add(disconnectWait))
	}
	if err := c.deleteResource(); err != nil {
		errs = append(errs, err)
	}
	if err := c.pc.Close(); err != nil {
		errs = append(errs, fmt.Errorf("loadgen: close peer connection: %w", err))
	}
	c.wg.Wait() // the reader ends at the server's close frame or the deadline
	if c.ws != nil {
		_ = c.ws.Close()
		var ce *websocket.CloseError
		if c.readErr != nil && errors.As(c.readErr, &ce) && ce.Code != websocket.CloseNormalClosure {
			errs = append(errs, fmt.Errorf("loadgen: server closed with %d %s", ce.Code, ce.Text))
		}
	}
	return errors.Join(errs...)
}
