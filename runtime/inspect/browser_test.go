package inspect

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/gorilla/websocket"

	"github.com/wsgw/wsgw/internal/testtool"
)

var screenshot = flag.Bool("screenshot", false, "write the page's screenshot to testdata/inspector.png (for the README)")

// TestPageInBrowser drives the page in headless Chromium (SPEC ):
// load it, connect a client, see the connection and its message appear,
// click Disconnect, see the client closed.
func TestPageInBrowser(t *testing.T) {
	chromium := testtool.Need(t, "chromium")
	f := newFixture(t, Options{})

	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1100, 640),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancelTimeout := context.WithTimeout(ctx, 60*time.Second)
	defer cancelTimeout()

	// The page is live once its event stream is open.
	if err := chromedp.Do(ctx,
		chromedp.Navigate(f.srv.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS(`#status.live`)),
		chromedp.WaitVisible(chromedp.CSS(`#stages .stage`)),
	); err != nil {
		t.Fatalf("loading the page: %v", err)
	}

	ws := dial(t, f.url+"?user=ada")
	id := f.connID(t)
	send(t, ws, `{"action":"echo","text":"hello from the browser test"}`)
	readFrame(t, ws)
	send(t, ws, `{"action":"post"}`)
	readFrame(t, ws)
	send(t, ws, `{"action":"nosuch"}`)
	readFrame(t, ws)

	item := `#connections li[data-id="` + id + `"]`
	if err := chromedp.Do(ctx,
		chromedp.WaitVisible(chromedp.CSS(item)),
		chromedp.Click(chromedp.CSS(item)),
		chromedp.WaitVisible(chromedp.CSS(`#timeline li[data-type="message"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#timeline li[data-type="error"]`)),
	); err != nil {
		t.Fatalf("the connection and its messages: %v", err)
	}
	timeline, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#timeline`)))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"text":"hello from the browser test"`, "integration.request", "no route matched", `{"posted":true}`} {
		if !strings.Contains(timeline, want) {
			t.Errorf("the timeline does not show %q:\n%s", want, timeline)
		}
	}
	if *screenshot {
		png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join("testdata", "inspector.png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// Disconnect: the client gets the close frame, the page says closed.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#disconnect`))); err != nil {
		t.Fatal(err)
	}
	_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		_, _, err := ws.ReadMessage()
		if err == nil {
			continue
		}
		if !websocket.IsCloseError(err, websocket.CloseNormalClosure) {
			t.Fatalf("the client got %v, want close 1000", err)
		}
		break
	}
	if err := chromedp.Do(ctx,
		chromedp.WaitVisible(chromedp.CSS(`#conn-state.closed`)),
		chromedp.WaitVisible(chromedp.CSS(`#timeline li[data-type="disconnect"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#closed li[data-id="`+id+`"]`)),
	); err != nil {
		t.Fatalf("the page after Disconnect: %v", err)
	}
}
