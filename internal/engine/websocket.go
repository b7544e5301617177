package engine

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/lesismal/nbio"
	"github.com/lesismal/nbio/logging"
	"github.com/lesismal/nbio/nbhttp"
	"github.com/lesismal/nbio/nbhttp/websocket"
)

// startPoller makes sure the netpoller the websockets are handed to after
// their HTTP upgrade runs (the listener stays net/http's: long-polling, the
// upgrade request and every other endpoint are served as before).
func (s *Server) startPoller() error {
	setNBIOLog.Do(func() { logging.SetLogger(nbioLog{}) })
	poller, err := sharedPoller(int(s.cfg.SendBuffer))
	s.poller = poller
	return err
}

// wsOwner is what a websocket belongs to, bound before the connection goes
// live so that no frame arrives without it: a session, which the websocket
// serves or (probing) is being probed for.
type wsOwner struct {
	sess    *Session
	probing atomic.Bool
	conn    atomic.Pointer[websocket.Conn] // once upgraded

	// A probe's outcome, for a polling GET that races the upgrade.
	answered    bool          // "3probe" sent (under sess.mu)
	settled     chan struct{} // closed once the probe has ended either way
	settledOnce sync.Once
}

func newProbe(sess *Session) *wsOwner {
	o := &wsOwner{sess: sess, settled: make(chan struct{})}
	o.probing.Store(true)
	return o
}

// settle marks the probe as ended (upgraded or given up).
func (o *wsOwner) settle() {
	if o.settled != nil {
		o.settledOnce.Do(func() { close(o.settled) })
	}
}

// upgradeFor upgrades the request to a websocket owned by o.
func (s *Server) upgradeFor(w http.ResponseWriter, r *http.Request, o *wsOwner) (*websocket.Conn, error) {
	u := websocket.NewUpgrader()
	u.Engine = s.poller
	u.KeepaliveTime = 0 // heartbeats are the protocol's, from the timer heap
	u.MessageLengthLimit = int(s.cfg.MaxPayload)
	u.CheckOrigin = func(*http.Request) bool { return true } // the origin policy runs before (AllowRequest, the HTTP middleware)
	u.OnMessage(func(c *websocket.Conn, mt websocket.MessageType, data []byte) { o.message(c, mt, data) })
	u.OnClose(func(c *websocket.Conn, err error) { o.closed(c, err) })
	wsc, err := u.UpgradeAndTransferConnToPoller(w, r, nil)
	if err == nil {
		o.conn.Store(wsc)
	}
	return wsc, err
}

// The netpollers, one per send bound, shared by every Server of the process
// and never stopped: like the Go runtime's own netpoller, a process
// resource. (Stopping one that has just started can hang in nbio v1.6.8: its
// event loop resets the stop flag when it begins.) Servers close their own
// connections.
var (
	pollersMu sync.Mutex
	pollers   = map[int]*nbhttp.Engine{}
)

// handlerWorkers run the connections' frames off the poller (nbio keeps each
// connection's frames in order): goroutines that stay for the next frame
// while there is work (up to maxWorkers of them, each gone after
// workerIdle without any), and a goroutine of its own for a frame beyond
// that, so that a slow handler (a hook's HTTP call, a Redis round trip)
// never holds up another connection. nbio's own pool starts a fresh
// goroutine per frame, whose stack then grows to what the decoder and the
// handler need: a third of the echo's CPU went to copying stacks.
var handlerWorkers = &workers{jobs: make(chan func()), max: maxWorkers}

const (
	maxWorkers = 256
	workerIdle = 2 * time.Second
)

type workers struct {
	jobs chan func()
	n    atomic.Int32 // workers running
	max  int32
}

// run hands f to an idle worker, else starts one, else a plain goroutine.
func (w *workers) run(f func()) {
	select {
	case w.jobs <- f:
		return
	default:
	}
	if w.n.Add(1) <= w.max {
		go w.work(f)
		return
	}
	w.n.Add(-1)
	go f()
}

func (w *workers) work(f func()) {
	defer w.n.Add(-1)
	f()
	idle := time.NewTimer(workerIdle)
	defer idle.Stop()
	for {
		select {
		case f = <-w.jobs:
			f()
			idle.Reset(workerIdle)
		case <-idle.C:
			return
		}
	}
}

func sharedPoller(sendBuffer int) (*nbhttp.Engine, error) {
	pollersMu.Lock()
	defer pollersMu.Unlock()
	if p, ok := pollers[sendBuffer]; ok {
		return p, nil
	}
	p := nbhttp.NewEngine(nbhttp.Config{
		Name:                    "sockside",
		IOMod:                   nbhttp.IOModNonBlocking,
		ReleaseWebsocketPayload: true,
		MaxWriteBufferSize:      sendBuffer, // the kernel's side of the send bound; 0: none
		ServerExecutor:          handlerWorkers.run,
	})
	if err := p.Start(); err != nil {
		return nil, fmt.Errorf("engine: start the netpoller: %w", err)
	}
	pollers[sendBuffer] = p
	return p, nil
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
	o := newProbe(sess)
	sess.mu.Lock()
	busy := sess.closed || sess.transport != polling || sess.probe != nil
	if !busy {
		sess.probe = o
	}
	sess.mu.Unlock()
	if busy {
		// Upgraded already, or probing with another: this websocket is
		// accepted and closed, as the reference server does.
		if wsc, err := s.upgradeFor(w, r, o); err == nil {
			closeWS(wsc)
		}
		return
	}
	wsc, err := s.upgradeFor(w, r, o)
	if err != nil {
		s.log.Debug("websocket upgrade failed", "sid", sess.id, "err", err)
		sess.endProbe(o)
		return
	}
	time.AfterFunc(s.cfg.UpgradeTimeout, func() {
		if sess.endProbe(o) {
			closeWS(wsc)
		}
	})
}

