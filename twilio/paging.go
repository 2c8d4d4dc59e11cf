package twilio

import (
	"context"
	"encoding/json"
	"errors"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/verifykit/verifykit/provider"
)

// pages returns an iterator over the items listed under key in the pages
// of the list at path, read as the loop needs them, as Services does.
// form holds the list's filters; check says why an item is not
// well-formed, or returns nil. An error ends the iteration: it is yielded
// with a zero item.
func pages[T any](ctx context.Context, c *Client, op, path, key string, form url.Values, opts ListOptions, check func(*T) error) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		if opts.PageSize < 0 || opts.PageSize > 1000 || opts.Limit < 0 {
			yield(zero, invalidInput(op, "page size must be 0 to 1000 and limit not negative"))
			return
		}
		if form == nil {
			form = url.Values{}
		}
		if opts.PageSize > 0 {
			form.Set("PageSize", strconv.Itoa(opts.PageSize))
		}
		want, read := path, 0
		for n := 0; ; n++ {
			if n >= 10000 {
				yield(zero, &RequestError{Op: op, Err: errors.New("more than 10000 pages"), kind: provider.ErrUnavailable})
				return
			}
			var page map[string]json.RawMessage
			var items []T
			var meta Meta
			decode := func() error {
				raw, ok := page[key]
				if !ok || string(raw) == "null" {
					return errors.New("the answer has no " + key + " list")
				}
				if err := json.Unmarshal(raw, &items); err != nil {
					return errors.New("decoding the " + key + " list: " + err.Error())
				}
				for i := range items {
					if err := check(&items[i]); err != nil {
						return err
					}
				}
				if raw, ok := page["meta"]; ok {
					if err := json.Unmarshal(raw, &meta); err != nil {
						return errors.New("decoding the page's meta")
					}
				}
				return nil
			}
			if err := c.do(ctx, call{op: op, method: http.MethodGet, path: path, form: form, ok: okOK, check: decode}, &page); err != nil {
				yield(zero, err)
				return
			}
			for _, it := range items {
				if !yield(it, nil) {
					return
				}
				if read++; opts.Limit > 0 && read >= opts.Limit {
					return
				}
			}
			if meta.NextPageURL == "" {
				return
			}
			next, err := url.Parse(meta.NextPageURL)
			if err != nil || next.Path != want || strings.Contains(next.Path, "..") {
				yield(zero, &RequestError{Op: op, Err: errors.New("next_page_url is not a page of the same list"), kind: provider.ErrUnavailable})
				return
			}
			path, form = next.Path, next.Query()
		}
	}
}

// collect reads seq into a slice; on an error it returns the items read
// so far with it.
func collect[T any](seq iter.Seq2[T, error]) ([]T, error) {
	var out []T
	for it, err := range seq {
		if err != nil {
			return out, err
		}
		out = append(out, it)
	}
	return out, nil
}
