package enswitch

import (
	"context"

	"github.com/ensbulk/ensbulk/batch"
	"github.com/ensbulk/ensbulk/enswitch/schema"
)

// Read implements batch.Reader: mailboxes/get, as the strings an update
// of each field would send. NULL reads as "" (an update cannot write
// NULL); the PIN is left out unless the server shows it in plain, since a
// mask compared or restored as a PIN would be wrong.
func (c *Client) Read(ctx context.Context, mailbox, customer string) (batch.Values, error) {
	m, err := c.Get(ctx, mailbox, customer)
	if err != nil {
		return nil, err
	}
	return Values(m), nil
}

// Values returns the update parameters of a mailbox as read, by the rules
// of Read.
func Values(m Mailbox) batch.Values {
	out := make(batch.Values, len(m.cols))
	for _, f := range schema.Fields() {
		text, present, _ := m.Value(f.Name)
		if !present || f.Name == "pin" && !PlainPIN(text) {
			continue
		}
		out[f.Name] = text
	}
	return out
}

// PlainPIN reports whether a PIN as get or list wrote it is the PIN
// itself: PINs are digits, so a mask ("****") or an empty PIN is not.
func PlainPIN(s string) bool { return schema.Digits(s) }
