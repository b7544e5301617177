package engine

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/lesismal/nbio"
	"github.com/lesismal/nbio/logging"
	"github.com/lesismal/nbio/nbhttp"
	"github.com/lesismal/nbio/nbhttp/websocket"
)

// startPoller starts the netpoller the websockets are handed to after their
// HTTP upgrade (the listener stays net/http's: long-polling, the upgrade
// request and every other endpoint are served as before). The poller has no
// listener of its own.
func (s *Server) startPoller() error {
	setNBIOLog.Do(func() { logging.SetLogger(nbioLog{}) })
	s.poller = nbhttp.NewEngine(nbhttp.Config{
		Name:                    "sockside",
		IOMod:                   nbhttp.IOModNonBlocking,
		ReleaseWebsocketPayload: true,
		MaxWriteBufferSize:      int(s.cfg.SendBuffer), // the kernel's side of the send bound; 0: none
	})
	if err := s.poller.Start(); err != nil {
		return fmt.Errorf("engine: start the netpoller: %w", err)
	}
	u := websocket.NewUpgrader()
	u.Engine = s.poller
	u.KeepaliveTime = 0 // heartbeats are the protocol's, from the timer heap
	u.MessageLengthLimit = int(s.cfg.MaxPayload)
	u.CheckOrigin = func(*http.Request) bool { return true } // the origin policy runs before (AllowRequest, the HTTP middleware)
	u.OnMessage(s.onWebSocketMessage)
	u.OnClose(s.onWebSocketClose)
	s.upgrader = u
	return nil
}

// nbioLog sends the poller's own log lines (a process-wide setting of
// nbio's) to the process's slog default: its start and stop lines at debug,
// its errors as warnings.
type nbioLog struct{}

func (nbioLog) Debug(format string, v ...any) { nbioLogger().Debug(fmt.Sprintf(format, v...)) }
func (nbioLog) Info(format string, v ...any)  { nbioLogger().Debug(fmt.Sprintf(format, v...)) }
func (nbioLog) Warn(format string, v ...any)  { nbioLogger().Warn(fmt.Sprintf(format, v...)) }
func (nbioLog) Error(format string, v ...any) { nbioLogger().Warn(fmt.Sprintf(format, v...)) }

func nbioLogger() *slog.Logger { return slog.Default().With("component", "nbio") }

var setNBIOLog sync.Once

// attachWebSocket makes wsc the session's transport, with first (the open
// packet of a websocket handshake) ahead of anything else.
func (s *Session) attachWebSocket(wsc *websocket.Conn, first *Packet) {
	wsc.SetSession(s)
	s.mu.Lock()
	s.transport = websocketTransport
	s.ws = wsc
	s.queue = append([]*Packet{first}, s.queue...)
	s.queued += first.size()
	if !s.marked {
		s.marked = true
		s.srv.flusher.add(s)
	}
	s.mu.Unlock()
}

// upgrade takes a websocket for a polling session: the probe ("2probe" ->
// "3probe", the parked GET released with a noop), then the client's
// upgrade packet switches the session over. Anything else, a second
// websocket, or no upgrade packet within UpgradeTimeout closes the probe and
// leaves the session on polling.
func (s *Server) upgrade(w http.ResponseWriter, r *http.Request, sess *Session) {
	sess.mu.Lock()
	busy := sess.closed || sess.transport != polling || sess.upgrader != nil
	sess.mu.Unlock()
	if busy {
		writeError(w, errBadRequest)
		return
	}
	wsc, err := s.upgrader.UpgradeAndTransferConnToPoller(w, r, nil)
	if err != nil {
		s.log.Debug("websocket upgrade failed", "sid", sess.id, "err", err)
		return
	}
	sess.mu.Lock()
	if sess.closed || sess.transport != polling || sess.upgrader != nil {
		sess.mu.Unlock()
		_ = wsc.Close()
		return
	}
	sess.upgrader = wsc
	sess.mu.Unlock()
	wsc.SetSession(&probe{sess: sess})
	time.AfterFunc(s.cfg.UpgradeTimeout, func() {
		sess.mu.Lock()
		expired := sess.upgrader == wsc
		if expired {
			sess.upgrader = nil
		}
		sess.mu.Unlock()
		if expired {
			_ = wsc.Close()
		}
	})
}

// probe marks a websocket that has not completed its upgrade yet.
type probe struct{ sess *Session }

func (s *Server) onWebSocketMessage(wsc *websocket.Conn, mt websocket.MessageType, data []byte) {
	switch owner := wsc.Session().(type) {
	case *Session:
		p, err := decodeFrame(mt, data)
		if err != nil {
			owner.closeWith(ReasonParseError, nil)
			return
		}
		owner.receive(p)
	case *probe:
		owner.sess.onProbe(wsc, mt, data)
	}
}

// decodeFrame decodes a websocket message: binary frames are binary
// messages; text frames are packets. The data is copied out of nbio's
// buffer, which is reused once the callback returns.
func decodeFrame(mt websocket.MessageType, data []byte) (received, error) {
	if mt == websocket.BinaryMessage {
		return received{kind: typeMessage, binary: true, data: append([]byte(nil), data...)}, nil
	}
	p, err := decodeText(data)
	if err != nil {
		return p, err
	}
	p.data = append([]byte(nil), p.data...)
	return p, nil
}

