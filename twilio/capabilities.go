package twilio

import "github.com/verifykit/verifykit/provider"

// Capabilities reports what Twilio Verify does beyond Start and Check: it
// checks by To as well as by verification SID, re-sends the pending code on
// a repeated Start, and delivers over sms, call, whatsapp, email, sna and
// auto. The Client also implements provider.Canceler, provider.Fetcher and
// provider.Approver.
func (c *Client) Capabilities() provider.Capabilities {
	return provider.Capabilities{
		CheckByTo:     true,
		ResendOnStart: true,
		Channels: []provider.Channel{
			provider.ChannelSMS, provider.ChannelCall, provider.ChannelWhatsApp,
			provider.ChannelEmail, provider.ChannelSNA, provider.ChannelAuto,
		},
	}
}
