package namespaces

import (
	"hash/fnv"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/sockside/sockside"
)

// Chat limits, enforced on every request.
const (
	MaxRoomName    = 64
	MaxMessageText = 4096
	MaxInputValue  = 4096
	// MaxRoomsPerSocket bounds the rooms one socket may be in.
	MaxRoomsPerSocket = 100
)

// chatRoomPrefix keeps chat rooms apart from the per-socket rooms (named
// after socket ids), so nobody can join another socket's private room.
const chatRoomPrefix = "chat:"

// RoomRequest is the payload of "join" and "leave".
type RoomRequest struct {
	Room string `json:"room"`
}

// RoomAck acknowledges "join" and "leave".
type RoomAck struct {
	OK      bool   `json:"ok" ts:"true"`
	Room    string `json:"room"`
	Members int    `json:"members"`
}

// Presence is broadcast to a room when someone joins or leaves it.
type Presence struct {
	Room    string `json:"room"`
	ID      string `json:"id"`
	User    string `json:"user"`
	Event   string `json:"event" ts:"'join' | 'leave'"`
	Members int    `json:"members"`
}

// MessageRequest is the payload of "message".
type MessageRequest struct {
	Room string `json:"room"`
	Text string `json:"text"`
}

// MessageAck acknowledges "message" with the id the server stamped on it.
type MessageAck struct {
	OK bool   `json:"ok" ts:"true"`
	ID string `json:"id"`
}

// Message is broadcast to everyone in the room, sender included.
type Message struct {
	ID   string `json:"id"`
	Room string `json:"room"`
	From string `json:"from"`
	Text string `json:"text"`
	TS   int64  `json:"ts"`
}

// InputChange is the payload of "input-change".
type InputChange struct {
	Room  string `json:"room"`
	Value string `json:"value"`
}

// InputUpdate is sent to the others in the room as "update-input".
type InputUpdate struct {
	Room  string `json:"room"`
	Value string `json:"value"`
	From  string `json:"from"`
}

// OKAck is a bare success ack.
type OKAck struct {
	OK bool `json:"ok" ts:"true"`
}

type chat struct {
	n        *sockside.Namespace
	presence sockside.Emitter[Presence]
	message  sockside.Emitter[Message]
	input    sockside.Emitter[InputUpdate]
	seq      atomic.Uint64
	node     string
	// order serialises stamping and broadcasting per room (striped by a hash
	// of the name): handlers of different senders run concurrently, and
	// without it two recipients could see two messages in different orders.
	order [64]sync.Mutex
}

// RegisterChat adds "/chat": rooms with presence, messages stamped by the
// server, and a shared live input box.
func RegisterChat(srv *sockside.Server) {
	n := srv.Namespace("/chat")
	n.SetRoomKey(roomKey)
	ch := &chat{
		n:        n,
		presence: sockside.Emits[Presence](n, "presence"),
		message:  sockside.Emits[Message](n, "message"),
		input:    sockside.Emits[InputUpdate](n, "update-input"),
		node:     strconv.FormatInt(time.Now().UnixNano(), 36),
	}
	sockside.Handle(n, "join", ch.join)
	sockside.Handle(n, "leave", ch.leave)
	sockside.Handle(n, "message", ch.send)
	sockside.Handle(n, "input-change", ch.inputChange)
	n.OnConnect(ch.recovered)
	n.OnDisconnect(ch.gone)
}

func roomKey(name string) string { return chatRoomPrefix + name }

func validRoom(room string) error {
	if n := utf8.RuneCountInString(room); n < 1 || n > MaxRoomName || !utf8.ValidString(room) {
		return sockside.BadRequest("room must be 1-%d characters", MaxRoomName)
	}
	return nil
}

// joined validates room and checks that c is in it.
func joined(s *sockside.Socket, room string) error {
	if err := validRoom(room); err != nil {
		return err
	}
	if !s.In(roomKey(room)) {
		return sockside.BadRequest("join room %q first", room)
	}
	return nil
}

