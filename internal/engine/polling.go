package engine

import (
	"net/http"
	"strconv"
	"sync"
	"time"
)

// upgradeRaceGrace is how long a GET that arrives during an upgrade waits
// for the upgrade packet the client may have sent just before it.
const upgradeRaceGrace = 100 * time.Millisecond

// payloadBuffers are the buffers polling answers are encoded into.
var payloadBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// poll answers a long-polling GET: at once with what is queued, else once
// something is (a ping at the latest, every PingInterval). A second GET
// while one is open is a protocol error that ends the session; a client
// that goes away while its GET is parked has closed it.
func (s *Session) poll(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	upgrading := false
	if o := s.probe; o != nil && o.answered {
		// A GET after the probe was answered: the official clients pause
		// polling then, so this one may have raced the upgrade packet sent
		// before it on the websocket. It gets a moment for that to land
		// (then 400, the session has moved). If the probe is still on, the
		// client was already polling when it got the probe's answer, and
		// waits for this GET to end before it sends the upgrade packet: a
		// noop ends it now (Node's server sends one every 100 ms while
		// upgrading), where parking it would hold the upgrade until a ping.
		s.mu.Unlock()
		grace := time.NewTimer(upgradeRaceGrace)
		select {
		case <-o.settled:
		case <-grace.C:
		case <-r.Context().Done():
			grace.Stop()
			return
		}
		grace.Stop()
		s.mu.Lock()
		upgrading = s.probe == o
	}
	switch {
	case s.transport != polling:
		s.mu.Unlock()
		s.srv.refuse(w, errBadRequest)
		return
	case s.getting:
		s.mu.Unlock()
		s.srv.refuse(w, errBadRequest)
		s.closeWith(ReasonTransportError, closePacket)
		return
	}
	s.getting = true
	if upgrading && len(s.queue) == 0 {
		s.enqueue(noopPacket)
	}
	if len(s.queue) == 0 && !s.closed {
		wake := make(chan struct{}, 1)
		s.wakeGet = wake
		s.mu.Unlock()
		select {
		case <-wake:
		case <-r.Context().Done():
			s.mu.Lock()
			s.wakeGet, s.getting = nil, false
			s.mu.Unlock()
			s.closeWith(ReasonTransportClose, nil)
			return
		}
		s.mu.Lock()
		s.wakeGet = nil
	}
	packets := s.take()
	closed := s.closed
	if len(packets) == 0 && closed {
		packets = []*Packet{closePacket} // closed between the request and now
	}
	s.getting = false
	s.mu.Unlock()
	if closed {
		s.srv.unregister(s) // the farewell is on its way
	}

	buf := payloadBuffers.Get().(*[]byte)
	body := appendPayload((*buf)[:0], packets)
	w.Header().Set("Content-Type", "text/plain; charset=UTF-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	_, _ = w.Write(body)
	*buf = body[:0]
	payloadBuffers.Put(buf)
}

// post reads a long-polling POST: a payload of packets from the client. A
// payload that does not decode ends the session (400, parse error); one
// larger than MaxPayload too (413, transport error); so does a second POST
// while one is being read.
func (s *Session) post(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	switch {
	case s.transport != polling:
		s.mu.Unlock()
		s.srv.refuse(w, errBadRequest)
		return
	case s.closed:
		s.mu.Unlock()
		s.srv.refuse(w, errUnknownSid)
		return
	case s.posting:
		s.mu.Unlock()
		s.srv.refuse(w, errBadRequest)
		s.closeWith(ReasonTransportError, closePacket)
		return
	}
	s.posting = true
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.posting = false
		s.mu.Unlock()
	}()

	body, ok, err := readBody(r, s.srv.cfg.MaxPayload)
	switch {
	case err != nil:
		s.closeWith(ReasonTransportError, closePacket)
		return
	case !ok:
		w.WriteHeader(http.StatusRequestEntityTooLarge)
		s.closeWith(ReasonTransportError, closePacket)
		return
	}
	packets, err := decodePayload(body)
	if err != nil {
		s.srv.refuse(w, errBadRequest)
		s.closeWith(ReasonParseError, closePacket)
		return
	}
	for _, p := range packets {
		s.receive(p)
	}
	w.Header().Set("Content-Type", "text/html")
	w.Header().Set("Content-Length", "2")
	_, _ = w.Write([]byte("ok"))
}
