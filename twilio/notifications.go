package twilio

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/verifykit/verifykit/internal/wire"
)

// Notification is Twilio's Notification resource
// (verify.v2.service.entity.challenge.notification): one more push of a
// pending push challenge to its device.
type Notification struct {
	SID          string    `json:"sid"` // NT…
	AccountSID   string    `json:"account_sid"`
	ServiceSID   string    `json:"service_sid"`
	EntitySID    string    `json:"entity_sid"`
	Identity     string    `json:"identity"`
	ChallengeSID string    `json:"challenge_sid"`
	Priority     string    `json:"priority"` // high for push
	TTL          int       `json:"ttl"`      // seconds
	DateCreated  time.Time `json:"date_created"`
}

// NotificationParams are the parameters of CreateNotification.
type NotificationParams struct {
	// TTL is how long delivery is attempted, even while the device is
	// offline: 0 to 300 whole seconds, 0 meaning once, now. It is sent
	// when it is not zero or when TTLSet; otherwise Twilio's default of
	// 300 seconds applies.
	TTL    time.Duration
	TTLSet bool
}

const opCreateNotification = "create notification"

// CreateNotification sends the push of the pending challenge challengeSID
// of identity again, with POST
// /v2/Services/{ServiceSid}/Entities/{Identity}/Challenges/{ChallengeSid}/Notifications
// and Ttl. Each call pushes once more, so like any creation it is not
// retried once it may have reached Twilio.
//
// API: https://www.twilio.com/docs/verify/api/challenge#create-a-notification-resource
func (c *Client) CreateNotification(ctx context.Context, identity, challengeSID string, p NotificationParams) (Notification, error) {
	const op = opCreateNotification
	path, err := c.challengePath(op, identity, challengeSID)
	if err != nil {
		return Notification{}, err
	}
	if p.TTL < 0 || p.TTL > 5*time.Minute || p.TTL%time.Second != 0 {
		return Notification{}, invalidInput(op, "TTL must be 0 to 300 whole seconds")
	}
	f := url.Values{}
	if p.TTL != 0 || p.TTLSet {
		f.Set("Ttl", strconv.Itoa(int(p.TTL/time.Second)))
	}
	var n Notification
	err = c.do(ctx, call{op: op, method: http.MethodPost, path: path + "/Notifications", form: f, ok: okCreated,
		check: func() error {
			switch {
			case !wire.ValidSID(n.SID, "NT"):
				return errors.New("the answer has no notification SID")
			case n.ChallengeSID != challengeSID:
				return errors.New("the answer is about another challenge")
			}
			return nil
		}}, &n)
	return n, err
}