func (ch *chat) join(s *sockside.Socket, req RoomRequest) (RoomAck, error) {
	if err := validRoom(req.Room); err != nil {
		return RoomAck{}, err
	}
	key := roomKey(req.Room)
	already := s.In(key)
	if !already && chatRooms(s) >= MaxRoomsPerSocket {
		return RoomAck{}, sockside.BadRequest("too many rooms (at most %d)", MaxRoomsPerSocket)
	}
	s.Join(key)
	members, err := ch.n.Members(key)
	if err != nil {
		return RoomAck{}, err
	}
	if !already {
		ch.announce(s, req.Room, "join", members)
	}
	return RoomAck{OK: true, Room: req.Room, Members: members}, nil
}

func (ch *chat) leave(s *sockside.Socket, req RoomRequest) (RoomAck, error) {
	if err := joined(s, req.Room); err != nil {
		return RoomAck{}, err
	}
	key := roomKey(req.Room)
	s.Leave(key)
	members, err := ch.n.Members(key)
	if err != nil {
		return RoomAck{}, err
	}
	ch.announce(s, req.Room, "leave", members)
	return RoomAck{OK: true, Room: req.Room, Members: members}, nil
}

func (ch *chat) send(s *sockside.Socket, req MessageRequest) (MessageAck, error) {
	if err := joined(s, req.Room); err != nil {
		return MessageAck{}, err
	}
	if n := utf8.RuneCountInString(req.Text); n < 1 || n > MaxMessageText || strings.TrimSpace(req.Text) == "" {
		return MessageAck{}, sockside.BadRequest("text must be 1-%d characters", MaxMessageText)
	}
	lock := &ch.order[fnv32(req.Room)%uint32(len(ch.order))]
	lock.Lock()
	defer lock.Unlock()
	m := Message{
		ID:   ch.node + "-" + sortableSeq(ch.seq.Add(1)),
		Room: req.Room,
		From: s.User().Display(),
		Text: req.Text,
		TS:   time.Now().UnixMilli(),
	}
	ch.message.ToRoom(roomKey(req.Room), m)
	return MessageAck{OK: true, ID: m.ID}, nil
}

func (ch *chat) inputChange(s *sockside.Socket, req InputChange) (OKAck, error) {
	if err := joined(s, req.Room); err != nil {
		return OKAck{}, err
	}
	if utf8.RuneCountInString(req.Value) > MaxInputValue {
		return OKAck{}, sockside.BadRequest("value must be at most %d characters", MaxInputValue)
	}
	ch.input.ToRoomExcept(s, roomKey(req.Room), InputUpdate{Room: req.Room, Value: req.Value, From: s.User().Display()})
	return OKAck{OK: true}, nil
}

// recovered re-announces a recovered socket in the rooms it got back: the
// others saw it leave when its transport dropped.
func (ch *chat) recovered(s *sockside.Socket) {
	if !s.Recovered() {
		return
	}
	for _, r := range s.Rooms() {
		if room, ok := strings.CutPrefix(r, chatRoomPrefix); ok {
			ch.announceCounted(s, room, "join")
		}
	}
}

func (ch *chat) gone(s *sockside.Socket, _ string, rooms []string) {
	for _, r := range rooms {
		if room, ok := strings.CutPrefix(r, chatRoomPrefix); ok {
			ch.announceCounted(s, room, "leave")
		}
	}
}

func (ch *chat) announceCounted(s *sockside.Socket, room, event string) {
	members, err := ch.n.Members(roomKey(room))
	if err != nil {
		s.Log().Error("counting room members", "room", room, "err", err)
		return
	}
	ch.announce(s, room, event, members)
}

func (ch *chat) announce(s *sockside.Socket, room, event string, members int) {
	ch.presence.ToRoom(roomKey(room), Presence{Room: room, ID: s.ID(), User: s.User().Display(), Event: event, Members: members})
}

// sortableSeq renders n in base 36, zero-padded, so that a node's message
// ids sort as their sequence numbers do (clients break ts ties by id).
func sortableSeq(n uint64) string {
	s := strconv.FormatUint(n, 36)
	return strings.Repeat("0", max(0, 13-len(s))) + s
}

func fnv32(s string) uint32 {
	h := fnv.New32a()
	_, _ = h.Write([]byte(s))
	return h.Sum32()
}

func chatRooms(s *sockside.Socket) int {
	n := 0
	for _, r := range s.Rooms() {
		if strings.HasPrefix(r, chatRoomPrefix) {
			n++
		}
	}
	return n
}
