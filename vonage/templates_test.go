package vonage_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/vonage"
	"github.com/verifykit/verifykit/vonage/vonagetest"
)

// TestTemplates runs the templates API (templates and their fragments:
// create, fetch, list with paging, update, delete) through the client
// against the emulator.
func TestTemplates(t *testing.T) {
	t.Parallel()
	srv := vonagetest.NewServer()
	t.Cleanup(srv.Close)
	c := jwtClient(t, srv.URL)
	ctx := context.Background()

	a, err := c.CreateTemplate(ctx, "login")
	if err != nil || a.Name != "login" || !a.IsDefault {
		t.Fatalf("CreateTemplate = %+v, %v; want the default template", a, err)
	}
	b, err := c.CreateTemplate(ctx, "signup_2")
	if err != nil || b.IsDefault {
		t.Fatalf("second CreateTemplate = %+v, %v", b, err)
	}
	if _, err := c.CreateTemplate(ctx, "login"); !errors.Is(err, provider.ErrConflict) {
		t.Errorf("a name in use: %v, want ErrConflict", err)
	}
	if _, err := c.CreateTemplate(ctx, "bad name!"); !errors.Is(err, provider.ErrInvalidRequest) {
		t.Errorf("a bad name: %v", err)
	}
	yes := true
	b, err = c.UpdateTemplate(ctx, b.ID, vonage.TemplateUpdate{Name: "signup", IsDefault: &yes})
	if err != nil || b.Name != "signup" || !b.IsDefault {
		t.Fatalf("UpdateTemplate = %+v, %v", b, err)
	}
	if a, err = c.Template(ctx, a.ID); err != nil || a.IsDefault {
		t.Errorf("the old default after another became default: %+v, %v", a, err)
	}
	p, err := c.ListTemplates(ctx, 2, 1)
	if err != nil || p.TotalItems != 2 || p.TotalPages != 2 || p.Page != 2 || len(p.Templates) != 1 || p.Templates[0].ID != b.ID {
		t.Errorf("ListTemplates(page 2 of 1) = %+v, %v", p, err)
	}

	f, err := c.CreateTemplateFragment(ctx, a.ID, "sms", "en-us", "Your ${brand} code: ${code}")
	if err != nil || f.Channel != "sms" || f.Locale != "en-us" || f.DateCreated == "" {
		t.Fatalf("CreateTemplateFragment = %+v, %v", f, err)
	}
	if _, err := c.CreateTemplateFragment(ctx, a.ID, "sms", "en-us", "again"); !errors.Is(err, provider.ErrConflict) {
		t.Errorf("a second sms en-us fragment: %v, want ErrConflict", err)
	}
	if _, err := c.CreateTemplateFragment(ctx, a.ID, "email", "en-us", "x"); !errors.Is(err, provider.ErrInvalidRequest) {
		t.Errorf("an email fragment: %v", err)
	}
	if f, err = c.UpdateTemplateFragment(ctx, a.ID, f.ID, "Code ${code}"); err != nil || f.Text != "Code ${code}" {
		t.Errorf("UpdateTemplateFragment = %+v, %v", f, err)
	}
	if got, err := c.TemplateFragment(ctx, a.ID, f.ID); err != nil || got.Text != "Code ${code}" {
		t.Errorf("TemplateFragment = %+v, %v", got, err)
	}
	fp, err := c.ListTemplateFragments(ctx, a.ID, 0, 0)
	if err != nil || fp.TotalItems != 1 || len(fp.Fragments) != 1 || fp.Fragments[0].ID != f.ID {
		t.Errorf("ListTemplateFragments = %+v, %v", fp, err)
	}
	if err := c.DeleteTemplate(ctx, a.ID); !errors.Is(err, provider.ErrConflict) {
		t.Errorf("deleting a template with fragments: %v, want ErrConflict", err)
	}
	if err := c.DeleteTemplateFragment(ctx, a.ID, f.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.TemplateFragment(ctx, a.ID, f.ID); !errors.Is(err, provider.ErrNotFound) {
		t.Errorf("a deleted fragment: %v", err)
	}
	if err := c.DeleteTemplate(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Template(ctx, a.ID); !errors.Is(err, provider.ErrNotFound) {
		t.Errorf("a deleted template: %v", err)
	}
}

// TestTemplateReadsAreRetried checks that a read of the templates API is
// repeated after a 503 (it changes nothing), while a create is not
// repeated after a proxy's.
func TestTemplateReadsAreRetried(t *testing.T) {
	t.Parallel()
	srv, n := counting(t, func(n int32, w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	})
	c := jwtClient(t, srv.URL)
	if _, err := c.ListTemplates(context.Background(), 0, 0); !errors.Is(err, provider.ErrUnavailable) || n.Load() != 4 {
		t.Errorf("ListTemplates after 503s: %v, %d requests; want ErrUnavailable after 4", err, n.Load())
	}
	n.Store(0)
	if _, err := c.CreateTemplate(context.Background(), "x"); !errors.Is(err, provider.ErrOutcomeUnknown) || n.Load() != 1 {
		t.Errorf("CreateTemplate after a proxy's 503: %v, %d requests; want ErrOutcomeUnknown after 1", err, n.Load())
	}
}
