package cluster

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/vmihailenco/msgpack/v5"
	"github.com/zishang520/socket.io/adapters/adapter/v3"
	"github.com/zishang520/socket.io/parsers/socket/v3/parser"
	"github.com/zishang520/socket.io/servers/socket/v3"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

// This file holds the cluster wire format as Node's socket.io-adapter
// (ClusterAdapter) and @socket.io/redis-streams-adapter write and read it.
// The library's own encoding differs in ways Node cannot read:
//
//   - options: Go omits empty "rooms"/"except" (omitempty); Node's session
//     restore calls opts.except.indexOf and fails on a missing array, so a
//     Node node cannot recover a client from a stream Go wrote;
//   - flags: Go writes every flag, false ones included; Node treats any
//     present "volatile" as volatile and then adds no recovery offset, so
//     Node's clients get broadcasts from Go nodes without offsets;
//   - values: Go msgpack-encodes application structs by Go field name (only
//     json tags are declared), Node expects the JSON field names;
//   - serverSideEmit replies: a Node listener acknowledges with one value
//     and Node's requester collects one value per node; Go sent its
//     listener's whole ack argument list (Node saw [["pong"]] for
//     ["pong"]) and decoded a reply only when it was a list, so a Node
//     node's reply was dropped and Go's request timed out. A Go listener's
//     first ack argument is its reply on the wire, and each received reply
//     reaches Go code as a one-element list (the listener's ack arguments,
//     as the library delivers them between Go nodes).
//
// nodeMessage rewrites a message's data into plain maps and slices with
// Node's shapes before the library encodes it (JSON or msgpack alike).

// nodeMessage returns m with its data in Node's shape; m is not modified.
func nodeMessage(m *adapter.ClusterMessage) *adapter.ClusterMessage {
	out := *m
	switch d := m.Data.(type) {
	case *adapter.BroadcastMessage:
		v := map[string]any{"packet": nodePacket(d.Packet), "opts": nodeOptions(d.Opts)}
		if d.RequestId != nil {
			v["requestId"] = *d.RequestId
		}
		out.Data = v
	case *adapter.SocketsJoinLeaveMessage:
		out.Data = map[string]any{"opts": nodeOptions(d.Opts), "rooms": rooms(d.Rooms)}
	case *adapter.DisconnectSocketsMessage:
		out.Data = map[string]any{"opts": nodeOptions(d.Opts), "close": d.Close}
	case *adapter.FetchSocketsMessage:
		out.Data = map[string]any{"opts": nodeOptions(d.Opts), "requestId": d.RequestId}
	case *adapter.ServerSideEmitMessage:
		v := map[string]any{"packet": plain(d.Packet)}
		if d.RequestId != nil {
			v["requestId"] = *d.RequestId
		}
		out.Data = v
	case *adapter.FetchSocketsResponse:
		sockets := make([]any, 0, len(d.Sockets))
		for _, s := range d.Sockets {
			sockets = append(sockets, map[string]any{
				"id":        string(s.Id),
				"handshake": plain(s.Handshake),
				"rooms":     rooms(s.Rooms),
				"data":      plain(s.Data),
			})
		}
		out.Data = map[string]any{"requestId": d.RequestId, "sockets": sockets}
	case *adapter.ServerSideEmitResponse:
		out.Data = map[string]any{"requestId": d.RequestId, "packet": ackValue(d.Packet)}
	case *adapter.BroadcastAck:
		out.Data = map[string]any{"requestId": d.RequestId, "packet": plain(d.Packet)}
	case *adapter.BroadcastClientCount:
		out.Data = map[string]any{"requestId": d.RequestId, "clientCount": d.ClientCount}
	}
	return &out
}

// ackValue is the reply a Go listener's ack arguments make on the wire:
// the first one (nil for none), as a Node listener acknowledges.
func ackValue(args []any) any {
	if len(args) == 0 {
		return nil
	}
	return plain(args[0])
}

func nodePacket(p *parser.Packet) map[string]any {
	if p == nil {
		return nil
	}
	v := map[string]any{"type": int(p.Type), "nsp": p.Nsp, "data": plain(p.Data)}
	if p.Id != nil {
		v["id"] = *p.Id
	}
	return v
}

// nodeOptions always carries both room arrays and only the flags that are
// set (Node tests flags for presence, not truth).
func nodeOptions(o *adapter.PacketOptions) map[string]any {
	v := map[string]any{"rooms": []any{}, "except": []any{}, "flags": map[string]any{}}
	if o == nil {
		return v
	}
	v["rooms"] = rooms(o.Rooms)
	v["except"] = rooms(o.Except)
	flags := map[string]any{}
	if f := o.Flags; f != nil {
		set := func(name string, on bool) {
			if on {
				flags[name] = true
			}
		}
		set("volatile", f.Volatile)
		set("local", f.Local)
		set("broadcast", f.Broadcast)
		set("binary", f.Binary)
		set("expectSingleResponse", f.ExpectSingleResponse)
		if f.Compress != nil {
			flags["compress"] = *f.Compress
		}
		if f.Timeout != nil {
			flags["timeout"] = f.Timeout.Milliseconds()
		}
	}
	v["flags"] = flags
	return v
}

func rooms(rs []socket.Room) []any {
	out := make([]any, len(rs))
	for i, r := range rs {
		out[i] = string(r)
	}
	return out
}

