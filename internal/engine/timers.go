package engine

import (
	"container/heap"
	"sync"
	"time"
)

// timers runs every session's heartbeat (and upgrade deadline) from one
// goroutine and one time.Timer: a heap of deadlines, earliest first. An idle
// session costs a heap slot, not a goroutine or a runtime timer.
//
// Lock order: a session's mu may be held while calling schedule or cancel
// (timers.mu is taken inside it); fire is called with no lock held.
type timers struct {
	mu    sync.Mutex
	heap  deadlineHeap
	timer *time.Timer
	wake  time.Time // when timer fires; zero when stopped
	fire  func(*Session, time.Time)
}

func newTimers(fire func(*Session, time.Time)) *timers {
	t := &timers{fire: fire}
	t.timer = time.AfterFunc(time.Hour, t.run)
	t.timer.Stop()
	return t
}

// schedule sets (or moves) s's deadline to at.
func (t *timers) schedule(s *Session, at time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	s.due = at
	if s.heapIndex >= 0 {
		heap.Fix(&t.heap, s.heapIndex)
	} else {
		heap.Push(&t.heap, s)
	}
	t.rearm()
}

// cancel removes s's deadline, if any.
func (t *timers) cancel(s *Session) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if s.heapIndex >= 0 {
		heap.Remove(&t.heap, s.heapIndex)
		t.rearm()
	}
}

// rearm points the timer at the earliest deadline. Called with t.mu held.
func (t *timers) rearm() {
	if len(t.heap) == 0 {
		t.timer.Stop()
		t.wake = time.Time{}
		return
	}
	next := t.heap[0].due
	if !t.wake.IsZero() && !next.Before(t.wake) {
		return // it fires soon enough; run reschedules the rest
	}
	t.wake = next
	t.timer.Reset(time.Until(next))
}

// run fires every deadline that has passed, then rearms for the next one.
func (t *timers) run() {
	now := time.Now()
	type fired struct {
		s   *Session
		due time.Time
	}
	var due []fired
	t.mu.Lock()
	for len(t.heap) > 0 && !t.heap[0].due.After(now) {
		s := heap.Pop(&t.heap).(*Session)
		due = append(due, fired{s, s.due})
	}
	t.wake = time.Time{}
	t.rearm()
	t.mu.Unlock()
	// Each gets the time it was due, not when the timer ran: the next
	// deadline counts from there, so a late timer does not push the
	// heartbeat back.
	for _, f := range due {
		t.fire(f.s, f.due)
	}
}

func (t *timers) stop() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.timer.Stop()
	t.heap = nil
}

// deadlineHeap orders sessions by due; Session.heapIndex is its position (-1: not in it).
type deadlineHeap []*Session

func (h deadlineHeap) Len() int           { return len(h) }
func (h deadlineHeap) Less(i, j int) bool { return h[i].due.Before(h[j].due) }
func (h deadlineHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].heapIndex, h[j].heapIndex = i, j
}
func (h *deadlineHeap) Push(x any) {
	s := x.(*Session)
	s.heapIndex = len(*h)
	*h = append(*h, s)
}
func (h *deadlineHeap) Pop() any {
	old := *h
	s := old[len(old)-1]
	old[len(old)-1] = nil
	s.heapIndex = -1
	*h = old[:len(old)-1]
	return s
}
