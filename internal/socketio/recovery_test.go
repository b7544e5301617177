package socketio

import (
	"encoding/json"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func recoveryConfig(c *Config) {
	c.Recovery = Recovery{MaxDisconnection: time.Minute, SkipAdmit: true}
}

// connectPayload is a CONNECT answer's {"sid","pid"}.
func connectPayload(t *testing.T, msg, prefix string) (sid, pid string) {
	t.Helper()
	var p struct{ SID, PID string }
	if err := json.Unmarshal([]byte(strings.TrimPrefix(msg, prefix)), &p); err != nil || p.SID == "" {
		t.Fatalf("CONNECT answer %q: %v", msg, err)
	}
	return p.SID, p.PID
}

func TestRecoveryRestoresIdRoomsDataAndMissedBroadcasts(t *testing.T) {
	ts := startServer(t, recoveryConfig)
	ev := newEvents()
	ns := ts.srv.Of("/chat")
	var admits atomic.Int32
	var recovered atomic.Pointer[Socket]
	h := echoHooks(ev)
	h.Admit = func(s *Socket) error { admits.Add(1); return nil }
	h.Connected = func(s *Socket) {
		if s.Recovered() {
			recovered.Store(s)
			ev.add("recovered " + s.ID())
			return
		}
		s.SetData(map[string]any{"user": "ada"})
		ev.add("connect " + s.ID())
	}
	ns.SetHooks(h)

	ws := dialRaw(t, ts.url)
	ws.send("40/chat,")
	sid, pid := connectPayload(t, ws.expect("40/chat,{"), "40/chat,")
	if pid == "" {
		t.Fatal("no pid in the CONNECT answer with recovery on")
	}
	ev.await(t, "connect "+sid)
	ws.send(`42/chat,1["join","lobby"]`)
	ws.expect("43/chat,1[]")
	if err := ns.Emit(Broadcast{Rooms: []string{"lobby"}}, "news", "a"); err != nil {
		t.Fatal(err)
	}
	// A recoverable broadcast carries its offset last.
	first := ws.expect(`42/chat,["news","a",`)
	var args []any
	_ = json.Unmarshal([]byte(strings.TrimPrefix(first, "42/chat,")), &args)
	offset, _ := args[len(args)-1].(string)
	if offset == "" {
		t.Fatalf("no offset in %q", first)
	}
	_ = ws.c.Close()
	ev.await(t, "disconnect /chat transport close lobby")

	// What it misses: b (to the lobby) yes; c (another room), d (everyone
	// but the lobby) and a volatile one no.
	for _, b := range []struct {
		to    Broadcast
		event string
	}{
		{Broadcast{Rooms: []string{"lobby"}}, "b"},
		{Broadcast{Rooms: []string{"elsewhere"}}, "c"},
		{Broadcast{Except: []string{"lobby"}}, "d"},
		{Broadcast{Volatile: true}, "v"},
		{Broadcast{Rooms: []string{sid}}, "e"}, // its own id's room
	} {
		if err := ns.Emit(b.to, "news", b.event); err != nil {
			t.Fatal(err)
		}
	}

	ws2 := dialRaw(t, ts.url)
	ws2.send(`40/chat,{"pid":"` + pid + `","offset":"` + offset + `"}`)
	sid2, pid2 := connectPayload(t, ws2.expect("40/chat,{"), "40/chat,")
	if sid2 != sid || pid2 != pid {
		t.Fatalf("recovered as %s/%s, was %s/%s", sid2, pid2, sid, pid)
	}
	ws2.expect(`42/chat,["news","b",`)
	ws2.expect(`42/chat,["news","e",`)
	ev.await(t, "recovered "+sid)
	s := recovered.Load()
	if s == nil {
		t.Fatal("Connected saw no recovered socket")
	}
	if admits.Load() != 1 {
		t.Errorf("Admit ran %d times; a recovered socket skips it", admits.Load())
	}
	if got := s.Rooms(); len(got) != 1 || got[0] != "lobby" {
		t.Errorf("rooms %v", got)
	}
	if d, _ := s.Data().(map[string]any); d["user"] != "ada" {
		t.Errorf("data %v", s.Data())
	}
	// It is in the lobby again, and the session was used up.
	if err := ns.Emit(Broadcast{Rooms: []string{"lobby"}}, "news", "f"); err != nil {
		t.Fatal(err)
	}
	ws2.expect(`42/chat,["news","f",`)
	ws3 := dialRaw(t, ts.url)
	ws3.send(`40/chat,{"pid":"` + pid + `","offset":"` + offset + `"}`)
	if sid3, _ := connectPayload(t, ws3.expect("40/chat,{"), "40/chat,"); sid3 == sid {
		t.Error("a session was recovered twice")
	}
}

func TestRecoveryNotAfterALeaveOrWhenOff(t *testing.T) {
	ts := startServer(t, recoveryConfig)
	ev := newEvents()
	ts.srv.Of("/").SetHooks(echoHooks(ev))
	ws := dialRaw(t, ts.url)
	ws.send("40")
	sid, pid := connectPayload(t, ws.expect("40{"), "40")
	ev.await(t, "connect /")
	if err := ts.srv.Of("/").Emit(Broadcast{}, "x"); err != nil {
		t.Fatal(err)
	}
	ws.expect(`42["x","`)
	ws.send("41") // the client left: nothing to recover
	ev.await(t, "disconnect / client namespace disconnect ")
	ws.send(`40{"pid":"` + pid + `","offset":"1"}`)
	if again, _ := connectPayload(t, ws.expect("40{"), "40"); again == sid {
		t.Error("recovered after the client's own disconnect")
	}

	off := startServer(t, nil)
	off.srv.Of("/").SetHooks(echoHooks(newEvents()))
	w := dialRaw(t, off.url)
	w.send("40")
	if _, pid := connectPayload(t, w.expect("40{"), "40"); pid != "" {
		t.Errorf("pid %q with recovery off", pid)
	}
	if err := off.srv.Of("/").Emit(Broadcast{}, "x"); err != nil {
		t.Fatal(err)
	}
	w.expect(`42["x"]`) // no offset
}

func TestMemStoreBounds(t *testing.T) {
	now := time.Unix(1000, 0)
	m := newMemStore(Recovery{MaxDisconnection: time.Minute, MaxPackets: 3})
	m.now = func() time.Time { return now }
	var sent []string
	send := func(e Encoded) { sent = append(sent, string(e.Text)) }
	enc, _ := EncodeEvent("/", []any{"n", 1})
	for range 2 {
		m.deliver(enc, Broadcast{}, send)
	}
	if sent[0] != `2["n",1,"1"]` || sent[1] != `2["n",1,"2"]` {
		t.Fatalf("sent %q", sent)
	}
	persist := func(pid string) {
		if err := m.Persist(Session{SID: "s" + pid, PID: pid, Rooms: []string{"s" + pid}}); err != nil {
			t.Fatal(err)
		}
	}
	persist("a")
	persist("b")
	persist("c")
	// Offset 2 of a: one missed packet (3).
	m.deliver(enc, Broadcast{}, send)
	if s, err := m.Restore("a", "2"); err != nil || len(s.Missed) != 1 || string(s.Missed[0].Text) != `2["n",1,"3"]` {
		t.Fatalf("restore a: %+v %v", s, err)
	}
	// Unknown offsets, garbage, and one from the future are refused.
	for _, off := range []string{"zzzz", "", "!"} {
		if _, err := m.Restore("b", off); !errors.Is(err, ErrNoSession) {
			t.Errorf("offset %q: %v", off, err)
		}
	}
	// A session is used up by an attempt that reaches it ("zzzz" did).
	persist("b")
	// Two more packets: 5 in all, the first two dropped (at most 3 kept).
	m.deliver(enc, Broadcast{}, send)
	m.deliver(enc, Broadcast{}, send)
	if _, err := m.Restore("b", "1"); !errors.Is(err, ErrNoSession) {
		t.Errorf("offset 1, whose follower was dropped: %v", err)
	}
	// 2 was dropped but all after it are here: recoverable.
	if s, err := m.Restore("c", "2"); err != nil || len(s.Missed) != 3 {
		t.Errorf("offset 2: %+v %v", s, err)
	}
	// Sessions expire with the window.
	persist("d")
	now = now.Add(time.Minute + time.Second)
	if _, err := m.Restore("d", "5"); !errors.Is(err, ErrNoSession) {
		t.Errorf("expired session: %v", err)
	}
	if len(m.sessions) != 0 || len(m.byAge) != 0 {
		t.Errorf("expired sessions kept: %v %v", m.sessions, m.byAge)
	}
	// Packets older than the window go too, on the next delivery.
	m.deliver(enc, Broadcast{}, send)
	if len(m.packets) != 1 {
		t.Errorf("%d packets kept past the window", len(m.packets))
	}
}

func TestBroadcastIncluded(t *testing.T) {
	for _, c := range []struct {
		b     Broadcast
		rooms []string
		want  bool
	}{
		{Broadcast{}, []string{"s1"}, true},
		{Broadcast{Rooms: []string{"a"}}, []string{"s1", "a"}, true},
		{Broadcast{Rooms: []string{"a"}}, []string{"s1", "b"}, false},
		{Broadcast{Except: []string{"a"}}, []string{"s1", "a"}, false},
		{Broadcast{Rooms: []string{"b"}, Except: []string{"a"}}, []string{"a", "b"}, false},
		{Broadcast{Rooms: []string{"s1"}}, []string{"s1"}, true},
	} {
		if got := c.b.Included(c.rooms); got != c.want {
			t.Errorf("%+v in %v: %v", c.b, c.rooms, got)
		}
	}
}
