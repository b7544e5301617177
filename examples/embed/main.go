// Command embed is an application of its own that imports sockside as a
// library: one namespace, /notes, whose "note:add" event is acked and
// pushed to everyone as "note:added". The repository's tests build it and
// drive it with the official socket.io-client (e2e/tests/embed.test.mjs).
package main

import (
	"context"
	"log"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"
	"unicode/utf8"

	"github.com/sockside/sockside"
	"github.com/sockside/sockside/config"
)

// NoteRequest is what a client sends with "note:add".
type NoteRequest struct {
	Text string `json:"text"`
}

// NoteAck answers "note:add".
type NoteAck struct {
	OK bool  `json:"ok"`
	ID int64 `json:"id"`
}

// Note is pushed to everyone as "note:added".
type Note struct {
	ID   int64  `json:"id"`
	Text string `json:"text"`
	From string `json:"from"`
}

// maxNote bounds a note's length.
const maxNote = 500

func main() {
	cfg, err := config.FromEnvironment(".env") // SOCKET_* variables, see docs/configuration.md
	if err != nil {
		log.Fatal(err)
	}
	srv, err := sockside.New(cfg)
	if err != nil {
		log.Fatal(err)
	}
	notes := srv.Namespace("/notes")
	added := sockside.Emits[Note](notes, "note:added")
	var lastID atomic.Int64
	sockside.Handle(notes, "note:add", func(s *sockside.Socket, req NoteRequest) (NoteAck, error) {
		if strings.TrimSpace(req.Text) == "" || utf8.RuneCountInString(req.Text) > maxNote {
			return NoteAck{}, sockside.BadRequest("text must be 1-%d characters", maxNote)
		}
		n := Note{ID: lastID.Add(1), Text: req.Text, From: s.User().Display()}
		added.ToAll(n)
		return NoteAck{OK: true, ID: n.ID}, nil
	})

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := srv.Run(ctx); err != nil { // listens on SOCKET_HOST:SOCKET_PORT, drains on SIGTERM
		log.Fatal(err)
	}
}
