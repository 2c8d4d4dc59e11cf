package twilio

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/verifykit/verifykit/internal/mask"
	"github.com/verifykit/verifykit/provider"
)

// Entity is Twilio's Entity resource: the identity that factors belong to,
// with every field of the API's verify.v2.service.entity.
type Entity struct {
	SID         string            `json:"sid"` // YE…
	Identity    string            `json:"identity"`
	AccountSID  string            `json:"account_sid"`
	ServiceSID  string            `json:"service_sid"`
	DateCreated time.Time         `json:"date_created"`
	DateUpdated time.Time         `json:"date_updated"`
	URL         string            `json:"url"`
	Links       map[string]string `json:"links"` // factors, challenges
}

// String describes the entity with its identity masked.
func (e *Entity) String() string {
	return "Entity{SID:" + e.SID + " Identity:" + mask.Target(e.Identity) + "}"
}

// GoString is like String.
func (e *Entity) GoString() string { return e.String() }

// Meta is the paging block of a Twilio list answer.
type Meta struct {
	Page            int    `json:"page"`
	PageSize        int    `json:"page_size"`
	FirstPageURL    string `json:"first_page_url"`
	PreviousPageURL string `json:"previous_page_url"`
	URL             string `json:"url"`
	NextPageURL     string `json:"next_page_url"`
	Key             string `json:"key"`
}

const (
	opCreateEntity    = "create entity"
	opFetchEntity     = "fetch entity"
	opListEntities    = "list entities"
	opDeleteIdentity  = "delete identity"
	opEnrollFactor    = "enroll factor"
	opConfirmFactor   = "confirm factor"
	opUpdateFactor    = "update factor"
	opFetchFactor     = "fetch factor"
	opListFactors     = "list factors"
	opDeleteFactor    = "delete factor"
	opCreateChallenge = "create challenge"
	opUpdateChallenge = "update challenge"
	opFetchChallenge  = "fetch challenge"
	opListChallenges  = "list challenges"
)

// entityPath returns the path of identity's entity, after checking it.
func (c *Client) entityPath(op, identity string) (string, error) {
	if !provider.ValidIdentity(identity) {
		return "", invalidInput(op, "identity must be 8 to 64 letters, digits or dashes")
	}
	return "/v2/Services/" + c.serviceSID + "/Entities/" + identity, nil
}

// CreateEntity creates the entity of identity, with POST
// /v2/Services/{ServiceSid}/Entities. Creating a factor creates its entity
// too, so this call is optional.
//
// API: https://www.twilio.com/docs/verify/api/entity#create-an-entity-resource
func (c *Client) CreateEntity(ctx context.Context, identity string) (*Entity, error) {
	if _, err := c.entityPath(opCreateEntity, identity); err != nil {
		return nil, err
	}
	var e Entity
	err := c.do(ctx, call{
		op: opCreateEntity, method: http.MethodPost, form: url.Values{"Identity": {identity}},
		path: "/v2/Services/" + c.serviceSID + "/Entities", ok: []int{http.StatusCreated, http.StatusOK},
	}, &e)
	if err != nil {
		return nil, err
	}
	return &e, nil
}

// FetchEntity returns the entity of identity, with GET
// /v2/Services/{ServiceSid}/Entities/{Identity}.
//
// API: https://www.twilio.com/docs/verify/api/entity#fetch-an-entity-resource
func (c *Client) FetchEntity(ctx context.Context, identity string) (*Entity, error) {
	path, err := c.entityPath(opFetchEntity, identity)
	if err != nil {
		return nil, err
	}
	var e Entity
	if err := c.do(ctx, call{op: opFetchEntity, method: http.MethodGet, path: path, ok: []int{http.StatusOK}}, &e); err != nil {
		return nil, err
	}
	return &e, nil
}

// ListEntities returns the service's entities, with GET
// /v2/Services/{ServiceSid}/Entities, following the pages until the last
// or until opts.Limit entities have been read (ListOptions' PageSize and
// Limit count entities here).
//
// API: https://www.twilio.com/docs/verify/api/entity#read-multiple-entity-resources
func (c *Client) ListEntities(ctx context.Context, opts ListOptions) ([]Entity, error) {
	var out []Entity
	err := c.list(ctx, opListEntities, "/v2/Services/"+c.serviceSID+"/Entities", "entities", nil, opts.PageSize, opts.Limit, func(raw json.RawMessage) (int, error) {
		var page []Entity
		err := json.Unmarshal(raw, &page)
		out = append(out, page...)
		return len(out), err
	})
	if opts.Limit > 0 && len(out) > opts.Limit {
		out = out[:opts.Limit]
	}
	return out, err
}

// DeleteIdentity deletes identity with all its factors and challenges, with
// DELETE /v2/Services/{ServiceSid}/Entities/{Identity}.
//
// API: https://www.twilio.com/docs/verify/api/entity#delete-an-entity-resource
func (c *Client) DeleteIdentity(ctx context.Context, identity string) error {
	path, err := c.entityPath(opDeleteIdentity, identity)
	if err != nil {
		return err
	}
	return c.do(ctx, call{op: opDeleteIdentity, method: http.MethodDelete, path: path, ok: []int{http.StatusNoContent, http.StatusOK}}, nil)
}

// list GETs path and the pages after it. key names the array in each
// page; add decodes it and returns how many items are held so far.
func (c *Client) list(ctx context.Context, op, path, key string, form url.Values, pageSize, limit int, add func(json.RawMessage) (int, error)) error {
	if pageSize < 0 || pageSize > 1000 || limit < 0 {
		return invalidInput(op, "page size must be 0 to 1000 and limit not negative")
	}
	if form == nil {
		form = url.Values{}
	}
	if pageSize > 0 {
		form.Set("PageSize", strconv.Itoa(pageSize))
	}
	want := path
	for pages := 0; ; pages++ {
		if pages >= 10000 {
			return &RequestError{Op: op, Err: errors.New("more than 10000 pages"), kind: provider.ErrUnavailable}
		}
		var page map[string]json.RawMessage
		if err := c.do(ctx, call{op: op, method: http.MethodGet, path: path, form: form, ok: []int{http.StatusOK}}, &page); err != nil {
			return err
		}
		n, err := add(page[key])
		if err != nil {
			return &RequestError{Op: op, Err: errors.New("decoding the page: " + err.Error()), kind: provider.ErrUnavailable}
		}
		if limit > 0 && n >= limit {
			return nil
		}
		var meta Meta
		if raw, ok := page["meta"]; ok {
			if err := json.Unmarshal(raw, &meta); err != nil {
				return &RequestError{Op: op, Err: errors.New("decoding the page's meta"), kind: provider.ErrUnavailable}
			}
		}
		if meta.NextPageURL == "" {
			return nil
		}
		next, err := url.Parse(meta.NextPageURL)
		if err != nil || next.Path != want || strings.Contains(next.Path, "..") {
			return &RequestError{Op: op, Err: errors.New("next_page_url is not a page of the same list"), kind: provider.ErrUnavailable}
		}
		path, form = next.Path, next.Query()
	}
}
