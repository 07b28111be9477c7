package enswitch

import (
	"context"

	"github.com/ensbulk/ensbulk/batch"
	"github.com/ensbulk/ensbulk/batch/schema"
)

// Read implements batch.Getter: mailboxes/get, as the strings an update
// of each field would send. NULL reads as "" marked Null (an update
// cannot write NULL); a secret (the PIN) is left out unless the server
// shows it in plain, since a mask compared or restored as one would be
// wrong.
func (c *Client) Read(ctx context.Context, mailbox, customer string) (batch.Values, error) {
	m, err := c.Get(ctx, mailbox, customer)
	if err != nil {
		return nil, err
	}
	return Values(m), nil
}

// Values returns the update parameters of a mailbox as read, by the rules
// of Read. A column whose text is not what the server sent (Altered) is
// left out, as unknown: an undo must not write back a cut or escaped
// value as if it were the old one.
func Values(m Mailbox) batch.Values {
	out := make(batch.Values, len(m.cols))
	for _, f := range schema.Fields() {
		v, present := m.Column(f.Name)
		if !present || v.Altered || !schema.Plain(f.Name, v.Text) {
			continue
		}
		out[f.Name] = batch.Value{Text: v.Text, Null: v.Kind == ValueNull}
	}
	return out
}

// PlainPIN reports whether a PIN as get or list wrote it is the PIN
// itself: PINs are digits, so a mask ("****") or an empty PIN is not.
// It is schema.Plain for the PIN, which callers with a field name use.
func PlainPIN(s string) bool { return schema.Plain(schema.PIN, s) }
