// Package store keeps verified FPS notifications: Memory for tests and a
// single process, SQL for a database shared by several app servers. Both
// implement fps.NotificationStore and keep one record per
// fps.Notification.Key, so a notification delivered twice is stored once.
package store

import (
	"context"
	"errors"
	"net/url"
	"sort"
	"sync"

	"github.com/fpskit/fps"
)

// ErrNotFound is returned by Get when no notification has the key.
var ErrNotFound = errors.New("store: notification not found")

// Memory is an in-memory fps.NotificationStore, safe for concurrent use.
// Its content is lost when the process ends.
type Memory struct {
	mu    sync.Mutex
	byKey map[string]*fps.StoredNotification
	keys  []string // in the order saved
}

// NewMemory returns an empty Memory store.
func NewMemory() *Memory {
	return &Memory{byKey: make(map[string]*fps.StoredNotification)}
}

// Save implements fps.NotificationStore.
func (m *Memory) Save(ctx context.Context, n *fps.StoredNotification) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	if n.Key == "" {
		return false, errors.New("store: notification key is empty")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.byKey[n.Key]; ok {
		return false, nil
	}
	m.byKey[n.Key] = clone(n)
	m.keys = append(m.keys, n.Key)
	return true, nil
}

// Get returns the notification stored under key, or ErrNotFound.
func (m *Memory) Get(ctx context.Context, key string) (*fps.StoredNotification, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	n, ok := m.byKey[key]
	if !ok {
		return nil, ErrNotFound
	}
	return clone(n), nil
}

// List returns every stored notification, oldest ReceivedAt first.
func (m *Memory) List(ctx context.Context) ([]*fps.StoredNotification, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	out := make([]*fps.StoredNotification, 0, len(m.keys))
	for _, k := range m.keys {
		out = append(out, clone(m.byKey[k]))
	}
	m.mu.Unlock()
	sort.SliceStable(out, func(i, j int) bool { return out[i].ReceivedAt.Before(out[j].ReceivedAt) })
	return out, nil
}

func clone(n *fps.StoredNotification) *fps.StoredNotification {
	c := *n
	if n.Notification.Params != nil {
		c.Notification.Params = make(url.Values, len(n.Notification.Params))
		for k, vs := range n.Notification.Params {
			c.Notification.Params[k] = append([]string(nil), vs...)
		}
	}
	return &c
}