// endProbe drops o as the session's probe; it reports whether o still was.
func (s *Session) endProbe(o *wsOwner) bool {
	s.mu.Lock()
	current := s.probe == o
	if current {
		s.probe = nil
	}
	s.mu.Unlock()
	if current {
		o.settle()
	}
	return current
}

// message is a frame from o's websocket.
func (o *wsOwner) message(wsc *websocket.Conn, mt websocket.MessageType, data []byte) {
	p, err := decodeFrame(mt, data)
	if o.probing.Load() {
		o.sess.onProbe(o, wsc, p, err)
		return
	}
	if err != nil {
		o.sess.closeWith(ReasonParseError, nil)
		return
	}
	o.sess.receive(p)
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
func (s *Session) onProbe(o *wsOwner, wsc *websocket.Conn, p received, err error) {
	switch {
	case err == nil && p.kind == typePing && string(p.data) == "probe":
		s.mu.Lock()
		ok := s.probe == o && !s.closed
		if ok {
			o.answered = true
			s.enqueue(noopPacket) // ends the client's polling cycle
		}
		s.mu.Unlock()
		if ok {
			_, _ = wsc.Conn.Write(probeAnswer)
		}
	case err == nil && p.kind == typeUpgrade:
		s.mu.Lock()
		if s.probe != o || s.closed {
			s.mu.Unlock()
			closeWS(wsc)
			return
		}
		s.probe = nil
		o.probing.Store(false)
		s.transport = websocketTransport
		s.ws = wsc
		// What was queued for polling (a noop the GET did not take) goes
		// on the websocket; noops mean nothing there.
		for _, p := range s.take() {
			if p.kind != typeNoop {
				s.enqueue(p)
			}
		}
		s.mu.Unlock()
		o.settle()
		if u, ok := s.srv.handler.(UpgradeHandler); ok {
			s.dispatch(func() { u.Upgrade(s) })
		}
	default:
		s.endProbe(o)
		closeWS(wsc)
	}
}

// writeFailed ends the session after a failed websocket write: a slow
// consumer when what nbio holds for the kernel has reached the send bound
// (its MaxWriteBufferSize), else a connection gone.
func (s *Session) writeFailed(err error) {
	if !s.closeWith(ReasonTransportError, nil) || !errors.Is(err, nbio.ErrOverflow) {
		return
	}
	if f := s.srv.cfg.Counters.SlowConsumer; f != nil {
		f(s.id, s.srv.cfg.SendBuffer)
	}
}

// closeWS closes a websocket, from any goroutine. A connection on the
// poller is shut down rather than closed, and its poller closes it on its
// own goroutine when it sees the hang-up: nbio finds connections by file
// descriptor, and a close from another goroutine frees the descriptor while
// the poller may still hold an event of the old connection from its last
// wait, which it then applies to a new connection given the same number (a
// hang-up event closed new websockets right after their handshake, about
// one test server in 200). Holding the connection's lock, the descriptor
// cannot be closed under the shutdown: nbio marks it closed under that lock
// first.
func closeWS(wsc *websocket.Conn) {
	nbc, ok := wsc.Conn.(*nbio.Conn)
	if !ok {
		_ = wsc.Close()
		return
	}
	nbc.Lock()
	if closed, _ := nbc.IsClosed(); !closed {
		_ = syscall.Shutdown(nbc.Hash(), syscall.SHUT_RDWR)
	}
	nbc.Unlock()
}

// probeAnswer is "3probe" as a text frame.
var probeAnswer = append(appendFrameHeader(nil, opText, 6), "3probe"...)

// closed is o's websocket closing.
func (o *wsOwner) closed(wsc *websocket.Conn, err error) {
	sess := o.sess
	if o.probing.Load() {
		sess.endProbe(o) // a probe that did not complete: the session goes on polling
		return
	}
	sess.mu.Lock()
	current := sess.ws == wsc || sess.ws == nil && sess.transport == websocketTransport
	sess.mu.Unlock()
	if !current {
		return
	}
	if errors.Is(err, nbio.ErrOverflow) {
		sess.writeFailed(err) // nbio gave up on a slow consumer
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
	s.flushing = ws != nil && len(frames) > 0
	s.mu.Unlock()
	if ws == nil {
		return frames
	}
	if len(frames) > 0 {
		var err error
		if nbc, ok := ws.Conn.(*nbio.Conn); ok {
			_, err = nbc.Writev(frames)
		} else {
			for _, fr := range frames {
				if _, err = ws.Conn.Write(fr); err != nil {
					break
				}
			}
		}
		s.mu.Lock()
		s.flushing = false
		s.mu.Unlock()
		if err != nil && !closed {
			s.writeFailed(err)
		}
	}
	if closed {
		closeWS(ws)
	}
	return frames
}