// onProbe handles the packets of a websocket still probing: "2probe" is
// answered "3probe" and the parked GET released; "5" completes the upgrade.
func (s *Session) onProbe(wsc *websocket.Conn, mt websocket.MessageType, data []byte) {
	p, err := decodeFrame(mt, data)
	switch {
	case err == nil && p.kind == typePing && string(p.data) == "probe":
		s.mu.Lock()
		ok := s.upgrader == wsc && !s.closed
		if ok {
			s.enqueue(noopPacket) // ends the client's polling cycle
		}
		s.mu.Unlock()
		if ok {
			_, _ = wsc.Conn.Write(probeAnswer)
		}
	case err == nil && p.kind == typeUpgrade:
		s.mu.Lock()
		if s.upgrader != wsc || s.closed {
			s.mu.Unlock()
			_ = wsc.Close()
			return
		}
		s.upgrader = nil
		s.transport = websocketTransport
		s.ws = wsc
		// What was queued for polling (a noop the GET did not take) goes
		// on the websocket; noops mean nothing there.
		q := s.take()
		for _, p := range q {
			if p.kind != typeNoop {
				s.enqueue(p)
			}
		}
		s.mu.Unlock()
		wsc.SetSession(s)
		if u, ok := s.srv.handler.(UpgradeHandler); ok {
			s.dispatch(func() { u.Upgrade(s) })
		}
	default:
		s.mu.Lock()
		if s.upgrader == wsc {
			s.upgrader = nil
		}
		s.mu.Unlock()
		_ = wsc.Close()
	}
}

// probeAnswer is "3probe" as a text frame.
var probeAnswer = append(appendFrameHeader(nil, opText, 6), "3probe"...)

func (s *Server) onWebSocketClose(wsc *websocket.Conn, err error) {
	sess, ok := wsc.Session().(*Session)
	if !ok {
		return // a probe that did not complete: the session goes on polling
	}
	sess.mu.Lock()
	current := sess.ws == wsc
	sess.mu.Unlock()
	if !current {
		return
	}
	reason := ReasonTransportClose // the client closed it, or the connection dropped
	for _, breach := range protocolBreaches {
		if errors.Is(err, breach) {
			reason = ReasonTransportError
		}
	}
	sess.closeWith(reason, nil)
}

// protocolBreaches are the reasons nbio closes a websocket for that are the
// client's fault (an oversize message, a bad frame): a transport error.
var protocolBreaches = []error{
	websocket.ErrMessageTooLarge, websocket.ErrInvalidUtf8, websocket.ErrReserveBitSet,
	websocket.ErrReservedMessageType, websocket.ErrControlMessageFragmented, websocket.ErrControlMessageTooBig,
	websocket.ErrInvalidControlFrame, websocket.ErrFragmentsShouldNotHaveBinaryOrTextMessage,
	websocket.ErrInvalidFragmentMessage, websocket.ErrInvalidCompression, websocket.ErrInvalidCloseCode,
}

// flusher writes websocket sessions' queued frames: every frame queued for a
// connection in one writev, however many were queued since the last one.
// That batching is what carries a broadcast's fan-out.
type flusher struct {
	mu      sync.Mutex
	pending []*Session
	wake    chan struct{}
	done    chan struct{}
}

func newFlusher() *flusher {
	f := &flusher{wake: make(chan struct{}, 1), done: make(chan struct{})}
	go f.run()
	return f
}

// add puts s in the next round. The caller holds s.mu and has set s.marked
// (or is closing s), so s is listed at most once per round.
func (f *flusher) add(s *Session) {
	f.mu.Lock()
	f.pending = append(f.pending, s)
	f.mu.Unlock()
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

func (f *flusher) run() {
	var round []*Session
	var frames [][]byte
	for {
		select {
		case <-f.done:
			return
		case <-f.wake:
		}
		f.mu.Lock()
		round, f.pending = f.pending, round[:0]
		f.mu.Unlock()
		for i, s := range round {
			frames = s.flush(frames[:0])
			round[i] = nil
		}
		clear(frames)
	}
}

func (f *flusher) stop() { close(f.done) }

// flush writes what s has queued; a closed session's websocket is closed
// after it. frames is scratch space, returned for reuse.
func (s *Session) flush(frames [][]byte) [][]byte {
	s.mu.Lock()
	s.marked = false
	ws, closed := s.ws, s.closed
	for _, p := range s.take() {
		frames = append(frames, p.wsFrame())
	}
	if closed {
		s.ws = nil
	}
	s.mu.Unlock()
	if ws == nil {
		return frames
	}
	if len(frames) > 0 {
		if nbc, ok := ws.Conn.(*nbio.Conn); ok {
			_, err := nbc.Writev(frames)
			if err != nil && !closed {
				s.closeWith(ReasonTransportError, nil)
			}
		} else {
			for _, fr := range frames {
				if _, err := ws.Conn.Write(fr); err != nil {
					break
				}
			}
		}
	}
	if closed {
		_ = ws.Close()
	}
	return frames
}