// plain turns a value into JSON-like data (nil, bool, numbers, strings,
// []any, map[string]any) with binary kept as []byte, so that msgpack writes
// what JSON would (field names from json tags) and binary stays binary.
func plain(v any) any {
	switch x := v.(type) {
	case nil, bool, string, []byte,
		int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, float32, float64:
		return x
	case types.BufferInterface:
		return x.Bytes()
	case io.Reader:
		b, err := io.ReadAll(x)
		if err != nil {
			return nil
		}
		return b
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = plain(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = plain(e)
		}
		return out
	default:
		b, err := json.Marshal(x)
		if err != nil {
			return nil
		}
		var out any
		if json.Unmarshal(b, &out) != nil {
			return nil
		}
		return out
	}
}

// wireMessage is a pub/sub cluster message as Node and Go write it, with its
// data left encoded until the type is known.
type wireMessage struct {
	Uid  adapter.ServerId    `msgpack:"uid"`
	Nsp  string              `msgpack:"nsp"`
	Type adapter.MessageType `msgpack:"type"`
	Data msgpack.RawMessage  `msgpack:"data"`
}

// wireSocket is one socket of a FETCH_SOCKETS_RESPONSE; the handshake is
// decoded leniently (Node's differs in details) so that one odd field does
// not lose the whole response.
type wireSocket struct {
	Id        socket.SocketId    `msgpack:"id"`
	Handshake msgpack.RawMessage `msgpack:"handshake"`
	Rooms     []socket.Room      `msgpack:"rooms"`
	Data      any                `msgpack:"data"`
}

// wireEmitResponse is a SERVER_SIDE_EMIT_RESPONSE: one value, whatever its
// type (see ackValue).
type wireEmitResponse struct {
	RequestId string `msgpack:"requestId"`
	Packet    any    `msgpack:"packet"`
}

type wireFetchResponse struct {
	RequestId string       `msgpack:"requestId"`
	Sockets   []wireSocket `msgpack:"sockets"`
}

// decodePubSub decodes a msgpack cluster message into the library's typed
// message. The library's own receive loop decodes the data into a generic
// map, which its dispatcher then rejects ("invalid data for ... message"),
// so every request and response sent over pub/sub was dropped.
func decodePubSub(payload []byte) (*adapter.ClusterMessage, error) {
	var w wireMessage
	if err := msgpack.Unmarshal(payload, &w); err != nil {
		return nil, fmt.Errorf("not a cluster message: %w", err)
	}
	m := &adapter.ClusterMessage{Uid: w.Uid, Nsp: w.Nsp, Type: w.Type}
	if len(w.Data) == 0 {
		return m, nil
	}
	var target any
	switch w.Type {
	case adapter.INITIAL_HEARTBEAT, adapter.HEARTBEAT, adapter.ADAPTER_CLOSE:
		return m, nil
	case adapter.BROADCAST:
		target = &adapter.BroadcastMessage{}
	case adapter.SOCKETS_JOIN, adapter.SOCKETS_LEAVE:
		target = &adapter.SocketsJoinLeaveMessage{}
	case adapter.DISCONNECT_SOCKETS:
		target = &adapter.DisconnectSocketsMessage{}
	case adapter.FETCH_SOCKETS:
		target = &adapter.FetchSocketsMessage{}
	case adapter.SERVER_SIDE_EMIT:
		target = &adapter.ServerSideEmitMessage{}
	case adapter.SERVER_SIDE_EMIT_RESPONSE:
		var r wireEmitResponse
		if err := msgpack.Unmarshal(w.Data, &r); err != nil {
			return nil, fmt.Errorf("serverSideEmit response: %w", err)
		}
		m.Data = &adapter.ServerSideEmitResponse{RequestId: r.RequestId, Packet: []any{r.Packet}}
		return m, nil
	case adapter.BROADCAST_CLIENT_COUNT:
		target = &adapter.BroadcastClientCount{}
	case adapter.BROADCAST_ACK:
		target = &adapter.BroadcastAck{}
	case adapter.FETCH_SOCKETS_RESPONSE:
		var r wireFetchResponse
		if err := msgpack.Unmarshal(w.Data, &r); err != nil {
			return nil, fmt.Errorf("fetchSockets response: %w", err)
		}
		resp := &adapter.FetchSocketsResponse{RequestId: r.RequestId}
		for _, s := range r.Sockets {
			var hs *socket.Handshake
			if len(s.Handshake) > 0 {
				hs = &socket.Handshake{}
				if msgpack.Unmarshal(s.Handshake, hs) != nil {
					hs = &socket.Handshake{}
				}
			}
			resp.Sockets = append(resp.Sockets, &adapter.SocketResponse{Id: s.Id, Handshake: hs, Rooms: s.Rooms, Data: s.Data})
		}
		m.Data = resp
		return m, nil
	default:
		return nil, fmt.Errorf("unknown message type %d", w.Type)
	}
	if err := msgpack.Unmarshal(w.Data, target); err != nil {
		return nil, fmt.Errorf("message type %d: %w", w.Type, err)
	}
	m.Data = target
	return m, nil
}

// isEphemeral reports whether a message travels over pub/sub rather than the
// stream (as in both the library and Node): requests that expect replies.
func isEphemeral(m *adapter.ClusterMessage) bool {
	if d, ok := m.Data.(*adapter.BroadcastMessage); ok && m.Type == adapter.BROADCAST {
		return d.RequestId != nil
	}
	return m.Type == adapter.SERVER_SIDE_EMIT || m.Type == adapter.FETCH_SOCKETS
}
